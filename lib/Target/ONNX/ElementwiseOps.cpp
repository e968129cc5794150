//===- ElementwiseOps.cpp - elementwise ONNX ops and math helpers ---------===//
//
// Converters of the elementwise ONNX operators (arithmetic with numpy
// broadcasting, activations, comparisons, logic, Where, Cast, Clip) to
// `linalg.generic` ops with scalar bodies, and the helpers that the other
// math converters share (declared in ElementwiseOps.h).
//
// f16/bf16 arithmetic happens in f32 (exact for + - * / sqrt, one rounding
// for the rest). Integer division truncates toward zero like C; division
// by zero yields the dividend and INT_MIN / -1 wraps, so that no input makes
// the compiled code trap.
//
//===----------------------------------------------------------------------===//

#include "ElementwiseOps.h"

#include "BuildUtils.h"
#include "OpConverters.h"
#include "TypeImport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

#include <cmath>
#include <limits>

namespace mlir::moe::onnx_import {

//===----------------------------------------------------------------------===//
// Element types and scalars
//===----------------------------------------------------------------------===//

Type signlessType(Type type) {
  auto intType = dyn_cast<IntegerType>(type);
  if (!intType || intType.isSignless())
    return type;
  return IntegerType::get(type.getContext(), intType.getWidth());
}

bool isUnsignedLike(Type type) {
  return type.isUnsignedInteger() || type.isInteger(1);
}

static bool isHalfLike(Type type) { return type.isF16() || type.isBF16(); }

Type computeType(Type type) {
  return isHalfLike(type) ? Float32Type::get(type.getContext()) : type;
}

Value promoteScalar(OpBuilder &b, Location loc, Value value) {
  if (!isHalfLike(value.getType()))
    return value;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), value);
}

Value demoteScalar(OpBuilder &b, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  return arith::TruncFOp::create(b, loc, type, value);
}

Value castScalar(OpBuilder &b, Location loc, Value value, Type from, Type to) {
  Type target = signlessType(to);
  if (from == to)
    return value;
  if (auto fromFloat = dyn_cast<FloatType>(from)) {
    value = promoteScalar(b, loc, value);
    auto valueType = cast<FloatType>(value.getType());
    if (auto toFloat = dyn_cast<FloatType>(to)) {
      if (toFloat.getWidth() > valueType.getWidth())
        return arith::ExtFOp::create(b, loc, toFloat, value);
      if (toFloat == valueType)
        return value;
      return arith::TruncFOp::create(b, loc, toFloat, value);
    }
    if (to.isInteger(1)) {
      Value zero = scalarConstant(b, loc, valueType, 0.0);
      // NaN converts to true, as any non-zero value.
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, value,
                                   zero);
    }
    if (to.isUnsignedInteger())
      return arith::FPToUIOp::create(b, loc, target, value);
    return arith::FPToSIOp::create(b, loc, target, value);
  }

  // From an integer (or bool).
  bool fromUnsigned = isUnsignedLike(from);
  if (auto toFloat = dyn_cast<FloatType>(to)) {
    if (fromUnsigned)
      return arith::UIToFPOp::create(b, loc, toFloat, value);
    return arith::SIToFPOp::create(b, loc, toFloat, value);
  }
  if (to.isInteger(1)) {
    Value zero = scalarConstant(b, loc, value.getType(), 0);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, value, zero);
  }
  unsigned fromWidth = from.getIntOrFloatBitWidth();
  unsigned toWidth = to.getIntOrFloatBitWidth();
  if (toWidth > fromWidth) {
    if (fromUnsigned)
      return arith::ExtUIOp::create(b, loc, target, value);
    return arith::ExtSIOp::create(b, loc, target, value);
  }
  if (toWidth < fromWidth)
    return arith::TruncIOp::create(b, loc, target, value);
  return value; // Same width, other signedness: the bits stay.
}

Value toSignlessScalar(OpBuilder &b, Location loc, Value value) {
  Type signless = signlessType(value.getType());
  if (signless == value.getType())
    return value;
  return UnrealizedConversionCastOp::create(b, loc, signless, value)
      .getResult(0);
}

Value fromSignlessScalar(OpBuilder &b, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  return UnrealizedConversionCastOp::create(b, loc, type, value).getResult(0);
}

Value lowestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(floatType, -std::numeric_limits<double>::infinity()));
  unsigned width = type.getIntOrFloatBitWidth();
  llvm::APInt value = isUnsigned ? llvm::APInt::getMinValue(width)
                                 : llvm::APInt::getSignedMinValue(width);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value));
}

Value highestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(floatType, std::numeric_limits<double>::infinity()));
  unsigned width = type.getIntOrFloatBitWidth();
  llvm::APInt value = isUnsigned ? llvm::APInt::getMaxValue(width)
                                 : llvm::APInt::getSignedMaxValue(width);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value));
}

//===----------------------------------------------------------------------===//
// Shapes and broadcasting
//===----------------------------------------------------------------------===//

llvm::SmallVector<int64_t> staticShape(llvm::ArrayRef<OpFoldResult> sizes) {
  llvm::SmallVector<int64_t> shape;
  for (OpFoldResult size : sizes) {
    std::optional<int64_t> value = getConstantIntValue(size);
    shape.push_back(value ? *value : ShapedType::kDynamic);
  }
  return shape;
}

static std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string result = "[";
  for (auto [i, dim] : llvm::enumerate(shape)) {
    if (i)
      result += ", ";
    result += ShapedType::isDynamic(dim) ? "?" : std::to_string(dim);
  }
  return result + "]";
}

FailureOr<llvm::SmallVector<OpFoldResult>>
broadcastSizes(NodeContext &ctx, llvm::ArrayRef<Value> operands,
               llvm::ArrayRef<int64_t> ranks, llvm::StringRef what) {
  OpBuilder &b = ctx.builder();
  auto rankOf = [&](size_t i) -> int64_t {
    if (!ranks.empty())
      return ranks[i];
    return cast<RankedTensorType>(operands[i].getType()).getRank();
  };
  int64_t rank = 0;
  for (size_t i = 0; i < operands.size(); ++i)
    rank = std::max(rank, rankOf(i));

  llvm::SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < rank; ++d) {
    std::optional<int64_t> fixed;    // A static size other than 1.
    std::optional<size_t> fixedFrom; // Which operand gave it.
    Value dynamicFrom;
    int64_t dynamicDim = 0;
    for (size_t i = 0; i < operands.size(); ++i) {
      int64_t r = rankOf(i);
      int64_t j = d - (rank - r);
      if (j < 0)
        continue;
      int64_t size =
          cast<RankedTensorType>(operands[i].getType()).getDimSize(j);
      if (ShapedType::isDynamic(size)) {
        if (!dynamicFrom) {
          dynamicFrom = operands[i];
          dynamicDim = j;
        }
        continue;
      }
      if (size == 1)
        continue;
      if (fixed && *fixed != size) {
        auto shapeOf = [&](size_t k) {
          return shapeString(cast<RankedTensorType>(operands[k].getType())
                                 .getShape()
                                 .take_front(rankOf(k)));
        };
        return ctx.emitError()
               << what << " are not broadcastable: input " << *fixedFrom
               << " has shape " << shapeOf(*fixedFrom) << " and input " << i
               << " has shape " << shapeOf(i) << " (dimension " << d - rank
               << ": " << *fixed << " vs " << size << ")";
      }
      fixed = size;
      fixedFrom = i;
    }
    if (fixed)
      sizes.push_back(b.getIndexAttr(*fixed));
    else if (dynamicFrom)
      sizes.push_back(
          tensor::DimOp::create(b, ctx.loc(), dynamicFrom, dynamicDim)
              .getResult());
    else
      sizes.push_back(b.getIndexAttr(1));
  }
  return sizes;
}

