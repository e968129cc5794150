//===- NormalizationOps.cpp - Softmax and layer normalisations ------------===//
//
// Softmax / LogSoftmax (opset >= 13: along `axis`; opset < 13: over the
// dimensions [axis, rank) of the input coerced to 2-D), LayerNormalization
// (opset 17) and onnxruntime's SimplifiedLayerNormalization (RMS norm, in
// the default domain and in com.microsoft).
//
// Softmax subtracts the maximum before exponentiating. Everything is
// computed in f32 for f16/bf16 inputs (the `stash_type` of the layer norms,
// f64 for f64 inputs) and rounded once at the end.
//
//===----------------------------------------------------------------------===//

#include "BuildUtils.h"
#include "ElementwiseOps.h"
#include "OpConverters.h"
#include "TypeImport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::moe::onnx_import {

static RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

static LogicalResult checkFloat(NodeContext &ctx, Value value,
                                llvm::StringRef what) {
  Type type = tensorType(value).getElementType();
  if (isa<FloatType>(type))
    return success();
  return ctx.emitError() << what << " has element type " << type
                         << ", expected a floating-point type";
}

/// Dimensions [first, rank).
static llvm::SmallVector<int64_t> trailingDims(int64_t first, int64_t rank) {
  llvm::SmallVector<int64_t> dims;
  for (int64_t d = first; d < rank; ++d)
    dims.push_back(d);
  return dims;
}

//===----------------------------------------------------------------------===//
// Softmax, LogSoftmax
//===----------------------------------------------------------------------===//

template <bool isLog> static LogicalResult convertSoftmax(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 1)) ||
      failed(ctx.checkAttributes({"axis"})))
    return failure();
  FailureOr<Value> inputOr = ctx.requiredInput(0, "input");
  if (failed(inputOr) || failed(checkFloat(ctx, *inputOr, "the input")))
    return failure();
  Value input = *inputOr;
  bool coerce2D = ctx.opset() < 13;
  FailureOr<int64_t> axisAttr = ctx.intAttr("axis", coerce2D ? 1 : -1);
  if (failed(axisAttr))
    return failure();
  int64_t rank = tensorType(input).getRank();
  if (rank == 0)
    return ctx.error("the input must have rank >= 1, got a scalar");
  FailureOr<int64_t> axis = normalizeAxis(ctx, *axisAttr, rank);
  if (failed(axis))
    return failure();
  // Before opset 13 the input is seen as [prod(d < axis), prod(d >= axis)].
  llvm::SmallVector<int64_t> dims =
      coerce2D ? trailingDims(*axis, rank) : llvm::SmallVector<int64_t>{*axis};

  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  MLIRContext *mctx = ctx.context();
  Type type = tensorType(input).getElementType();
  Type accType = computeType(type);

  // m = max over dims; s = sum over dims of exp(x - m).
  Value max = buildReduction(
      b, loc, input, dims, lowestValue(b, loc, accType, false),
      [&](OpBuilder &nb, Location nl, Value x, Value, Value acc) -> Value {
        return arith::MaximumFOp::create(nb, nl, promoteScalar(nb, nl, x), acc);
      });
  Value sum = buildReduction(
      b, loc, input, dims, scalarConstant(b, loc, accType, 0.0),
      [&](OpBuilder &nb, Location nl, Value x, Value m, Value acc) -> Value {
        Value shifted =
            arith::SubFOp::create(nb, nl, promoteScalar(nb, nl, x), m);
        return arith::AddFOp::create(nb, nl, acc,
                                     math::ExpOp::create(nb, nl, shifted));
      },
      max);
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  AffineMap reduced = reducedIndexingMap(mctx, rank, dims);
  Value result = buildParallelGeneric(
      b, loc, {input, max, sum}, {identity, reduced, reduced},
      tensorSizes(b, loc, input), type,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value shifted = arith::SubFOp::create(
            nb, nl, promoteScalar(nb, nl, args[0]), args[1]);
        Value r;
        if (isLog)
          r = arith::SubFOp::create(nb, nl, shifted,
                                    math::LogOp::create(nb, nl, args[2]));
        else
          r = arith::DivFOp::create(
              nb, nl, math::ExpOp::create(nb, nl, shifted), args[2]);
        return demoteScalar(nb, nl, r, type);
      });
  ctx.setResult(0, result);
  return success();
}

