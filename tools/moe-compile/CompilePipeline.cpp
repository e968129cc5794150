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

void mlir::moe::compile::buildCPUCompilePipeline(OpPassManager &pm) {
  if (useReferencePipeline)
    buildMoEReferenceToLLVMPipeline(pm);
  else if (useGPULoweringOnCPU)
    buildMoEGPUOnCPUToLLVMPipeline(pm);
  else
    buildMoECPUToLLVMPipeline(pm);
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

  PassManager pm(module.getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  if (target.cuda) {
    MoECUDAPipelineOptions options;
    options.chip = target.cudaArch;
    buildMoECUDAToLLVMPipeline(pm, options);
  } else {
    buildCPUCompilePipeline(pm);
  }
  return pm.run(module);
}