LogicalResult checkBroadcastableTo(NodeContext &ctx, Value operand,
                                   llvm::ArrayRef<OpFoldResult> sizes,
                                   llvm::StringRef what) {
  auto type = cast<RankedTensorType>(operand.getType());
  llvm::SmallVector<int64_t> target = staticShape(sizes);
  int64_t rank = target.size();
  bool ok = type.getRank() <= rank;
  for (int64_t j = 0; ok && j < type.getRank(); ++j) {
    int64_t size = type.getDimSize(j);
    int64_t want = target[j + rank - type.getRank()];
    if (!ShapedType::isDynamic(size) && size != 1 &&
        !ShapedType::isDynamic(want) && size != want)
      ok = false;
  }
  if (ok)
    return success();
  return ctx.emitError() << what << " of shape " << shapeString(type.getShape())
                         << " does not broadcast to shape "
                         << shapeString(target);
}

AffineMap broadcastIndexingMap(MLIRContext *ctx, llvm::ArrayRef<int64_t> shape,
                               llvm::ArrayRef<OpFoldResult> outSizes,
                               unsigned numLoops, unsigned firstLoop) {
  int64_t outRank = outSizes.size();
  int64_t rank = shape.size();
  llvm::SmallVector<AffineExpr> exprs;
  for (int64_t j = 0; j < rank; ++j) {
    int64_t i = j + outRank - rank;
    std::optional<int64_t> outSize = getConstantIntValue(outSizes[i]);
    if (shape[j] == 1 && outSize != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(firstLoop + i, ctx));
  }
  return AffineMap::get(numLoops, 0, exprs, ctx);
}

AffineMap reducedIndexingMap(MLIRContext *ctx, unsigned numLoops,
                             llvm::ArrayRef<int64_t> reducedDims) {
  llvm::SmallVector<AffineExpr> exprs;
  for (unsigned i = 0; i < numLoops; ++i)
    if (!llvm::is_contained(reducedDims, i))
      exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(numLoops, 0, exprs, ctx);
}

//===----------------------------------------------------------------------===//
// linalg builders
//===----------------------------------------------------------------------===//

