/*===- CudaRuntime.h - the device runtime of CUDA models ----------*- C -*-===//
 *
 * Internal, like ModelABI.h. A model compiled with `moe-compile
 * --target=cuda` links libMoECudaRuntime.a (lib/Runtime/CUDA/), which
 * provides two things over the CUDA driver API:
 *
 *  - the moe_cuda_* functions the generated per-model thunk calls around the
 *    compiled `_mlir_ciface_main_graph` (initialise, upload inputs, cached
 *    copies of constants, synchronise, download outputs, free);
 *  - the `mgpu*` functions that MLIR 22's gpu-to-llvm lowering and its LLVM
 *    translation of gpu.binary / gpu.launch_func call (MLIR's "runtime
 *    wrappers", same C signatures as upstream's CudaRuntimeWrappers.cpp).
 *
 * The driver (libcuda.so.1, or $MOE_CUDA_DRIVER) is loaded with dlopen on
 * first use, so a model loads on a machine without one. Nothing here aborts
 * or exits: a failing call records the first error of the calling thread and
 * returns a NULL/harmless value; while an error is pending, calls that would
 * allocate, launch or copy do nothing (frees and destroys still run).
 * moe_cuda_take_error() returns and clears it. Device pointers are plain
 * CUdeviceptr values cast to void *.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MOE_RUNTIME_CUDARUNTIME_H
#define MOE_RUNTIME_CUDARUNTIME_H

#include <stddef.h>
#include <stdint.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* No visibility attribute: libMoECudaRuntime.a is built with hidden
 * visibility, since the generated code and thunk link statically into the
 * same model.so, which exports nothing of this runtime. */

/*===--- For the generated thunk -------------------------------------===*/

/* Loads the driver, initialises it and makes the primary context of the
 * selected device ready (idempotent, thread-safe); binds the calling thread
 * to that device until its next moe_cuda_init. 0 on success, -1 on failure
 * (the message in moe_cuda_take_error()). */
int moe_cuda_init(void);

/* NULL when the calling thread has no error since the last call; else the
 * first error's message (valid until the thread's next call), now cleared. */
const char *moe_cuda_take_error(void);

/* The device later moe_cuda_init calls select (default: $MOE_CUDA_DEVICE,
 * else 0). 0, or -1 with an error when `ordinal` does not exist. */
int moe_cuda_set_device(int32_t ordinal);
/* The selected device; -1 when $MOE_CUDA_DEVICE is not an ordinal. */
int32_t moe_cuda_get_device(void);

/* A device copy of immutable host data (model weights), uploaded once per
 * (device, host pointer, size) and freed when the library unloads. NULL on
 * failure or when bytes == 0. */
void *moe_cuda_constant(const void *host, size_t bytes);
/* Frees the device copies moe_cuda_constant made of `host` (every device and
 * size), so that memory at `host` may change (external weights bound
 * again). Not while a run may use them. */
void moe_cuda_release_constant(const void *host);

/* A new device buffer holding a copy of `host`. `host` may be reused on
 * return, and work queued afterwards on the runtime's streams sees the data.
 * NULL on failure or when bytes == 0. Free with moe_cuda_free. */
void *moe_cuda_upload(const void *host, size_t bytes);
/* Copies device -> host; returns once `host` holds the data. 0 or -1. */
int moe_cuda_download(void *host, const void *device, size_t bytes);
/* Frees a buffer from moe_cuda_upload or mgpuMemAlloc; NULL is a no-op. */
void moe_cuda_free(void *device);
/* Waits for all work queued on the thread's device (every stream). 0 or -1;
 * asynchronous kernel faults surface here. */
int moe_cuda_synchronize(void);

/*===--- MLIR's GPU runtime wrappers (called by generated code) ------===*/
/* Handles are the driver's (CUstream, CUevent, CUfunction) except modules,
 * which are loaded lazily per device on first mgpuModuleGetFunction. */

void *mgpuModuleLoad(void *data, size_t gpuBlobSize);
/* `data` is NUL-terminated PTX, compiled by the driver at `optLevel`. */
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount);
void mgpuLaunchClusterKernel(void *function, intptr_t clusterX,
                             intptr_t clusterY, intptr_t clusterZ,
                             intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                             intptr_t blockX, intptr_t blockY, intptr_t blockZ,
                             int32_t smem, void *stream, void **params,
                             void **extra);
void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate(void);
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);
/* isHostShared: managed memory, reachable from host and device; where that
 * fails a zeroed host buffer stands in (host code may touch it) and the
 * error is recorded. NULL for 0 bytes. */
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream);
void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream);
/* Binds the calling thread to `device` (like moe_cuda_init does). */
void mgpuSetDefaultDevice(int32_t device);

#ifdef __cplusplus
}
#endif

#endif /* MOE_RUNTIME_CUDARUNTIME_H */
