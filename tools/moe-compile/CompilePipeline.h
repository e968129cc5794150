//===- CompilePipeline.h - imported IR to the LLVM dialect ------*- C++ -*-===//
//
// The one place that chooses how moe-compile lowers an imported model.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_TOOLS_MOE_COMPILE_COMPILEPIPELINE_H
#define MOE_TOOLS_MOE_COMPILE_COMPILEPIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <string>

namespace mlir {
class OpPassManager;
namespace moe::compile {

/// Name of the function the importer creates and the ABI thunk calls.
inline constexpr const char *kEntryFunction = "main_graph";

/// What the compiled code runs on.
struct CompileTarget {
  bool cuda = false;
  /// GPU architecture of the kernels (CUDA only).
  std::string cudaArch = "sm_90a";
};

/// Adds the passes that lower imported IR for the CPU target to the LLVM
/// dialect.
void buildCPUCompilePipeline(OpPassManager &pm);

/// Marks the entry function for a `_mlir_ciface_` wrapper and runs the
/// pipeline of `target` (the CPU pipeline, or moe-cuda-to-llvm) on `module`.
/// Fails (after emitting an error) when the entry is missing or a pass fails.
LogicalResult lowerToLLVMDialect(ModuleOp module, const CompileTarget &target);

} // namespace moe::compile
} // namespace mlir

#endif // MOE_TOOLS_MOE_COMPILE_COMPILEPIPELINE_H
