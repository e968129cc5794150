//===- BuildUtils.h - small IR builders shared by converters ----*- C++ -*-===//

#ifndef MOE_LIB_TARGET_ONNX_BUILDUTILS_H
#define MOE_LIB_TARGET_ONNX_BUILDUTILS_H

#include "ImportState.h"

#include "mlir/IR/OpDefinition.h"

namespace mlir::moe::onnx_import {

/// ONNX axis (negative counts from the end) in [0, rank); reports the node
/// when it is out of range.
FailureOr<int64_t> normalizeAxis(const NodeContext &node, int64_t axis,
                                 int64_t rank);

/// Every dimension of a ranked tensor value: an index attribute where
/// static, a `tensor.dim` value where dynamic.
llvm::SmallVector<OpFoldResult> tensorSizes(OpBuilder &b, Location loc,
                                            Value tensor);

/// `tensor.empty` with the given (static or dynamic) sizes.
Value emptyTensor(OpBuilder &b, Location loc,
                  llvm::ArrayRef<OpFoldResult> sizes, Type elementType);

/// A filled tensor: `linalg.fill` of `tensor.empty`.
Value filledTensor(OpBuilder &b, Location loc,
                   llvm::ArrayRef<OpFoldResult> sizes, Value fillValue);

/// Scalar constant of `type` (int, index or float) holding `value`.
Value scalarConstant(OpBuilder &b, Location loc, Type type, double value);

/// A constant tensor from values (i64 or f32 etc. by element type).
Value intTensorConstant(OpBuilder &b, Location loc,
                        llvm::ArrayRef<int64_t> values, Type elementType,
                        llvm::ArrayRef<int64_t> shape);

/// `tensor` with its integer elements reinterpreted as `elementType` of the
/// same width (e.g. ui8 <-> i8), by an elementwise `linalg.generic`:
/// `tensor.bitcast` would be shorter, but MLIR 22 cannot bufferize it.
Value castSignedness(OpBuilder &b, Location loc, Value tensor,
                     Type elementType);

} // namespace mlir::moe::onnx_import

#endif // MOE_LIB_TARGET_ONNX_BUILDUTILS_H
