//===- fake_model_extra.cpp - more hand-written models for runtime tests --===//
//
// Built twice (see lib/Runtime/CMakeLists.txt):
//  - FAKE_SYMBOLIC: x: f32 [T, 4], w: f32 [T] -> y = x * w[:, None]; two
//    inputs share the symbolic dimension T.
//  - FAKE_ALIAS: x: f32 [T, 4] -> a, t, c where `a` is x's own descriptor
//    (caller memory), `t` = x^T as a strided view (strides [1, 4]) of a
//    malloc'ed copy and `c` = the same copy, contiguous: the runtime must copy
//    `a`, copy `t`, and free the shared buffer exactly once.
//  - FAKE_WEIGHTS: x: f32 [T, 4] -> y = x * s + b with external weights
//    b: f32 [4] and s: f32 [1] (moe_set_weight), and a release_weight hook
//    that counts its calls.
//
//===----------------------------------------------------------------------===//

#include "moe/Runtime/ModelABI.h"

#include <cstdlib>
#include <cstring>

namespace {

template <int Rank> struct MemRef {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

const int64_t tx4[] = {-1, 4};
const char *const tx4Params[] = {"T", ""};

#if defined(FAKE_SYMBOLIC)
const int64_t tDims[] = {-1};
const char *const tParams[] = {"T"};
const moe_tensor_info inputs[] = {{"x", 1, 2, tx4, tx4Params},
                                  {"w", 1, 1, tDims, tParams}};
const moe_tensor_info outputs[] = {{"y", 1, 2, tx4, tx4Params}};

void invoke(void *const *in, void *const *out) {
  auto *x = static_cast<const MemRef<2> *>(in[0]);
  auto *w = static_cast<const MemRef<1> *>(in[1]);
  auto *y = static_cast<MemRef<2> *>(out[0]);
  int64_t rows = x->sizes[0];
  float *data = static_cast<float *>(std::malloc(rows * 4 * sizeof(float) + 1));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < 4; ++j)
      data[i * 4 + j] = x->aligned[i * x->strides[0] + j] * w->aligned[i];
  *y = {data, data, 0, {rows, 4}, {4, 1}};
}
#elif defined(FAKE_ALIAS)
const int64_t fourXt[] = {4, -1};
const char *const fourXtParams[] = {"", "T"};
const moe_tensor_info inputs[] = {{"x", 1, 2, tx4, tx4Params}};
const moe_tensor_info outputs[] = {{"a", 1, 2, tx4, tx4Params},
                                   {"t", 1, 2, fourXt, fourXtParams},
                                   {"c", 1, 2, tx4, tx4Params}};

void invoke(void *const *in, void *const *out) {
  auto *x = static_cast<const MemRef<2> *>(in[0]);
  int64_t rows = x->sizes[0];
  std::memcpy(out[0], x, sizeof(MemRef<2>));
  float *copy = static_cast<float *>(std::malloc(rows * 4 * sizeof(float) + 1));
  std::memcpy(copy, x->aligned, rows * 4 * sizeof(float));
  *static_cast<MemRef<2> *>(out[1]) = {copy, copy, 0, {4, rows}, {1, 4}};
  *static_cast<MemRef<2> *>(out[2]) = {copy, copy, 0, {rows, 4}, {4, 1}};
}
#elif defined(FAKE_WEIGHTS)
const int64_t fourDims[] = {4};
const char *const fourParams[] = {""};
const int64_t oneDims[] = {1};
const moe_tensor_info inputs[] = {{"x", 1, 2, tx4, tx4Params}};
const moe_tensor_info outputs[] = {{"y", 1, 2, tx4, tx4Params}};
const moe_tensor_info weights[] = {{"b", 1, 1, fourDims, fourParams},
                                   {"s", 1, 1, oneDims, fourParams}};

/// y = x * s + b; the weights' descriptors follow the input's.
void invoke(void *const *in, void *const *out) {
  auto *x = static_cast<const MemRef<2> *>(in[0]);
  auto *b = static_cast<const MemRef<1> *>(in[1]);
  auto *s = static_cast<const MemRef<1> *>(in[2]);
  auto *y = static_cast<MemRef<2> *>(out[0]);
  int64_t rows = x->sizes[0];
  float *data = static_cast<float *>(std::malloc(rows * 4 * sizeof(float) + 1));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < 4; ++j)
      data[i * 4 + j] = x->aligned[i * x->strides[0] + j] * s->aligned[0] +
                        b->aligned[j * b->strides[0]];
  *y = {data, data, 0, {rows, 4}, {4, 1}};
}

/// What the runtime asked the model to forget (a CUDA model's device
/// copies): the count and the last pointer (moe_fake_released, for
/// RuntimeTest).
int numReleased = 0;
const void *lastReleased = nullptr;
void releaseWeight(const void *host) {
  ++numReleased;
  lastReleased = host;
}
#else
#error "define FAKE_SYMBOLIC, FAKE_ALIAS or FAKE_WEIGHTS"
#endif

} // namespace

#if defined(FAKE_WEIGHTS)
extern "C" const moe_model_description moe_model_description_v1 = {
    1, 1, inputs, outputs, invoke, nullptr, nullptr, 2, weights, releaseWeight};
#else
extern "C" const moe_model_description moe_model_description_v1 = {
    sizeof(inputs) / sizeof(inputs[0]), sizeof(outputs) / sizeof(outputs[0]),
    inputs, outputs, invoke};
#endif

#if defined(FAKE_WEIGHTS)
extern "C" __attribute__((visibility("default"))) int
moe_fake_released(const void **last) {
  *last = lastReleased;
  return numReleased;
}
#endif
