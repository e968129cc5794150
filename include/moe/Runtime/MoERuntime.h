/*===- MoERuntime.h - the C API every compiled model exports ------*- C -*-===//
 *
 * A model compiled by moe-compile is a shared library (model.so) that
 * exports these functions, in the manner of onnx-mlir's OMTensor API: query
 * the input/output signature, wrap caller memory in tensors, run, read the
 * error. Nothing here calls exit() or abort(); every failure returns an
 * error code and leaves a message for moe_last_error(). A CUDA model (see
 * moe_device_kind) loads without a GPU or driver; its runs then fail with a
 * message such as "CUDA driver not available: libcuda.so.1: cannot open
 * shared object file: No such file or directory".
 *
 * Data types use ONNX's TensorProto codes, familiar to onnxruntime users:
 * 1 FLOAT, 2 UINT8, 3 INT8, 5 INT16, 6 INT32, 7 INT64, 9 BOOL (one byte per
 * element), 10 FLOAT16, 11 DOUBLE, 16 BFLOAT16.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MOE_RUNTIME_MOERUNTIME_H
#define MOE_RUNTIME_MOERUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOE_API __attribute__((visibility("default")))

/* Status codes. */
#define MOE_OK 0
#define MOE_ERROR_INVALID_ARGUMENT 1 /* wrong count, name, dtype or shape */
#define MOE_ERROR_OUT_OF_MEMORY 2
#define MOE_ERROR_INTERNAL 3

typedef struct moe_tensor moe_tensor;

/*===--- Signature ----------------------------------------------------===*/

MOE_API int64_t moe_num_inputs(void);
MOE_API int64_t moe_num_outputs(void);
/* The ONNX graph input/output name; NULL when the index is out of range. */
MOE_API const char *moe_input_name(int64_t index);
MOE_API const char *moe_output_name(int64_t index);
/* ONNX data type code; 0 when the index is out of range. */
MOE_API int32_t moe_input_dtype(int64_t index);
MOE_API int32_t moe_output_dtype(int64_t index);
/* Rank; -1 when the index is out of range. */
MOE_API int64_t moe_input_rank(int64_t index);
MOE_API int64_t moe_output_rank(int64_t index);
/* Size of dimension `dim`: >= 0 when static, -1 when dynamic (and -2 when
 * an index is out of range). */
MOE_API int64_t moe_input_dim(int64_t index, int64_t dim);
MOE_API int64_t moe_output_dim(int64_t index, int64_t dim);
/* Symbolic name of a dynamic dimension ("" when static or unnamed; NULL when
 * an index is out of range). */
MOE_API const char *moe_input_dim_param(int64_t index, int64_t dim);
MOE_API const char *moe_output_dim_param(int64_t index, int64_t dim);
/* The whole signature as JSON:
 * {"inputs":[{"name":"x","dtype":1,"shape":["T",64]}],"outputs":[...]}
 * (and "weights":[...] after "outputs" when the model has external
 * weights). */
MOE_API const char *moe_signature_json(void);

/*===--- Tensors ------------------------------------------------------===*/

/* A tensor over caller memory (dense, row-major); the caller keeps `data`
 * alive and owns it. `shape` is copied. NULL on a bad argument. */
MOE_API moe_tensor *moe_tensor_create(void *data, const int64_t *shape,
                                      int64_t rank, int32_t dtype);
/* Frees the tensor; also frees its data when the runtime owns it (outputs). */
MOE_API void moe_tensor_destroy(moe_tensor *tensor);
MOE_API void *moe_tensor_data(const moe_tensor *tensor);
MOE_API int64_t moe_tensor_rank(const moe_tensor *tensor);
MOE_API const int64_t *moe_tensor_shape(const moe_tensor *tensor);
MOE_API int32_t moe_tensor_dtype(const moe_tensor *tensor);
MOE_API int64_t moe_tensor_num_elements(const moe_tensor *tensor);

/*===--- Running ------------------------------------------------------===*/

/* Runs the model. `inputs` are in signature order; their dtypes, ranks and
 * static dimensions must match the signature, and dimensions that share a
 * symbolic name must agree. On success `outputs[i]` receives a new
 * runtime-owned tensor (destroy it with moe_tensor_destroy). Thread-safe
 * for concurrent calls. */
MOE_API int moe_run(moe_tensor *const *inputs, int64_t num_inputs,
                    moe_tensor **outputs, int64_t num_outputs);

/* Message of the last failed call on this thread ("" if none). */
MOE_API const char *moe_last_error(void);

/* Threads used by later runs (<= 0: one per core). */
MOE_API void moe_set_num_threads(int32_t num_threads);
MOE_API int32_t moe_get_num_threads(void);

/*===--- External weights ---------------------------------------------===*/

/* A model compiled with `moe-compile --external-weights` embeds no data of
 * its large initializers (its "weights"); each must be bound, by its ONNX
 * initializer name, before moe_run, which otherwise fails naming the first
 * unbound one. Other models have no weights. The queries mirror the input
 * ones (weight shapes are static). */
MOE_API int64_t moe_num_weights(void);
MOE_API const char *moe_weight_name(int64_t index);  /* NULL: bad index */
MOE_API int32_t moe_weight_dtype(int64_t index);     /* 0: bad index */
MOE_API int64_t moe_weight_rank(int64_t index);      /* -1: bad index */
MOE_API int64_t moe_weight_dim(int64_t index, int64_t dim); /* -2: bad index */
/* 1 when bound, 0 when not, -1 when the index is out of range. */
MOE_API int moe_weight_is_bound(int64_t index);

/* moe_set_weight flags. COPY: the runtime copies the data; the caller may
 * free or change its memory as soon as the call returns. BORROW: the
 * runtime references `value`'s data (not the moe_tensor, which the caller
 * may destroy), which must stay valid and unchanged until the weight is
 * bound again or the library is unloaded (no copy of GBs of weights; a CUDA
 * model uploads the data on the first run after binding and does not see
 * later changes). */
#define MOE_WEIGHT_COPY 0
#define MOE_WEIGHT_BORROW 1

/* Binds weight `name` to `value`, whose dtype and shape must equal the
 * weight's (errors name the expected ones); binding it again replaces it.
 * Waits for runs in flight; the runs after it use the new data. */
MOE_API int moe_set_weight(const char *name, const moe_tensor *value,
                           int32_t flags);

/*===--- Device -------------------------------------------------------===*/

/* Where the model runs: "cpu" or "cuda" (moe-compile --target). */
MOE_API const char *moe_device_kind(void);
/* The device later runs use: for a CPU model only 0; for a CUDA model a
 * CUDA device ordinal (default: $MOE_CUDA_DEVICE, else 0), refused when the
 * driver is present and has no such device. Not for use while runs are in
 * flight. */
MOE_API int moe_set_device(int32_t ordinal);
/* The device of later runs; -1 when $MOE_CUDA_DEVICE is malformed. */
MOE_API int32_t moe_get_device(void);

#ifdef __cplusplus
}
#endif

#endif /* MOE_RUNTIME_MOERUNTIME_H */
