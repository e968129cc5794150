//===- CudaDriver.cpp - libcuda loaded at run time, errors, contexts ------===//
//
// The driver is opened with dlopen on first use and never closed: generated
// code keeps handles into it until the process ends. The shared state lives
// in one constant-initialised object with a trivial destructor, so it stays
// usable from other libraries' teardown at exit.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"

#include <dlfcn.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <type_traits>

using namespace moe::cuda;

namespace {

constexpr int32_t kUnset = -2;
constexpr int32_t kMalformed = -1;

struct DriverState {
  std::mutex mutex;
  /// 0: not tried yet, 1: loaded and initialised, -1: unavailable.
  std::atomic<int> status{0};
  DriverApi api;
  char failure[1024] = {};
  std::array<std::atomic<CUcontext>, kMaxDevices> contexts{};
  std::atomic<int32_t> selected{kUnset};
};

DriverState state;
static_assert(std::is_trivially_destructible_v<DriverState>,
              "the driver state must outlive every other library's teardown");

/// The per-thread error slot: the first error since the last take.
struct ErrorSlot {
  bool pending = false;
  std::string message;
  std::string taken; // what takeError() last returned
};
thread_local ErrorSlot slot;
thread_local int32_t boundDevice = -1;

#define MOE_CUDA_STRINGIFY_(x) #x
#define MOE_CUDA_STRINGIFY(x) MOE_CUDA_STRINGIFY_(x)

/// Fills state.api and runs cuInit; the failure message in state.failure.
bool loadDriver() {
  auto fail = [](const std::string &message) {
    std::snprintf(state.failure, sizeof(state.failure), "%s", message.c_str());
    return false;
  };
  const char *path = std::getenv("MOE_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return fail(std::string("CUDA driver not available: ") +
                (why ? why : path));
  }
  DriverApi api;
  const char *firstMissing = nullptr;
  int missing = 0;
#define MOE_CUDA_DRIVER_FUNCTION(name)                                         \
  api.name = reinterpret_cast<decltype(api.name)>(                             \
      dlsym(handle, MOE_CUDA_STRINGIFY(name)));                                \
  if (!api.name && !missing++)                                                 \
    firstMissing = MOE_CUDA_STRINGIFY(name);
#include "DriverFunctions.def"
  if (missing)
    return fail(std::string("CUDA driver '") + path + "' lacks " +
                firstMissing +
                (missing > 1 ? " and " + std::to_string(missing - 1) + " more"
                             : std::string()) +
                " (a CUDA 13 driver is needed)");
  state.api = api;
  if (CUresult result = api.cuInit(0); result != CUDA_SUCCESS)
    return fail("CUDA driver not usable: cuInit failed: " + describe(result));
  return true;
}

/// The driver, or null with state.failure set.
const DriverApi *loadedDriver() {
  int status = state.status.load(std::memory_order_acquire);
  if (status == 0) {
    std::lock_guard<std::mutex> lock(state.mutex);
    status = state.status.load(std::memory_order_relaxed);
    if (status == 0) {
      bool ok = false;
      try {
        ok = loadDriver();
      } catch (...) {
        std::snprintf(state.failure, sizeof(state.failure),
                      "CUDA driver not available: out of memory");
      }
      status = ok ? 1 : -1;
      state.status.store(status, std::memory_order_release);
    }
  }
  return status == 1 ? &state.api : nullptr;
}

bool validOrdinal(int32_t ordinal) {
  return ordinal >= 0 && ordinal < kMaxDevices;
}

/// Why `ordinal` names no device; `fromEnvironment`: it came from
/// $MOE_CUDA_DEVICE, not from a caller.
std::string invalidOrdinalMessage(int32_t ordinal, bool fromEnvironment) {
  if (fromEnvironment && ordinal == kMalformed) {
    const char *env = std::getenv("MOE_CUDA_DEVICE");
    return std::string("MOE_CUDA_DEVICE is '") + (env ? env : "") +
           "', not a CUDA device ordinal";
  }
  return "CUDA device " + std::to_string(ordinal) +
         " is not a valid device ordinal";
}

std::string missingDeviceMessage(int32_t ordinal, int count) {
  return "CUDA device " + std::to_string(ordinal) +
         " does not exist (this machine has " + std::to_string(count) + ")";
}

/// $MOE_CUDA_DEVICE parsed: 0 when unset or empty, kMalformed when not an
/// ordinal.
int32_t deviceFromEnvironment() {
  const char *env = std::getenv("MOE_CUDA_DEVICE");
  if (!env || !*env)
    return 0;
  char *end = nullptr;
  errno = 0;
  long value = std::strtol(env, &end, 10);
  if (errno || *end || value < 0 || value >= kMaxDevices)
    return kMalformed;
  return int32_t(value);
}

} // namespace

//===--- Errors -----------------------------------------------------------===//

void moe::cuda::recordError(const char *message) {
  if (slot.pending)
    return;
  try {
    slot.message = message;
  } catch (...) {
    slot.message.clear(); // out of memory: the flag still says "failed"
  }
  slot.pending = true;
}

bool moe::cuda::hasError() { return slot.pending; }

const char *moe::cuda::takeError() {
  if (!slot.pending)
    return nullptr;
  slot.taken.swap(slot.message);
  slot.message.clear();
  slot.pending = false;
  return slot.taken.empty() ? "CUDA error (no message: out of memory)"
                            : slot.taken.c_str();
}

