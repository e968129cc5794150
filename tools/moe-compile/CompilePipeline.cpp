//===- CompilePipeline.cpp - imported IR to the LLVM dialect --------------===//

#include "CompilePipeline.h"

#include "moe/Dialect/MoE/Transforms/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;

void mlir::moe::compile::buildCPUCompilePipeline(OpPassManager &pm) {
  // The reference lowering until the optimising CPU pipeline exists.
  buildMoEReferenceToLLVMPipeline(pm);
}

LogicalResult mlir::moe::compile::lowerToLLVMDialect(ModuleOp module) {
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
  buildCPUCompilePipeline(pm);
  return pm.run(module);
}
