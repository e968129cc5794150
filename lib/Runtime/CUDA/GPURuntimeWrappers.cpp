//===- GPURuntimeWrappers.cpp - the mgpu* functions MLIR's lowering calls -===//
//
// MLIR 22's gpu-to-llvm and its translation of gpu.binary/gpu.launch_func
// emit calls to these (the C signatures of upstream's CudaRuntimeWrappers),
// written here over the driver loaded by CudaDriver. Differences from
// upstream, on purpose:
//  - no abort and no stderr: failures go to the thread's error slot, and
//    while one is pending, calls that allocate, launch or copy do nothing;
//  - modules load lazily: mgpuModuleLoad runs from the model library's
//    constructor, before any device is chosen and possibly without a driver,
//    so it only records the image; each device loads it on first use;
//  - streams are blocking (CU_STREAM_DEFAULT), so they are ordered after the
//    thunk's synchronous copies on the legacy stream;
//  - launches of an empty grid are skipped rather than refused.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "DeviceMemory.h"
#include "moe/Runtime/CudaRuntime.h"

#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

using namespace moe::cuda;

namespace {

/// What mgpuModuleGetFunction returns: the driver's function plus what the
/// launch wrappers want to know about it.
struct Kernel {
  CUfunction function = nullptr;
  std::string name;
  /// Dynamic shared memory the function has been allowed so far (the
  /// driver's default limit is 48 KiB); runs may launch it concurrently.
  std::atomic<int32_t> sharedLimit{48 * 1024};
};

/// A gpu.binary's image and its modules, one per device that used it.
struct LazyModule {
  const void *image = nullptr;
  size_t size = 0;
  int optLevel = -1; // -1: cubin or fatbin; >= 0: PTX to JIT-compile
  std::mutex mutex;
  struct Loaded {
    int32_t device;
    CUmodule module;
    std::vector<std::unique_ptr<Kernel>> kernels;
  };
  std::vector<Loaded> loaded;
};

/// Loads `m` into the current context of `ctx`; null with the error
/// recorded on failure (with the JIT's log for PTX).
CUmodule loadModule(const ScopedContext &ctx, const LazyModule &m) {
  CUmodule module = nullptr;
  if (!m.image) {
    ctx.check(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData",
              [] { return "no GPU binary"; });
    return nullptr;
  }
  if (m.optLevel < 0) {
    ctx.check(ctx->cuModuleLoadData(&module, m.image), "cuModuleLoadData",
              [&] { return std::to_string(m.size) + "-byte GPU binary"; });
    return module;
  }
  char log[4096] = {};
  CUjit_option options[] = {CU_JIT_OPTIMIZATION_LEVEL, CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {reinterpret_cast<void *>(uintptr_t(m.optLevel)), log,
                    reinterpret_cast<void *>(uintptr_t(sizeof(log)))};
  CUresult result =
      ctx->cuModuleLoadDataEx(&module, m.image, 3, options, values);
  ctx.check(result, "cuModuleLoadDataEx", [&] {
    return std::string("PTX") + (log[0] ? ": " + std::string(log) : "");
  });
  return module;
}

/// Whether a launch dimension fits the driver's unsigned int; records an
/// error for the first that does not.
bool dimsFit(const Kernel &k, std::initializer_list<intptr_t> dims) {
  for (intptr_t d : dims) {
    if (d < 0 || uintmax_t(d) > UINT_MAX) {
      recordErrorWith([&] {
        return "launch of kernel '" + k.name + "': dimension " +
               std::to_string(d) + " is out of range";
      });
      return false;
    }
  }
  return true;
}

/// An empty grid is no work (a batch of zero tokens); the driver would
/// call it an invalid value.
bool isEmpty(std::initializer_list<intptr_t> dims) {
  for (intptr_t d : dims)
    if (d == 0)
      return true;
  return false;
}

/// Raises the kernel's dynamic shared memory limit to `smem` if needed.
bool allowSharedMemory(const ScopedContext &ctx, Kernel &k, int32_t smem) {
  if (smem <= k.sharedLimit.load(std::memory_order_relaxed))
    return true;
  if (!ctx.check(ctx->cuFuncSetAttribute(
                     k.function,
                     CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem),
                 "cuFuncSetAttribute", [&] {
                   return "kernel '" + k.name + "', " + std::to_string(smem) +
                          " bytes of dynamic shared memory";
                 }))
    return false;
  k.sharedLimit.store(smem, std::memory_order_relaxed);
  return true;
}

std::string launchWhat(const Kernel &k, intptr_t gx, intptr_t gy, intptr_t gz,
                       intptr_t bx, intptr_t by, intptr_t bz) {
  auto dims = [](intptr_t x, intptr_t y, intptr_t z) {
    return std::to_string(x) + "x" + std::to_string(y) + "x" +
           std::to_string(z);
  };
  return "kernel '" + k.name + "', grid " + dims(gx, gy, gz) + ", block " +
         dims(bx, by, bz);
}

/// Common checks of the launch wrappers; the kernel when the launch may go.
Kernel *launchable(void *function) {
  if (hasError())
    return nullptr;
  if (!function) {
    recordError("kernel launch without a kernel (its module did not load)");
    return nullptr;
  }
  return static_cast<Kernel *>(function);
}

CUstream asStream(void *stream) { return static_cast<CUstream>(stream); }
CUevent asEvent(void *event) { return static_cast<CUevent>(event); }
CUdeviceptr asDevice(const void *ptr) { return CUdeviceptr(uintptr_t(ptr)); }

} // namespace

//===--- Modules and launches ---------------------------------------------===//

extern "C" void *mgpuModuleLoad(void *data, size_t gpuBlobSize) {
  auto *m = new (std::nothrow) LazyModule();
  if (!m) {
    recordError("mgpuModuleLoad: out of memory");
    return nullptr;
  }
  m->image = data;
  m->size = gpuBlobSize;
  return m;
}

extern "C" void *mgpuModuleLoadJIT(void *data, int optLevel) {
  auto *m = static_cast<LazyModule *>(mgpuModuleLoad(data, 0));
  if (m)
    m->optLevel = optLevel < 0 ? 0 : optLevel;
  return m;
}

extern "C" void mgpuModuleUnload(void *module) {
  auto *m = static_cast<LazyModule *>(module);
  if (!m)
    return;
  // Runs from the library's destructor, possibly at exit: quietly.
  for (LazyModule::Loaded &entry : m->loaded) {
    ScopedContext ctx(entry.device, /*quiet=*/true);
    if (ctx.ok())
      ctx->cuModuleUnload(entry.module);
  }
  delete m;
}

extern "C" void *mgpuModuleGetFunction(void *module, const char *name) {
  auto *m = static_cast<LazyModule *>(module);
  if (hasError())
    return nullptr;
  if (!m || !name) {
    recordError("mgpuModuleGetFunction: no module or no kernel name");
    return nullptr;
  }
  ScopedContext ctx;
  if (!ctx.ok())
    return nullptr;
  std::lock_guard<std::mutex> lock(m->mutex);
  LazyModule::Loaded *entry = nullptr;
  for (LazyModule::Loaded &e : m->loaded)
    if (e.device == ctx.device())
      entry = &e;
  try {
    if (!entry) {
      CUmodule loaded = loadModule(ctx, *m);
      if (!loaded)
        return nullptr;
      m->loaded.push_back({ctx.device(), loaded, {}});
      entry = &m->loaded.back();
    }
    for (const std::unique_ptr<Kernel> &k : entry->kernels)
      if (k->name == name)
        return k.get();
    auto k = std::make_unique<Kernel>();
    k->name = name;
    if (!ctx.check(ctx->cuModuleGetFunction(&k->function, entry->module, name),
                   "cuModuleGetFunction",
                   [&] { return std::string("kernel '") + name + "'"; }))
      return nullptr;
    entry->kernels.push_back(std::move(k));
    return entry->kernels.back().get();
  } catch (...) {
    recordError("mgpuModuleGetFunction: out of memory");
    return nullptr;
  }
}

extern "C" void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                                 intptr_t gridZ, intptr_t blockX,
                                 intptr_t blockY, intptr_t blockZ, int32_t smem,
                                 void *stream, void **params, void **extra,
                                 size_t /*paramsCount*/) {
  Kernel *k = launchable(function);
  if (!k || !dimsFit(*k, {gridX, gridY, gridZ, blockX, blockY, blockZ, smem}) ||
      isEmpty({gridX, gridY, gridZ, blockX, blockY, blockZ}))
    return;
  ScopedContext ctx;
  if (!ctx.ok() || !allowSharedMemory(ctx, *k, smem))
    return;
  ctx.check(
      ctx->cuLaunchKernel(k->function, gridX, gridY, gridZ, blockX, blockY,
                          blockZ, smem, asStream(stream), params, extra),
      "cuLaunchKernel", [&] {
        return launchWhat(*k, gridX, gridY, gridZ, blockX, blockY, blockZ);
      });
}

