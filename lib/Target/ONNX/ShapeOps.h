//===- ShapeOps.h - helpers for shape and indexing converters -*- C++ -*-===//
//
// Internal to the importer. Shape arithmetic in exported graphs (Shape ->
// Gather -> Unsqueeze -> Concat -> Reshape) runs on small integer tensors.
// The converters keep such tensors as `arith.constant` or
// `tensor.from_elements` of scalars, so that the consumer of a shape sees
// every element that is known at import (static sizes fold, run-time sizes
// stay `tensor.dim` values) instead of an opaque tensor.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_TARGET_ONNX_SHAPEOPS_H
#define MOE_LIB_TARGET_ONNX_SHAPEOPS_H

#include "ImportState.h"

#include "mlir/IR/OpDefinition.h"

namespace mlir::moe::onnx_import {

/// Tensors up to this many elements are folded element-wise at import.
constexpr int64_t kMaxFoldElements = 64;

/// The elements (row-major) of a small statically shaped integer tensor
/// built by `arith.constant` or `tensor.from_elements` (through
/// `tensor.cast`): an `IntegerAttr` where the element is a constant, else
/// the scalar value of the tensor's element type. Nullopt otherwise.
std::optional<llvm::SmallVector<OpFoldResult>> knownElements(Value tensor);

/// Builds a tensor of `type` from elements as `knownElements` returns
/// them (attributes or scalars of any integer/index type): an
/// `arith.constant` when all are constant, else `tensor.from_elements`.
Value buildFromElements(OpBuilder &b, Location loc, RankedTensorType type,
                        llvm::ArrayRef<OpFoldResult> elements);

/// An element as an index: constant attribute, or an index value (an
/// `arith.index_cast` is peeled or created).
OpFoldResult elementAsIndex(OpBuilder &b, Location loc, OpFoldResult element);

/// An integer or floating-point scalar as an index value.
Value scalarToIndex(OpBuilder &b, Location loc, Value scalar);

/// The elements of a 1-D integer tensor input that holds sizes or indices
/// (a shape, `repeats`, starts/ends...): `IntegerAttr` (i64) where known at
/// import, else an index value (`tensor.extract` at run time). Refuses
/// tensors of another rank, element type or a dynamic length, naming `what`.
FailureOr<llvm::SmallVector<OpFoldResult>>
shapeInputElements(NodeContext &ctx, Value shape, llvm::StringRef what);

/// Static sizes of OpFoldResults (kDynamic for values).
llvm::SmallVector<int64_t> staticSizes(llvm::ArrayRef<OpFoldResult> sizes);

/// `input` reshaped (same elements, row-major) to `sizes`: a
/// `tensor.collapse_shape`/`tensor.expand_shape` by groups of dimensions
/// when the grouping is certain, else a collapse to one dimension and an
/// expansion to `sizes`.
Value reshapeTo(OpBuilder &b, Location loc, Value input,
                llvm::ArrayRef<OpFoldResult> sizes);

/// Index arithmetic that folds when both sides are constant.
OpFoldResult addIndex(OpBuilder &b, Location loc, OpFoldResult lhs,
                      OpFoldResult rhs);
OpFoldResult mulIndex(OpBuilder &b, Location loc, OpFoldResult lhs,
                      OpFoldResult rhs);

} // namespace mlir::moe::onnx_import

#endif // MOE_LIB_TARGET_ONNX_SHAPEOPS_H
