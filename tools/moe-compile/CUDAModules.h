//===- CUDAModules.h - when and where CUDA kernels load -------*- C++ -*-===//
//
// Post-processing of a CUDA artifact's LLVM module: kernel modules load when
// the runtime asks (moe_cuda_load_modules), not at dlopen time, and the
// embedded fatbins sit where the CUDA tools find them.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_TOOLS_MOE_COMPILE_CUDAMODULES_H
#define MOE_TOOLS_MOE_COMPILE_CUDAMODULES_H

#include "llvm/Support/Error.h"

namespace llvm {
class Module;
} // namespace llvm

namespace mlir::moe::compile {

/// Replaces the gpu.binary load/unload constructors and destructors by
/// `moe_cuda_load_modules` / `moe_cuda_unload_modules` and puts the binaries
/// in the `.nv_fatbin` section.
llvm::Error prepareCUDAModuleLoading(llvm::Module &module);

} // namespace mlir::moe::compile

#endif // MOE_TOOLS_MOE_COMPILE_CUDAMODULES_H
