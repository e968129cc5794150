//===- mock_cuda_driver.cpp - a stand-in libcuda for tests without a GPU --===//
//
// Loaded through $MOE_CUDA_DRIVER by the CUDA runtime tests, it implements
// the driver entry points the runtime resolves (DriverFunctions.def) over
// host memory, strictly enough to catch misuse: two devices, one primary
// context each; every call but init/device queries needs a current context,
// and objects (memory, modules, streams) must be used from their own
// device's context. "Kernels" are host functions named in a module image
// that starts with "MOCK-CUBIN" (or "MOCK-PTX" for the JIT path):
//   scale_add(float *y, const float *x, const float *scale, const float *b,
//             int64_t cols)  y[r][c] = x[r][c] * scale[c] + b[c]
//                            (grid.x rows, block.x columns)
//   trap()                   an asynchronous fault: the next synchronize
//                            fails with CUDA_ERROR_LAUNCH_FAILED
// For assertions: mock_cuda_stat(name) and mock_cuda_fail(entry, result).
//
//===----------------------------------------------------------------------===//

#include <cuda.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace {

constexpr int kDevices = 2;

struct Context {
  int device;
};
struct Module {
  int device;
};
struct Function {
  Module *module;
  std::string name;
  int sharedLimit = 48 * 1024;
  bool nonPortableClusters = false;
};
struct Stream {
  int device;
};
struct Event {
  int device;
};
struct Allocation {
  int device;
  size_t bytes;
};

std::recursive_mutex mutex;
bool initialised = false;
Context contexts[kDevices] = {{0}, {1}};
/// The calling thread's context stack. Trivially destructible on purpose: a
/// model's static destructors (its constant cache) still push and pop
/// contexts after the thread-local destructors have run at exit.
struct ContextStack {
  static constexpr int kCapacity = 64;
  Context *entries[kCapacity];
  int count = 0;
  bool empty() const { return count == 0; }
  bool full() const { return count == kCapacity; }
  int size() const { return count; }
  Context *back() const { return entries[count - 1]; }
  void push_back(Context *context) { entries[count++] = context; }
  void pop_back() { --count; }
};
thread_local ContextStack stack;
// Never destroyed: models call into the driver from their own exit-time
// destructors and finalisers, which may run after this library's.
std::map<uintptr_t, Allocation> &allocations =
    *new std::map<uintptr_t, Allocation>;
std::set<Module *> &modules = *new std::set<Module *>;
std::set<Function *> &functions = *new std::set<Function *>;
std::set<Stream *> &streams = *new std::set<Stream *>;
std::set<Event *> &events = *new std::set<Event *>;
int launches = 0;
bool pendingFault = false;
std::map<std::string, CUresult> &injected = *new std::map<std::string, CUresult>;

/// An injected failure of `entry`, once.
CUresult injectedFailure(const char *entry) {
  auto it = injected.find(entry);
  if (it == injected.end())
    return CUDA_SUCCESS;
  CUresult result = it->second;
  injected.erase(it);
  return result;
}

/// The entry checks every call makes: injected failure, init, a context.
#define MOCK_ENTER(entry, needsContext)                                        \
  std::lock_guard<std::recursive_mutex> lock(mutex);                           \
  if (CUresult injectedResult = injectedFailure(entry))                        \
    return injectedResult;                                                     \
  if (!initialised)                                                            \
    return CUDA_ERROR_NOT_INITIALIZED;                                         \
  if ((needsContext) && stack.empty())                                         \
    return CUDA_ERROR_INVALID_CONTEXT;

int currentDevice() { return stack.back()->device; }

/// Whether [ptr, ptr + bytes) lies in one allocation of the current device.
bool isDeviceRange(const void *ptr, size_t bytes) {
  uintptr_t p = uintptr_t(ptr);
  auto it = allocations.upper_bound(p);
  if (it == allocations.begin())
    return false;
  --it;
  return it->second.device == currentDevice() && p >= it->first &&
         p + bytes <= it->first + it->second.bytes;
}

bool streamUsable(CUstream stream) {
  auto *s = reinterpret_cast<Stream *>(stream);
  return !s || (streams.count(s) && s->device == currentDevice());
}