Value buildParallelGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                           llvm::ArrayRef<AffineMap> maps,
                           llvm::ArrayRef<OpFoldResult> outSizes,
                           Type resultElementType, ScalarBody body) {
  unsigned rank = outSizes.size();
  Value init = emptyTensor(b, loc, outSizes, resultElementType);
  llvm::SmallVector<AffineMap> allMaps(maps.begin(), maps.end());
  allMaps.push_back(b.getMultiDimIdentityMap(rank));
  llvm::SmallVector<utils::IteratorType> iterators(
      rank, utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, allMaps,
      iterators, [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        llvm::SmallVector<Value> scalars;
        for (Value arg : args.drop_back())
          scalars.push_back(toSignlessScalar(nested, nestedLoc, arg));
        Value result = fromSignlessScalar(nested, nestedLoc,
                                          body(nested, nestedLoc, scalars),
                                          resultElementType);
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

FailureOr<Value> buildBroadcastElementwise(NodeContext &ctx,
                                           llvm::ArrayRef<Value> operands,
                                           Type resultElementType,
                                           ScalarBody body) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  FailureOr<llvm::SmallVector<OpFoldResult>> sizes =
      broadcastSizes(ctx, operands);
  if (failed(sizes))
    return failure();
  llvm::SmallVector<Value> inputs;
  llvm::SmallVector<AffineMap> maps;
  for (Value operand : operands) {
    auto type = cast<RankedTensorType>(operand.getType());
    inputs.push_back(operand);
    maps.push_back(broadcastIndexingMap(ctx.context(), type.getShape(), *sizes,
                                        sizes->size()));
  }
  return buildParallelGeneric(b, loc, inputs, maps, *sizes, resultElementType,
                              body);
}

llvm::SmallVector<OpFoldResult> sizesWithout(OpBuilder &b, Location loc,
                                             Value tensor,
                                             llvm::ArrayRef<int64_t> dims) {
  llvm::SmallVector<OpFoldResult> all = tensorSizes(b, loc, tensor);
  llvm::SmallVector<OpFoldResult> result;
  for (auto [i, size] : llvm::enumerate(all))
    if (!llvm::is_contained(dims, static_cast<int64_t>(i)))
      result.push_back(size);
  return result;
}

Value buildReduction(OpBuilder &b, Location loc, Value input,
                     llvm::ArrayRef<int64_t> dims, Value init,
                     ReductionBody body, Value extra) {
  auto type = cast<RankedTensorType>(input.getType());
  unsigned rank = type.getRank();
  Value acc = filledTensor(b, loc, sizesWithout(b, loc, input, dims), init);
  MLIRContext *ctx = b.getContext();
  llvm::SmallVector<Value> inputs = {input};
  llvm::SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  if (extra) {
    inputs.push_back(extra);
    maps.push_back(reducedIndexingMap(ctx, rank, dims));
  }
  maps.push_back(reducedIndexingMap(ctx, rank, dims));
  llvm::SmallVector<utils::IteratorType> iterators;
  for (unsigned i = 0; i < rank; ++i)
    iterators.push_back(llvm::is_contained(dims, static_cast<int64_t>(i))
                            ? utils::IteratorType::reduction
                            : utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{acc.getType()}, inputs, ValueRange{acc}, maps,
      iterators, [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value element = toSignlessScalar(nested, nestedLoc, args[0]);
        Value other =
            extra ? toSignlessScalar(nested, nestedLoc, args[1]) : Value();
        Value result = body(nested, nestedLoc, element, other, args.back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

Value elementCount(OpBuilder &b, Location loc, Value tensor,
                   llvm::ArrayRef<int64_t> dims, Type type) {
  auto tensorType = cast<RankedTensorType>(tensor.getType());
  int64_t staticCount = 1;
  Value dynamicCount;
  for (int64_t d : dims) {
    if (!tensorType.isDynamicDim(d)) {
      staticCount *= tensorType.getDimSize(d);
      continue;
    }
    Value size = tensor::DimOp::create(b, loc, tensor, d);
    dynamicCount =
        dynamicCount ? arith::MulIOp::create(b, loc, dynamicCount, size) : size;
  }
  if (!dynamicCount)
    return scalarConstant(b, loc, type, static_cast<double>(staticCount));
  if (staticCount != 1)
    dynamicCount = arith::MulIOp::create(
        b, loc, dynamicCount,
        arith::ConstantIndexOp::create(b, loc, staticCount));
  Value asInt =
      arith::IndexCastOp::create(b, loc, b.getI64Type(), dynamicCount);
  if (isa<FloatType>(type))
    return arith::SIToFPOp::create(b, loc, type, asInt);
  return castScalar(b, loc, asInt, b.getI64Type(), type);
}

/// Reassociation that groups each dimension not in `unitDims` of a tensor of
/// rank `rank` with the unit dimensions next to it.
static llvm::SmallVector<ReassociationIndices>
unitDimReassociation(int64_t rank, llvm::ArrayRef<int64_t> unitDims) {
  llvm::SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  for (int64_t d = 0; d < rank; ++d) {
    if (llvm::is_contained(unitDims, d)) {
      if (groups.empty())
        pending.push_back(d);
      else
        groups.back().push_back(d);
      continue;
    }
    groups.emplace_back(pending);
    groups.back().push_back(d);
    pending.clear();
  }
  return groups;
}

Value insertUnitDims(OpBuilder &b, Location loc, Value tensor,
                     llvm::ArrayRef<int64_t> unitDims) {
  if (unitDims.empty())
    return tensor;
  auto type = cast<RankedTensorType>(tensor.getType());
  int64_t rank = type.getRank() + unitDims.size();
  llvm::SmallVector<OpFoldResult> sourceSizes = tensorSizes(b, loc, tensor);
  llvm::SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0, next = 0; d < rank; ++d) {
    if (llvm::is_contained(unitDims, d))
      sizes.push_back(b.getIndexAttr(1));
    else
      sizes.push_back(sourceSizes[next++]);
  }
  auto resultType =
      RankedTensorType::get(staticShape(sizes), type.getElementType());
  return tensor::ExpandShapeOp::create(
      b, loc, resultType, tensor, unitDimReassociation(rank, unitDims), sizes);
}

Value dropUnitDims(OpBuilder &b, Location loc, Value tensor,
                   llvm::ArrayRef<int64_t> unitDims) {
  if (unitDims.empty())
    return tensor;
  auto type = cast<RankedTensorType>(tensor.getType());
  llvm::SmallVector<int64_t> shape;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (!llvm::is_contained(unitDims, d))
      shape.push_back(type.getDimSize(d));
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  return tensor::CollapseShapeOp::create(
      b, loc, resultType, tensor,
      unitDimReassociation(type.getRank(), unitDims));
}

//===----------------------------------------------------------------------===//
// Converter helpers
//===----------------------------------------------------------------------===//

static Type elementTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getElementType();
}

/// Collects inputs `[0, count)`, all required.
static FailureOr<llvm::SmallVector<Value>> requiredInputs(NodeContext &ctx,
                                                          size_t count) {
  llvm::SmallVector<Value> values;
  for (size_t i = 0; i < count; ++i) {
    FailureOr<Value> value = ctx.requiredInput(i, "operand");
    if (failed(value))
      return failure();
    values.push_back(*value);
  }
  return values;
}

/// Requires every value to have the element type of the first one.
static LogicalResult checkSameElementType(NodeContext &ctx,
                                          llvm::ArrayRef<Value> values) {
  Type first = elementTypeOf(values.front());
  for (auto [i, value] : llvm::enumerate(values))
    if (elementTypeOf(value) != first)
      return ctx.emitError() << "inputs must have the same element type, but "
                             << "input 0 is " << first << " and input " << i
                             << " is " << elementTypeOf(value);
  return success();
}

enum class TypeClass : unsigned {
  Float = 1,
  Int = 2, // Integers other than bool.
  Bool = 4,
  FloatOrInt = Float | Int,
  Any = Float | Int | Bool,
};

static bool inClass(Type type, TypeClass cls) {
  unsigned mask = static_cast<unsigned>(cls);
  if (isa<FloatType>(type))
    return mask & static_cast<unsigned>(TypeClass::Float);
  if (type.isInteger(1))
    return mask & static_cast<unsigned>(TypeClass::Bool);
  if (isa<IntegerType>(type))
    return mask & static_cast<unsigned>(TypeClass::Int);
  return false;
}

static LogicalResult checkTypeClass(NodeContext &ctx, Value value,
                                    TypeClass cls, llvm::StringRef what) {
  Type type = elementTypeOf(value);
  if (inClass(type, cls))
    return success();
  const char *expected = "";
  switch (cls) {
  case TypeClass::Float:
    expected = "a floating-point type";
    break;
  case TypeClass::Int:
    expected = "an integer type";
    break;
  case TypeClass::Bool:
    expected = "bool";
    break;
  case TypeClass::FloatOrInt:
    expected = "a floating-point or integer type";
    break;
  case TypeClass::Any:
    expected = "a floating-point, integer or bool type";
    break;
  }
  return ctx.emitError() << what << " has element type " << type
                         << ", expected " << expected;
}

/// Binds output 0 to `result` when it succeeded.
static LogicalResult finish(NodeContext &ctx, FailureOr<Value> result) {
  if (failed(result))
    return failure();
  ctx.setResult(0, *result);
  return success();
}

//===----------------------------------------------------------------------===//
// Folding at import time
//===----------------------------------------------------------------------===//
//
// Exported graphs compute shapes and indices with small integer tensors
// (Shape -> Gather -> Add/Mul/Div -> Concat -> Reshape). When every operand
// is a small constant, the result is folded into an `arith.constant`, so
// that the shape consumers see constants and static types.

namespace {
/// One element of a constant being folded: `i` for integers (the value
/// sign- or zero-extended from the element width as its type says; bool is
/// 0 or 1), `f` for floats.
struct Scalar {
  int64_t i = 0;
  double f = 0.0;
};
} // namespace

/// Largest constant that is folded.
static constexpr int64_t kMaxFoldElements = 1024;

/// `value` wrapped to the width and signedness of integer type `type`.
static int64_t normalizeInt(int64_t value, Type type) {
  unsigned width = type.getIntOrFloatBitWidth();
  if (width == 1)
    return value & 1;
  if (width >= 64)
    return value;
  if (isUnsignedLike(type))
    return static_cast<int64_t>(static_cast<uint64_t>(value) &
                                ((uint64_t(1) << width) - 1));
  return llvm::SignExtend64(static_cast<uint64_t>(value), width);
}

/// The elements of `value` when it is a small constant of static shape.
static std::optional<llvm::SmallVector<Scalar>> foldableConstant(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape() ||
      type.getNumElements() > kMaxFoldElements)
    return std::nullopt;
  Type elementType = type.getElementType();
  llvm::SmallVector<Scalar> result;
  if (isa<FloatType>(elementType)) {
    std::optional<llvm::SmallVector<double>> values =
        NodeContext::constantFloats(value);
    if (!values)
      return std::nullopt;
    for (double v : *values)
      result.push_back({0, v});
  } else if (isa<IntegerType>(elementType)) {
    std::optional<llvm::SmallVector<int64_t>> values =
        NodeContext::constantInts(value);
    if (!values)
      return std::nullopt;
    for (int64_t v : *values)
      result.push_back({normalizeInt(v, elementType), 0.0});
  } else {
    return std::nullopt;
  }
  if (static_cast<int64_t>(result.size()) != type.getNumElements())
    return std::nullopt;
  return result;
}

/// An `arith.constant` of `type` holding `values`.
static Value buildConstant(OpBuilder &b, Location loc, RankedTensorType type,
                           llvm::ArrayRef<Scalar> values) {
  Type elementType = type.getElementType();
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    llvm::SmallVector<llvm::APFloat> floats;
    for (const Scalar &s : values) {
      llvm::APFloat v(s.f);
      bool lost = false;
      v.convert(floatType.getFloatSemantics(),
                llvm::APFloat::rmNearestTiesToEven, &lost);
      floats.push_back(v);
    }
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, floats));
  }
  if (elementType.isInteger(1)) {
    llvm::SmallVector<bool> bools;
    for (const Scalar &s : values)
      bools.push_back(s.i != 0);
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, bools));
  }
  unsigned width = elementType.getIntOrFloatBitWidth();
  llvm::SmallVector<llvm::APInt> ints;
  for (const Scalar &s : values)
    ints.emplace_back(width, static_cast<uint64_t>(s.i), /*isSigned=*/false,
                      /*implicitTrunc=*/true);
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, ints));
}

using FoldFn =
    llvm::function_ref<std::optional<Scalar>(llvm::ArrayRef<Scalar>)>;