/// Names of the results a missing or stub driver gives, for when the
/// driver cannot describe them itself.
static const char *fallbackName(CUresult result) {
  switch (result) {
  case CUDA_ERROR_INVALID_VALUE:
    return "CUDA_ERROR_INVALID_VALUE";
  case CUDA_ERROR_OUT_OF_MEMORY:
    return "CUDA_ERROR_OUT_OF_MEMORY";
  case CUDA_ERROR_NOT_INITIALIZED:
    return "CUDA_ERROR_NOT_INITIALIZED";
  case CUDA_ERROR_DEINITIALIZED:
    return "CUDA_ERROR_DEINITIALIZED";
  case CUDA_ERROR_STUB_LIBRARY:
    return "CUDA_ERROR_STUB_LIBRARY";
  case CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER:
    return "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER";
  case CUDA_ERROR_NO_DEVICE:
    return "CUDA_ERROR_NO_DEVICE";
  case CUDA_ERROR_INVALID_DEVICE:
    return "CUDA_ERROR_INVALID_DEVICE";
  case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
    return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH";
  default:
    return nullptr;
  }
}

std::string moe::cuda::describe(CUresult result) {
  const char *name = nullptr, *text = nullptr;
  if (state.api.cuGetErrorName &&
      state.api.cuGetErrorName(result, &name) != CUDA_SUCCESS)
    name = nullptr;
  if (state.api.cuGetErrorString &&
      state.api.cuGetErrorString(result, &text) != CUDA_SUCCESS)
    text = nullptr;
  if (!name)
    name = fallbackName(result);
  std::string s = name ? name : "CUDA error " + std::to_string(int(result));
  if (text)
    s += std::string(" (") + text + ")";
  return s;
}

//===--- Driver and devices ----------------------------------------------===//

const DriverApi *moe::cuda::driver() {
  const DriverApi *api = loadedDriver();
  if (!api)
    recordError(state.failure);
  return api;
}

const DriverApi *moe::cuda::driverQuietly() { return loadedDriver(); }

int32_t moe::cuda::selectedDevice() {
  int32_t selected = state.selected.load(std::memory_order_acquire);
  if (selected != kUnset)
    return selected;
  int32_t fromEnv = deviceFromEnvironment();
  // A concurrent moe_cuda_set_device wins over the environment.
  state.selected.compare_exchange_strong(selected, fromEnv);
  return state.selected.load(std::memory_order_acquire);
}

bool moe::cuda::selectDevice(int32_t ordinal) {
  if (!validOrdinal(ordinal)) {
    recordErrorWith([&] { return invalidOrdinalMessage(ordinal, false); });
    return false;
  }
  // Without a driver the choice is kept: the run reports the driver.
  int count = 0;
  const DriverApi *api = driverQuietly();
  if (api && api->cuDeviceGetCount(&count) == CUDA_SUCCESS &&
      ordinal >= count) {
    recordErrorWith([&] { return missingDeviceMessage(ordinal, count); });
    return false;
  }
  state.selected.store(ordinal, std::memory_order_release);
  return true;
}

int32_t moe::cuda::currentDevice() {
  return boundDevice >= 0 ? boundDevice : selectedDevice();
}

void moe::cuda::bindThread(int32_t ordinal) { boundDevice = ordinal; }

CUcontext moe::cuda::primaryContext(int32_t ordinal) {
  if (!validOrdinal(ordinal)) {
    recordErrorWith([&] { return invalidOrdinalMessage(ordinal, true); });
    return nullptr;
  }
  if (CUcontext context =
          state.contexts[ordinal].load(std::memory_order_acquire))
    return context;
  const DriverApi *api = driver();
  if (!api)
    return nullptr;
  std::lock_guard<std::mutex> lock(state.mutex);
  if (CUcontext context =
          state.contexts[ordinal].load(std::memory_order_relaxed))
    return context;
  int count = 0;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUresult result = api->cuDeviceGetCount(&count);
  const char *call = "cuDeviceGetCount";
  if (result == CUDA_SUCCESS && ordinal >= count) {
    recordErrorWith([&] { return missingDeviceMessage(ordinal, count); });
    return nullptr;
  }
  if (result == CUDA_SUCCESS) {
    result = api->cuDeviceGet(&device, ordinal);
    call = "cuDeviceGet";
  }
  if (result == CUDA_SUCCESS) {
    result = api->cuDevicePrimaryCtxRetain(&context, device);
    call = "cuDevicePrimaryCtxRetain";
  }
  if (result != CUDA_SUCCESS) {
    recordErrorWith([&] {
      return "CUDA device " + std::to_string(ordinal) + ": " + call +
             " failed: " + describe(result);
    });
    return nullptr;
  }
  state.contexts[ordinal].store(context, std::memory_order_release);
  return context;
}

//===--- ScopedContext ----------------------------------------------------===//

ScopedContext::ScopedContext() : ScopedContext(currentDevice()) {}

ScopedContext::ScopedContext(int32_t device, bool quiet)
    : ordinal(device), quiet(quiet) {
  CUcontext context = nullptr;
  if (!quiet)
    context = primaryContext(device);
  else if (device >= 0 && device < kMaxDevices && driverQuietly())
    context = state.contexts[device].load(std::memory_order_acquire);
  if (!context)
    return;
  if (check(state.api.cuCtxPushCurrent(context), "cuCtxPushCurrent"))
    api = &state.api;
}

ScopedContext::~ScopedContext() {
  if (!api)
    return;
  CUcontext popped = nullptr;
  api->cuCtxPopCurrent(&popped);
}

bool ScopedContext::fail(CUresult result, const char *call,
                         const std::string &what) const {
  if (!quiet)
    recordErrorWith([&] {
      return "CUDA device " + std::to_string(ordinal) + ": " + call +
             (what.empty() ? "" : " (" + what + ")") +
             " failed: " + describe(result);
    });
  return false;
}