CUresult runKernel(Function *f, unsigned gridX, unsigned blockX, unsigned smem,
                   void **params) {
  if (!functions.count(f) || f->module->device != currentDevice())
    return CUDA_ERROR_INVALID_HANDLE;
  if (int(smem) > f->sharedLimit)
    return CUDA_ERROR_INVALID_VALUE;
  ++launches;
  if (f->name == "trap") {
    pendingFault = true;
    return CUDA_SUCCESS;
  }
  auto *y = *static_cast<float **>(params[0]);
  auto *x = *static_cast<const float **>(params[1]);
  auto *scale = *static_cast<const float **>(params[2]);
  auto *b = *static_cast<const float **>(params[3]);
  int64_t cols = *static_cast<int64_t *>(params[4]);
  size_t rowsBytes = size_t(gridX) * cols * sizeof(float);
  if (int64_t(blockX) != cols || !isDeviceRange(y, rowsBytes) ||
      !isDeviceRange(x, rowsBytes) ||
      !isDeviceRange(scale, cols * sizeof(float)) ||
      !isDeviceRange(b, cols * sizeof(float)))
    return CUDA_ERROR_ILLEGAL_ADDRESS;
  for (unsigned r = 0; r < gridX; ++r)
    for (int64_t c = 0; c < cols; ++c)
      y[r * cols + c] = x[r * cols + c] * scale[c] + b[c];
  return CUDA_SUCCESS;
}

CUresult synchronizeFault() {
  if (!pendingFault)
    return CUDA_SUCCESS;
  pendingFault = false;
  return CUDA_ERROR_LAUNCH_FAILED;
}

/// Device memory is host memory; sizes over 1 TiB fail like a full device.
CUresult allocate(CUdeviceptr *ptr, size_t bytes) {
  if (bytes == 0)
    return CUDA_ERROR_INVALID_VALUE;
  if (bytes > (size_t(1) << 40))
    return CUDA_ERROR_OUT_OF_MEMORY;
  void *p = ::operator new(bytes);
  allocations[uintptr_t(p)] = {currentDevice(), bytes};
  *ptr = CUdeviceptr(uintptr_t(p));
  return CUDA_SUCCESS;
}

template <typename T>
CUresult fill(CUdeviceptr dst, T value, size_t count, CUstream stream) {
  T *d = reinterpret_cast<T *>(uintptr_t(dst));
  if (!streamUsable(stream) || !isDeviceRange(d, count * sizeof(T)))
    return CUDA_ERROR_INVALID_VALUE;
  for (size_t i = 0; i < count; ++i)
    d[i] = value;
  return CUDA_SUCCESS;
}

} // namespace