extern "C" void mgpuLaunchClusterKernel(void *function, intptr_t clusterX,
                                        intptr_t clusterY, intptr_t clusterZ,
                                        intptr_t gridX, intptr_t gridY,
                                        intptr_t gridZ, intptr_t blockX,
                                        intptr_t blockY, intptr_t blockZ,
                                        int32_t smem, void *stream,
                                        void **params, void **extra) {
  Kernel *k = launchable(function);
  if (!k ||
      !dimsFit(*k, {clusterX, clusterY, clusterZ, gridX, gridY, gridZ, blockX,
                    blockY, blockZ, smem}) ||
      isEmpty({gridX, gridY, gridZ, blockX, blockY, blockZ}))
    return;
  ScopedContext ctx;
  if (!ctx.ok() || !allowSharedMemory(ctx, *k, smem))
    return;
  auto what = [&] {
    return launchWhat(*k, gridX, gridY, gridZ, blockX, blockY, blockZ) +
           ", cluster " + std::to_string(clusterX) + "x" +
           std::to_string(clusterY) + "x" + std::to_string(clusterZ);
  };
  // Clusters over 8 blocks are "non-portable" and need an opt-in.
  if (clusterX * clusterY * clusterZ > 8 &&
      !ctx.check(ctx->cuFuncSetAttribute(
                     k->function,
                     CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1),
                 "cuFuncSetAttribute", what))
    return;
  CUlaunchAttribute attribute = {};
  attribute.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  attribute.value.clusterDim.x = unsigned(clusterX);
  attribute.value.clusterDim.y = unsigned(clusterY);
  attribute.value.clusterDim.z = unsigned(clusterZ);
  CUlaunchConfig config = {};
  config.gridDimX = unsigned(gridX);
  config.gridDimY = unsigned(gridY);
  config.gridDimZ = unsigned(gridZ);
  config.blockDimX = unsigned(blockX);
  config.blockDimY = unsigned(blockY);
  config.blockDimZ = unsigned(blockZ);
  config.sharedMemBytes = unsigned(smem);
  config.hStream = asStream(stream);
  config.attrs = &attribute;
  config.numAttrs = 1;
  ctx.check(ctx->cuLaunchKernelEx(&config, k->function, params, extra),
            "cuLaunchKernelEx", what);
}

