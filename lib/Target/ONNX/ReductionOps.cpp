//===- ReductionOps.cpp - ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare -----===//
//
// The axes are an attribute before ReduceSum-13 and the other reductions'
// opset 18, and an optional input from then on (which must be a constant:
// the result shape depends on it). `keepdims` (default 1) keeps reduced
// dimensions as 1; with no axes every dimension is reduced, unless
// `noop_with_empty_axes` (input form only) asks for the input unchanged.
//
// f16/bf16 accumulate in f32. Integer ReduceMean divides with truncation,
// as onnxruntime does.
//
//===----------------------------------------------------------------------===//

#include "BuildUtils.h"
#include "ElementwiseOps.h"
#include "OpConverters.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::moe::onnx_import {

namespace {
enum class Reduce { Sum, Mean, Max, Min, Prod, L1, L2, SumSquare };
} // namespace

static RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// First opset in which the reduction takes `axes` as an input.
static int64_t axesInputOpset(Reduce kind) {
  return kind == Reduce::Sum ? 13 : 18;
}

/// Reduced dimensions (sorted, unique, non-negative), or nullopt when the
/// node asks for no reduction at all (noop_with_empty_axes).
static FailureOr<std::optional<llvm::SmallVector<int64_t>>>
reducedDims(NodeContext &ctx, Reduce kind, int64_t rank) {
  using Result = std::optional<llvm::SmallVector<int64_t>>;
  bool axesAsInput = ctx.opset() >= axesInputOpset(kind);
  llvm::SmallVector<int64_t> axes;
  if (axesAsInput) {
    if (ctx.hasAttribute("axes"))
      return ctx.emitError()
             << "axes is an input (input 1) from opset " << axesInputOpset(kind)
             << " on, not an attribute (the model "
             << "imports opset " << ctx.opset() << ")";
    if (failed(ctx.checkInputCount(1, 2)) ||
        failed(ctx.checkAttributes({"keepdims", "noop_with_empty_axes"})))
      return failure();
    if (Value axesValue = ctx.input(1)) {
      std::optional<llvm::SmallVector<int64_t>> values =
          NodeContext::constantInts(axesValue);
      if (!values)
        return ctx.emitError()
               << "axes (input 1) must be a constant (an initializer or a "
                  "Constant node); reductions over run-time axes are not "
                  "supported";
      if (tensorType(axesValue).getRank() > 1)
        return ctx.emitError()
               << "axes (input 1) must be 1-D, got " << tensorType(axesValue);
      axes = *values;
    }
  } else {
    if (ctx.numInputs() == 2)
      return ctx.emitError()
             << "axes is an attribute before opset " << axesInputOpset(kind)
             << ", not an input (the model imports opset " << ctx.opset()
             << ")";
    if (failed(ctx.checkInputCount(1, 1)))
      return failure();
    if (failed(ctx.checkAttributes({"axes", "keepdims"})))
      return failure();
    FailureOr<std::optional<llvm::SmallVector<int64_t>>> attr =
        ctx.intsAttr("axes");
    if (failed(attr))
      return failure();
    if (*attr)
      axes = **attr;
  }
  FailureOr<int64_t> noop = ctx.intAttr("noop_with_empty_axes", 0);
  if (failed(noop))
    return failure();
  if (axes.empty()) {
    if (*noop)
      return Result();
    llvm::SmallVector<int64_t> all;
    for (int64_t d = 0; d < rank; ++d)
      all.push_back(d);
    return Result(all);
  }
  llvm::SmallVector<int64_t> dims;
  for (int64_t axis : axes) {
    FailureOr<int64_t> d = normalizeAxis(ctx, axis, rank);
    if (failed(d))
      return failure();
    if (llvm::is_contained(dims, *d))
      return ctx.emitError() << "axis " << axis << " is listed twice in axes";
    dims.push_back(*d);
  }
  llvm::sort(dims);
  return Result(dims);
}