extern "C" {

//===--- Test hooks -------------------------------------------------------===//

int mock_cuda_stat(const char *name) {
  std::lock_guard<std::recursive_mutex> lock(mutex);
  std::string n = name;
  if (n == "allocations")
    return int(allocations.size());
  if (n == "modules")
    return int(modules.size());
  if (n == "streams")
    return int(streams.size());
  if (n == "events")
    return int(events.size());
  if (n == "launches")
    return launches;
  if (n == "context_depth")
    return int(stack.size());
  return -1;
}

/// Makes the next call of `entry` (cuda.h spelling) return `result`.
void mock_cuda_fail(const char *entry, int result) {
  std::lock_guard<std::recursive_mutex> lock(mutex);
  injected[entry] = CUresult(result);
}

//===--- Errors, init, devices, contexts ----------------------------------===//

CUresult cuGetErrorName(CUresult error, const char **name) {
  switch (error) {
  case CUDA_SUCCESS:
    *name = "CUDA_SUCCESS";
    return CUDA_SUCCESS;
  case CUDA_ERROR_OUT_OF_MEMORY:
    *name = "CUDA_ERROR_OUT_OF_MEMORY";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_VALUE:
    *name = "CUDA_ERROR_INVALID_VALUE";
    return CUDA_SUCCESS;
  case CUDA_ERROR_LAUNCH_FAILED:
    *name = "CUDA_ERROR_LAUNCH_FAILED";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_IMAGE:
    *name = "CUDA_ERROR_INVALID_IMAGE";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_PTX:
    *name = "CUDA_ERROR_INVALID_PTX";
    return CUDA_SUCCESS;
  case CUDA_ERROR_NOT_FOUND:
    *name = "CUDA_ERROR_NOT_FOUND";
    return CUDA_SUCCESS;
  default:
    *name = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult cuGetErrorString(CUresult error, const char **text) {
  *text = error == CUDA_ERROR_OUT_OF_MEMORY ? "out of memory (mock)"
                                            : "mock driver error";
  return CUDA_SUCCESS;
}

CUresult cuInit(unsigned int) {
  std::lock_guard<std::recursive_mutex> lock(mutex);
  if (CUresult r = injectedFailure("cuInit"))
    return r;
  initialised = true;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
  MOCK_ENTER("cuDeviceGetCount", false);
  *count = kDevices;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  MOCK_ENTER("cuDeviceGet", false);
  if (ordinal < 0 || ordinal >= kDevices)
    return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device) {
  MOCK_ENTER("cuDevicePrimaryCtxRetain", false);
  if (device < 0 || device >= kDevices)
    return CUDA_ERROR_INVALID_DEVICE;
  *context = reinterpret_cast<CUcontext>(&contexts[device]);
  return CUDA_SUCCESS;
}

CUresult cuCtxPushCurrent(CUcontext context) {
  MOCK_ENTER("cuCtxPushCurrent", false);
  auto *c = reinterpret_cast<Context *>(context);
  if (c != &contexts[0] && c != &contexts[1])
    return CUDA_ERROR_INVALID_CONTEXT;
  if (stack.full())
    return CUDA_ERROR_INVALID_VALUE;
  stack.push_back(c);
  return CUDA_SUCCESS;
}

CUresult cuCtxPopCurrent(CUcontext *context) {
  MOCK_ENTER("cuCtxPopCurrent", true);
  if (context)
    *context = reinterpret_cast<CUcontext>(stack.back());
  stack.pop_back();
  return CUDA_SUCCESS;
}

CUresult cuCtxSynchronize(void) {
  MOCK_ENTER("cuCtxSynchronize", true);
  return synchronizeFault();
}

//===--- Modules and launches ---------------------------------------------===//

CUresult cuModuleLoadData(CUmodule *module, const void *image) {
  MOCK_ENTER("cuModuleLoadData", true);
  if (std::strncmp(static_cast<const char *>(image), "MOCK-CUBIN", 10))
    return CUDA_ERROR_INVALID_IMAGE;
  auto *m = new Module{currentDevice()};
  modules.insert(m);
  *module = reinterpret_cast<CUmodule>(m);
  return CUDA_SUCCESS;
}

CUresult cuModuleLoadDataEx(CUmodule *module, const void *image,
                            unsigned int numOptions, CUjit_option *options,
                            void **values) {
  MOCK_ENTER("cuModuleLoadDataEx", true);
  if (std::strncmp(static_cast<const char *>(image), "MOCK-PTX", 8)) {
    for (unsigned i = 0; i < numOptions; ++i)
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER)
        std::strcpy(static_cast<char *>(values[i]), "mock ptxas: not PTX");
    return CUDA_ERROR_INVALID_PTX;
  }
  auto *m = new Module{currentDevice()};
  modules.insert(m);
  *module = reinterpret_cast<CUmodule>(m);
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *function, CUmodule module,
                             const char *name) {
  MOCK_ENTER("cuModuleGetFunction", true);
  auto *m = reinterpret_cast<Module *>(module);
  if (!modules.count(m) || m->device != currentDevice())
    return CUDA_ERROR_INVALID_HANDLE;
  if (std::strcmp(name, "scale_add") && std::strcmp(name, "trap"))
    return CUDA_ERROR_NOT_FOUND;
  auto *f = new Function{m, name};
  functions.insert(f);
  *function = reinterpret_cast<CUfunction>(f);
  return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule module) {
  MOCK_ENTER("cuModuleUnload", true);
  auto *m = reinterpret_cast<Module *>(module);
  if (!modules.count(m) || m->device != currentDevice())
    return CUDA_ERROR_INVALID_HANDLE;
  for (auto it = functions.begin(); it != functions.end();) {
    if ((*it)->module == m) {
      delete *it;
      it = functions.erase(it);
    } else {
      ++it;
    }
  }
  modules.erase(m);
  delete m;
  return CUDA_SUCCESS;
}

CUresult cuFuncSetAttribute(CUfunction function, CUfunction_attribute attribute,
                            int value) {
  MOCK_ENTER("cuFuncSetAttribute", true);
  auto *f = reinterpret_cast<Function *>(function);
  if (!functions.count(f))
    return CUDA_ERROR_INVALID_HANDLE;
  if (attribute == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
    f->sharedLimit = value;
  else if (attribute == CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED)
    f->nonPortableClusters = value != 0;
  else
    return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}

CUresult cuLaunchKernel(CUfunction function, unsigned int gridX, unsigned int,
                        unsigned int, unsigned int blockX, unsigned int,
                        unsigned int, unsigned int smem, CUstream stream,
                        void **params, void **) {
  MOCK_ENTER("cuLaunchKernel", true);
  if (!streamUsable(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  return runKernel(reinterpret_cast<Function *>(function), gridX, blockX, smem,
                   params);
}

CUresult cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction function,
                          void **params, void **) {
  MOCK_ENTER("cuLaunchKernelEx", true);
  if (!streamUsable(config->hStream))
    return CUDA_ERROR_INVALID_HANDLE;
  auto *f = reinterpret_cast<Function *>(function);
  for (unsigned i = 0; i < config->numAttrs; ++i) {
    const CUlaunchAttribute &a = config->attrs[i];
    if (a.id != CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)
      continue;
    unsigned size =
        a.value.clusterDim.x * a.value.clusterDim.y * a.value.clusterDim.z;
    if (!size || config->gridDimX % a.value.clusterDim.x ||
        (size > 8 && !(functions.count(f) && f->nonPortableClusters)))
      return CUDA_ERROR_INVALID_CLUSTER_SIZE;
  }
  return runKernel(f, config->gridDimX, config->blockDimX,
                   config->sharedMemBytes, params);
}

//===--- Streams and events -----------------------------------------------===//

CUresult cuStreamCreate(CUstream *stream, unsigned int) {
  MOCK_ENTER("cuStreamCreate", true);
  auto *s = new Stream{currentDevice()};
  streams.insert(s);
  *stream = reinterpret_cast<CUstream>(s);
  return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream stream) {
  MOCK_ENTER("cuStreamSynchronize", true);
  if (!streamUsable(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  return synchronizeFault();
}

CUresult cuStreamDestroy(CUstream stream) {
  MOCK_ENTER("cuStreamDestroy", true);
  auto *s = reinterpret_cast<Stream *>(stream);
  if (!s || !streamUsable(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  streams.erase(s);
  delete s;
  return CUDA_SUCCESS;
}

CUresult cuStreamWaitEvent(CUstream stream, CUevent event, unsigned int) {
  MOCK_ENTER("cuStreamWaitEvent", true);
  auto *e = reinterpret_cast<Event *>(event);
  if (!streamUsable(stream) || !events.count(e))
    return CUDA_ERROR_INVALID_HANDLE;
  return CUDA_SUCCESS;
}

CUresult cuEventCreate(CUevent *event, unsigned int) {
  MOCK_ENTER("cuEventCreate", true);
  auto *e = new Event{currentDevice()};
  events.insert(e);
  *event = reinterpret_cast<CUevent>(e);
  return CUDA_SUCCESS;
}

CUresult cuEventRecord(CUevent event, CUstream stream) {
  MOCK_ENTER("cuEventRecord", true);
  auto *e = reinterpret_cast<Event *>(event);
  if (!events.count(e) || e->device != currentDevice() || !streamUsable(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  return CUDA_SUCCESS;
}

CUresult cuEventSynchronize(CUevent event) {
  MOCK_ENTER("cuEventSynchronize", true);
  if (!events.count(reinterpret_cast<Event *>(event)))
    return CUDA_ERROR_INVALID_HANDLE;
  return synchronizeFault();
}

CUresult cuEventDestroy(CUevent event) {
  MOCK_ENTER("cuEventDestroy", true);
  auto *e = reinterpret_cast<Event *>(event);
  if (!events.count(e))
    return CUDA_ERROR_INVALID_HANDLE;
  events.erase(e);
  delete e;
  return CUDA_SUCCESS;
}

//===--- Memory -----------------------------------------------------------===//

CUresult cuMemAlloc(CUdeviceptr *ptr, size_t bytes) {
  MOCK_ENTER("cuMemAlloc", true);
  return allocate(ptr, bytes);
}

CUresult cuMemAllocManaged(CUdeviceptr *ptr, size_t bytes, unsigned int) {
  MOCK_ENTER("cuMemAllocManaged", true);
  return allocate(ptr, bytes);
}

CUresult cuMemFree(CUdeviceptr ptr) {
  MOCK_ENTER("cuMemFree", true);
  auto it = allocations.find(uintptr_t(ptr));
  if (it == allocations.end() || it->second.device != currentDevice())
    return CUDA_ERROR_INVALID_VALUE;
  ::operator delete(reinterpret_cast<void *>(uintptr_t(ptr)));
  allocations.erase(it);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t bytes) {
  MOCK_ENTER("cuMemcpyHtoD", true);
  void *d = reinterpret_cast<void *>(uintptr_t(dst));
  if (!isDeviceRange(d, bytes))
    return CUDA_ERROR_INVALID_VALUE;
  std::memcpy(d, src, bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH(void *dst, CUdeviceptr src, size_t bytes) {
  MOCK_ENTER("cuMemcpyDtoH", true);
  const void *s = reinterpret_cast<const void *>(uintptr_t(src));
  if (!isDeviceRange(s, bytes))
    return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = synchronizeFault()) // synchronous: waits for the kernels
    return r;
  std::memcpy(dst, s, bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes,
                       CUstream stream) {
  MOCK_ENTER("cuMemcpyAsync", true);
  if (!streamUsable(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  std::memcpy(reinterpret_cast<void *>(uintptr_t(dst)),
              reinterpret_cast<const void *>(uintptr_t(src)), bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int value, size_t count,
                          CUstream stream) {
  MOCK_ENTER("cuMemsetD32Async", true);
  return fill<uint32_t>(dst, value, count, stream);
}

CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short value, size_t count,
                          CUstream stream) {
  MOCK_ENTER("cuMemsetD16Async", true);
  return fill<uint16_t>(dst, value, count, stream);
}

//===--- Tensor maps ------------------------------------------------------===//

/// No hardware format: the map records its arguments so that a test can
/// read them back from the device copy (words: 0 magic, 1 data type, 2 rank,
/// 3 address, 4-8 dims, 9-12 byte strides, 13 boxes 0-3 (16 bits each),
/// 14 box 4 | interleave << 16 | swizzle << 24 | l2 << 32 | oob << 40,
/// 15 element strides (8 bits each)). The driver's own checks that matter
/// for the lowering are made: 16-byte aligned address and strides, boxes
/// of 1 to 256, a swizzled box's inner extent within the swizzle span.
CUresult cuTensorMapEncodeTiled(CUtensorMap *map, CUtensorMapDataType type,
                                cuuint32_t rank, void *address,
                                const cuuint64_t *dims,
                                const cuuint64_t *strides,
                                const cuuint32_t *box,
                                const cuuint32_t *elementStrides,
                                CUtensorMapInterleave interleave,
                                CUtensorMapSwizzle swizzle,
                                CUtensorMapL2promotion l2,
                                CUtensorMapFloatOOBfill oob) {
  MOCK_ENTER("cuTensorMapEncodeTiled", false);
  static const unsigned elementBytes[] = {1, 2, 4, 4, 8, 8, 2,
                                          4, 8, 2, 4, 4, 4};
  if (!map || rank < 1 || rank > 5 || unsigned(type) > 12 ||
      uintptr_t(address) % 16 != 0)
    return CUDA_ERROR_INVALID_VALUE;
  for (cuuint32_t i = 0; i + 1 < rank; ++i)
    if (strides[i] % 16 != 0)
      return CUDA_ERROR_INVALID_VALUE;
  for (cuuint32_t i = 0; i < rank; ++i)
    if (box[i] < 1 || box[i] > 256 || elementStrides[i] < 1)
      return CUDA_ERROR_INVALID_VALUE;
  unsigned span = swizzle == CU_TENSOR_MAP_SWIZZLE_128B  ? 128
                  : swizzle == CU_TENSOR_MAP_SWIZZLE_64B ? 64
                  : swizzle == CU_TENSOR_MAP_SWIZZLE_32B ? 32
                                                         : 0;
  if (span && box[0] * elementBytes[type] > span)
    return CUDA_ERROR_INVALID_VALUE;
  cuuint64_t *w = map->opaque;
  std::memset(w, 0, sizeof(map->opaque));
  w[0] = 0x4d4f4554414d4150ull; // "MOETAMAP"
  w[1] = cuuint64_t(type);
  w[2] = rank;
  w[3] = cuuint64_t(uintptr_t(address));
  for (cuuint32_t i = 0; i < rank; ++i) {
    w[4 + i] = dims[i];
    if (i < 4)
      w[13] |= cuuint64_t(box[i]) << (16 * i);
    w[15] |= cuuint64_t(elementStrides[i] & 0xff) << (8 * i);
  }
  for (cuuint32_t i = 0; i + 1 < rank; ++i)
    w[9 + i] = strides[i];
  w[14] = (rank == 5 ? cuuint64_t(box[4]) : 0) |
          cuuint64_t(interleave) << 16 | cuuint64_t(swizzle) << 24 |
          cuuint64_t(l2) << 32 | cuuint64_t(oob) << 40;
  return CUDA_SUCCESS;
}

} // extern "C"
