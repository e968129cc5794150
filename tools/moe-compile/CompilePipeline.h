//===- CompilePipeline.h - imported IR to the LLVM dialect ------*- C++ -*-===//
//
// The one place that chooses how moe-compile lowers an imported model.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_TOOLS_MOE_COMPILE_COMPILEPIPELINE_H
#define MOE_TOOLS_MOE_COMPILE_COMPILEPIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

namespace mlir {
class OpPassManager;
namespace moe::compile {

/// Name of the function the importer creates and the ABI thunk calls.
inline constexpr const char *kEntryFunction = "main_graph";

/// Adds the passes that lower imported IR for the CPU target to the LLVM
/// dialect.
void buildCPUCompilePipeline(OpPassManager &pm);

/// Marks the entry function for a `_mlir_ciface_` wrapper and runs the CPU
/// pipeline on `module`. Fails (after emitting an error) when the entry is
/// missing or a pass fails.
LogicalResult lowerToLLVMDialect(ModuleOp module);

} // namespace moe::compile
} // namespace mlir

#endif // MOE_TOOLS_MOE_COMPILE_COMPILEPIPELINE_H
