//===- LoweringUtils.h - helpers shared by the reference lowering -*- C++ -*-===//

#ifndef MOE_CONVERSION_MOETOLINALG_LOWERINGUTILS_H
#define MOE_CONVERSION_MOETOLINALG_LOWERINGUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"

namespace mlir::moe {

/// Index constant.
Value indexConstant(OpBuilder &b, Location loc, int64_t value);

/// A float constant of `type`.
Value floatConstant(OpBuilder &b, Location loc, Type type, double value);

/// tensor.empty of `type`, dynamic sizes taken from `like` dims in order.
Value emptyLike(OpBuilder &b, Location loc, RankedTensorType type,
                ValueRange dynamicSizes = {});

/// A tensor of `type` filled with `value` (linalg.fill).
Value filledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                   double value, ValueRange dynamicSizes = {});

/// Converts a scalar float to `type` (extf/truncf), or returns it unchanged.
Value castFloat(OpBuilder &b, Location loc, Value value, Type type);

/// The sizes of `tensor`'s dynamic dimensions (tensor.dim), in order: the
/// `dynamicSizes` of a tensor.empty shaped like it.
SmallVector<Value> dynamicDimSizes(OpBuilder &b, Location loc, Value tensor);

/// Reads an i32 element of `tensor` at `indices` as an index.
Value extractAsIndex(OpBuilder &b, Location loc, Value tensor,
                     ValueRange indices);

/// Row `row` of a 2-D tensor as a 1-D tensor (rank-reducing extract_slice).
Value extractRow(OpBuilder &b, Location loc, Value matrix, Value row);

/// Writes the 1-D `rowValue` into row `row` of the 2-D tensor `matrix`.
Value insertRow(OpBuilder &b, Location loc, Value rowValue, Value matrix,
                Value row);

/// An element-wise linalg.generic over the same-shaped `inputs` whose
/// elements of type `elementType` are `body(inputElements)`.
Value mapElements(OpBuilder &b, Location loc, ValueRange inputs,
                  Type elementType,
                  function_ref<Value(OpBuilder &, Location, ValueRange)> body);

/// Casts every element of a float tensor to `elementType` (extf/truncf), or
/// returns it unchanged when it already has that element type.
Value castFloatTensor(OpBuilder &b, Location loc, Value tensor,
                      Type elementType);

/// An i32 constant.
Value i32Constant(OpBuilder &b, Location loc, int64_t value);

/// `scf.for %iv = lb to ub step 1` carrying `inits`; `body` returns the
/// values to yield. Returns the loop results.
SmallVector<Value> forRange(
    OpBuilder &b, Location loc, Value lowerBound, Value upperBound,
    ValueRange inits,
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)>
        body);

/// `scf.if cond` yielding `update()` when `cond` holds and `current`
/// unchanged otherwise: a conditional update of loop-carried values.
SmallVector<Value>
updateIf(OpBuilder &b, Location loc, Value cond, ValueRange current,
         function_ref<SmallVector<Value>(OpBuilder &, Location)> update);

/// Size `dim` of `tensor` as an index value (a constant when static).
Value indexDim(OpBuilder &b, Location loc, Value tensor, int64_t dim);

/// The slice of a stacked-experts tensor [E, ...] for expert `expert`, with
/// the expert dimension dropped (a null tensor, e.g. an absent bias, stays
/// null).
Value selectExpert(OpBuilder &b, Location loc, Value stacked, Value expert);

/// True when `expert` (i32) names one of the `numExperts` experts; other ids
/// (-1 from dynamic k, or out of range) are skipped by dispatch.
Value isValidExpert(OpBuilder &b, Location loc, Value expert,
                    int64_t numExperts);

/// The capacity `C = ceil(capacity_factor * T * k / num_experts)` as i32,
/// evaluated left to right in f64 with the run-time T and k of `expertIds`.
Value buildCapacity(OpBuilder &b, Location loc, Value expertIds,
                    double capacityFactor, int64_t numExperts);

/// A row weight as the rows' element type `type`. f16 and bf16 have the same
/// width, so neither extf nor truncf converts one into the other: such a
/// weight goes through f32.
Value castWeight(OpBuilder &b, Location loc, Value weight, Type type);

/// The type routing computes in: f32 for f16 and bf16 logits (softmax sums
/// and near-ties would otherwise lose too much precision), else the logits'.
Type routingComputeType(Type elemType);

/// -inf of the float type `type`.
Value negInfConstant(OpBuilder &b, Location loc, Type type);

/// NaN selection keys count as -inf so that selection stays deterministic.
Value nanToNegInf(OpBuilder &b, Location loc, Value x);

/// The logistic sigmoid 1 / (1 + exp(-x)) of a scalar.
Value logisticSigmoid(OpBuilder &b, Location loc, Value x);

/// Applies `patterns` greedily to the ops that exist under `root` now, not
/// to the ops they create: the lowering passes rewrite moe ops only and
/// leave everything else (including what they emit) to later passes.
LogicalResult rewriteExistingOps(Operation *root, RewritePatternSet &&patterns);

} // namespace mlir::moe

#endif // MOE_CONVERSION_MOETOLINALG_LOWERINGUTILS_H
