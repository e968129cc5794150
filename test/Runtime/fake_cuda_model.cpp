//===- fake_cuda_model.cpp - a hand-written CUDA model for runtime tests --===//
//
// Stands in for what `moe-compile --target=cuda` generates: the module
// load/unload constructors of a gpu.binary, and an `invoke` thunk that
// calls the CUDA runtime the way the generated one does (init, upload,
// constants, mgpu* allocation and launch, synchronise, download, free).
//   y = x * scale + b   x: f32 [T, 4], b: f32 [4], y: f32 [T, 4],
// scale = [1, 2, 0.5, -1] a constant. Its "GPU binary" is in the format of
// test/Runtime/mock_cuda_driver.cpp: it runs with
// MOE_CUDA_DRIVER=<build>/test/Runtime/mock_cuda_driver.so, and fails with
// a clear message on a real driver or without one.
//
//===----------------------------------------------------------------------===//

#include "moe/Runtime/CudaRuntime.h"
#include "moe/Runtime/ModelABI.h"

#include <cstdlib>

namespace {

template <int Rank> struct MemRef {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

const int64_t xDims[] = {-1, 4};
const char *const xParams[] = {"T", ""};
const int64_t bDims[] = {4};
const char *const bParams[] = {""};

const moe_tensor_info inputs[] = {
    {"x", /*FLOAT*/ 1, 2, xDims, xParams},
    {"b", /*FLOAT*/ 1, 1, bDims, bParams},
};
const moe_tensor_info outputs[] = {
    {"y", /*FLOAT*/ 1, 2, xDims, xParams},
};

const float kScale[4] = {1.0f, 2.0f, 0.5f, -1.0f};
const char kBinary[] = "MOCK-CUBIN scale_add trap";

// What gpu.binary's translation emits: load at library load, unload at
// unload (llvm.global_ctors/dtors).
void *binaryModule = nullptr;
__attribute__((constructor)) void loadBinary() {
  binaryModule = mgpuModuleLoad(const_cast<char *>(kBinary), sizeof(kBinary));
}
__attribute__((destructor)) void unloadBinary() {
  mgpuModuleUnload(binaryModule);
}

/// The "compiled code" on device buffers: allocates y with gpu.alloc and
/// launches one row per block, as gpu-to-llvm would.
void *mainGraph(void *x, void *scale, void *b, int64_t rows) {
  const int64_t cols = 4;
  void *stream = mgpuStreamCreate();
  void *y = mgpuMemAlloc(uint64_t(rows * cols * sizeof(float)), stream,
                         /*isHostShared=*/false);
  void *kernel = mgpuModuleGetFunction(binaryModule, "scale_add");
  int64_t columns = cols;
  void *params[] = {&y, &x, &scale, &b, &columns};
  mgpuLaunchKernel(kernel, rows, 1, 1, cols, 1, 1, 0, stream, params, nullptr,
                   5);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  return y;
}

/// The thunk: inputs are dense row-major (the runtime builds their
/// descriptors); the output goes back in a malloc'ed host buffer.
void invoke(void *const *in, void *const *out) {
  auto *x = static_cast<const MemRef<2> *>(in[0]);
  auto *b = static_cast<const MemRef<1> *>(in[1]);
  auto *y = static_cast<MemRef<2> *>(out[0]);
  *y = {};
  if (moe_cuda_init() != 0)
    return;
  int64_t rows = x->sizes[0];
  size_t bytes = size_t(rows) * 4 * sizeof(float);
  void *dx = moe_cuda_upload(x->aligned + x->offset, bytes);
  void *db = moe_cuda_upload(b->aligned + b->offset, 4 * sizeof(float));
  void *dscale = moe_cuda_constant(kScale, sizeof(kScale));
  void *dy = mainGraph(dx, dscale, db, rows);
  moe_cuda_synchronize();
  auto *host = static_cast<float *>(std::malloc(bytes + 1));
  moe_cuda_download(host, dy, bytes);
  moe_cuda_free(dx);
  moe_cuda_free(db);
  moe_cuda_free(dy);
  *y = {host, host, 0, {rows, 4}, {4, 1}};
}

} // namespace

extern "C" const moe_model_description moe_model_description_v1 = {
    2, 1, inputs, outputs, invoke, "cuda", moe_cuda_take_error};