//===--- Streams and events -----------------------------------------------===//

extern "C" void *mgpuStreamCreate(void) {
  if (hasError())
    return nullptr;
  ScopedContext ctx;
  CUstream stream = nullptr;
  if (!ctx.ok() || !ctx.check(ctx->cuStreamCreate(&stream, CU_STREAM_DEFAULT),
                              "cuStreamCreate"))
    return nullptr;
  return stream;
}

extern "C" void mgpuStreamDestroy(void *stream) {
  if (!stream)
    return;
  ScopedContext ctx;
  if (ctx.ok())
    ctx.check(ctx->cuStreamDestroy(asStream(stream)), "cuStreamDestroy");
}

extern "C" void mgpuStreamSynchronize(void *stream) {
  // Also with an error pending: queued work must finish before its buffers
  // are freed.
  ScopedContext ctx;
  if (ctx.ok())
    ctx.check(ctx->cuStreamSynchronize(asStream(stream)),
              "cuStreamSynchronize");
}

extern "C" void mgpuStreamWaitEvent(void *stream, void *event) {
  if (!event || hasError())
    return;
  ScopedContext ctx;
  if (ctx.ok())
    ctx.check(ctx->cuStreamWaitEvent(asStream(stream), asEvent(event), 0),
              "cuStreamWaitEvent");
}

