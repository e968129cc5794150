//===- CompilePipeline.cpp - imported IR to the LLVM dialect --------------===//

#include "CompilePipeline.h"

#include "moe/Dialect/MoE/Transforms/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/CommandLine.h"

using namespace mlir;

/// Hidden: compile with the reference (oracle) lowering instead of the
/// optimising one, to compare numbers or speed.
static llvm::cl::opt<bool> useReferencePipeline(
    "reference",
    llvm::cl::desc("Lower with the reference (oracle) pipeline instead of "
                   "the optimising CPU pipeline"),
    llvm::cl::init(false), llvm::cl::Hidden);

static llvm::cl::opt<bool> useGPULoweringOnCPU(
    "gpu-lowering-on-cpu",
    llvm::cl::desc("Lower with the CUDA pipeline's tensor-level lowering "
                   "(moe-gpu-on-cpu-to-llvm): its numerics without a GPU"),
    llvm::cl::init(false), llvm::cl::Hidden);

static llvm::cl::opt<std::string> precision(
    "precision",
    llvm::cl::desc("CUDA target: operand type of the expert FFN products: "
                   "f32 (default), bf16 or f16 (tensor cores, f32 "
                   "accumulation, sm_80 or newer)"),
    llvm::cl::init("f32"));

static llvm::cl::opt<std::string> ompSchedule(
    "omp-schedule",
    llvm::cl::desc("CPU target: OpenMP schedule of the parallel tile loops: "
                   "static (default), guided or dynamic (rebalance a "
                   "descheduled thread's tiles, at a cost per chunk)"),
    llvm::cl::init("static"));

/// Checks --omp-schedule and --precision (against the target); emits the
/// error on `module`.
static LogicalResult
checkCompileOptions(ModuleOp module,
                    const moe::compile::CompileTarget &target) {
  if (precision != "f32" && precision != "bf16" && precision != "f16")
    return module.emitError() << "unsupported --precision '" << precision
                              << "' (expected f32, bf16 or f16)";
  if (ompSchedule != "static" && ompSchedule != "guided" &&
      ompSchedule != "dynamic")
    return module.emitError() << "unsupported --omp-schedule '" << ompSchedule
                              << "' (expected static, guided or dynamic)";
  if (precision == "f32")
    return success();
  if (!target.cuda && !useGPULoweringOnCPU)
    return module.emitError()
           << "--precision=" << precision
           << " needs --target=cuda (the CPU target computes in f32)";
  if (target.cuda && !moe::hasTensorCoreMMA(target.cudaArch))
    return module.emitError()
           << "--precision=" << precision << " needs tensor-core MMAs: "
           << "--cuda-arch=sm_80 or newer (got " << target.cudaArch << ")";
  return success();
}

void mlir::moe::compile::buildCPUCompilePipeline(OpPassManager &pm) {
  if (useReferencePipeline)
    buildMoEReferenceToLLVMPipeline(pm);
  else if (useGPULoweringOnCPU)
    buildMoEGPUOnCPUToLLVMPipeline(pm, precision);
  else {
    MoECPUPipelineOptions options;
    options.ompSchedule = ompSchedule;
    buildMoECPUToLLVMPipeline(pm, options);
  }
}

LogicalResult
mlir::moe::compile::lowerToLLVMDialect(ModuleOp module,
                                       const CompileTarget &target) {
  auto entry = module.lookupSymbol<func::FuncOp>(kEntryFunction);
  if (!entry)
    return module.emitError()
           << "the imported module has no function '" << kEntryFunction << "'";
  // func-to-llvm then also emits `_mlir_ciface_main_graph`, which takes
  // pointers to memref descriptors.
  entry->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                 UnitAttr::get(module.getContext()));

  if (failed(checkCompileOptions(module, target)))
    return failure();

  PassManager pm(module.getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  if (target.cuda) {
    MoECUDAPipelineOptions options;
    options.chip = target.cudaArch;
    options.precision = precision;
    buildMoECUDAToLLVMPipeline(pm, options);
  } else {
    buildCPUCompilePipeline(pm);
  }
  return pm.run(module);
}