/// Folds an elementwise op over constant `operands` (numpy broadcasting)
/// into a constant of `resultElementType`; nullopt when some operand is
/// not a small constant, the shapes do not broadcast (the regular path
/// reports that) or `fn` declines an element.
static std::optional<Value> tryFold(NodeContext &ctx,
                                    llvm::ArrayRef<Value> operands,
                                    Type resultElementType, FoldFn fn) {
  llvm::SmallVector<llvm::SmallVector<Scalar>> constants;
  llvm::SmallVector<llvm::ArrayRef<int64_t>> shapes;
  int64_t rank = 0;
  for (Value operand : operands) {
    std::optional<llvm::SmallVector<Scalar>> values = foldableConstant(operand);
    if (!values)
      return std::nullopt;
    constants.push_back(std::move(*values));
    shapes.push_back(cast<RankedTensorType>(operand.getType()).getShape());
    rank = std::max<int64_t>(rank, shapes.back().size());
  }
  llvm::SmallVector<int64_t> shape(rank, 1);
  for (llvm::ArrayRef<int64_t> s : shapes) {
    for (int64_t j = 0, r = s.size(); j < r; ++j) {
      int64_t &out = shape[j + rank - r];
      if (s[j] == 1 || s[j] == out)
        continue;
      if (out != 1)
        return std::nullopt;
      out = s[j];
    }
  }
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  if (count > kMaxFoldElements)
    return std::nullopt;

  llvm::SmallVector<Scalar> results;
  llvm::SmallVector<int64_t> index(rank, 0);
  llvm::SmallVector<Scalar> args(operands.size());
  for (int64_t n = 0; n < count; ++n) {
    for (auto [k, s] : llvm::enumerate(shapes)) {
      int64_t flat = 0, r = s.size();
      for (int64_t j = 0; j < r; ++j)
        flat = flat * s[j] + (s[j] == 1 ? 0 : index[j + rank - r]);
      args[k] = constants[k][flat];
    }
    std::optional<Scalar> result = fn(args);
    if (!result)
      return std::nullopt;
    if (isa<IntegerType>(resultElementType))
      result->i = normalizeInt(result->i, resultElementType);
    results.push_back(*result);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  return buildConstant(ctx.builder(), ctx.loc(),
                       RankedTensorType::get(shape, resultElementType),
                       results);
}

/// Folds, or builds the elementwise op; binds output 0 either way.
static LogicalResult foldOrBuild(NodeContext &ctx,
                                 llvm::ArrayRef<Value> operands,
                                 Type resultElementType, FoldFn fold,
                                 ScalarBody body) {
  if (std::optional<Value> folded =
          tryFold(ctx, operands, resultElementType, fold)) {
    ctx.setResult(0, *folded);
    return success();
  }
  FailureOr<Value> result =
      buildBroadcastElementwise(ctx, operands, resultElementType, body);
  if (failed(result))
    return failure();
  ctx.setResult(0, *result);
  return success();
}

/// ONNX Cast of one folded element; declines float -> int conversions that
/// are out of range (undefined in ONNX).
static std::optional<Scalar> castFolded(Scalar x, Type from, Type to) {
  bool fromFloat = isa<FloatType>(from);
  if (isa<FloatType>(to)) {
    if (fromFloat)
      return Scalar{0, x.f};
    double v = isUnsignedLike(from) && from.getIntOrFloatBitWidth() == 64
                   ? static_cast<double>(static_cast<uint64_t>(x.i))
                   : static_cast<double>(x.i);
    return Scalar{0, v};
  }
  if (to.isInteger(1))
    return Scalar{fromFloat ? int64_t(x.f != 0.0) : int64_t(x.i != 0), 0.0};
  if (!fromFloat)
    return Scalar{x.i, 0.0}; // Wrapped to `to` by the caller.
  double t = std::trunc(x.f);
  unsigned width = to.getIntOrFloatBitWidth();
  double lo = isUnsignedLike(to) ? 0.0 : -std::ldexp(1.0, width - 1);
  double hi =
      isUnsignedLike(to) ? std::ldexp(1.0, width) : std::ldexp(1.0, width - 1);
  if (!(t >= lo && t < hi))
    return std::nullopt;
  if (isUnsignedLike(to))
    return Scalar{static_cast<int64_t>(static_cast<uint64_t>(t)), 0.0};
  return Scalar{static_cast<int64_t>(t), 0.0};
}

//===----------------------------------------------------------------------===//
// Binary arithmetic: Add, Sub, Mul, Div, Pow, Sum, Max, Min, Mean
//===----------------------------------------------------------------------===//

enum class Arith { Add, Sub, Mul, Div, Max, Min };

static Value arithFloat(OpBuilder &b, Location loc, Arith kind, Value x,
                        Value y) {
  switch (kind) {
  case Arith::Add:
    return arith::AddFOp::create(b, loc, x, y);
  case Arith::Sub:
    return arith::SubFOp::create(b, loc, x, y);
  case Arith::Mul:
    return arith::MulFOp::create(b, loc, x, y);
  case Arith::Div:
    return arith::DivFOp::create(b, loc, x, y);
  case Arith::Max:
    return arith::MaximumFOp::create(b, loc, x, y);
  case Arith::Min:
    return arith::MinimumFOp::create(b, loc, x, y);
  }
  llvm_unreachable("unknown arithmetic kind");
}

/// Integer division that never traps: x / 0 = x, INT_MIN / -1 wraps.
static Value safeIntDiv(OpBuilder &b, Location loc, Value x, Value y,
                        bool isUnsigned) {
  Type type = x.getType();
  Value zero = scalarConstant(b, loc, type, 0);
  Value one = scalarConstant(b, loc, type, 1);
  Value isZero =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y, zero);
  if (isUnsigned) {
    Value divisor = arith::SelectOp::create(b, loc, isZero, one, y);
    return arith::DivUIOp::create(b, loc, x, divisor);
  }
  Value minusOne = scalarConstant(b, loc, type, -1);
  Value isMinusOne =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y, minusOne);
  Value special = arith::OrIOp::create(b, loc, isZero, isMinusOne);
  Value divisor = arith::SelectOp::create(b, loc, special, one, y);
  Value quotient = arith::DivSIOp::create(b, loc, x, divisor);
  Value negated = arith::SubIOp::create(b, loc, zero, x);
  return arith::SelectOp::create(b, loc, isMinusOne, negated, quotient);
}

static Value arithInt(OpBuilder &b, Location loc, Arith kind, Value x, Value y,
                      bool isUnsigned) {
  switch (kind) {
  case Arith::Add:
    return arith::AddIOp::create(b, loc, x, y);
  case Arith::Sub:
    return arith::SubIOp::create(b, loc, x, y);
  case Arith::Mul:
    return arith::MulIOp::create(b, loc, x, y);
  case Arith::Div:
    return safeIntDiv(b, loc, x, y, isUnsigned);
  case Arith::Max:
    return isUnsigned ? Value(arith::MaxUIOp::create(b, loc, x, y))
                      : Value(arith::MaxSIOp::create(b, loc, x, y));
  case Arith::Min:
    return isUnsigned ? Value(arith::MinUIOp::create(b, loc, x, y))
                      : Value(arith::MinSIOp::create(b, loc, x, y));
  }
  llvm_unreachable("unknown arithmetic kind");
}

/// `kind` on two folded elements of ONNX type `type`, with the semantics of
/// the IR built for it.
static Scalar arithFolded(Arith kind, Type type, Scalar x, Scalar y) {
  if (isa<FloatType>(type)) {
    double a = x.f, c = y.f;
    bool nan = std::isnan(a) || std::isnan(c);
    switch (kind) {
    case Arith::Add:
      return {0, a + c};
    case Arith::Sub:
      return {0, a - c};
    case Arith::Mul:
      return {0, a * c};
    case Arith::Div:
      return {0, a / c};
    case Arith::Max:
      return {0, nan ? std::nan("") : std::max(a, c)};
    case Arith::Min:
      return {0, nan ? std::nan("") : std::min(a, c)};
    }
  }
  bool isUnsigned = isUnsignedLike(type);
  uint64_t a = static_cast<uint64_t>(x.i), c = static_cast<uint64_t>(y.i);
  switch (kind) {
  case Arith::Add:
    return {static_cast<int64_t>(a + c)};
  case Arith::Sub:
    return {static_cast<int64_t>(a - c)};
  case Arith::Mul:
    return {static_cast<int64_t>(a * c)};
  case Arith::Div:
    if (c == 0)
      return x;
    if (isUnsigned)
      return {static_cast<int64_t>(a / c)};
    if (y.i == -1)
      return {static_cast<int64_t>(0 - a)};
    return {x.i / y.i};
  case Arith::Max:
    return (isUnsigned ? a >= c : x.i >= y.i) ? x : y;
  case Arith::Min:
    return (isUnsigned ? a <= c : x.i <= y.i) ? x : y;
  }
  llvm_unreachable("unknown arithmetic kind");
}