//===----------------------------------------------------------------------===//
// LayerNormalization, SimplifiedLayerNormalization
//===----------------------------------------------------------------------===//

/// The type statistics are computed and stored in: `stash_type` 1 (FLOAT)
/// or 11 (DOUBLE).
static FailureOr<Type> stashType(NodeContext &ctx) {
  FailureOr<int64_t> stash = ctx.intAttr("stash_type", 1);
  if (failed(stash))
    return failure();
  if (*stash == onnx::TensorProto::FLOAT)
    return Type(Float32Type::get(ctx.context()));
  if (*stash == onnx::TensorProto::DOUBLE)
    return Type(Float64Type::get(ctx.context()));
  return ctx.emitError() << "unsupported stash_type " << *stash << " ("
                         << onnxDataTypeName(*stash)
                         << "); expected 1 (FLOAT) or 11 (DOUBLE)";
}

/// Shared by LayerNormalization (`isRMS` false: subtract the mean, optional
/// bias) and SimplifiedLayerNormalization (`isRMS`: no mean, no bias).
/// Outputs: Y, then Mean and InvStdDev (LayerNormalization) or InvStdDev
/// (SimplifiedLayerNormalization), the statistics keeping the normalised
/// dimensions as 1.
template <bool isRMS> static LogicalResult convertLayerNorm(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, isRMS ? 2 : 3)) ||
      failed(ctx.checkAttributes({"axis", "epsilon", "stash_type"})))
    return failure();
  FailureOr<Value> inputOr = ctx.requiredInput(0, "X");
  FailureOr<Value> scaleOr = ctx.requiredInput(1, "Scale");
  FailureOr<int64_t> axisAttr = ctx.intAttr("axis", -1);
  FailureOr<float> epsilon = ctx.floatAttr("epsilon", 1e-5f);
  FailureOr<Type> stash = stashType(ctx);
  if (failed(inputOr) || failed(scaleOr) || failed(axisAttr) ||
      failed(epsilon) || failed(stash) ||
      failed(checkFloat(ctx, *inputOr, "X")))
    return failure();
  if (ctx.numOutputs() > (isRMS ? 2u : 3u))
    return ctx.emitError() << "expected at most " << (isRMS ? 2 : 3)
                           << " outputs, got " << ctx.numOutputs();
  Value input = *inputOr, scale = *scaleOr;
  Value bias = isRMS ? Value() : ctx.input(2);
  Type type = tensorType(input).getElementType();
  int64_t rank = tensorType(input).getRank();
  if (rank == 0)
    return ctx.error("X must have rank >= 1, got a scalar");
  FailureOr<int64_t> axis = normalizeAxis(ctx, *axisAttr, rank);
  if (failed(axis))
    return failure();
  llvm::SmallVector<int64_t> dims = trailingDims(*axis, rank);

  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  MLIRContext *mctx = ctx.context();
  llvm::SmallVector<OpFoldResult> sizes = tensorSizes(b, loc, input);
  for (auto [value, what] :
       {std::pair<Value, const char *>{scale, "Scale"}, {bias, "B"}}) {
    if (!value)
      continue;
    if (tensorType(value).getElementType() != type)
      return ctx.emitError() << what << " has element type "
                             << tensorType(value).getElementType()
                             << ", expected that of X (" << type << ")";
    if (failed(checkBroadcastableTo(ctx, value, sizes, what)))
      return failure();
  }

  // Computation type: the stash type, or f64 for f64 inputs.
  Type accType = type.isF64() ? type : *stash;
  auto toAcc = [&](OpBuilder &nb, Location nl, Value x) {
    return castScalar(nb, nl, x, x.getType(), accType);
  };
  Value count = elementCount(b, loc, input, dims, accType);
  Value zero = scalarConstant(b, loc, accType, 0.0);
  llvm::SmallVector<OpFoldResult> reducedSizes =
      sizesWithout(b, loc, input, dims);
  unsigned reducedRank = reducedSizes.size();
  AffineMap reducedIdentity = b.getMultiDimIdentityMap(reducedRank);

  // mean = sum(x) / n (LayerNormalization only).
  Value mean;
  if (!isRMS) {
    Value sum = buildReduction(
        b, loc, input, dims, zero,
        [&](OpBuilder &nb, Location nl, Value x, Value, Value acc) -> Value {
          return arith::AddFOp::create(nb, nl, acc, toAcc(nb, nl, x));
        });
    mean = buildParallelGeneric(
        b, loc, {sum}, {reducedIdentity}, reducedSizes, accType,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          return arith::DivFOp::create(nb, nl, args[0], count);
        });
  }
  // invStdDev = 1 / sqrt(sum((x - mean)^2) / n + epsilon).
  Value squares = buildReduction(
      b, loc, input, dims, zero,
      [&](OpBuilder &nb, Location nl, Value x, Value m, Value acc) -> Value {
        Value d = toAcc(nb, nl, x);
        if (m)
          d = arith::SubFOp::create(nb, nl, d, m);
        return arith::AddFOp::create(nb, nl, acc,
                                     arith::MulFOp::create(nb, nl, d, d));
      },
      mean);
  Value invStdDev = buildParallelGeneric(
      b, loc, {squares}, {reducedIdentity}, reducedSizes, accType,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value variance = arith::DivFOp::create(nb, nl, args[0], count);
        Value eps = scalarConstant(nb, nl, accType, *epsilon);
        Value root = math::SqrtOp::create(
            nb, nl, arith::AddFOp::create(nb, nl, variance, eps));
        return arith::DivFOp::create(
            nb, nl, scalarConstant(nb, nl, accType, 1.0), root);
      });

  // y = (x - mean) * invStdDev * scale (+ bias).
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  AffineMap reduced = reducedIndexingMap(mctx, rank, dims);
  llvm::SmallVector<Value> inputs = {input, invStdDev, scale};
  llvm::SmallVector<AffineMap> maps = {
      identity, reduced,
      broadcastIndexingMap(mctx, tensorType(scale).getShape(), sizes, rank)};
  if (mean) {
    inputs.push_back(mean);
    maps.push_back(reduced);
  }
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(
        broadcastIndexingMap(mctx, tensorType(bias).getShape(), sizes, rank));
  }
  Value y = buildParallelGeneric(
      b, loc, inputs, maps, sizes, type,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value x = toAcc(nb, nl, args[0]);
        unsigned next = 3;
        if (mean)
          x = arith::SubFOp::create(nb, nl, x, args[next++]);
        x = arith::MulFOp::create(nb, nl, x, args[1]);
        x = arith::MulFOp::create(nb, nl, x, toAcc(nb, nl, args[2]));
        if (bias)
          x = arith::AddFOp::create(nb, nl, x, toAcc(nb, nl, args[next++]));
        return castScalar(nb, nl, x, accType, type);
      });
  ctx.setResult(0, y);

  // Statistics in the stash type, normalised dimensions kept as 1.
  auto statistic = [&](Value value) {
    if (tensorType(value).getElementType() != *stash)
      value = buildParallelGeneric(
          b, loc, {value}, {reducedIdentity}, reducedSizes, *stash,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            return castScalar(nb, nl, args[0], accType, *stash);
          });
    return insertUnitDims(b, loc, value, dims);
  };
  if (!isRMS && ctx.hasOutput(1))
    ctx.setResult(1, statistic(mean));
  size_t invIndex = isRMS ? 1 : 2;
  if (ctx.hasOutput(invIndex))
    ctx.setResult(invIndex, statistic(invStdDev));
  return success();
}

void registerNormalizationOps(ConverterTable &table) {
  table.add("", "Softmax", &convertSoftmax</*isLog=*/false>);
  table.add("", "LogSoftmax", &convertSoftmax</*isLog=*/true>);
  table.add("", "LayerNormalization", &convertLayerNorm</*isRMS=*/false>);
  table.add("", "SimplifiedLayerNormalization",
            &convertLayerNorm</*isRMS=*/true>);
  table.add("com.microsoft", "SimplifiedLayerNormalization",
            &convertLayerNorm</*isRMS=*/true>);
}

} // namespace mlir::moe::onnx_import
