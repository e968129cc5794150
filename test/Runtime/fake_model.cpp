//===- fake_model.cpp - a hand-written model for the runtime tests --------===//
//
// Stands in for what moe-compile generates: defines moe_model_description_v1
// for  y = x + b  with x: f32 [T, 4], b: f32 [4], y: f32 [T, 4]. Linked with
// libMoERuntime.a into build/test/Runtime/fake_model.so, it exports the
// whole MoERuntime.h API like a compiled model.
//
//===----------------------------------------------------------------------===//

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
const int64_t yDims[] = {-1, 4};
const char *const yParams[] = {"T", ""};

const moe_tensor_info inputs[] = {
    {"x", /*FLOAT*/ 1, 2, xDims, xParams},
    {"b", /*FLOAT*/ 1, 1, bDims, bParams},
};
const moe_tensor_info outputs[] = {
    {"y", /*FLOAT*/ 1, 2, yDims, yParams},
};

/// The "compiled code": honours the strides and offsets it is given, and
/// returns a freshly malloc'ed, caller-owned, row-major result.
void invoke(void *const *in, void *const *out) {
  auto *x = static_cast<const MemRef<2> *>(in[0]);
  auto *b = static_cast<const MemRef<1> *>(in[1]);
  auto *y = static_cast<MemRef<2> *>(out[0]);
  int64_t rows = x->sizes[0], cols = x->sizes[1];
  // Like MLIR's lowering: over-allocate and align by hand.
  char *raw = static_cast<char *>(std::malloc(rows * cols * sizeof(float) + 64));
  float *data = reinterpret_cast<float *>(
      (reinterpret_cast<uintptr_t>(raw) + 63) / 64 * 64);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      data[i * cols + j] =
          x->aligned[x->offset + i * x->strides[0] + j * x->strides[1]] +
          b->aligned[b->offset + j * b->strides[0]];
  y->allocated = reinterpret_cast<float *>(raw);
  y->aligned = data;
  y->offset = 0;
  y->sizes[0] = rows;
  y->sizes[1] = cols;
  y->strides[0] = cols;
  y->strides[1] = 1;
}

} // namespace

extern "C" const moe_model_description moe_model_description_v1 = {
    2, 1, inputs, outputs, invoke};
