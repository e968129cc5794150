//===- Linking.cpp - model object + runtime into model.so -----------------===//

#include "Linking.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

// Baked in by tools/moe-compile/CMakeLists.txt.
#ifndef MOE_COMPILE_CXX_COMPILER
#error "MOE_COMPILE_CXX_COMPILER must name the C++ compiler"
#endif
#ifndef MOE_COMPILE_RUNTIME_LIBRARY
#error "MOE_COMPILE_RUNTIME_LIBRARY must name libMoERuntime.a (or be \"\")"
#endif
#ifndef MOE_COMPILE_EXPORTS
#error "MOE_COMPILE_EXPORTS must name the runtime's linker version script"
#endif
#ifndef MOE_COMPILE_INCLUDE_DIR
#error "MOE_COMPILE_INCLUDE_DIR must name the project's include directory"
#endif
#ifndef MOE_COMPILE_CUDA_RUNTIME_LIBRARY
#error "MOE_COMPILE_CUDA_RUNTIME_LIBRARY must name libMoECudaRuntime.a (or be \"\")"
#endif
#ifndef MOE_COMPILE_C_RUNNER_UTILS
#error "MOE_COMPILE_C_RUNNER_UTILS must name libmlir_c_runner_utils.so"
#endif

using namespace mlir::moe::compile;

llvm::Expected<bool>
mlir::moe::compile::needsCRunnerUtils(const llvm::Module &module) {
  llvm::StringSet<> declared;
  for (const llvm::Function &function : module)
    if (function.isDeclaration() && !function.isIntrinsic())
      declared.insert(function.getName());
  if (declared.empty())
    return false;

  auto binary =
      llvm::object::ObjectFile::createObjectFile(MOE_COMPILE_C_RUNNER_UTILS);
  if (!binary)
    return llvm::createStringError("cannot read %s: %s",
                                   MOE_COMPILE_C_RUNNER_UTILS,
                                   llvm::toString(binary.takeError()).c_str());
  auto *elf =
      llvm::dyn_cast<llvm::object::ELFObjectFileBase>(binary->getBinary());
  if (!elf)
    return llvm::createStringError("%s is not an ELF shared library",
                                   MOE_COMPILE_C_RUNNER_UTILS);
  for (const llvm::object::ELFSymbolRef &symbol :
       elf->getDynamicSymbolIterators()) {
    llvm::Expected<uint32_t> flags = symbol.getFlags();
    if (!flags) {
      llvm::consumeError(flags.takeError());
      continue;
    }
    if (*flags & llvm::object::SymbolRef::SF_Undefined)
      continue;
    llvm::Expected<llvm::StringRef> name = symbol.getName();
    if (!name) {
      llvm::consumeError(name.takeError());
      continue;
    }
    if (declared.contains(*name))
      return true;
  }
  return false;
}

/// Runs the C++ compiler with `args` (after the program name); `step` names
/// what it does in the error.
static llvm::Error runCompiler(llvm::ArrayRef<std::string> args,
                               llvm::StringRef step) {
  std::vector<llvm::StringRef> argv{MOE_COMPILE_CXX_COMPILER};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string message;
  bool failedToRun = false;
  int rc = llvm::sys::ExecuteAndWait(MOE_COMPILE_CXX_COMPILER, argv,
                                     /*Env=*/std::nullopt, /*Redirects=*/{},
                                     /*SecondsToWait=*/0, /*MemoryLimit=*/0,
                                     &message, &failedToRun);
  if (rc == 0)
    return llvm::Error::success();
  std::string command;
  llvm::raw_string_ostream os(command);
  llvm::interleave(argv, os, " ");
  if (failedToRun)
    return llvm::createStringError("%s: cannot run %s: %s", step.str().c_str(),
                                   MOE_COMPILE_CXX_COMPILER, message.c_str());
  if (message.empty())
    message = "exit code " + std::to_string(rc);
  return llvm::createStringError("%s: the C++ compiler failed (%s): %s",
                                 step.str().c_str(), message.c_str(),
                                 command.c_str());
}

llvm::Error
mlir::moe::compile::compileModelDescription(llvm::StringRef source,
                                            llvm::StringRef object) {
  return runCompiler({"-std=c++17", "-O2", "-fPIC", "-fvisibility=hidden",
                      "-I" MOE_COMPILE_INCLUDE_DIR, "-c", source.str(), "-o",
                      object.str()},
                     "compiling the model description");
}

llvm::Error mlir::moe::compile::linkSharedLibrary(
    llvm::StringRef descriptionObject, llvm::StringRef modelObject,
    bool withCRunnerUtils, bool cuda, llvm::StringRef output) {
  llvm::StringRef runtime = MOE_COMPILE_RUNTIME_LIBRARY;
  llvm::StringRef cudaRuntime = MOE_COMPILE_CUDA_RUNTIME_LIBRARY;
  if (cuda && (cudaRuntime.empty() || !llvm::sys::fs::exists(cudaRuntime)))
    return llvm::createStringError(
        "linking: this moe-compile was built without the CUDA runtime "
        "library (CMake target MoECudaRuntime, MOE_ENABLE_CUDA)");
  if (runtime.empty())
    return llvm::createStringError(
        "linking: this moe-compile was built without the runtime library "
        "(CMake target MoERuntime)");
  if (!llvm::sys::fs::exists(runtime))
    return llvm::createStringError("linking: the runtime library %s is "
                                   "missing (build the MoERuntime target)",
                                   MOE_COMPILE_RUNTIME_LIBRARY);
  // Nothing in the model references the runtime, which implements the
  // exported C API: take all of it. -Bsymbolic keeps each model bound to its
  // own runtime when a process loads several; -z defs reports missing
  // symbols now rather than at load time.
  std::vector<std::string> args{"-shared",
                                "-o",
                                output.str(),
                                descriptionObject.str(),
                                modelObject.str(),
                                "-Wl,--whole-archive",
                                runtime.str(),
                                "-Wl,--no-whole-archive",
                                "-Wl,-Bsymbolic",
                                "-Wl,-z,defs",
                                "-Wl,-z,noexecstack",
                                "-pthread",
                                "-lm"};
  // The device runtime (mgpu*, moe_cuda_*): loads libcuda with dlopen.
  if (cuda) {
    args.push_back(cudaRuntime.str());
    args.push_back("-ldl");
  }
  // OpenMP runtime for the parallel tile loops.
  llvm::StringRef libomp = MOE_COMPILE_LIBOMP;
  args.push_back(libomp.str());
  args.push_back(("-Wl,-rpath," + llvm::sys::path::parent_path(libomp)).str());
  if (llvm::sys::fs::exists(MOE_COMPILE_EXPORTS))
    args.push_back("-Wl,--version-script=" MOE_COMPILE_EXPORTS);
  if (withCRunnerUtils) {
    llvm::StringRef utils = MOE_COMPILE_C_RUNNER_UTILS;
    args.push_back(utils.str());
    args.push_back(("-Wl,-rpath," + llvm::sys::path::parent_path(utils)).str());
  }
  return runCompiler(args, "linking");
}