template <Reduce kind> static LogicalResult convertReduce(NodeContext &ctx) {
  FailureOr<Value> inputOr = ctx.requiredInput(0, "data");
  if (failed(inputOr))
    return failure();
  Value input = *inputOr;
  int64_t rank = tensorType(input).getRank();
  FailureOr<std::optional<llvm::SmallVector<int64_t>>> dimsOr =
      reducedDims(ctx, kind, rank);
  FailureOr<int64_t> keepdims = ctx.intAttr("keepdims", 1);
  if (failed(dimsOr) || failed(keepdims))
    return failure();

  Type type = tensorType(input).getElementType();
  bool isFloat = isa<FloatType>(type);
  bool isBool = type.isInteger(1);
  bool floatOnly = kind == Reduce::L2;
  bool allowsBool = kind == Reduce::Max || kind == Reduce::Min;
  if (!isa<FloatType, IntegerType>(type) || (floatOnly && !isFloat) ||
      (isBool && !allowsBool))
    return ctx.emitError() << "unsupported element type " << type
                           << (floatOnly ? " (expected a floating-point type)"
                                         : "");
  if (!*dimsOr) {
    ctx.setResult(0, input); // noop_with_empty_axes with no axes.
    return success();
  }
  llvm::SmallVector<int64_t> dims = **dimsOr;

  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Type accType = signlessType(computeType(type));
  bool isUnsigned = isUnsignedLike(type);

  Value init;
  switch (kind) {
  case Reduce::Max:
    init = lowestValue(b, loc, accType, isUnsigned);
    break;
  case Reduce::Min:
    init = highestValue(b, loc, accType, isUnsigned);
    break;
  case Reduce::Prod:
    init = scalarConstant(b, loc, accType, 1.0);
    break;
  default:
    init = scalarConstant(b, loc, accType, 0.0);
    break;
  }
  Value reduced = buildReduction(
      b, loc, input, dims, init,
      [&](OpBuilder &nb, Location nl, Value x, Value, Value acc) -> Value {
        x = promoteScalar(nb, nl, x);
        auto add = [&](Value u, Value v) -> Value {
          return isFloat ? Value(arith::AddFOp::create(nb, nl, u, v))
                         : Value(arith::AddIOp::create(nb, nl, u, v));
        };
        auto mul = [&](Value u, Value v) -> Value {
          return isFloat ? Value(arith::MulFOp::create(nb, nl, u, v))
                         : Value(arith::MulIOp::create(nb, nl, u, v));
        };
        switch (kind) {
        case Reduce::Sum:
        case Reduce::Mean:
          return add(acc, x);
        case Reduce::Prod:
          return mul(acc, x);
        case Reduce::SumSquare:
        case Reduce::L2:
          return add(acc, mul(x, x));
        case Reduce::L1: {
          Value abs;
          if (isFloat)
            abs = math::AbsFOp::create(nb, nl, x);
          else if (isUnsigned)
            abs = x;
          else
            abs = arith::MaxSIOp::create(
                nb, nl, x,
                arith::SubIOp::create(
                    nb, nl, scalarConstant(nb, nl, x.getType(), 0), x));
          return add(acc, abs);
        }
        case Reduce::Max:
          if (isFloat)
            return arith::MaximumFOp::create(nb, nl, x, acc);
          return isUnsigned ? Value(arith::MaxUIOp::create(nb, nl, x, acc))
                            : Value(arith::MaxSIOp::create(nb, nl, x, acc));
        case Reduce::Min:
          if (isFloat)
            return arith::MinimumFOp::create(nb, nl, x, acc);
          return isUnsigned ? Value(arith::MinUIOp::create(nb, nl, x, acc))
                            : Value(arith::MinSIOp::create(nb, nl, x, acc));
        }
        llvm_unreachable("unknown reduction");
      });

  // Finish: divide (Mean), square root (L2), round back to the input type.
  bool needsFinish =
      accType != type || kind == Reduce::Mean || kind == Reduce::L2;
  if (needsFinish) {
    Value count = kind == Reduce::Mean
                      ? elementCount(b, loc, input, dims, accType)
                      : Value();
    auto reducedType = tensorType(reduced);
    reduced = buildParallelGeneric(
        b, loc, {reduced}, {b.getMultiDimIdentityMap(reducedType.getRank())},
        tensorSizes(b, loc, reduced), type,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value r = args[0];
          if (kind == Reduce::Mean) {
            if (isFloat) {
              r = arith::DivFOp::create(nb, nl, r, count);
            } else {
              // An empty reduction divides by zero: keep the zero sum.
              Value one = scalarConstant(nb, nl, accType, 1);
              Value zero = scalarConstant(nb, nl, accType, 0);
              Value isZero = arith::CmpIOp::create(
                  nb, nl, arith::CmpIPredicate::eq, count, zero);
              Value divisor =
                  arith::SelectOp::create(nb, nl, isZero, one, count);
              r = isUnsigned
                      ? Value(arith::DivUIOp::create(nb, nl, r, divisor))
                      : Value(arith::DivSIOp::create(nb, nl, r, divisor));
            }
          }
          if (kind == Reduce::L2)
            r = math::SqrtOp::create(nb, nl, r);
          return isFloat ? demoteScalar(nb, nl, r, type) : r;
        });
  }
  if (*keepdims)
    reduced = insertUnitDims(b, loc, reduced, dims);
  ctx.setResult(0, reduced);
  return success();
}

void registerReductionOps(ConverterTable &table) {
  table.add("", "ReduceSum", &convertReduce<Reduce::Sum>);
  table.add("", "ReduceMean", &convertReduce<Reduce::Mean>);
  table.add("", "ReduceMax", &convertReduce<Reduce::Max>);
  table.add("", "ReduceMin", &convertReduce<Reduce::Min>);
  table.add("", "ReduceProd", &convertReduce<Reduce::Prod>);
  table.add("", "ReduceL1", &convertReduce<Reduce::L1>);
  table.add("", "ReduceL2", &convertReduce<Reduce::L2>);
  table.add("", "ReduceSumSquare", &convertReduce<Reduce::SumSquare>);
}

} // namespace mlir::moe::onnx_import
