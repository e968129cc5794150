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
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::moe::buildMoEReferencePipeline(OpPassManager &pm) {
  pm.addPass(createMoEDecomposeLayer());
  pm.addPass(createConvertMoEToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

/// Tensors to buffers with identity layouts at function boundaries (the C
/// interface), deallocation, then linalg to loops: shared by both pipelines.
static void addBufferizationToLoops(OpPassManager &pm) {
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
}

void mlir::moe::buildMoEReferenceToLLVMPipeline(OpPassManager &pm) {
  buildMoEReferencePipeline(pm);
  addBufferizationToLoops(pm);
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // erf/tanh have no LLVM intrinsic: call libm.
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::moe::buildMoECPUPipeline(OpPassManager &pm) {
  pm.addPass(createMoEDecomposeLayer());
  // The FLOP-heavy grouped_ffn first; whatever it does not support, and
  // every other moe op, takes the reference lowering.
  pm.addPass(createConvertMoEGroupedFFNToTiled());
  pm.addPass(createConvertMoEToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::moe::buildMoECPUToLLVMPipeline(OpPassManager &pm) {
  buildMoECPUPipeline(pm);
  addBufferizationToLoops(pm);
  // The tile loops: scf.forall -> scf.parallel -> OpenMP parallel loops
  // (threads from libomp; moe_set_num_threads sets their number).
  pm.addPass(createForallToParallelLoopPass());
  pm.addPass(createConvertSCFToOpenMPPass());
  // scf-to-openmp wraps loop bodies in memref.alloca_scope, which scf-to-cf
  // cannot split into blocks; canonicalisation inlines the scopes that hold
  // no alloca (ours).
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertMathToLibmPass());
  // Horizontal sums may reassociate: a tree of adds, not a serial chain.
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.reassociateFPReductions = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::moe::registerMoEPipelines() {
  PassPipelineRegistration<>(
      "moe-cpu",
      "Decompose moe layers; grouped_ffn with the tiled vector lowering, "
      "the rest with the reference lowering (tensor level)",
      buildMoECPUPipeline);
  PassPipelineRegistration<>(
      "moe-cpu-to-llvm",
      "moe-cpu, then bufferise and lower (vector ops included) to the LLVM "
      "dialect: the optimising CPU pipeline of moe-compile",
      buildMoECPUToLLVMPipeline);
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
