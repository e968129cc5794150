/*===- DataTypes.h - ONNX data type codes the runtime supports ----*- C -*-===//
 *
 * Internal: shared by the runtime (lib/Runtime) and moe-compile's generated
 * code, which must agree on element sizes.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MOE_RUNTIME_DATATYPES_H
#define MOE_RUNTIME_DATATYPES_H

#include <stdint.h>

/* Bytes per element of an ONNX TensorProto data type code; 0 for a code the
 * runtime does not support. BOOL is one byte per element. */
static inline int64_t moe_dtype_size(int32_t dtype) {
  switch (dtype) {
  case 2:  /* UINT8 */
  case 3:  /* INT8 */
  case 9:  /* BOOL */
    return 1;
  case 5:  /* INT16 */
  case 10: /* FLOAT16 */
  case 16: /* BFLOAT16 */
    return 2;
  case 1: /* FLOAT */
  case 6: /* INT32 */
    return 4;
  case 7:  /* INT64 */
  case 11: /* DOUBLE */
    return 8;
  default:
    return 0;
  }
}

#endif /* MOE_RUNTIME_DATATYPES_H */
