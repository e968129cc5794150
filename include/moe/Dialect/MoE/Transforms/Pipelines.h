//===- Pipelines.h - named moe pass pipelines -------------------*- C++ -*-===//

#ifndef MOE_DIALECT_MOE_TRANSFORMS_PIPELINES_H
#define MOE_DIALECT_MOE_TRANSFORMS_PIPELINES_H

#include "mlir/Pass/PassManager.h"

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

/// moe-cpu-to-llvm: moe-cpu, then bufferisation and lowering (vector ops
/// included) to the LLVM dialect. moe-compile's default CPU pipeline.
void buildMoECPUToLLVMPipeline(OpPassManager &pm);

/// Registers the pipelines above under their names.
void registerMoEPipelines();

} // namespace mlir::moe

#endif // MOE_DIALECT_MOE_TRANSFORMS_PIPELINES_H
