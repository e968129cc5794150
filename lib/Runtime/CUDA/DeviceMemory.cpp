//===- DeviceMemory.cpp - the moe_cuda_* functions of the model thunk -----===//
//
// What the generated thunk calls around `_mlir_ciface_main_graph`: init,
// uploads, cached constants, synchronise, downloads, frees, and the error
// slot. Copies are synchronous on the legacy stream; the streams of the mgpu*
// wrappers are blocking, so kernels queued later see the uploaded data and
// downloads see the kernels' results.
//
//===----------------------------------------------------------------------===//

#include "DeviceMemory.h"
#include "CudaDriver.h"
#include "moe/Runtime/CudaRuntime.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

using namespace moe::cuda;

namespace {

CUdeviceptr asDevice(const void *ptr) { return CUdeviceptr(uintptr_t(ptr)); }
void *asPointer(CUdeviceptr ptr) {
  return reinterpret_cast<void *>(uintptr_t(ptr));
}

/// Device copies of constants, per (device, host pointer, size). Freed when
/// the library unloads (at exit the driver may already be gone: quietly).
struct ConstantCache {
  using Key = std::tuple<int32_t, const void *, size_t>;
  std::mutex mutex;
  std::map<Key, CUdeviceptr> buffers;

  ~ConstantCache() {
    for (auto &[key, ptr] : buffers) {
      ScopedContext ctx(std::get<0>(key), /*quiet=*/true);
      if (ctx.ok())
        ctx->cuMemFree(ptr);
    }
  }
};

ConstantCache &constants() {
  static ConstantCache cache;
  return cache;
}

/// A device buffer holding `host`; 0 with the error recorded on failure.
CUdeviceptr uploadNew(const ScopedContext &ctx, const void *host, size_t bytes,
                      const char *what) {
  auto detail = [&] { return std::to_string(bytes) + " bytes" + what; };
  CUdeviceptr ptr = 0;
  if (!ctx.check(ctx->cuMemAlloc(&ptr, bytes), "cuMemAlloc", detail))
    return 0;
  if (!ctx.check(ctx->cuMemcpyHtoD(ptr, host, bytes), "cuMemcpyHtoD", detail)) {
    ctx->cuMemFree(ptr);
    return 0;
  }
  return ptr;
}

/// Host buffers standing in for failed host-shared allocations.
struct StandIns {
  std::mutex mutex;
  std::set<void *> buffers;
};

StandIns &standIns() {
  static StandIns registry;
  return registry;
}

} // namespace

void *moe::cuda::allocateStandIn(size_t bytes) {
  void *ptr = std::calloc(bytes, 1);
  if (!ptr)
    return nullptr;
  StandIns &registry = standIns();
  std::lock_guard<std::mutex> lock(registry.mutex);
  try {
    registry.buffers.insert(ptr);
  } catch (...) {
    std::free(ptr);
    return nullptr;
  }
  return ptr;
}

bool moe::cuda::freeStandIn(void *ptr) {
  StandIns &registry = standIns();
  std::lock_guard<std::mutex> lock(registry.mutex);
  if (!registry.buffers.erase(ptr))
    return false;
  std::free(ptr);
  return true;
}

extern "C" int moe_cuda_init(void) {
  if (hasError())
    return -1;
  int32_t device = selectedDevice();
  bindThread(device);
  return primaryContext(device) ? 0 : -1;
}

extern "C" const char *moe_cuda_take_error(void) { return takeError(); }

extern "C" int moe_cuda_set_device(int32_t ordinal) {
  return selectDevice(ordinal) ? 0 : -1;
}

extern "C" int32_t moe_cuda_get_device(void) { return selectedDevice(); }

extern "C" void *moe_cuda_constant(const void *host, size_t bytes) {
  if (bytes == 0 || hasError())
    return nullptr;
  if (!host) {
    recordError("moe_cuda_constant: host data is NULL");
    return nullptr;
  }
  ScopedContext ctx;
  if (!ctx.ok())
    return nullptr;
  ConstantCache &cache = constants();
  std::lock_guard<std::mutex> lock(cache.mutex);
  ConstantCache::Key key(ctx.device(), host, bytes);
  if (auto it = cache.buffers.find(key); it != cache.buffers.end())
    return asPointer(it->second);
  CUdeviceptr ptr = uploadNew(ctx, host, bytes, " of a constant");
  if (!ptr)
    return nullptr;
  try {
    cache.buffers.emplace(key, ptr);
  } catch (...) {
    ctx->cuMemFree(ptr);
    recordError("moe_cuda_constant: out of memory");
    return nullptr;
  }
  return asPointer(ptr);
}

extern "C" void moe_cuda_release_constant(const void *host) {
  ConstantCache &cache = constants();
  std::lock_guard<std::mutex> lock(cache.mutex);
  for (auto it = cache.buffers.begin(); it != cache.buffers.end();) {
    if (std::get<1>(it->first) != host) {
      ++it;
      continue;
    }
    ScopedContext ctx(std::get<0>(it->first), /*quiet=*/true);
    if (ctx.ok())
      ctx->cuMemFree(it->second);
    it = cache.buffers.erase(it);
  }
}

extern "C" void *moe_cuda_upload(const void *host, size_t bytes) {
  if (bytes == 0 || hasError())
    return nullptr;
  if (!host) {
    recordError("moe_cuda_upload: host data is NULL");
    return nullptr;
  }
  ScopedContext ctx;
  return ctx.ok() ? asPointer(uploadNew(ctx, host, bytes, "")) : nullptr;
}

extern "C" int moe_cuda_download(void *host, const void *device, size_t bytes) {
  if (hasError())
    return -1;
  if (bytes == 0)
    return 0;
  if (!host || !device) {
    recordError("moe_cuda_download: NULL buffer");
    return -1;
  }
  ScopedContext ctx;
  return ctx.ok() && ctx.check(ctx->cuMemcpyDtoH(host, asDevice(device), bytes),
                               "cuMemcpyDtoH",
                               [&] { return std::to_string(bytes) + " bytes"; })
             ? 0
             : -1;
}

extern "C" void moe_cuda_free(void *device) {
  if (!device || freeStandIn(device))
    return;
  ScopedContext ctx;
  if (ctx.ok())
    ctx.check(ctx->cuMemFree(asDevice(device)), "cuMemFree");
}

extern "C" int moe_cuda_synchronize(void) {
  // Even with an error pending: queued work must end before buffers go.
  ScopedContext ctx;
  if (ctx.ok())
    ctx.check(ctx->cuCtxSynchronize(), "cuCtxSynchronize");
  return hasError() ? -1 : 0;
}
