//===- ObjectEmission.h - LLVM dialect to a host object file ----*- C++ -*-===//
//
// Translates the lowered module to LLVM IR, optimises it for the host CPU
// and emits a position-independent object file.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_TOOLS_MOE_COMPILE_OBJECTEMISSION_H
#define MOE_TOOLS_MOE_COMPILE_OBJECTEMISSION_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
} // namespace llvm

namespace mlir {
class DialectRegistry;
namespace moe::compile {

/// Registers the MLIR-to-LLVM-IR translations of the dialects the lowered
/// module holds.
void registerLLVMTranslations(DialectRegistry &registry);

/// A target machine for the host triple and `cpu` ("host": the CPU this runs
/// on, with its features), PIC, at codegen level `optLevel` (0-3).
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createHostTargetMachine(llvm::StringRef cpu, unsigned optLevel);

/// Translates `module` (LLVM dialect only) to LLVM IR with the data layout
/// and triple of `machine`. Returns null after emitting an error.
std::unique_ptr<llvm::Module> translateToLLVMIR(ModuleOp module,
                                                llvm::LLVMContext &context,
                                                llvm::TargetMachine &machine);

/// Runs LLVM's default optimisation pipeline at `optLevel` (0-3).
llvm::Error optimizeLLVMModule(llvm::Module &module,
                               llvm::TargetMachine &machine, unsigned optLevel);

/// Emits `module` as an object file into `object`.
llvm::Error emitObjectFile(llvm::Module &module, llvm::TargetMachine &machine,
                           llvm::SmallVectorImpl<char> &object);

} // namespace moe::compile
} // namespace mlir

#endif // MOE_TOOLS_MOE_COMPILE_OBJECTEMISSION_H
