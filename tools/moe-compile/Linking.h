//===- Linking.h - model object + runtime into model.so ---------*- C++ -*-===//
//
// Compiles the generated model description with the system C++ compiler and
// links it with the model's object file and libMoERuntime.a into a shared
// library. The compiler, the runtime library and the include directory are
// the ones this build of moe-compile was configured with.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_TOOLS_MOE_COMPILE_LINKING_H
#define MOE_TOOLS_MOE_COMPILE_LINKING_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace llvm {
class Module;
} // namespace llvm

namespace mlir::moe::compile {

/// Whether `module` calls functions of MLIR's C runner utilities
/// (libmlir_c_runner_utils.so, e.g. `memrefCopy`).
llvm::Expected<bool> needsCRunnerUtils(const llvm::Module &module);

/// Compiles the C++ file `source` into the object `object` (PIC).
llvm::Error compileModelDescription(llvm::StringRef source,
                                    llvm::StringRef object);

/// Links `descriptionObject`, `modelObject` and the runtime library (and the
/// C runner utilities when `withCRunnerUtils`; the CUDA runtime library when
/// `cuda`) into the shared library `output`.
llvm::Error linkSharedLibrary(llvm::StringRef descriptionObject,
                              llvm::StringRef modelObject,
                              bool withCRunnerUtils, bool cuda,
                              llvm::StringRef output);

} // namespace mlir::moe::compile

#endif // MOE_TOOLS_MOE_COMPILE_LINKING_H
