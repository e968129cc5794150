//===- Pipelines.h - named moe pass pipelines -------------------*- C++ -*-===//

#ifndef MOE_DIALECT_MOE_TRANSFORMS_PIPELINES_H
#define MOE_DIALECT_MOE_TRANSFORMS_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"

namespace mlir::moe {

/// moe-reference: decompose layers and lower every moe compute op with the
/// reference (oracle) lowering; the result holds only upstream dialects at
/// tensor level.
void buildMoEReferencePipeline(OpPassManager &pm);

/// moe-reference-to-llvm: moe-reference, then bufferisation and lowering to
/// the LLVM dialect, ready for the ExecutionEngine or mlir-translate.
void buildMoEReferenceToLLVMPipeline(OpPassManager &pm);

/// moe-cpu: decompose layers, lower moe.grouped_ffn with the tiled vector
/// lowering (convert-moe-grouped-ffn-to-tiled) and every other moe op (and
/// unsupported grouped_ffns) with the reference lowering; tensor level.
void buildMoECPUPipeline(OpPassManager &pm);

/// Options of moe-cpu-to-llvm.
struct MoECPUPipelineOptions
    : public PassPipelineOptions<MoECPUPipelineOptions> {
  PassOptions::Option<std::string> ompSchedule{
      *this, "omp-schedule",
      llvm::cl::desc("Schedule of the parallel tile loops: static (libomp's "
                     "one block per thread), guided or dynamic (chunks of "
                     ">= 16 tiles)"),
      llvm::cl::init("static")};
};

/// moe-cpu-to-llvm: moe-cpu, then bufferisation and lowering (vector ops
/// included) to the LLVM dialect. moe-compile's default CPU pipeline.
void buildMoECPUToLLVMPipeline(OpPassManager &pm,
                               const MoECPUPipelineOptions &options = {});

/// One-shot bufferisation with identity layouts at function boundaries (the
/// C interface), ownership-based deallocation lowered to memref ops: the
/// step every pipeline to LLVM shares.
void addMoEBufferizationPasses(OpPassManager &pm);

/// moe-gpu: decompose layers, lower moe.grouped_ffn to products parallel
/// over all rows (convert-moe-grouped-ffn-to-row-parallel), routing,
/// dispatch, permute and combine to grid-parallel loops
/// (convert-moe-routing-to-device) and every other moe op with the
/// reference lowering; tensor level, the first stage of
/// moe-cuda-to-llvm. moe-gpu-on-cpu-to-llvm runs it on the CPU (a test
/// pipeline: its numerics are those of the CUDA artifacts).
/// `precision` (bf16, f16, f32) picks convert-moe-grouped-ffn-to-mma's
/// operand type for the expert FFNs (f32: only 16-bit models take it);
/// empty leaves them all to the row-parallel lowering.
void buildMoEGPUTensorPipeline(OpPassManager &pm, StringRef precision = "f32");
void buildMoEGPUOnCPUToLLVMPipeline(OpPassManager &pm,
                                    StringRef precision = "f32");

/// Whether GPU architecture `chip` (sm_XY) has the bf16/f16 m16n8k16 MMA.
bool hasTensorCoreMMA(StringRef chip);

/// Options of the CUDA pipeline.
struct MoECUDAPipelineOptions
    : public PassPipelineOptions<MoECUDAPipelineOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("GPU architecture (sm_80, sm_90a, ...)"),
      llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features (8.0 is the first PTX for sm_90a)"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Embedded GPU binary: fatbin, bin (cubin), isa (PTX)"),
      llvm::cl::init("fatbin")};
  PassOptions::Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit with ptxas (default: $CUDA_HOME, "
                     "$CUDA_PATH, else /usr/local/cuda)"),
      llvm::cl::init("")};
  PassOptions::Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("Expert FFN operands: f32 (CUDA cores), bf16 or f16 "
                     "(tensor cores, f32 accumulation; sm_80+)"),
      llvm::cl::init("f32")};
};

/// moe-cuda-to-llvm: moe-gpu at tensor level, bufferisation,
/// the model's constants as entry arguments (moe-gpu-hoist-constants), every
/// buffer and memory access on the device (moe-gpu-offload, parallel loops
/// mapped to grids), then upstream's GPU-to-NVVM pipeline: kernels compiled
/// to a binary for `chip` embedded in the host code, which calls the mgpu*
/// runtime functions.
void buildMoECUDAToLLVMPipeline(OpPassManager &pm,
                                const MoECUDAPipelineOptions &options);

/// Registers the pipelines above under their names.
void registerMoEPipelines();

} // namespace mlir::moe

#endif // MOE_DIALECT_MOE_TRANSFORMS_PIPELINES_H
