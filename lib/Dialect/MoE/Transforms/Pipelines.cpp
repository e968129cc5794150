//===- Pipelines.cpp - named moe pass pipelines ---------------------------===//

#include "moe/Dialect/MoE/Transforms/Pipelines.h"

#include "moe/Conversion/Passes.h"
#include "moe/Dialect/MoE/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::moe::buildMoEReferencePipeline(OpPassManager &pm) {
  pm.addPass(createMoEDecomposeLayer());
  pm.addPass(createConvertMoEToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::moe::buildMoEReferenceToLLVMPipeline(OpPassManager &pm) {
  buildMoEReferencePipeline(pm);
  bufferization::OneShotBufferizePassOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  bufferization.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferization));
  bufferization::buildBufferDeallocationPipeline(pm);
  // Deallocation may clone buffers returned from functions.
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // erf/tanh have no LLVM intrinsic: call libm.
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::moe::registerMoEPipelines() {
  PassPipelineRegistration<>(
      "moe-reference",
      "Decompose moe layers and lower them with the reference lowering "
      "(tensor level, upstream dialects only)",
      buildMoEReferencePipeline);
  PassPipelineRegistration<>(
      "moe-reference-to-llvm",
      "moe-reference, then bufferise and lower to the LLVM dialect",
      buildMoEReferenceToLLVMPipeline);
}
