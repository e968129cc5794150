//===- DeviceMemory.h - stand-ins for failed shared allocations -*- C++ -*-===//
//
// Host code reads and writes host-shared (managed) memory directly, so a
// NULL from a failed mgpuMemAlloc(isHostShared) would crash it. A zeroed
// host buffer stands in instead: the code runs to its end, and the run fails
// with the recorded error. moe_cuda_free/mgpuMemFree release stand-ins.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_RUNTIME_CUDA_DEVICEMEMORY_H
#define MOE_LIB_RUNTIME_CUDA_DEVICEMEMORY_H

#include <cstddef>

namespace moe::cuda {

/// A zeroed host buffer of `bytes`, remembered as a stand-in; null when
/// even that fails.
void *allocateStandIn(size_t bytes);
/// Frees `ptr` if it is a stand-in; false when it is not one.
bool freeStandIn(void *ptr);

} // namespace moe::cuda

#endif // MOE_LIB_RUNTIME_CUDA_DEVICEMEMORY_H