/// Combines all scalars of the body with `kind`, in input order.
static Value combineArith(OpBuilder &b, Location loc, Arith kind, Type type,
                          ValueRange args) {
  if (isa<FloatType>(type)) {
    Value acc = promoteScalar(b, loc, args[0]);
    for (Value arg : args.drop_front())
      acc = arithFloat(b, loc, kind, acc, promoteScalar(b, loc, arg));
    return demoteScalar(b, loc, acc, type);
  }
  bool isUnsigned = isUnsignedLike(type);
  Value acc = args[0];
  for (Value arg : args.drop_front())
    acc = arithInt(b, loc, kind, acc, arg, isUnsigned);
  return acc;
}

/// Add, Sub, Mul, Div: two operands of one numeric type.
template <Arith kind>
static LogicalResult convertBinaryArith(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 2)) || failed(ctx.checkAttributes({})))
    return failure();
  FailureOr<llvm::SmallVector<Value>> operands = requiredInputs(ctx, 2);
  if (failed(operands) || failed(checkSameElementType(ctx, *operands)) ||
      failed(checkTypeClass(ctx, (*operands)[0], TypeClass::FloatOrInt,
                            "input 0")))
    return failure();
  Type type = elementTypeOf((*operands)[0]);
  return foldOrBuild(
      ctx, *operands, type,
      [&](llvm::ArrayRef<Scalar> args) -> std::optional<Scalar> {
        return arithFolded(kind, type, args[0], args[1]);
      },
      [&](OpBuilder &b, Location loc, ValueRange args) {
        return combineArith(b, loc, kind, type, args);
      });
}

/// Max, Min, Sum, Mean: one or more operands broadcast together.
template <Arith kind, bool isMean = false>
static LogicalResult convertVariadicArith(NodeContext &ctx) {
  if (ctx.numInputs() < 1)
    return ctx.error("expected at least 1 input, got 0");
  if (failed(ctx.checkAttributes({})))
    return failure();
  FailureOr<llvm::SmallVector<Value>> operands =
      requiredInputs(ctx, ctx.numInputs());
  if (failed(operands) || failed(checkSameElementType(ctx, *operands)) ||
      failed(checkTypeClass(ctx, (*operands)[0],
                            isMean ? TypeClass::Float : TypeClass::FloatOrInt,
                            "input 0")))
    return failure();
  Type type = elementTypeOf((*operands)[0]);
  size_t count = operands->size();
  return foldOrBuild(
      ctx, *operands, type,
      [&](llvm::ArrayRef<Scalar> args) -> std::optional<Scalar> {
        Scalar acc = args[0];
        for (const Scalar &arg : args.drop_front())
          acc = arithFolded(kind, type, acc, arg);
        if (isMean)
          acc.f /= static_cast<double>(count);
        return acc;
      },
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        if (!isMean)
          return combineArith(b, loc, kind, type, args);
        Value acc = promoteScalar(b, loc, args[0]);
        for (Value arg : args.drop_front())
          acc = arith::AddFOp::create(b, loc, acc, promoteScalar(b, loc, arg));
        Value n =
            scalarConstant(b, loc, acc.getType(), static_cast<double>(count));
        acc = arith::DivFOp::create(b, loc, acc, n);
        return demoteScalar(b, loc, acc, type);
      });
}

/// Pow: floating-point base, floating-point or integer exponent; the result
/// has the base's type.
static LogicalResult convertPow(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 2)) || failed(ctx.checkAttributes({})))
    return failure();
  FailureOr<llvm::SmallVector<Value>> operands = requiredInputs(ctx, 2);
  if (failed(operands))
    return failure();
  Value base = (*operands)[0], exponent = (*operands)[1];
  if (failed(
          checkTypeClass(ctx, base, TypeClass::Float, "the base (input 0)")) ||
      failed(checkTypeClass(ctx, exponent, TypeClass::FloatOrInt,
                            "the exponent (input 1)")))
    return failure();
  Type baseType = elementTypeOf(base);
  Type exponentType = elementTypeOf(exponent);
  // x^2 is common (variance, RMS norm): a multiplication is exact.
  bool isSquare = false;
  if (auto values = NodeContext::constantFloats(exponent))
    isSquare = values->size() == 1 && (*values)[0] == 2.0;
  if (auto values = NodeContext::constantInts(exponent))
    isSquare = values->size() == 1 && (*values)[0] == 2;
  return finish(ctx, buildBroadcastElementwise(
                         ctx, *operands, baseType,
                         [&](OpBuilder &b, Location loc, ValueRange args) {
                           Value x = promoteScalar(b, loc, args[0]);
                           Value r;
                           if (isSquare) {
                             r = arith::MulFOp::create(b, loc, x, x);
                           } else {
                             Value y = castScalar(b, loc, args[1], exponentType,
                                                  x.getType());
                             r = math::PowFOp::create(b, loc, x, y);
                           }
                           return demoteScalar(b, loc, r, baseType);
                         }));
}

//===----------------------------------------------------------------------===//
// Unary ops
//===----------------------------------------------------------------------===//

using FloatFn = Value (*)(OpBuilder &, Location, Value);

static Value constantLike(OpBuilder &b, Location loc, Value like, double v) {
  return scalarConstant(b, loc, like.getType(), v);
}

static Value sqrtFn(OpBuilder &b, Location loc, Value x) {
  return math::SqrtOp::create(b, loc, x);
}
static Value expFn(OpBuilder &b, Location loc, Value x) {
  return math::ExpOp::create(b, loc, x);
}
static Value logFn(OpBuilder &b, Location loc, Value x) {
  return math::LogOp::create(b, loc, x);
}
static Value erfFn(OpBuilder &b, Location loc, Value x) {
  return math::ErfOp::create(b, loc, x);
}
static Value tanhFn(OpBuilder &b, Location loc, Value x) {
  return math::TanhOp::create(b, loc, x);
}
static Value reciprocalFn(OpBuilder &b, Location loc, Value x) {
  return arith::DivFOp::create(b, loc, constantLike(b, loc, x, 1.0), x);
}
static Value sigmoidFn(OpBuilder &b, Location loc, Value x) {
  Value one = constantLike(b, loc, x, 1.0);
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(b, loc, one,
                               arith::AddFOp::create(b, loc, one, e));
}
/// softplus(x) = max(x, 0) + log1p(exp(-|x|)), stable for large |x|.
static Value softplusFn(OpBuilder &b, Location loc, Value x) {
  Value zero = constantLike(b, loc, x, 0.0);
  Value positive = arith::MaximumFOp::create(b, loc, x, zero);
  Value negAbs = arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, x));
  Value tail =
      math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, negAbs));
  return arith::AddFOp::create(b, loc, positive, tail);
}
/// 0.5 x (1 + erf(x / sqrt 2)).
static Value geluErfFn(OpBuilder &b, Location loc, Value x) {
  Value half = constantLike(b, loc, x, 0.5);
  Value one = constantLike(b, loc, x, 1.0);
  Value invSqrt2 = constantLike(b, loc, x, M_SQRT1_2);
  Value e =
      math::ErfOp::create(b, loc, arith::MulFOp::create(b, loc, x, invSqrt2));
  Value hx = arith::MulFOp::create(b, loc, half, x);
  return arith::MulFOp::create(b, loc, hx,
                               arith::AddFOp::create(b, loc, one, e));
}
/// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
static Value geluTanhFn(OpBuilder &b, Location loc, Value x) {
  Value half = constantLike(b, loc, x, 0.5);
  Value one = constantLike(b, loc, x, 1.0);
  Value c = constantLike(b, loc, x, 0.7978845608028654); // sqrt(2/pi)
  Value a = constantLike(b, loc, x, 0.044715);
  Value x2 = arith::MulFOp::create(b, loc, x, x);
  Value inner = arith::MulFOp::create(
      b, loc, x,
      arith::AddFOp::create(b, loc, one, arith::MulFOp::create(b, loc, a, x2)));
  Value t =
      math::TanhOp::create(b, loc, arith::MulFOp::create(b, loc, c, inner));
  Value hx = arith::MulFOp::create(b, loc, half, x);
  return arith::MulFOp::create(b, loc, hx,
                               arith::AddFOp::create(b, loc, one, t));
}

