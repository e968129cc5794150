/*===- ModelABI.h - contract between generated code and the runtime -*- C -*-===//
 *
 * Internal. moe-compile generates, per model, a C++ source that defines
 * `moe_model_description` (the signature and an `invoke` thunk around the
 * compiled `_mlir_ciface_main_graph`), compiles it and links it with the
 * runtime library (libMoERuntime.a), which implements MoERuntime.h on top of
 * this description.
 *
 * Memref descriptors: the layout of MLIR's StridedMemRefType<T, rank>:
 *   { void *allocated; void *aligned; int64_t offset;
 *     int64_t sizes[rank]; int64_t strides[rank]; }
 * (for rank 0, just the first three fields). `invoke` receives one
 * descriptor per input, built by the runtime over the caller's memory, and
 * fills one descriptor per output. Output buffers are malloc'ed by the
 * compiled code and owned by the caller of `invoke` (MLIR's ownership-based
 * deallocation returns owned memrefs), who frees `allocated` with free().
 *
 * CUDA models (device "cuda"): `invoke` is a thunk over the CUDA runtime
 * (CudaRuntime.h) that uploads the inputs, runs the compiled code on the
 * device and downloads the outputs into malloc'ed host buffers, so the
 * contract above is unchanged; device errors are not fatal but left for
 * `take_error`, which the runtime calls after every `invoke`.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MOE_RUNTIME_MODELABI_H
#define MOE_RUNTIME_MODELABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct moe_tensor_info {
  const char *name;               /* ONNX graph input/output name */
  int32_t dtype;                  /* ONNX TensorProto code */
  int64_t rank;
  const int64_t *dims;            /* rank entries; -1 = dynamic */
  const char *const *dim_params;  /* rank entries; "" = static/unnamed */
} moe_tensor_info;

typedef struct moe_model_description {
  int64_t num_inputs;
  int64_t num_outputs;
  const moe_tensor_info *inputs;
  const moe_tensor_info *outputs;
  /* Calls the compiled model: `inputs[i]` / `outputs[i]` point to memref
   * descriptors of the ranks above. */
  void (*invoke)(void *const *inputs, void *const *outputs);
  /* Fields added later stay at the end, so older initialisers stay valid. */
  /* "cpu" or "cuda"; NULL means "cpu". */
  const char *device;
  /* NULL, or the error of the last `invoke` on this thread (NULL if none),
   * cleared by the call: moe_cuda_take_error for CUDA models. */
  const char *(*take_error)(void);
  /* External weights (moe-compile --external-weights; 0 and NULL
   * otherwise): initializers the compiled code takes after the inputs, with
   * static shapes. `invoke`'s `inputs` then holds num_inputs + num_weights
   * descriptors, the weights' last, over the memory bound with
   * moe_set_weight. */
  int64_t num_weights;
  const moe_tensor_info *weights;
  /* NULL, or drops whatever the model cached for weight data at `host`
   * (CUDA models: the device copy), called before that memory is released
   * or bound again. */
  void (*release_weight)(const void *host);
} moe_model_description;

/* Defined by the generated code of each model. */
extern const moe_model_description moe_model_description_v1;

#ifdef __cplusplus
}
#endif

#endif /* MOE_RUNTIME_MODELABI_H */
