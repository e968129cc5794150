//===- KernelName.h - readable names for the CUDA kernels -------*- C++ -*-===//
//
// A lowering that knows what a loop does marks its location with a kernel
// name; locations survive bufferisation, the loop conversions and the GPU
// mapping, so `moe-gpu-name-kernels` finds the name on the `gpu.launch` the
// loop became and has the kernel outlined under it.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CONVERSION_KERNELNAME_H
#define MOE_CONVERSION_KERNELNAME_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"

#include <optional>

namespace mlir::moe {

/// The prefix of the NameLoc that carries a kernel name (ONNX node names are
/// NameLocs too).
inline constexpr llvm::StringLiteral kKernelNamePrefix = "moe.kernel:";

/// `loc` marked so that the kernel made from the op carrying it is `name`.
inline Location kernelLoc(Location loc, llvm::StringRef name) {
  return NameLoc::get(
      StringAttr::get(loc.getContext(), (kKernelNamePrefix + name).str()), loc);
}

/// The first kernel name marked in `loc` (nested fused or name locations
/// included), if any.
inline std::optional<llvm::StringRef> markedKernelName(Location loc) {
  std::optional<llvm::StringRef> found;
  loc->walk([&](Location nested) {
    if (auto named = dyn_cast<NameLoc>(nested))
      if (named.getName().getValue().starts_with(kKernelNamePrefix)) {
        found = named.getName().getValue().drop_front(kKernelNamePrefix.size());
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  return found;
}

} // namespace mlir::moe

#endif // MOE_CONVERSION_KERNELNAME_H