/// Elementwise map of one floating-point tensor through `fn` (computed in
/// f32 for f16/bf16).
static FailureOr<Value> mapFloat(NodeContext &ctx, Value input, FloatFn fn) {
  Type type = elementTypeOf(input);
  return buildBroadcastElementwise(
      ctx, {input}, type, [&](OpBuilder &b, Location loc, ValueRange args) {
        return demoteScalar(b, loc, fn(b, loc, promoteScalar(b, loc, args[0])),
                            type);
      });
}

using FoldedFloatFn = std::optional<double> (*)(double);
static std::optional<double> noFolding(double) { return std::nullopt; }
static std::optional<double> sqrtFolded(double x) { return std::sqrt(x); }
static std::optional<double> reciprocalFolded(double x) { return 1.0 / x; }
static std::optional<double> expFolded(double x) { return std::exp(x); }
static std::optional<double> logFolded(double x) { return std::log(x); }

/// A unary op on floats; `folded` evaluates it on constants (or declines).
template <FloatFn fn, FoldedFloatFn folded = noFolding>
static LogicalResult convertUnaryFloat(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 1)) || failed(ctx.checkAttributes({})))
    return failure();
  FailureOr<Value> input = ctx.requiredInput(0, "X");
  if (failed(input) ||
      failed(checkTypeClass(ctx, *input, TypeClass::Float, "input 0")))
    return failure();
  if (std::optional<Value> result =
          tryFold(ctx, {*input}, elementTypeOf(*input),
                  [&](llvm::ArrayRef<Scalar> args) -> std::optional<Scalar> {
                    std::optional<double> value = folded(args[0].f);
                    if (!value)
                      return std::nullopt;
                    return Scalar{0, *value};
                  })) {
    ctx.setResult(0, *result);
    return success();
  }
  return finish(ctx, mapFloat(ctx, *input, fn));
}

enum class SignedUnary { Neg, Abs, Relu };

/// Neg, Abs, Relu: floats and integers.
template <SignedUnary kind>
static LogicalResult convertSignedUnary(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 1)) || failed(ctx.checkAttributes({})))
    return failure();
  FailureOr<Value> input = ctx.requiredInput(0, "X");
  if (failed(input) ||
      failed(checkTypeClass(ctx, *input, TypeClass::FloatOrInt, "input 0")))
    return failure();
  Type type = elementTypeOf(*input);
  bool isUnsigned = isUnsignedLike(type);
  auto fold = [&](llvm::ArrayRef<Scalar> args) -> std::optional<Scalar> {
    Scalar x = args[0];
    if (isa<FloatType>(type)) {
      switch (kind) {
      case SignedUnary::Neg:
        return Scalar{0, -x.f};
      case SignedUnary::Abs:
        return Scalar{0, std::fabs(x.f)};
      case SignedUnary::Relu:
        return Scalar{0, std::isnan(x.f) ? x.f : std::max(x.f, 0.0)};
      }
    }
    uint64_t u = static_cast<uint64_t>(x.i);
    switch (kind) {
    case SignedUnary::Neg:
      return Scalar{static_cast<int64_t>(0 - u)};
    case SignedUnary::Abs:
      return isUnsigned || x.i >= 0 ? x : Scalar{static_cast<int64_t>(0 - u)};
    case SignedUnary::Relu:
      return isUnsigned || x.i >= 0 ? x : Scalar{};
    }
    llvm_unreachable("unknown unary kind");
  };
  return foldOrBuild(ctx, {*input}, type, fold,
                     [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
                       Value x = args[0];
                       if (isa<FloatType>(type)) {
                         switch (kind) {
                         case SignedUnary::Neg:
                           return arith::NegFOp::create(b, loc, x);
                         case SignedUnary::Abs:
                           return math::AbsFOp::create(b, loc, x);
                         case SignedUnary::Relu:
                           return arith::MaximumFOp::create(
                               b, loc, x, constantLike(b, loc, x, 0.0));
                         }
                       }
                       Value zero = constantLike(b, loc, x, 0);
                       switch (kind) {
                       case SignedUnary::Neg:
                         return arith::SubIOp::create(b, loc, zero, x);
                       case SignedUnary::Abs:
                         if (isUnsigned)
                           return x;
                         return arith::MaxSIOp::create(
                             b, loc, x, arith::SubIOp::create(b, loc, zero, x));
                       case SignedUnary::Relu:
                         if (isUnsigned)
                           return x;
                         return arith::MaxSIOp::create(b, loc, x, zero);
                       }
                       llvm_unreachable("unknown unary kind");
                     });
}

/// LeakyRelu: x < 0 ? alpha x : x.
static LogicalResult convertLeakyRelu(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 1)) ||
      failed(ctx.checkAttributes({"alpha"})))
    return failure();
  FailureOr<Value> input = ctx.requiredInput(0, "X");
  FailureOr<float> alpha = ctx.floatAttr("alpha", 0.01f);
  if (failed(input) || failed(alpha) ||
      failed(checkTypeClass(ctx, *input, TypeClass::Float, "input 0")))
    return failure();
  Type type = elementTypeOf(*input);
  return finish(ctx, buildBroadcastElementwise(
                         ctx, {*input}, type,
                         [&](OpBuilder &b, Location loc, ValueRange args) {
                           Value x = promoteScalar(b, loc, args[0]);
                           Value zero = constantLike(b, loc, x, 0.0);
                           Value scaled = arith::MulFOp::create(
                               b, loc, x, constantLike(b, loc, x, *alpha));
                           Value isNeg = arith::CmpFOp::create(
                               b, loc, arith::CmpFPredicate::OLT, x, zero);
                           Value r = arith::SelectOp::create(b, loc, isNeg,
                                                             scaled, x);
                           return demoteScalar(b, loc, r, type);
                         }));
}

/// ai.onnx Gelu (opset 20, `approximate` none | tanh) and com.microsoft Gelu
/// (erf form).
static LogicalResult convertGelu(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 1)) ||
      failed(ctx.checkAttributes({"approximate"})))
    return failure();
  FailureOr<std::string> approximate = ctx.stringAttr("approximate", "none");
  FailureOr<Value> input = ctx.requiredInput(0, "X");
  if (failed(approximate) || failed(input) ||
      failed(checkTypeClass(ctx, *input, TypeClass::Float, "input 0")))
    return failure();
  if (*approximate != "none" && *approximate != "tanh")
    return ctx.emitError() << "unsupported approximate '" << *approximate
                           << "' (expected 'none' or 'tanh')";
  return finish(ctx, mapFloat(ctx, *input,
                              *approximate == "tanh" ? geluTanhFn : geluErfFn));
}