extern "C" void *mgpuEventCreate(void) {
  if (hasError())
    return nullptr;
  ScopedContext ctx;
  CUevent event = nullptr;
  if (!ctx.ok() ||
      !ctx.check(ctx->cuEventCreate(&event, CU_EVENT_DISABLE_TIMING),
                 "cuEventCreate"))
    return nullptr;
  return event;
}

extern "C" void mgpuEventDestroy(void *event) {
  if (!event)
    return;
  ScopedContext ctx;
  if (ctx.ok())
    ctx.check(ctx->cuEventDestroy(asEvent(event)), "cuEventDestroy");
}

extern "C" void mgpuEventSynchronize(void *event) {
  if (!event)
    return;
  ScopedContext ctx;
  if (ctx.ok())
    ctx.check(ctx->cuEventSynchronize(asEvent(event)), "cuEventSynchronize");
}

extern "C" void mgpuEventRecord(void *event, void *stream) {
  if (!event || hasError())
    return;
  ScopedContext ctx;
  if (ctx.ok())
    ctx.check(ctx->cuEventRecord(asEvent(event), asStream(stream)),
              "cuEventRecord");
}

//===--- Memory -----------------------------------------------------------===//

extern "C" void *mgpuMemAlloc(uint64_t sizeBytes, void * /*stream*/,
                              bool isHostShared) {
  // Empty memrefs get no memory: nothing ever dereferences them.
  if (sizeBytes == 0)
    return nullptr;
  void *ptr = nullptr;
  if (!hasError()) {
    ScopedContext ctx;
    CUdeviceptr device = 0;
    auto what = [&] { return std::to_string(sizeBytes) + " bytes"; };
    bool ok =
        ctx.ok() &&
        (isHostShared ? ctx.check(ctx->cuMemAllocManaged(&device, sizeBytes,
                                                         CU_MEM_ATTACH_GLOBAL),
                                  "cuMemAllocManaged", what)
                      : ctx.check(ctx->cuMemAlloc(&device, sizeBytes),
                                  "cuMemAlloc", what));
    if (ok)
      ptr = reinterpret_cast<void *>(uintptr_t(device));
  }
  // Host code touches host-shared memory: never hand it NULL.
  if (!ptr && isHostShared && sizeBytes <= SIZE_MAX)
    ptr = allocateStandIn(size_t(sizeBytes));
  return ptr;
}

extern "C" void mgpuMemFree(void *ptr, void * /*stream*/) {
  moe_cuda_free(ptr);
}

extern "C" void mgpuMemcpy(void *dst, void *src, size_t sizeBytes,
                           void *stream) {
  if (sizeBytes == 0 || hasError())
    return;
  ScopedContext ctx;
  if (ctx.ok())
    ctx.check(ctx->cuMemcpyAsync(asDevice(dst), asDevice(src), sizeBytes,
                                 asStream(stream)),
              "cuMemcpyAsync",
              [&] { return std::to_string(sizeBytes) + " bytes"; });
}

extern "C" void mgpuMemset32(void *dst, unsigned int value, size_t count,
                             void *stream) {
  if (count == 0 || hasError())
    return;
  ScopedContext ctx;
  if (ctx.ok())
    ctx.check(
        ctx->cuMemsetD32Async(asDevice(dst), value, count, asStream(stream)),
        "cuMemsetD32Async", [&] { return std::to_string(count) + " words"; });
}

extern "C" void mgpuMemset16(void *dst, unsigned short value, size_t count,
                             void *stream) {
  if (count == 0 || hasError())
    return;
  ScopedContext ctx;
  if (ctx.ok())
    ctx.check(
        ctx->cuMemsetD16Async(asDevice(dst), value, count, asStream(stream)),
        "cuMemsetD16Async",
        [&] { return std::to_string(count) + " half-words"; });
}

extern "C" void mgpuSetDefaultDevice(int32_t device) { bindThread(device); }
