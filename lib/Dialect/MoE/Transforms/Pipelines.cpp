//===- Pipelines.cpp - named moe pass pipelines ---------------------------===//

#include "moe/Dialect/MoE/Transforms/Pipelines.h"

#include "moe/Conversion/Passes.h"
#include "moe/Dialect/MoE/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
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

void mlir::moe::addMoEBufferizationPasses(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  bufferization.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferization));
  bufferization::buildBufferDeallocationPipeline(pm);
  // Deallocation may clone buffers returned from functions.
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createCanonicalizerPass());
}

/// Bufferisation, then linalg to loops: shared by both CPU pipelines.
static void addBufferizationToLoops(OpPassManager &pm) {
  moe::addMoEBufferizationPasses(pm);
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
}

/// Tensor-level IR of upstream dialects to the LLVM dialect with sequential
/// loops (no threads). `warpTiles`: the warp GEMMs of the tensor-core
/// lowering run each warp tile in turn, their warp-level vector ops on one
/// CPU thread (the same IR the GPU distributes over a warp's lanes).
static void addLoopsToLLVM(OpPassManager &pm, bool warpTiles = false) {
  addBufferizationToLoops(pm);
  if (warpTiles) {
    pm.addPass(createForallToForLoopPass());
    pm.addPass(createConvertVectorToSCFPass());
  }
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // erf/tanh have no LLVM intrinsic: call libm.
  pm.addPass(createConvertMathToLibmPass());
  if (warpTiles)
    pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::moe::buildMoEReferenceToLLVMPipeline(OpPassManager &pm) {
  buildMoEReferencePipeline(pm);
  addLoopsToLLVM(pm);
}

void mlir::moe::buildMoEGPUOnCPUToLLVMPipeline(OpPassManager &pm,
                                               StringRef precision) {
  moe::buildMoEGPUTensorPipeline(pm, precision);
  addLoopsToLLVM(pm, /*warpTiles=*/true);
}

void mlir::moe::buildMoECPUPipeline(OpPassManager &pm) {
  pm.addPass(createMoEDecomposeLayer());
  // The FLOP-heavy grouped_ffn first (with its permute and combine fused
  // in where it can), then the remaining row gathers and scatters in
  // parallel; whatever they do not support, and every other moe op, takes
  // the reference lowering.
  pm.addPass(createConvertMoEGroupedFFNToTiled());
  pm.addPass(createConvertMoEDispatchToParallel());
  pm.addPass(createConvertMoEToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::moe::buildMoECPUToLLVMPipeline(
    OpPassManager &pm, const MoECPUPipelineOptions &options) {
  buildMoECPUPipeline(pm);
  addBufferizationToLoops(pm);
  // The tile loops: scf.forall -> scf.parallel -> OpenMP parallel loops
  // (threads from libomp; moe_set_num_threads sets their number).
  pm.addPass(createForallToParallelLoopPass());
  pm.addPass(createConvertSCFToOpenMPPass());
  // Static by default: guided/dynamic rebalance a descheduled thread's
  // tiles, but libomp's dispatch per chunk cost 6-14 % at T=1 and did not
  // pay at T=64/512 on a quiet machine (docs/performance.md).
  MoESetOMPScheduleOptions schedule;
  schedule.kind = options.ompSchedule;
  schedule.chunk = options.ompSchedule == "static" ? 0 : 16;
  pm.addPass(createMoESetOMPSchedule(schedule));
  // scf-to-openmp wraps loop bodies in memref.alloca_scope, which scf-to-cf
  // cannot split into blocks; canonicalisation inlines the scopes that hold
  // no alloca (ours).
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // Math with an LLVM intrinsic first (the polynomial epilogues' vector
  // fma/floor), so that only the rest (erf, tanh) becomes libm calls:
  // math-to-libm would split vectors into one call per lane.
  pm.addPass(createConvertMathToLLVMPass());
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
  PassPipelineRegistration<MoECPUPipelineOptions>(
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
  PassPipelineRegistration<>(
      "moe-gpu",
      "Decompose moe layers; grouped_ffn as products parallel over all rows, "
      "routing, dispatch, permute and combine as grid-parallel loops, the "
      "rest with the reference lowering (tensor level)",
      [](OpPassManager &pm) { buildMoEGPUTensorPipeline(pm); });
  PassPipelineRegistration<>(
      "moe-gpu-on-cpu-to-llvm",
      "moe-gpu lowered for the CPU with sequential loops: the numerics of "
      "CUDA artifacts, for tests without a GPU",
      [](OpPassManager &pm) { buildMoEGPUOnCPUToLLVMPipeline(pm); });
  PassPipelineRegistration<MoECUDAPipelineOptions>(
      "moe-cuda-to-llvm",
      "moe-gpu, bufferisation, then everything on the GPU: kernels "
      "compiled for `chip` and embedded, host code in the LLVM dialect",
      buildMoECUDAToLLVMPipeline);
}
