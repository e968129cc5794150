//===- CUDAPipeline.cpp - the moe-cuda-to-llvm pipeline -------------------===//
//
// Tensor-level lowering as for the CPU, bufferisation, then the memref-level
// GPU passes of lib/Conversion/MoEToGPU and upstream's GPU-to-NVVM pipeline
// (kernel outlining, NVVM, ptxas through gpu-module-to-binary, host code
// calling the mgpu* runtime functions).
//
//===----------------------------------------------------------------------===//

#include "moe/Dialect/MoE/Transforms/Pipelines.h"

#include "moe/Conversion/Passes.h"
#include "moe/Dialect/MoE/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/CommandLine.h"

#include <cstdlib>

using namespace mlir;

/// Threads per block of the grid-wide kernels made from parallel loops.
static constexpr int64_t kThreadsPerBlock = 256;

/// The CUDA toolkit whose ptxas compiles the kernels: the option, else
/// $CUDA_HOME / $CUDA_PATH, else /usr/local/cuda.
static std::string toolkitPath(const moe::MoECUDAPipelineOptions &options) {
  if (!options.toolkit.empty())
    return options.toolkit;
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *value = std::getenv(variable); value && *value)
      return value;
  return "/usr/local/cuda";
}

/// Hidden: the CPU emulation (moe-gpu-on-cpu-to-llvm) lowers the expert FFNs
/// as the sm_90a pipeline does (64-row tiles, the warpgroup GEMMs' generics
/// run as loops), so that their tile schedule and epilogues are checked
/// without a GPU.
static llvm::cl::opt<bool> wgmmaOnCPU(
    "moe-gpu-on-cpu-wgmma",
    llvm::cl::desc("moe-gpu-on-cpu-to-llvm: lower the expert FFNs as for "
                   "sm_90a (warpgroup GEMM tiles)"),
    llvm::cl::init(false), llvm::cl::Hidden);

/// Whether `chip` has the warpgroup MMAs (wgmma) and TMA of the sm_90a
/// performance path: they need the arch-specific feature set.
static bool hasWarpgroupMMA(StringRef chip) { return chip == "sm_90a"; }

/// Whether `chip` (sm_XY) has the m16n8k16 bf16/f16 MMA: sm_80 and newer.
bool mlir::moe::hasTensorCoreMMA(StringRef chip) {
  unsigned version = 0;
  return chip.consume_front("sm_") &&
         !chip.take_while(llvm::isDigit).getAsInteger(10, version) &&
         version >= 80;
}

/// The warp contracts of the outlined kernels as nvgpu.mma.sync (and bf16
/// ones as nvvm.mma.sync): see moe-gpu-prepare-mma.
static void addWarpMMALowering(OpPassManager &pm) {
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(moe::createMoEGPUPrepareMMA());
  kernels.addPass(createCanonicalizerPass());
}

/// Outlined kernels to NVVM and a binary for `options.chip`; host code to
/// the LLVM dialect, calling the mgpu* runtime functions (the order of
/// upstream's gpu-lower-to-nvvm-pipeline, with the toolkit made explicit).
static void addKernelCompilation(OpPassManager &pm,
                                 const moe::MoECUDAPipelineOptions &options) {
  pm.addPass(createConvertNVGPUToNVVMPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());

  pm.addPass(createGpuToLLVMConversionPass());
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = toolkitPath(options);
  binary.compilationTarget = options.format;
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

/// The tensor-level lowering; `wgmma`: expert FFNs whose shapes allow it
/// take the warpgroup GEMM (sm_90a), the others the warp MMAs.
static void addGPUTensorPipeline(OpPassManager &pm, StringRef precision,
                                 bool wgmma) {
  using namespace mlir::moe;
  pm.addPass(createMoEDecomposeLayer());
  // Expert FFNs on tensor cores where 16-bit operands are asked for (or the
  // model is 16-bit); empty `precision`: never (GPUs without m16n8k16).
  if (!precision.empty()) {
    if (wgmma) {
      ConvertMoEGroupedFFNToWGMMAOptions warpgroup;
      warpgroup.precision = precision.str();
      pm.addPass(createConvertMoEGroupedFFNToWGMMA(warpgroup));
    }
    ConvertMoEGroupedFFNToMMAOptions mma;
    mma.precision = precision.str();
    pm.addPass(createConvertMoEGroupedFFNToMMA(mma));
  }
  // Expert FFNs parallel over all rows; every other moe op (and what the
  // row-parallel lowering leaves) takes the reference lowering.
  pm.addPass(createConvertMoEGroupedFFNToRowParallel());
  // Routing, dispatch, permute and combine as grid kernels.
  pm.addPass(createConvertMoERoutingToDevice());
  pm.addPass(createConvertMoEToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::moe::buildMoEGPUTensorPipeline(OpPassManager &pm,
                                          StringRef precision) {
  addGPUTensorPipeline(pm, precision, wgmmaOnCPU);
}

void mlir::moe::buildMoECUDAToLLVMPipeline(
    OpPassManager &pm, const MoECUDAPipelineOptions &options) {
  addGPUTensorPipeline(
      pm, hasTensorCoreMMA(options.chip) ? StringRef(options.precision) : "",
      hasWarpgroupMMA(options.chip));
  addMoEBufferizationPasses(pm);
  // The warpgroup GEMMs (sm_90a): TMA + wgmma kernels, before their
  // generics would become parallel loops.
  pm.addNestedPass<func::FuncOp>(createMoEGPUWGMMAGemm());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createMoEGPUHoistConstants());
  pm.addPass(createCanonicalizerPass());
  // The warp GEMMs: one warp per tile, before the one-thread-per-iteration
  // mapping of every other parallel loop.
  pm.addNestedPass<func::FuncOp>(createMoEGPUMapWarpTiles());
  // Routing's per-token loop (an scf.forall without mapping; after the
  // warp-mapped ones are kernels) is a parallel loop like the rest.
  pm.addPass(createForallToParallelLoopPass());
  // Each parallel loop: blocks of kThreadsPerBlock iterations of its first
  // dimension (one thread each), the other dimensions across blocks.
  pm.addNestedPass<func::FuncOp>(
      createParallelLoopTilingPass({kThreadsPerBlock}));
  // The tile step must fold to a constant for the grid mapping.
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createMoEGPUOffload());
  pm.addNestedPass<func::FuncOp>(createGpuMapParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  // Whatever the mapping left on the host runs in a single-thread kernel.
  MoEGPUOffloadOptions leftovers;
  leftovers.wrapParallelLoops = true;
  pm.addNestedPass<func::FuncOp>(createMoEGPUOffload(leftovers));
  // The warpgroup GEMMs' TMA descriptors, over the device buffers.
  pm.addNestedPass<func::FuncOp>(createMoEGPUTMADescriptors());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Kernels named after what they do (outlining would say main_graph_kernel).
  pm.addPass(createMoEGPUNameKernels());
  // Constants into the kernels (the warp MMAs need their accumulator
  // constants and loop bounds there, not as kernel arguments).
  pm.addNestedPass<func::FuncOp>(createGpuLaunchSinkIndexComputationsPass());
  // Device allocations lower to runtime calls only in async form: outline
  // first, then chain the host's gpu ops with tokens.
  pm.addPass(createGpuKernelOutliningPass());
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  addWarpMMALowering(pm);

  addKernelCompilation(pm, options);
  // Host code still in other dialects (deallocation's pointer checks).
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}
