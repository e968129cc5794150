//===- CudaDriver.h - libcuda at run time, errors, contexts -----*- C++ -*-===//
//
// The one place that talks to the driver library itself: dlopen of
// libcuda.so.1 (or $MOE_CUDA_DRIVER) on first use, the entry points of
// DriverFunctions.def, the per-thread first-error slot and its messages,
// device selection and the primary context of each device. Nothing is
// linked against libcuda, so a model loads where there is no driver.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_RUNTIME_CUDA_CUDADRIVER_H
#define MOE_LIB_RUNTIME_CUDA_CUDADRIVER_H

#include <cuda.h>

#include <cstdint>
#include <string>

namespace moe::cuda {

/// The resolved driver entry points. Members are named as in cuda.h, so
/// `api.cuMemAlloc(...)` calls whatever cuda.h maps cuMemAlloc to.
struct DriverApi {
#define MOE_CUDA_DRIVER_FUNCTION(name) decltype(&::name) name = nullptr;
#include "DriverFunctions.def"
};

/// Devices beyond this ordinal are refused (a fixed table keeps the context
/// lookup lock-free).
constexpr int32_t kMaxDevices = 64;

//===--- Errors -----------------------------------------------------------===//

/// Records `message` unless the calling thread already has an error.
void recordError(const char *message);
/// Whether the calling thread has an error not yet taken.
bool hasError();
/// recordError(what()), building the message only when the slot is free;
/// running out of memory on the way still records a failure, so no
/// exception leaves the C entry points.
template <typename WhatFn> void recordErrorWith(WhatFn &&what) {
  if (hasError())
    return;
  try {
    recordError(std::string(what()).c_str());
  } catch (...) {
    recordError("");
  }
}
/// The pending error (clearing it), or null when there is none.
const char *takeError();
/// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)", also without a driver.
std::string describe(CUresult result);

//===--- Driver and devices ----------------------------------------------===//

/// The driver's entry points after cuInit, loading it on first use
/// (thread-safe). Null, with the error recorded, when it is unavailable;
/// the failure is sticky.
const DriverApi *driver();
/// Like driver() but records nothing: for probes and teardown.
const DriverApi *driverQuietly();

/// The device the calling thread works on: the one bound by moe_cuda_init /
/// mgpuSetDefaultDevice, else the selected one.
int32_t currentDevice();
/// Binds the calling thread to `ordinal`.
void bindThread(int32_t ordinal);
/// The process-wide selection (moe_cuda_set_device; default
/// $MOE_CUDA_DEVICE or 0); -1 when $MOE_CUDA_DEVICE is malformed.
int32_t selectedDevice();
/// Sets the selection; false with an error when `ordinal` cannot exist.
bool selectDevice(int32_t ordinal);

/// The retained primary context of `ordinal` (created once, kept for the
/// life of the process, as the CUDA runtime does); null with the error
/// recorded on failure.
CUcontext primaryContext(int32_t ordinal);

/// Makes the primary context of a device current on this thread for the
/// scope, restoring the previous one after. Check ok() before use.
class ScopedContext {
public:
  /// The calling thread's device (currentDevice()).
  ScopedContext();
  /// A given device; `quiet` records no error (teardown paths).
  explicit ScopedContext(int32_t ordinal, bool quiet = false);
  ~ScopedContext();
  ScopedContext(const ScopedContext &) = delete;
  ScopedContext &operator=(const ScopedContext &) = delete;

  bool ok() const { return api != nullptr; }
  int32_t device() const { return ordinal; }
  /// The entry points; only valid when ok().
  const DriverApi &operator*() const { return *api; }
  const DriverApi *operator->() const { return api; }

  /// True on CUDA_SUCCESS; else records "CUDA device N: <call> (<what()>)
  /// failed: <name> (<description>)" and returns false. `what` is only
  /// called on failure, so launches build no strings.
  template <typename WhatFn>
  bool check(CUresult result, const char *call, WhatFn &&what) const {
    if (result == CUDA_SUCCESS)
      return true;
    std::string detail;
    try {
      detail = what();
    } catch (...) {
      // Out of memory: report without the detail.
    }
    return fail(result, call, detail);
  }
  bool check(CUresult result, const char *call) const {
    return result == CUDA_SUCCESS || fail(result, call, std::string());
  }

private:
  bool fail(CUresult result, const char *call, const std::string &what) const;

  const DriverApi *api = nullptr;
  int32_t ordinal = 0;
  bool quiet = false;
};

} // namespace moe::cuda

#endif // MOE_LIB_RUNTIME_CUDA_CUDADRIVER_H