/// com.microsoft FastGelu (tanh form) and BiasGelu (erf form): gelu(X + bias)
/// with an optional (FastGelu) or required (BiasGelu) bias.
template <bool isTanh> static LogicalResult convertBiasGelu(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(isTanh ? 1 : 2, 2)) ||
      failed(ctx.checkAttributes({})))
    return failure();
  FailureOr<Value> input = ctx.requiredInput(0, "X");
  if (failed(input) ||
      failed(checkTypeClass(ctx, *input, TypeClass::Float, "input 0")))
    return failure();
  llvm::SmallVector<Value> operands = {*input};
  if (Value bias = ctx.input(1)) {
    if (failed(checkSameElementType(ctx, {*input, bias})))
      return failure();
    FailureOr<llvm::SmallVector<OpFoldResult>> sizes =
        broadcastSizes(ctx, {*input});
    if (failed(sizes) ||
        failed(checkBroadcastableTo(ctx, bias, *sizes, "the bias (input 1)")))
      return failure();
    operands.push_back(bias);
  }
  Type type = elementTypeOf(*input);
  return finish(ctx, buildBroadcastElementwise(
                         ctx, operands, type,
                         [&](OpBuilder &b, Location loc, ValueRange args) {
                           Value x = promoteScalar(b, loc, args[0]);
                           if (args.size() > 1)
                             x = arith::AddFOp::create(
                                 b, loc, x, promoteScalar(b, loc, args[1]));
                           Value r = isTanh ? geluTanhFn(b, loc, x)
                                            : geluErfFn(b, loc, x);
                           return demoteScalar(b, loc, r, type);
                         }));
}

//===----------------------------------------------------------------------===//
// Comparisons and logic
//===----------------------------------------------------------------------===//

enum class Compare { Eq, Lt, Gt, Le, Ge };

template <Compare kind> static LogicalResult convertCompare(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 2)) || failed(ctx.checkAttributes({})))
    return failure();
  FailureOr<llvm::SmallVector<Value>> operands = requiredInputs(ctx, 2);
  if (failed(operands) || failed(checkSameElementType(ctx, *operands)) ||
      failed(checkTypeClass(ctx, (*operands)[0],
                            kind == Compare::Eq ? TypeClass::Any
                                                : TypeClass::FloatOrInt,
                            "input 0")))
    return failure();
  Type type = elementTypeOf((*operands)[0]);
  bool isUnsigned = isUnsignedLike(type);
  auto fold = [&](llvm::ArrayRef<Scalar> args) -> std::optional<Scalar> {
    int order; // -1, 0, 1, or 2 for unordered.
    if (isa<FloatType>(type)) {
      double x = args[0].f, y = args[1].f;
      order = (std::isnan(x) || std::isnan(y)) ? 2 : (x < y ? -1 : x > y);
    } else if (isUnsigned) {
      uint64_t x = args[0].i, y = args[1].i;
      order = x < y ? -1 : x > y;
    } else {
      int64_t x = args[0].i, y = args[1].i;
      order = x < y ? -1 : x > y;
    }
    bool r = false;
    switch (kind) {
    case Compare::Eq:
      r = order == 0;
      break;
    case Compare::Lt:
      r = order == -1;
      break;
    case Compare::Gt:
      r = order == 1;
      break;
    case Compare::Le:
      r = order == -1 || order == 0;
      break;
    case Compare::Ge:
      r = order == 1 || order == 0;
      break;
    }
    return Scalar{r};
  };
  return foldOrBuild(ctx, *operands, ctx.builder().getI1Type(), fold,
                     [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
                       Value x = args[0], y = args[1];
                       if (isa<FloatType>(type)) {
                         arith::CmpFPredicate predicate;
                         switch (kind) {
                         case Compare::Eq:
                           predicate = arith::CmpFPredicate::OEQ;
                           break;
                         case Compare::Lt:
                           predicate = arith::CmpFPredicate::OLT;
                           break;
                         case Compare::Gt:
                           predicate = arith::CmpFPredicate::OGT;
                           break;
                         case Compare::Le:
                           predicate = arith::CmpFPredicate::OLE;
                           break;
                         case Compare::Ge:
                           predicate = arith::CmpFPredicate::OGE;
                           break;
                         }
                         return arith::CmpFOp::create(b, loc, predicate, x, y);
                       }
                       arith::CmpIPredicate predicate;
                       switch (kind) {
                       case Compare::Eq:
                         predicate = arith::CmpIPredicate::eq;
                         break;
                       case Compare::Lt:
                         predicate = isUnsigned ? arith::CmpIPredicate::ult
                                                : arith::CmpIPredicate::slt;
                         break;
                       case Compare::Gt:
                         predicate = isUnsigned ? arith::CmpIPredicate::ugt
                                                : arith::CmpIPredicate::sgt;
                         break;
                       case Compare::Le:
                         predicate = isUnsigned ? arith::CmpIPredicate::ule
                                                : arith::CmpIPredicate::sle;
                         break;
                       case Compare::Ge:
                         predicate = isUnsigned ? arith::CmpIPredicate::uge
                                                : arith::CmpIPredicate::sge;
                         break;
                       }
                       return arith::CmpIOp::create(b, loc, predicate, x, y);
                     });
}

enum class Logic { And, Or, Xor };

template <Logic kind> static LogicalResult convertLogic(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 2)) || failed(ctx.checkAttributes({})))
    return failure();
  FailureOr<llvm::SmallVector<Value>> operands = requiredInputs(ctx, 2);
  if (failed(operands) ||
      failed(checkTypeClass(ctx, (*operands)[0], TypeClass::Bool, "input 0")) ||
      failed(checkTypeClass(ctx, (*operands)[1], TypeClass::Bool, "input 1")))
    return failure();
  auto fold = [&](llvm::ArrayRef<Scalar> args) -> std::optional<Scalar> {
    int64_t x = args[0].i, y = args[1].i;
    switch (kind) {
    case Logic::And:
      return Scalar{x & y};
    case Logic::Or:
      return Scalar{x | y};
    case Logic::Xor:
      return Scalar{x ^ y};
    }
    llvm_unreachable("unknown logic kind");
  };
  return foldOrBuild(ctx, *operands, ctx.builder().getI1Type(), fold,
                     [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
                       switch (kind) {
                       case Logic::And:
                         return arith::AndIOp::create(b, loc, args[0], args[1]);
                       case Logic::Or:
                         return arith::OrIOp::create(b, loc, args[0], args[1]);
                       case Logic::Xor:
                         return arith::XOrIOp::create(b, loc, args[0], args[1]);
                       }
                       llvm_unreachable("unknown logic kind");
                     });
}

static LogicalResult convertNot(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 1)) || failed(ctx.checkAttributes({})))
    return failure();
  FailureOr<Value> input = ctx.requiredInput(0, "X");
  if (failed(input) ||
      failed(checkTypeClass(ctx, *input, TypeClass::Bool, "input 0")))
    return failure();
  return foldOrBuild(
      ctx, {*input}, ctx.builder().getI1Type(),
      [&](llvm::ArrayRef<Scalar> args) -> std::optional<Scalar> {
        return Scalar{args[0].i ^ 1};
      },
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value one = scalarConstant(b, loc, b.getI1Type(), 1);
        return arith::XOrIOp::create(b, loc, args[0], one);
      });
}

/// Where(condition, X, Y): three-way broadcasting.
static LogicalResult convertWhere(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(3, 3)) || failed(ctx.checkAttributes({})))
    return failure();
  FailureOr<llvm::SmallVector<Value>> operands = requiredInputs(ctx, 3);
  if (failed(operands) ||
      failed(checkTypeClass(ctx, (*operands)[0], TypeClass::Bool,
                            "the condition (input 0)")) ||
      failed(checkSameElementType(ctx, {(*operands)[1], (*operands)[2]})))
    return failure();
  Type type = elementTypeOf((*operands)[1]);
  return foldOrBuild(
      ctx, *operands, type,
      [&](llvm::ArrayRef<Scalar> args) -> std::optional<Scalar> {
        return args[0].i ? args[1] : args[2];
      },
      [&](OpBuilder &b, Location loc, ValueRange args) {
        return arith::SelectOp::create(b, loc, args[0], args[1], args[2]);
      });
}

//===----------------------------------------------------------------------===//
// Cast, CastLike, Clip
//===----------------------------------------------------------------------===//

static LogicalResult buildCast(NodeContext &ctx, Value input, Type to) {
  Type from = elementTypeOf(input);
  if (from == to) {
    ctx.setResult(0, input);
    return success();
  }
  return foldOrBuild(
      ctx, {input}, to,
      [&](llvm::ArrayRef<Scalar> args) {
        return castFolded(args[0], from, to);
      },
      [&](OpBuilder &b, Location loc, ValueRange args) {
        return castScalar(b, loc, args[0], from, to);
      });
}

static LogicalResult convertCast(NodeContext &ctx) {
  // `saturate` (opset 19) only affects float8 targets, which are refused.
  if (failed(ctx.checkInputCount(1, 1)) ||
      failed(ctx.checkAttributes({"to", "saturate"})))
    return failure();
  FailureOr<Value> input = ctx.requiredInput(0, "input");
  FailureOr<int64_t> to = ctx.intAttr("to");
  if (failed(input) || failed(to))
    return failure();
  Type target = elementTypeFromONNX(*to, ctx.context());
  if (!target)
    return ctx.emitError() << "unsupported target type "
                           << onnxDataTypeName(*to) << " (attribute 'to')";
  return buildCast(ctx, *input, target);
}

static LogicalResult convertCastLike(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 2)) ||
      failed(ctx.checkAttributes({"saturate"})))
    return failure();
  FailureOr<Value> input = ctx.requiredInput(0, "input");
  FailureOr<Value> like = ctx.requiredInput(1, "target_type");
  if (failed(input) || failed(like))
    return failure();
  return buildCast(ctx, *input, elementTypeOf(*like));
}

/// Bound of Clip as a scalar: input `index` (opset >= 11, a tensor with one
/// element) or attribute `name` (older opsets); null when absent.
static FailureOr<Value> clipBound(NodeContext &ctx, size_t index,
                                  llvm::StringRef name, Type type) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  if (ctx.opset() < 11) {
    if (!ctx.hasAttribute(name))
      return Value();
    FailureOr<float> value = ctx.floatAttr(name);
    if (failed(value))
      return failure();
    return scalarConstant(b, loc, type, *value);
  }
  Value bound = ctx.input(index);
  if (!bound)
    return Value();
  auto boundType = cast<RankedTensorType>(bound.getType());
  if (boundType.getElementType() != type)
    return ctx.emitError() << "input " << index << " (" << name
                           << ") has element type "
                           << boundType.getElementType()
                           << ", expected that of input 0 (" << type << ")";
  if (!boundType.hasStaticShape() || boundType.getNumElements() != 1)
    return ctx.emitError() << "input " << index << " (" << name
                           << ") must be a scalar, got " << boundType;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  llvm::SmallVector<Value> indices(boundType.getRank(), zero);
  return toSignlessScalar(b, loc,
                          tensor::ExtractOp::create(b, loc, bound, indices));
}

static LogicalResult convertClip(NodeContext &ctx) {
  bool oldForm = ctx.opset() < 11;
  if (failed(ctx.checkInputCount(1, oldForm ? 1 : 3)) ||
      failed(oldForm ? ctx.checkAttributes({"min", "max"})
                     : ctx.checkAttributes({})))
    return failure();
  FailureOr<Value> input = ctx.requiredInput(0, "input");
  if (failed(input) ||
      failed(checkTypeClass(ctx, *input, TypeClass::FloatOrInt, "input 0")))
    return failure();
  Type type = elementTypeOf(*input);
  if (oldForm && !isa<FloatType>(type))
    return ctx.error("Clip before opset 11 takes floating-point inputs only");
  FailureOr<Value> lo = clipBound(ctx, 1, "min", type);
  if (failed(lo))
    return failure();
  FailureOr<Value> hi = clipBound(ctx, 2, "max", type);
  if (failed(hi))
    return failure();
  bool isUnsigned = isUnsignedLike(type);
  return finish(ctx,
                buildBroadcastElementwise(
                    ctx, {*input}, type,
                    [&](OpBuilder &b, Location loc, ValueRange args) {
                      Value x = args[0];
                      if (isa<FloatType>(type)) {
                        if (*lo)
                          x = arith::MaximumFOp::create(b, loc, x, *lo);
                        if (*hi)
                          x = arith::MinimumFOp::create(b, loc, x, *hi);
                        return x;
                      }
                      if (*lo)
                        x = arithInt(b, loc, Arith::Max, x, *lo, isUnsigned);
                      if (*hi)
                        x = arithInt(b, loc, Arith::Min, x, *hi, isUnsigned);
                      return x;
                    }));
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

void registerElementwiseOps(ConverterTable &table) {
  table.add("", "Add", &convertBinaryArith<Arith::Add>);
  table.add("", "Sub", &convertBinaryArith<Arith::Sub>);
  table.add("", "Mul", &convertBinaryArith<Arith::Mul>);
  table.add("", "Div", &convertBinaryArith<Arith::Div>);
  table.add("", "Pow", &convertPow);
  table.add("", "Max", &convertVariadicArith<Arith::Max>);
  table.add("", "Min", &convertVariadicArith<Arith::Min>);
  table.add("", "Sum", &convertVariadicArith<Arith::Add>);
  table.add("", "Mean", &convertVariadicArith<Arith::Add, /*isMean=*/true>);

  table.add("", "Sqrt", &convertUnaryFloat<sqrtFn, sqrtFolded>);
  table.add("", "Exp", &convertUnaryFloat<expFn, expFolded>);
  table.add("", "Log", &convertUnaryFloat<logFn, logFolded>);
  table.add("", "Erf", &convertUnaryFloat<erfFn>);
  table.add("", "Tanh", &convertUnaryFloat<tanhFn>);
  table.add("", "Sigmoid", &convertUnaryFloat<sigmoidFn>);
  table.add("", "Reciprocal",
            &convertUnaryFloat<reciprocalFn, reciprocalFolded>);
  table.add("", "Softplus", &convertUnaryFloat<softplusFn>);
  table.add("", "Neg", &convertSignedUnary<SignedUnary::Neg>);
  table.add("", "Abs", &convertSignedUnary<SignedUnary::Abs>);
  table.add("", "Relu", &convertSignedUnary<SignedUnary::Relu>);
  table.add("", "LeakyRelu", &convertLeakyRelu);
  table.add("", "Gelu", &convertGelu);
  table.add("com.microsoft", "Gelu", &convertGelu);
  table.add("com.microsoft", "FastGelu", &convertBiasGelu</*isTanh=*/true>);
  table.add("com.microsoft", "BiasGelu", &convertBiasGelu</*isTanh=*/false>);

  table.add("", "Equal", &convertCompare<Compare::Eq>);
  table.add("", "Less", &convertCompare<Compare::Lt>);
  table.add("", "Greater", &convertCompare<Compare::Gt>);
  table.add("", "LessOrEqual", &convertCompare<Compare::Le>);
  table.add("", "GreaterOrEqual", &convertCompare<Compare::Ge>);
  table.add("", "And", &convertLogic<Logic::And>);
  table.add("", "Or", &convertLogic<Logic::Or>);
  table.add("", "Xor", &convertLogic<Logic::Xor>);
  table.add("", "Not", &convertNot);
  table.add("", "Where", &convertWhere);

  table.add("", "Cast", &convertCast);
  table.add("", "CastLike", &convertCastLike);
  table.add("", "Clip", &convertClip);
}

} // namespace mlir::moe::onnx_import
