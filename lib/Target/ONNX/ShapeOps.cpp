//===- ShapeOps.cpp - ONNX shape ops to tensor/linalg ---------------------===//
//
// Shape, Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Split,
// Slice, Expand, ConstantOfShape, Constant, Identity.
//
// Small integer tensors (shapes and shape arithmetic) are folded element by
// element (see ShapeOps.h), so that a Reshape whose shape was computed from
// Shape/Gather/Concat sees static sizes where they are static and
// `tensor.dim` values where they are not. Everything else keeps static
// result types where the inputs allow them.
//
//===----------------------------------------------------------------------===//

#include "ShapeOps.h"

#include "BuildUtils.h"
#include "OpConverters.h"
#include "TypeImport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <limits>

namespace mlir::moe::onnx_import {

using llvm::SmallVector;

//===----------------------------------------------------------------------===//
// Shared helpers (ShapeOps.h)
//===----------------------------------------------------------------------===//

static bool isFoldableElementType(Type type) {
  if (type.isIndex())
    return true;
  auto intType = dyn_cast<IntegerType>(type);
  return intType && intType.isSignless() && intType.getWidth() > 1;
}

std::optional<SmallVector<OpFoldResult>> knownElements(Value tensor) {
  if (!tensor)
    return std::nullopt;
  while (auto cast = tensor.getDefiningOp<tensor::CastOp>())
    tensor = cast.getSource();
  auto type = dyn_cast<RankedTensorType>(tensor.getType());
  if (!type || !type.hasStaticShape() ||
      type.getNumElements() > kMaxFoldElements ||
      !isFoldableElementType(type.getElementType()))
    return std::nullopt;
  Builder b(tensor.getContext());
  SmallVector<OpFoldResult> result;
  if (auto constant = tensor.getDefiningOp<arith::ConstantOp>()) {
    auto dense = dyn_cast<DenseIntElementsAttr>(constant.getValue());
    if (!dense)
      return std::nullopt;
    for (const llvm::APInt &v : dense.getValues<llvm::APInt>())
      result.push_back(b.getI64IntegerAttr(v.getSExtValue()));
    return result;
  }
  if (auto fromElements = tensor.getDefiningOp<tensor::FromElementsOp>()) {
    for (Value element : fromElements.getElements()) {
      if (std::optional<int64_t> c = getConstantIntValue(element))
        result.push_back(b.getI64IntegerAttr(*c));
      else
        result.push_back(element);
    }
    return result;
  }
  return std::nullopt;
}

/// `value` (an integer or index scalar) converted to `type`.
static Value castIntScalar(OpBuilder &b, Location loc, Value value, Type type) {
  Type from = value.getType();
  if (from == type)
    return value;
  if (from.isIndex() || type.isIndex())
    return arith::IndexCastOp::create(b, loc, type, value);
  if (from.getIntOrFloatBitWidth() < type.getIntOrFloatBitWidth())
    return arith::ExtSIOp::create(b, loc, type, value);
  return arith::TruncIOp::create(b, loc, type, value);
}

Value buildFromElements(OpBuilder &b, Location loc, RankedTensorType type,
                        llvm::ArrayRef<OpFoldResult> elements) {
  Type elementType = type.getElementType();
  if (llvm::all_of(elements,
                   [](OpFoldResult e) { return isa<Attribute>(e); })) {
    unsigned width = elementType.isIndex()
                         ? IndexType::kInternalStorageBitWidth
                         : elementType.getIntOrFloatBitWidth();
    SmallVector<llvm::APInt> values;
    for (OpFoldResult e : elements)
      values.emplace_back(width, *getConstantIntValue(e), /*isSigned=*/true);
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, values));
  }
  SmallVector<Value> scalars;
  for (OpFoldResult e : elements) {
    if (auto value = dyn_cast<Value>(e))
      scalars.push_back(castIntScalar(b, loc, value, elementType));
    else
      scalars.push_back(
          scalarConstant(b, loc, elementType, *getConstantIntValue(e)));
  }
  return tensor::FromElementsOp::create(b, loc, type, scalars);
}

OpFoldResult elementAsIndex(OpBuilder &b, Location loc, OpFoldResult element) {
  if (std::optional<int64_t> c = getConstantIntValue(element))
    return b.getIndexAttr(*c);
  return scalarToIndex(b, loc, cast<Value>(element));
}

Value scalarToIndex(OpBuilder &b, Location loc, Value scalar) {
  if (scalar.getType().isIndex())
    return scalar;
  if (auto cast = scalar.getDefiningOp<arith::IndexCastOp>())
    if (cast.getIn().getType().isIndex())
      return cast.getIn();
  if (isa<FloatType>(scalar.getType()))
    scalar = arith::FPToSIOp::create(b, loc, b.getI64Type(), scalar);
  else if (cast<IntegerType>(scalar.getType()).getWidth() == 1)
    scalar = arith::ExtUIOp::create(b, loc, b.getI64Type(), scalar);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), scalar);
}

FailureOr<SmallVector<OpFoldResult>>
shapeInputElements(NodeContext &ctx, Value shape, llvm::StringRef what) {
  auto type = cast<RankedTensorType>(shape.getType());
  if (type.getRank() > 1 || !isa<IntegerType>(type.getElementType()))
    return ctx.emitError() << what << " must be a 1-D tensor of integers, got "
                           << type;
  if (type.getRank() == 1 && type.isDynamicDim(0))
    return ctx.emitError() << what
                           << " must have a static length (the rank of the "
                              "result depends on it), got "
                           << type;
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  SmallVector<OpFoldResult> result;
  if (std::optional<SmallVector<OpFoldResult>> known = knownElements(shape)) {
    for (OpFoldResult e : *known)
      result.push_back(
          isa<Attribute>(e) ? e : OpFoldResult(elementAsIndex(b, loc, e)));
    return result;
  }
  if (std::optional<SmallVector<int64_t>> ints =
          NodeContext::constantInts(shape)) {
    for (int64_t v : *ints)
      result.push_back(b.getI64IntegerAttr(v));
    return result;
  }
  int64_t length = type.getRank() == 0 ? 1 : type.getDimSize(0);
  for (int64_t i = 0; i < length; ++i) {
    SmallVector<Value> indices;
    if (type.getRank() == 1)
      indices.push_back(arith::ConstantIndexOp::create(b, loc, i));
    Value element = tensor::ExtractOp::create(b, loc, shape, indices);
    result.push_back(scalarToIndex(b, loc, element));
  }
  return result;
}

SmallVector<int64_t> staticSizes(llvm::ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> shape;
  for (OpFoldResult size : sizes)
    shape.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
  return shape;
}

OpFoldResult addIndex(OpBuilder &b, Location loc, OpFoldResult lhs,
                      OpFoldResult rhs) {
  std::optional<int64_t> l = getConstantIntValue(lhs);
  std::optional<int64_t> r = getConstantIntValue(rhs);
  if (l && r)
    return b.getIndexAttr(*l + *r);
  if (l == 0)
    return rhs;
  if (r == 0)
    return lhs;
  return arith::AddIOp::create(b, loc,
                               getValueOrCreateConstantIndexOp(b, loc, lhs),
                               getValueOrCreateConstantIndexOp(b, loc, rhs))
      .getResult();
}

OpFoldResult mulIndex(OpBuilder &b, Location loc, OpFoldResult lhs,
                      OpFoldResult rhs) {
  std::optional<int64_t> l = getConstantIntValue(lhs);
  std::optional<int64_t> r = getConstantIntValue(rhs);
  if (l && r)
    return b.getIndexAttr(*l * *r);
  if (l == 1)
    return rhs;
  if (r == 1)
    return lhs;
  return arith::MulIOp::create(b, loc,
                               getValueOrCreateConstantIndexOp(b, loc, lhs),
                               getValueOrCreateConstantIndexOp(b, loc, rhs))
      .getResult();
}

/// The (tensor, dimension) an index value measures, followed back through
/// casts, transposes and reshapes that carry the dimension over unchanged.
static std::optional<std::pair<Value, int64_t>> measuredDim(Value value) {
  if (auto cast = value.getDefiningOp<arith::IndexCastOp>())
    value = cast.getIn();
  auto dimOp = value.getDefiningOp<tensor::DimOp>();
  if (!dimOp)
    return std::nullopt;
  std::optional<int64_t> index = getConstantIntValue(dimOp.getIndex());
  if (!index)
    return std::nullopt;
  Value source = dimOp.getSource();
  int64_t d = *index;
  auto singleGroup = [&](llvm::ArrayRef<ReassociationIndices> groups,
                         bool fromResult) -> std::optional<int64_t> {
    for (auto [g, group] : llvm::enumerate(groups)) {
      if (fromResult ? static_cast<int64_t>(g) == d
                     : llvm::is_contained(group, d))
        return group.size() == 1
                   ? std::optional<int64_t>(fromResult ? group[0] : g)
                   : std::nullopt;
    }
    return std::nullopt;
  };
  for (int step = 0; step < 16; ++step) {
    if (auto cast = source.getDefiningOp<tensor::CastOp>()) {
      source = cast.getSource();
    } else if (auto expand = source.getDefiningOp<tensor::ExpandShapeOp>()) {
      std::optional<int64_t> next =
          singleGroup(expand.getReassociationIndices(), /*fromResult=*/false);
      if (!next)
        break;
      d = *next;
      source = expand.getSrc();
    } else if (auto collapse =
                   source.getDefiningOp<tensor::CollapseShapeOp>()) {
      std::optional<int64_t> next =
          singleGroup(collapse.getReassociationIndices(), /*fromResult=*/true);
      if (!next)
        break;
      d = *next;
      source = collapse.getSrc();
    } else if (auto transpose = source.getDefiningOp<linalg::TransposeOp>()) {
      d = transpose.getPermutation()[d];
      source = transpose.getInput();
    } else {
      break;
    }
  }
  return std::make_pair(source, d);
}

/// Whether two sizes are known to be equal at import.
static bool sameSize(OpFoldResult lhs, OpFoldResult rhs) {
  std::optional<int64_t> l = getConstantIntValue(lhs);
  std::optional<int64_t> r = getConstantIntValue(rhs);
  if (l || r)
    return l == r;
  Value lv = cast<Value>(lhs), rv = cast<Value>(rhs);
  if (lv == rv)
    return true;
  std::optional<std::pair<Value, int64_t>> lm = measuredDim(lv);
  return lm && lm == measuredDim(rv);
}

/// `numerator / denominator` of two products of sizes, cancelling factors
/// known to be equal; null when what remains is not a pair of constants.
static std::optional<int64_t>
cancelProducts(llvm::ArrayRef<OpFoldResult> numerator,
               llvm::ArrayRef<OpFoldResult> denominator) {
  int64_t num = 1, den = 1;
  SmallVector<OpFoldResult> rest;
  for (OpFoldResult f : numerator) {
    if (std::optional<int64_t> c = getConstantIntValue(f))
      num *= *c;
    else
      rest.push_back(f);
  }
  for (OpFoldResult f : denominator) {
    if (std::optional<int64_t> c = getConstantIntValue(f)) {
      den *= *c;
      continue;
    }
    auto it =
        llvm::find_if(rest, [&](OpFoldResult g) { return sameSize(f, g); });
    if (it == rest.end())
      return std::nullopt;
    rest.erase(it);
  }
  if (!rest.empty() || den == 0 || num % den != 0)
    return std::nullopt;
  return num / den;
}

static int64_t countDynamic(llvm::ArrayRef<int64_t> shape) {
  return llvm::count_if(shape, ShapedType::isDynamic);
}

/// Groups of `reassociation` over `shape` that contain a dynamic dimension
/// whose size is not known to carry over unchanged (a group of one dimension
/// on both sides with sizes known equal).
static int64_t dynamicGroups(llvm::ArrayRef<ReassociationIndices> groups,
                             llvm::ArrayRef<int64_t> shape,
                             llvm::ArrayRef<OpFoldResult> groupedSizes,
                             llvm::ArrayRef<OpFoldResult> otherSizes) {
  int64_t count = 0;
  for (auto [g, group] : llvm::enumerate(groups)) {
    if (group.size() == 1 && sameSize(groupedSizes[group[0]], otherSizes[g]))
      continue;
    if (llvm::any_of(
            group, [&](int64_t d) { return ShapedType::isDynamic(shape[d]); }))
      ++count;
  }
  return count;
}

Value reshapeTo(OpBuilder &b, Location loc, Value input,
                llvm::ArrayRef<OpFoldResult> sizes) {
  auto inType = cast<RankedTensorType>(input.getType());
  Type elementType = inType.getElementType();
  SmallVector<int64_t> outShape = staticSizes(sizes);
  auto outType = RankedTensorType::get(outShape, elementType);
  llvm::ArrayRef<int64_t> inShape = inType.getShape();
  int64_t inRank = inType.getRank(), outRank = outType.getRank();

  SmallVector<OpFoldResult> inSizes = tensorSizes(b, loc, input);
  // Same shape, and at most one dynamic size not known equal (fixed by the
  // element count).
  if (inShape == llvm::ArrayRef<int64_t>(outShape)) {
    int64_t unknown = 0;
    for (int64_t d = 0; d < inRank; ++d)
      unknown += !sameSize(inSizes[d], sizes[d]);
    if (unknown <= 1)
      return input;
  }

  auto allOnes = [](llvm::ArrayRef<int64_t> shape) {
    return llvm::all_of(shape, [](int64_t d) { return d == 1; });
  };
  if (outRank == 0 && inType.hasStaticShape() && allOnes(inShape))
    return tensor::CollapseShapeOp::create(
        b, loc, outType, input, llvm::ArrayRef<ReassociationIndices>{});
  if (inRank == 0 && outType.hasStaticShape() && allOnes(outShape))
    return tensor::ExpandShapeOp::create(
        b, loc, outType, input, llvm::ArrayRef<ReassociationIndices>{}, sizes);

  if (outRank > 0 && outRank < inRank) {
    std::optional<SmallVector<ReassociationIndices>> groups =
        getReassociationIndicesForCollapse(inShape, outShape);
    if (groups && dynamicGroups(*groups, inShape, inSizes, sizes) <= 1) {
      Value collapsed = tensor::CollapseShapeOp::create(b, loc, input, *groups);
      if (collapsed.getType() != outType)
        collapsed = tensor::CastOp::create(b, loc, outType, collapsed);
      return collapsed;
    }
  }
  if (inRank > 0 && outRank > inRank) {
    std::optional<SmallVector<ReassociationIndices>> groups =
        getReassociationIndicesForCollapse(outShape, inShape);
    // memref.expand_shape with two dynamic sizes in one group crashes
    // expand-strided-metadata (LLVM 22): keep one per group.
    bool onePerGroup =
        groups && llvm::all_of(*groups, [&](const ReassociationIndices &g) {
          return llvm::count_if(g, [&](int64_t d) {
                   return ShapedType::isDynamic(outShape[d]);
                 }) <= 1;
        });
    if (groups && onePerGroup &&
        dynamicGroups(*groups, outShape, sizes, inSizes) <= 1) {
      // The source type the expansion implies: dynamic where the group is.
      SmallVector<int64_t> srcShape;
      for (const ReassociationIndices &group : *groups) {
        int64_t product = 1;
        for (int64_t d : group)
          product = ShapedType::isDynamic(outShape[d]) ||
                            ShapedType::isDynamic(product)
                        ? ShapedType::kDynamic
                        : product * outShape[d];
        srcShape.push_back(product);
      }
      Value source = input;
      auto srcType = RankedTensorType::get(srcShape, elementType);
      if (srcType != inType)
        source = tensor::CastOp::create(b, loc, srcType, input);
      return tensor::ExpandShapeOp::create(b, loc, outType, source, *groups,
                                           sizes);
    }
  }

  // General case: through one dimension. (memref.reshape with a run-time
  // shape has no LLVM lowering, so tensor.reshape is avoided.)
  Value flat = input;
  if (inRank == 0) {
    flat = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({1}, elementType), input,
        llvm::ArrayRef<ReassociationIndices>{},
        llvm::ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  } else if (inRank > 1) {
    ReassociationIndices all;
    for (int64_t d = 0; d < inRank; ++d)
      all.push_back(d);
    flat = tensor::CollapseShapeOp::create(
        b, loc, input, llvm::ArrayRef<ReassociationIndices>{all});
  }
  int64_t count = 1;
  for (int64_t d : outShape)
    count = ShapedType::isDynamic(d) || ShapedType::isDynamic(count)
                ? ShapedType::kDynamic
                : count * d;
  auto flatType = RankedTensorType::get({count}, elementType);
  if (flat.getType() != flatType)
    flat = tensor::CastOp::create(b, loc, flatType, flat);
  if (outRank == 1)
    return flat;
  if (outRank == 0)
    return tensor::CollapseShapeOp::create(
        b, loc, outType, flat, llvm::ArrayRef<ReassociationIndices>{});
  if (countDynamic(outShape) <= 1) {
    ReassociationIndices all;
    for (int64_t d = 0; d < outRank; ++d)
      all.push_back(d);
    return tensor::ExpandShapeOp::create(
        b, loc, outType, flat, llvm::ArrayRef<ReassociationIndices>{all},
        sizes);
  }
  // Several dynamic sizes (see above): copy, reading the flat tensor at the
  // row-major linear index.
  SmallVector<Value> sizeValues;
  for (OpFoldResult size : sizes)
    sizeValues.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
  Value init = emptyTensor(b, loc, sizes, elementType);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{}, ValueRange{init},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(outRank)},
      SmallVector<utils::IteratorType>(outRank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        Value linear = linalg::IndexOp::create(nb, nloc, 0);
        for (int64_t d = 1; d < outRank; ++d)
          linear = arith::AddIOp::create(
              nb, nloc, arith::MulIOp::create(nb, nloc, linear, sizeValues[d]),
              linalg::IndexOp::create(nb, nloc, d));
        linalg::YieldOp::create(
            nb, nloc,
            tensor::ExtractOp::create(nb, nloc, flat, ValueRange{linear})
                .getResult());
      });
  return generic.getResult(0);
}

//===----------------------------------------------------------------------===//
// Local helpers
//===----------------------------------------------------------------------===//

static RankedTensorType rankedType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// Axes from input `inputIndex` (constant) or, for older opsets, the
/// attribute `axes`. Nullopt when neither is given.
static FailureOr<std::optional<SmallVector<int64_t>>>
readAxes(NodeContext &ctx, size_t inputIndex) {
  if (ctx.hasInput(inputIndex)) {
    std::optional<SmallVector<int64_t>> axes =
        NodeContext::constantInts(ctx.input(inputIndex));
    if (!axes) {
      if (auto known = knownElements(ctx.input(inputIndex))) {
        SmallVector<int64_t> values;
        for (OpFoldResult e : *known) {
          std::optional<int64_t> c = getConstantIntValue(e);
          if (!c)
            break;
          values.push_back(*c);
        }
        if (values.size() == known->size())
          axes = values;
      }
    }
    if (!axes)
      return ctx.emitError()
             << "'axes' must be a constant known at import (computed at run "
                "time it would make the result rank unknown)";
    return std::optional<SmallVector<int64_t>>(*axes);
  }
  return ctx.intsAttr("axes");
}

/// Normalises `axes` against `rank`; refuses duplicates.
static FailureOr<SmallVector<int64_t>>
normalizeAxes(NodeContext &ctx, llvm::ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> result;
  for (int64_t axis : axes) {
    if (axis < -rank || axis >= rank)
      return ctx.emitError()
             << "axis " << axis << " is out of range for rank " << rank;
    int64_t normalized = axis < 0 ? axis + rank : axis;
    if (llvm::is_contained(result, normalized))
      return ctx.emitError() << "axis " << axis << " is repeated";
    result.push_back(normalized);
  }
  return result;
}

/// Whether an index value is known to be >= 0 (a dimension size, or sums
/// and products of those).
static bool isKnownNonNegative(Value value, int depth = 0) {
  if (depth > 8)
    return false;
  if (auto cast = value.getDefiningOp<arith::IndexCastOp>())
    return isKnownNonNegative(cast.getIn(), depth + 1);
  if (std::optional<int64_t> c = getConstantIntValue(value))
    return *c >= 0;
  if (value.getDefiningOp<tensor::DimOp>())
    return true;
  Operation *op = value.getDefiningOp();
  if (op && isa<arith::AddIOp, arith::MulIOp>(op))
    return isKnownNonNegative(op->getOperand(0), depth + 1) &&
           isKnownNonNegative(op->getOperand(1), depth + 1);
  return false;
}

static Value indexValue(OpBuilder &b, Location loc, OpFoldResult ofr) {
  return getValueOrCreateConstantIndexOp(b, loc, ofr);
}

static Value cmpIndex(OpBuilder &b, Location loc, arith::CmpIPredicate pred,
                      Value lhs, int64_t rhs) {
  return arith::CmpIOp::create(b, loc, pred, lhs,
                               arith::ConstantIndexOp::create(b, loc, rhs));
}

//===----------------------------------------------------------------------===//
// Shape
//===----------------------------------------------------------------------===//

static LogicalResult convertShape(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 1)) ||
      failed(ctx.checkAttributes({"start", "end"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0);
  RankedTensorType type = rankedType(data);
  int64_t rank = type.getRank();
  FailureOr<int64_t> start = ctx.intAttr("start", 0);
  FailureOr<int64_t> end = ctx.intAttr("end", rank);
  if (failed(start) || failed(end))
    return failure();
  auto clampAxis = [&](int64_t axis) {
    if (axis < 0)
      axis += rank;
    return std::clamp<int64_t>(axis, 0, rank);
  };
  int64_t first = clampAxis(*start), last = clampAxis(*end);
  SmallVector<OpFoldResult> elements;
  for (int64_t d = first; d < last; ++d) {
    if (type.isDynamicDim(d))
      elements.push_back(
          arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                     tensor::DimOp::create(b, loc, data, d))
              .getResult());
    else
      elements.push_back(b.getI64IntegerAttr(type.getDimSize(d)));
  }
  auto resultType = RankedTensorType::get(
      {static_cast<int64_t>(elements.size())}, b.getI64Type());
  ctx.setResult(0, buildFromElements(b, loc, resultType, elements));
  return success();
}

//===----------------------------------------------------------------------===//
// Reshape, Flatten, Squeeze, Unsqueeze, Identity
//===----------------------------------------------------------------------===//

/// Binds output 0 to `data` reshaped to `sizes`: element-wise when `data`
/// is a small known tensor, else through `reshapeTo`.
static void setReshaped(NodeContext &ctx, Value data,
                        llvm::ArrayRef<OpFoldResult> sizes) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  auto type = RankedTensorType::get(staticSizes(sizes),
                                    rankedType(data).getElementType());
  if (type.hasStaticShape()) {
    if (std::optional<SmallVector<OpFoldResult>> known = knownElements(data)) {
      ctx.setResult(0, buildFromElements(b, loc, type, *known));
      return;
    }
  }
  ctx.setResult(0, reshapeTo(b, loc, data, sizes));
}

static LogicalResult convertReshape(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 2)) ||
      failed(ctx.checkAttributes({"allowzero"})))
    return failure();
  FailureOr<int64_t> allowZero = ctx.intAttr("allowzero", 0);
  if (failed(allowZero))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0);
  int64_t inRank = rankedType(data).getRank();
  FailureOr<SmallVector<OpFoldResult>> elements =
      shapeInputElements(ctx, ctx.input(1), "the shape input");
  if (failed(elements))
    return failure();
  SmallVector<OpFoldResult> inSizes = tensorSizes(b, loc, data);
  int64_t outRank = elements->size();
  SmallVector<OpFoldResult> sizes(outRank);
  int64_t inferred = -1;
  SmallVector<int64_t> maybeInferred; // Run-time elements that may be -1.
  bool hasZero = false;
  for (int64_t i = 0; i < outRank; ++i) {
    OpFoldResult element = (*elements)[i];
    if (std::optional<int64_t> c = getConstantIntValue(element)) {
      if (*c == -1) {
        if (inferred >= 0)
          return ctx.emitError() << "the shape has more than one -1 (elements "
                                 << inferred << " and " << i << ")";
        inferred = i;
        continue;
      }
      if (*c < -1)
        return ctx.emitError()
               << "shape element " << i << " is " << *c << "; expected >= -1";
      if (*c == 0 && !*allowZero) {
        if (i >= inRank)
          return ctx.emitError()
                 << "shape element " << i << " is 0 (copy the input "
                 << "dimension) but the input has rank " << inRank;
        sizes[i] = inSizes[i];
      } else {
        hasZero |= *c == 0;
        sizes[i] = b.getIndexAttr(*c);
      }
      continue;
    }
    Value value = cast<Value>(element);
    if (!*allowZero && i < inRank && !sameSize(value, inSizes[i])) {
      Value isZero = cmpIndex(b, loc, arith::CmpIPredicate::eq, value, 0);
      value = arith::SelectOp::create(b, loc, isZero,
                                      indexValue(b, loc, inSizes[i]), value);
    }
    if (!isKnownNonNegative(cast<Value>(element)))
      maybeInferred.push_back(i);
    sizes[i] = value;
  }
  if (inferred >= 0 && hasZero)
    return ctx.error("the shape has both -1 and 0 with allowzero=1");

  OpFoldResult total = b.getIndexAttr(1);
  for (OpFoldResult size : inSizes)
    total = mulIndex(b, loc, total, size);
  if (inferred >= 0) {
    OpFoldResult known = b.getIndexAttr(1);
    for (int64_t i = 0; i < outRank; ++i)
      if (i != inferred)
        known = mulIndex(b, loc, known, sizes[i]);
    std::optional<int64_t> t = getConstantIntValue(total);
    std::optional<int64_t> k = getConstantIntValue(known);
    SmallVector<OpFoldResult> others;
    for (int64_t i = 0; i < outRank; ++i)
      if (i != inferred)
        others.push_back(sizes[i]);
    if (std::optional<int64_t> q = cancelProducts(inSizes, others);
        q && !(t && k)) {
      sizes[inferred] = b.getIndexAttr(*q);
    } else if (t && k) {
      if (*k == 0 || *t % *k != 0)
        return ctx.emitError() << "cannot reshape " << rankedType(data) << ": "
                               << *t << " elements do not divide "
                               << "into parts of " << *k;
      sizes[inferred] = b.getIndexAttr(*t / *k);
    } else {
      sizes[inferred] =
          arith::DivUIOp::create(b, loc, indexValue(b, loc, total),
                                 indexValue(b, loc, known))
              .getResult();
    }
  } else if (!maybeInferred.empty()) {
    // A run-time element may be -1: infer it from the others.
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    OpFoldResult known = b.getIndexAttr(1);
    for (int64_t i = 0; i < outRank; ++i) {
      OpFoldResult factor = sizes[i];
      if (llvm::is_contained(maybeInferred, i)) {
        Value v = cast<Value>(sizes[i]);
        factor = arith::SelectOp::create(
                     b, loc, cmpIndex(b, loc, arith::CmpIPredicate::eq, v, -1),
                     one, v)
                     .getResult();
      }
      known = mulIndex(b, loc, known, factor);
    }
    Value quotient = arith::DivUIOp::create(b, loc, indexValue(b, loc, total),
                                            indexValue(b, loc, known));
    for (int64_t i : maybeInferred) {
      Value v = cast<Value>(sizes[i]);
      sizes[i] = arith::SelectOp::create(
                     b, loc, cmpIndex(b, loc, arith::CmpIPredicate::eq, v, -1),
                     quotient, v)
                     .getResult();
    }
  }

  auto inType = rankedType(data);
  SmallVector<int64_t> outShape = staticSizes(sizes);
  if (inType.hasStaticShape() &&
      llvm::none_of(outShape, ShapedType::isDynamic)) {
    int64_t outCount = 1;
    for (int64_t d : outShape)
      outCount *= d;
    if (outCount != inType.getNumElements())
      return ctx.emitError()
             << "cannot reshape " << inType << " to shape ["
             << llvm::make_range(outShape.begin(), outShape.end())
             << "]: element counts differ";
  }
  setReshaped(ctx, data, sizes);
  return success();
}

static LogicalResult convertFlatten(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 1)) ||
      failed(ctx.checkAttributes({"axis"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0);
  RankedTensorType type = rankedType(data);
  int64_t rank = type.getRank();
  FailureOr<int64_t> axis = ctx.intAttr("axis", 1);
  if (failed(axis))
    return failure();
  if (*axis < -rank || *axis > rank)
    return ctx.emitError() << "axis " << *axis << " is out of range [-" << rank
                           << ", " << rank << "]";
  int64_t split = *axis < 0 ? *axis + rank : *axis;
  SmallVector<OpFoldResult> inSizes = tensorSizes(b, loc, data);
  OpFoldResult outer = b.getIndexAttr(1), inner = b.getIndexAttr(1);
  for (int64_t d = 0; d < rank; ++d) {
    if (d < split)
      outer = mulIndex(b, loc, outer, inSizes[d]);
    else
      inner = mulIndex(b, loc, inner, inSizes[d]);
  }
  if (split > 0 && split < rank) {
    // Always a plain collapse of two groups.
    SmallVector<ReassociationIndices> groups(2);
    for (int64_t d = 0; d < rank; ++d)
      groups[d < split ? 0 : 1].push_back(d);
    ctx.setResult(0, tensor::CollapseShapeOp::create(b, loc, data, groups));
    return success();
  }
  setReshaped(ctx, data, {outer, inner});
  return success();
}

static LogicalResult convertSqueeze(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 2)) ||
      failed(ctx.checkAttributes({"axes"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0);
  RankedTensorType type = rankedType(data);
  int64_t rank = type.getRank();
  FailureOr<std::optional<SmallVector<int64_t>>> axes = readAxes(ctx, 1);
  if (failed(axes))
    return failure();
  SmallVector<bool> squeezed(rank, false);
  if (*axes) {
    FailureOr<SmallVector<int64_t>> normalized =
        normalizeAxes(ctx, **axes, rank);
    if (failed(normalized))
      return failure();
    for (int64_t axis : *normalized) {
      if (!type.isDynamicDim(axis) && type.getDimSize(axis) != 1)
        return ctx.emitError() << "cannot squeeze dimension " << axis
                               << " of size " << type.getDimSize(axis);
      squeezed[axis] = true;
    }
  } else {
    for (int64_t d = 0; d < rank; ++d) {
      if (type.isDynamicDim(d))
        return ctx.emitError()
               << "Squeeze without axes needs static dimensions, but "
                  "dimension "
               << d << " of " << type
               << " is dynamic; give the axes explicitly";
      squeezed[d] = type.getDimSize(d) == 1;
    }
  }
  SmallVector<OpFoldResult> inSizes = tensorSizes(b, loc, data);
  SmallVector<OpFoldResult> sizes;
  SmallVector<int64_t> srcShape(type.getShape());
  for (int64_t d = 0; d < rank; ++d) {
    if (squeezed[d])
      srcShape[d] = 1;
    else
      sizes.push_back(inSizes[d]);
  }
  auto outType =
      RankedTensorType::get(staticSizes(sizes), type.getElementType());
  if (outType.hasStaticShape())
    if (std::optional<SmallVector<OpFoldResult>> known = knownElements(data)) {
      ctx.setResult(0, buildFromElements(b, loc, outType, *known));
      return success();
    }
  // Squeezed dimensions that were dynamic are 1 by the op's contract.
  Value source = data;
  auto srcType = RankedTensorType::get(srcShape, type.getElementType());
  if (srcType != type)
    source = tensor::CastOp::create(b, loc, srcType, data);
  if (rank == static_cast<int64_t>(sizes.size())) {
    ctx.setResult(0, source);
    return success();
  }
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  for (int64_t d = 0; d < rank; ++d) {
    pending.push_back(d);
    if (!squeezed[d]) {
      groups.push_back(pending);
      pending.clear();
    }
  }
  if (!groups.empty())
    groups.back().append(pending.begin(), pending.end());
  ctx.setResult(
      0, tensor::CollapseShapeOp::create(b, loc, outType, source, groups));
  return success();
}

static LogicalResult convertUnsqueeze(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 2)) ||
      failed(ctx.checkAttributes({"axes"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0);
  RankedTensorType type = rankedType(data);
  FailureOr<std::optional<SmallVector<int64_t>>> axes = readAxes(ctx, 1);
  if (failed(axes))
    return failure();
  if (!*axes)
    return ctx.error("missing the axes (input 1 from opset 13, attribute "
                     "'axes' before)");
  int64_t outRank = type.getRank() + static_cast<int64_t>((*axes)->size());
  FailureOr<SmallVector<int64_t>> normalized =
      normalizeAxes(ctx, **axes, outRank);
  if (failed(normalized))
    return failure();
  SmallVector<OpFoldResult> inSizes = tensorSizes(b, loc, data);
  SmallVector<OpFoldResult> sizes;
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  int64_t next = 0;
  for (int64_t d = 0; d < outRank; ++d) {
    pending.push_back(d);
    if (llvm::is_contained(*normalized, d)) {
      sizes.push_back(b.getIndexAttr(1));
      continue;
    }
    sizes.push_back(inSizes[next++]);
    groups.push_back(pending);
    pending.clear();
  }
  if (!groups.empty())
    groups.back().append(pending.begin(), pending.end());
  auto outType =
      RankedTensorType::get(staticSizes(sizes), type.getElementType());
  if (outType.hasStaticShape())
    if (std::optional<SmallVector<OpFoldResult>> known = knownElements(data)) {
      ctx.setResult(0, buildFromElements(b, loc, outType, *known));
      return success();
    }
  ctx.setResult(
      0, tensor::ExpandShapeOp::create(b, loc, outType, data, groups, sizes));
  return success();
}

static LogicalResult convertIdentity(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 1)) || failed(ctx.checkAttributes({})))
    return failure();
  ctx.setResult(0, ctx.input(0));
  return success();
}

//===----------------------------------------------------------------------===//
// Transpose
//===----------------------------------------------------------------------===//

static LogicalResult convertTranspose(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 1)) ||
      failed(ctx.checkAttributes({"perm"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0);
  int64_t rank = rankedType(data).getRank();
  FailureOr<std::optional<SmallVector<int64_t>>> permAttr =
      ctx.intsAttr("perm");
  if (failed(permAttr))
    return failure();
  SmallVector<int64_t> perm;
  if (*permAttr) {
    perm = **permAttr;
    SmallVector<int64_t> sorted(perm);
    llvm::sort(sorted);
    bool valid = static_cast<int64_t>(perm.size()) == rank;
    for (int64_t i = 0; valid && i < rank; ++i)
      valid = sorted[i] == i;
    if (!valid)
      return ctx.emitError()
             << "'perm' [" << llvm::make_range(perm.begin(), perm.end())
             << "] is not a permutation of the " << rank << " input dimensions";
  } else {
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  }
  if (llvm::equal(perm, llvm::seq<int64_t>(0, rank))) {
    ctx.setResult(0, data);
    return success();
  }
  SmallVector<OpFoldResult> inSizes = tensorSizes(b, loc, data);
  SmallVector<OpFoldResult> sizes;
  for (int64_t p : perm)
    sizes.push_back(inSizes[p]);
  Value init = emptyTensor(b, loc, sizes, rankedType(data).getElementType());
  ctx.setResult(
      0, linalg::TransposeOp::create(b, loc, data, init, perm)->getResult(0));
  return success();
}

//===----------------------------------------------------------------------===//
// Concat, Split
//===----------------------------------------------------------------------===//

static LogicalResult convertConcat(NodeContext &ctx) {
  if (failed(ctx.checkAttributes({"axis"})))
    return failure();
  if (ctx.numInputs() == 0)
    return ctx.error("expected at least 1 input, got 0");
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  SmallVector<Value> inputs;
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    FailureOr<Value> input = ctx.requiredInput(i, "a tensor to concatenate");
    if (failed(input))
      return failure();
    inputs.push_back(*input);
  }
  RankedTensorType firstType = rankedType(inputs[0]);
  int64_t rank = firstType.getRank();
  if (rank == 0)
    return ctx.error("cannot concatenate scalars (rank 0)");
  FailureOr<int64_t> axisAttr = ctx.intAttr("axis");
  if (failed(axisAttr))
    return failure();
  FailureOr<int64_t> axis = normalizeAxis(ctx, *axisAttr, rank);
  if (failed(axis))
    return failure();
  for (auto [i, input] : llvm::enumerate(inputs)) {
    RankedTensorType type = rankedType(input);
    if (type.getElementType() != firstType.getElementType() ||
        type.getRank() != rank)
      return ctx.emitError()
             << "input " << i << " has type " << type
             << ", incompatible with input 0 of type " << firstType;
  }
  if (inputs.size() == 1) {
    ctx.setResult(0, inputs[0]);
    return success();
  }

  // Sizes: the other dimensions agree; the axis sums.
  SmallVector<OpFoldResult> sizes = tensorSizes(b, loc, inputs[0]);
  for (int64_t d = 0; d < rank; ++d) {
    if (d == *axis)
      continue;
    std::optional<int64_t> known;
    for (auto [i, input] : llvm::enumerate(inputs)) {
      RankedTensorType type = rankedType(input);
      if (type.isDynamicDim(d))
        continue;
      if (known && *known != type.getDimSize(d))
        return ctx.emitError()
               << "input " << i << " has size " << type.getDimSize(d)
               << " in dimension " << d << ", other inputs " << *known;
      known = type.getDimSize(d);
    }
    if (known)
      sizes[d] = b.getIndexAttr(*known);
  }
  OpFoldResult total = b.getIndexAttr(0);
  SmallVector<OpFoldResult> axisSizes;
  for (Value input : inputs) {
    RankedTensorType type = rankedType(input);
    OpFoldResult size =
        type.isDynamicDim(*axis)
            ? OpFoldResult(
                  tensor::DimOp::create(b, loc, input, *axis).getResult())
            : OpFoldResult(b.getIndexAttr(type.getDimSize(*axis)));
    axisSizes.push_back(size);
    total = addIndex(b, loc, total, size);
  }
  sizes[*axis] = total;

  auto outType =
      RankedTensorType::get(staticSizes(sizes), firstType.getElementType());
  if (outType.hasStaticShape() && rank == 1) {
    SmallVector<OpFoldResult> elements;
    bool allKnown = true;
    for (Value input : inputs) {
      std::optional<SmallVector<OpFoldResult>> known = knownElements(input);
      if (!known) {
        allKnown = false;
        break;
      }
      elements.append(known->begin(), known->end());
    }
    if (allKnown) {
      ctx.setResult(0, buildFromElements(b, loc, outType, elements));
      return success();
    }
  }

  Value result = emptyTensor(b, loc, sizes, firstType.getElementType());
  OpFoldResult offset = b.getIndexAttr(0);
  for (auto [input, axisSize] : llvm::zip(inputs, axisSizes)) {
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
    offsets[*axis] = offset;
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    result = tensor::InsertSliceOp::create(b, loc, input, result, offsets,
                                           tensorSizes(b, loc, input), strides);
    offset = addIndex(b, loc, offset, axisSize);
  }
  ctx.setResult(0, result);
  return success();
}

static LogicalResult convertSplit(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 2)) ||
      failed(ctx.checkAttributes({"axis", "split", "num_outputs"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0);
  RankedTensorType type = rankedType(data);
  int64_t rank = type.getRank();
  FailureOr<int64_t> axisAttr = ctx.intAttr("axis", 0);
  if (failed(axisAttr))
    return failure();
  if (rank == 0)
    return ctx.error("cannot split a scalar (rank 0)");
  FailureOr<int64_t> axis = normalizeAxis(ctx, *axisAttr, rank);
  if (failed(axis))
    return failure();
  int64_t numOutputs = ctx.numOutputs();
  if (numOutputs == 0)
    return ctx.error("expected at least one output");
  SmallVector<OpFoldResult> inSizes = tensorSizes(b, loc, data);
  OpFoldResult dim = inSizes[*axis];
  std::optional<int64_t> staticDim = getConstantIntValue(dim);

  std::optional<SmallVector<int64_t>> split;
  if (ctx.hasInput(1)) {
    split = NodeContext::constantInts(ctx.input(1));
    if (!split)
      return ctx.error("the 'split' input must be a constant known at import");
  } else {
    FailureOr<std::optional<SmallVector<int64_t>>> attr = ctx.intsAttr("split");
    if (failed(attr))
      return failure();
    split = *attr;
  }
  SmallVector<OpFoldResult> sizes;
  if (split) {
    if (static_cast<int64_t>(split->size()) != numOutputs)
      return ctx.emitError() << "'split' has " << split->size() << " sizes for "
                             << numOutputs << " outputs";
    int64_t sum = 0;
    for (int64_t s : *split) {
      if (s < 0)
        return ctx.emitError() << "'split' has a negative size " << s;
      sum += s;
      sizes.push_back(b.getIndexAttr(s));
    }
    if (staticDim && sum != *staticDim)
      return ctx.emitError()
             << "'split' sizes add up to " << sum << ", but dimension " << *axis
             << " has size " << *staticDim;
  } else {
    FailureOr<int64_t> numOutputsAttr = ctx.intAttr("num_outputs", 0);
    if (failed(numOutputsAttr))
      return failure();
    bool uneven = ctx.hasAttribute("num_outputs");
    if (uneven && *numOutputsAttr != numOutputs)
      return ctx.emitError()
             << "'num_outputs' is " << *numOutputsAttr << " but the node has "
             << numOutputs << " outputs";
    int64_t n = numOutputs;
    if (staticDim) {
      int64_t chunk = uneven ? (*staticDim + n - 1) / n : *staticDim / n;
      if (!uneven && *staticDim % n != 0)
        return ctx.emitError()
               << "dimension " << *axis << " of size " << *staticDim
               << " does not split evenly into " << n << " outputs";
      int64_t last = *staticDim - chunk * (n - 1);
      if (last < 0)
        return ctx.emitError()
               << "dimension " << *axis << " of size " << *staticDim
               << " is too small for " << n << " outputs";
      sizes.assign(n - 1, b.getIndexAttr(chunk));
      sizes.push_back(b.getIndexAttr(last));
    } else {
      Value d = cast<Value>(dim);
      Value nValue = arith::ConstantIndexOp::create(b, loc, n);
      Value chunk =
          uneven ? arith::CeilDivUIOp::create(b, loc, d, nValue).getResult()
                 : arith::DivUIOp::create(b, loc, d, nValue).getResult();
      sizes.assign(n - 1, chunk);
      Value rest = arith::MulIOp::create(
          b, loc, chunk, arith::ConstantIndexOp::create(b, loc, n - 1));
      sizes.push_back(arith::SubIOp::create(b, loc, d, rest).getResult());
    }
  }
  OpFoldResult offset = b.getIndexAttr(0);
  for (int64_t i = 0; i < numOutputs; ++i) {
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
    offsets[*axis] = offset;
    SmallVector<OpFoldResult> sliceSizes(inSizes);
    sliceSizes[*axis] = sizes[i];
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    ctx.setResult(i, tensor::ExtractSliceOp::create(b, loc, data, offsets,
                                                    sliceSizes, strides));
    offset = addIndex(b, loc, offset, sizes[i]);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Slice
//===----------------------------------------------------------------------===//

namespace {
/// One sliced dimension: the lowest index read, the count, the distance.
struct SliceDim {
  OpFoldResult offset, size;
  int64_t step;
};
} // namespace

/// ONNX clamping of one (start, end, step) against `dim`.
static SliceDim sliceDim(OpBuilder &b, Location loc, OpFoldResult start,
                         OpFoldResult end, int64_t step, OpFoldResult dim) {
  std::optional<int64_t> s = getConstantIntValue(start);
  std::optional<int64_t> e = getConstantIntValue(end);
  std::optional<int64_t> d = getConstantIntValue(dim);
  int64_t absStep = step > 0 ? step : -step;
  if (s && e && d) {
    int64_t first = *s < 0 ? *s + *d : *s;
    int64_t last = *e < 0 ? *e + *d : *e;
    int64_t count;
    if (step > 0) {
      first = std::clamp<int64_t>(first, 0, *d);
      last = std::clamp<int64_t>(last, 0, *d);
      count = last > first ? (last - first + absStep - 1) / absStep : 0;
      return {b.getIndexAttr(first), b.getIndexAttr(count), step};
    }
    first = std::clamp<int64_t>(first, 0, *d - 1);
    last = std::clamp<int64_t>(last, -1, *d - 1);
    count = first > last ? (first - last + absStep - 1) / absStep : 0;
    int64_t lowest = count > 0 ? first - (count - 1) * absStep : 0;
    return {b.getIndexAttr(lowest), b.getIndexAttr(count), step};
  }
  // At run time, with index (64-bit) arithmetic.
  Value sv = indexValue(b, loc, start), ev = indexValue(b, loc, end);
  Value dv = indexValue(b, loc, dim);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  auto normalize = [&](Value v) -> Value {
    Value negative = cmpIndex(b, loc, arith::CmpIPredicate::slt, v, 0);
    return arith::SelectOp::create(b, loc, negative,
                                   arith::AddIOp::create(b, loc, v, dv), v);
  };
  auto clamp = [&](Value v, Value lo, Value hi) -> Value {
    return arith::MinSIOp::create(b, loc, arith::MaxSIOp::create(b, loc, v, lo),
                                  hi);
  };
  Value first = normalize(sv), last = normalize(ev);
  Value stepValue = arith::ConstantIndexOp::create(b, loc, absStep);
  Value stepLess = arith::ConstantIndexOp::create(b, loc, absStep - 1);
  if (step > 0) {
    first = clamp(first, zero, dv);
    last = clamp(last, zero, dv);
    Value diff = arith::MaxSIOp::create(
        b, loc, arith::SubIOp::create(b, loc, last, first), zero);
    Value count = arith::DivUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, diff, stepLess), stepValue);
    return {first, count, step};
  }
  Value minusOne = arith::ConstantIndexOp::create(b, loc, -1);
  Value dimLess = arith::SubIOp::create(
      b, loc, dv, arith::ConstantIndexOp::create(b, loc, 1));
  first = clamp(first, zero, dimLess);
  last = clamp(last, minusOne, dimLess);
  Value diff = arith::MaxSIOp::create(
      b, loc, arith::SubIOp::create(b, loc, first, last), zero);
  Value count = arith::DivUIOp::create(
      b, loc, arith::AddIOp::create(b, loc, diff, stepLess), stepValue);
  // Lowest index read: first - (count - 1) * step, or 0 when empty.
  Value span = arith::MulIOp::create(
      b, loc,
      arith::SubIOp::create(b, loc, count,
                            arith::ConstantIndexOp::create(b, loc, 1)),
      stepValue);
  Value lowest = arith::MaxSIOp::create(
      b, loc, arith::SubIOp::create(b, loc, first, span), zero);
  return {lowest, count, step};
}

/// `source` with the dimensions in `reversed` read backwards.
static Value reverseDims(OpBuilder &b, Location loc, Value source,
                         llvm::ArrayRef<int64_t> reversed) {
  RankedTensorType type = rankedType(source);
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> sizes = tensorSizes(b, loc, source);
  Value init = emptyTensor(b, loc, sizes, type.getElementType());
  SmallVector<Value> lastIndex;
  for (int64_t d = 0; d < rank; ++d)
    lastIndex.push_back(
        arith::SubIOp::create(b, loc, indexValue(b, loc, sizes[d]),
                              arith::ConstantIndexOp::create(b, loc, 1)));
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{}, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        SmallVector<Value> indices;
        for (int64_t d = 0; d < rank; ++d) {
          Value i = linalg::IndexOp::create(nb, nloc, d);
          if (llvm::is_contained(reversed, d))
            i = arith::SubIOp::create(nb, nloc, lastIndex[d], i);
          indices.push_back(i);
        }
        Value v = tensor::ExtractOp::create(nb, nloc, source, indices);
        linalg::YieldOp::create(nb, nloc, v);
      });
  return generic.getResult(0);
}

static LogicalResult convertSlice(NodeContext &ctx) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  bool fromInputs = ctx.opset() >= 10 || ctx.numInputs() > 1;
  SmallVector<OpFoldResult> starts, ends;
  SmallVector<int64_t> axes, steps;
  Value data;
  if (fromInputs) {
    if (failed(ctx.checkInputCount(3, 5)) || failed(ctx.checkAttributes({})))
      return failure();
    data = ctx.input(0);
    FailureOr<SmallVector<OpFoldResult>> s =
        shapeInputElements(ctx, ctx.input(1), "'starts'");
    if (failed(s))
      return failure();
    FailureOr<SmallVector<OpFoldResult>> e =
        shapeInputElements(ctx, ctx.input(2), "'ends'");
    if (failed(e))
      return failure();
    starts = *s;
    ends = *e;
    if (ctx.hasInput(3)) {
      std::optional<SmallVector<int64_t>> a =
          NodeContext::constantInts(ctx.input(3));
      if (!a)
        return ctx.error("'axes' must be a constant known at import");
      axes = *a;
    }
    if (ctx.hasInput(4)) {
      std::optional<SmallVector<int64_t>> st =
          NodeContext::constantInts(ctx.input(4));
      if (!st)
        return ctx.error("'steps' must be a constant known at import");
      steps = *st;
    }
  } else {
    if (failed(ctx.checkInputCount(1, 1)) ||
        failed(ctx.checkAttributes({"starts", "ends", "axes"})))
      return failure();
    data = ctx.input(0);
    FailureOr<std::optional<SmallVector<int64_t>>> s = ctx.intsAttr("starts");
    FailureOr<std::optional<SmallVector<int64_t>>> e = ctx.intsAttr("ends");
    FailureOr<std::optional<SmallVector<int64_t>>> a = ctx.intsAttr("axes");
    if (failed(s) || failed(e) || failed(a))
      return failure();
    if (!*s || !*e)
      return ctx.error("missing attribute 'starts' or 'ends'");
    for (int64_t v : **s)
      starts.push_back(b.getI64IntegerAttr(v));
    for (int64_t v : **e)
      ends.push_back(b.getI64IntegerAttr(v));
    if (*a)
      axes = **a;
  }
  RankedTensorType type = rankedType(data);
  int64_t rank = type.getRank();
  size_t n = starts.size();
  if (ends.size() != n)
    return ctx.emitError() << "'starts' has " << n << " elements but 'ends' "
                           << ends.size();
  if (axes.empty())
    for (size_t i = 0; i < n; ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(n, 1);
  if (axes.size() != n || steps.size() != n)
    return ctx.emitError() << "'starts', 'ends', 'axes' and 'steps' must "
                              "have the same length, got "
                           << n << ", " << ends.size() << ", " << axes.size()
                           << ", " << steps.size();
  FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(ctx, axes, rank);
  if (failed(normalized))
    return failure();
  for (int64_t step : steps)
    if (step == 0)
      return ctx.error("'steps' must not contain 0");

  SmallVector<OpFoldResult> inSizes = tensorSizes(b, loc, data);
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes(inSizes);
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  SmallVector<int64_t> reversed;
  for (size_t i = 0; i < n; ++i) {
    int64_t axis = (*normalized)[i];
    SliceDim dim =
        sliceDim(b, loc, starts[i], ends[i], steps[i], inSizes[axis]);
    offsets[axis] = dim.offset;
    sizes[axis] = dim.size;
    strides[axis] = b.getIndexAttr(std::abs(dim.step));
    if (dim.step < 0)
      reversed.push_back(axis);
  }

  // Small known 1-D tensors (shape arithmetic) fold.
  if (rank == 1) {
    std::optional<int64_t> offset = getConstantIntValue(offsets[0]);
    std::optional<int64_t> size = getConstantIntValue(sizes[0]);
    std::optional<SmallVector<OpFoldResult>> known = knownElements(data);
    if (known && offset && size) {
      SmallVector<OpFoldResult> elements;
      int64_t stride = *getConstantIntValue(strides[0]);
      for (int64_t i = 0; i < *size; ++i)
        elements.push_back((*known)[*offset + i * stride]);
      if (!reversed.empty())
        std::reverse(elements.begin(), elements.end());
      ctx.setResult(
          0, buildFromElements(
                 b, loc, RankedTensorType::get({*size}, type.getElementType()),
                 elements));
      return success();
    }
  }

  Value result =
      tensor::ExtractSliceOp::create(b, loc, data, offsets, sizes, strides);
  if (!reversed.empty())
    result = reverseDims(b, loc, result, reversed);
  ctx.setResult(0, result);
  return success();
}

//===----------------------------------------------------------------------===//
// Expand, ConstantOfShape, Constant
//===----------------------------------------------------------------------===//

static LogicalResult convertExpand(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 2)) || failed(ctx.checkAttributes({})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0);
  RankedTensorType type = rankedType(data);
  FailureOr<SmallVector<OpFoldResult>> shape =
      shapeInputElements(ctx, ctx.input(1), "the shape input");
  if (failed(shape))
    return failure();
  int64_t inRank = type.getRank();
  int64_t shapeRank = shape->size();
  int64_t rank = std::max(inRank, shapeRank);
  SmallVector<OpFoldResult> inSizes = tensorSizes(b, loc, data);

  // How the input is read along each output dimension.
  enum class Read { Same, Broadcast, RunTime };
  SmallVector<Read> reads(inRank, Read::Same);
  SmallVector<OpFoldResult> sizes(rank);
  for (int64_t k = 0; k < rank; ++k) {
    int64_t j = k - (rank - inRank);    // Input dimension.
    int64_t i = k - (rank - shapeRank); // Shape element.
    OpFoldResult s = i >= 0 ? (*shape)[i] : OpFoldResult(b.getIndexAttr(1));
    if (std::optional<int64_t> c = getConstantIntValue(s)) {
      if (*c < 0)
        return ctx.emitError()
               << "shape element " << i << " is " << *c << "; expected >= 0";
      s = b.getIndexAttr(*c);
    }
    if (j < 0) {
      sizes[k] = s;
      continue;
    }
    std::optional<int64_t> sc = getConstantIntValue(s);
    std::optional<int64_t> dc = getConstantIntValue(inSizes[j]);
    if (sc == 1) {
      sizes[k] = inSizes[j];
    } else if (dc == 1) {
      sizes[k] = s;
      reads[j] = Read::Broadcast;
    } else if (sc && dc) {
      if (*sc != *dc)
        return ctx.emitError() << "cannot broadcast input dimension " << j
                               << " of size " << *dc << " to " << *sc;
      sizes[k] = s;
    } else if (dc) {
      sizes[k] = inSizes[j]; // The shape element is 1 or equal at run time.
    } else {
      // Input dimension dynamic: it is 1 (broadcast) or equal at run time.
      Value sv = indexValue(b, loc, s);
      Value dv = cast<Value>(inSizes[j]);
      if (!sc) {
        Value sIsOne = cmpIndex(b, loc, arith::CmpIPredicate::eq, sv, 1);
        sizes[k] = arith::SelectOp::create(b, loc, sIsOne, dv, sv).getResult();
      } else {
        sizes[k] = s;
      }
      reads[j] = Read::RunTime;
    }
  }
  auto outType =
      RankedTensorType::get(staticSizes(sizes), type.getElementType());
  Value init = emptyTensor(b, loc, sizes, type.getElementType());
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  if (llvm::is_contained(reads, Read::RunTime)) {
    // Read through tensor.extract, choosing index 0 where the input is 1.
    SmallVector<Value> inIsOne(inRank);
    for (int64_t j = 0; j < inRank; ++j)
      if (reads[j] == Read::RunTime)
        inIsOne[j] = cmpIndex(b, loc, arith::CmpIPredicate::eq,
                              cast<Value>(inSizes[j]), 1);
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{outType}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{identity}, iterators,
        [&](OpBuilder &nb, Location nloc, ValueRange) {
          Value zero = arith::ConstantIndexOp::create(nb, nloc, 0);
          SmallVector<Value> indices;
          for (int64_t j = 0; j < inRank; ++j) {
            Value i = linalg::IndexOp::create(nb, nloc, j + rank - inRank);
            if (reads[j] == Read::Broadcast)
              i = zero;
            else if (reads[j] == Read::RunTime)
              i = arith::SelectOp::create(nb, nloc, inIsOne[j], zero, i);
            indices.push_back(i);
          }
          linalg::YieldOp::create(
              nb, nloc,
              tensor::ExtractOp::create(nb, nloc, data, indices).getResult());
        });
    ctx.setResult(0, generic.getResult(0));
    return success();
  }
  if (inRank == rank &&
      llvm::all_of(reads, [](Read r) { return r == Read::Same; }) &&
      outType == type) {
    ctx.setResult(0, data);
    return success();
  }
  SmallVector<AffineExpr> exprs;
  for (int64_t j = 0; j < inRank; ++j)
    exprs.push_back(reads[j] == Read::Broadcast
                        ? b.getAffineConstantExpr(0)
                        : b.getAffineDimExpr(j + rank - inRank));
  AffineMap inputMap = AffineMap::get(rank, 0, exprs, b.getContext());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{data}, ValueRange{init},
      SmallVector<AffineMap>{inputMap, identity}, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, args[0]);
      });
  ctx.setResult(0, generic.getResult(0));
  return success();
}

/// `value` of a constant-like attribute as one TypedAttr element.
static FailureOr<TypedAttr> singleElement(NodeContext &ctx,
                                          const onnx::AttributeProto &attr) {
  if (attr.type() != onnx::AttributeProto::TENSOR)
    return ctx.emitError() << "attribute '" << attr.name()
                           << "' must be a tensor";
  FailureOr<ElementsAttr> value =
      importTensor(attr.t(), ctx.importState(), [&] {
        return ctx.emitError() << "attribute '" << attr.name() << "': ";
      });
  if (failed(value))
    return failure();
  auto dense = dyn_cast<DenseElementsAttr>(*value);
  if (!dense || dense.getNumElements() != 1)
    return ctx.emitError() << "attribute '" << attr.name()
                           << "' must hold exactly one element";
  return cast<TypedAttr>(*dense.getValues<Attribute>().begin());
}

static LogicalResult convertConstantOfShape(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 1)) ||
      failed(ctx.checkAttributes({"value"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  TypedAttr fill = b.getF32FloatAttr(0.0f);
  if (const onnx::AttributeProto *attr = ctx.attribute("value")) {
    FailureOr<TypedAttr> element = singleElement(ctx, *attr);
    if (failed(element))
      return failure();
    fill = *element;
  }
  FailureOr<SmallVector<OpFoldResult>> shape =
      shapeInputElements(ctx, ctx.input(0), "the shape input");
  if (failed(shape))
    return failure();
  SmallVector<OpFoldResult> sizes;
  for (auto [i, element] : llvm::enumerate(*shape)) {
    if (std::optional<int64_t> c = getConstantIntValue(element)) {
      if (*c < 0)
        return ctx.emitError()
               << "shape element " << i << " is " << *c << "; expected >= 0";
      sizes.push_back(b.getIndexAttr(*c));
    } else {
      sizes.push_back(element);
    }
  }
  Type elementType = fill.getType();
  auto type = RankedTensorType::get(staticSizes(sizes), elementType);
  if (type.hasStaticShape()) {
    ctx.setResult(0, arith::ConstantOp::create(
                         b, loc, DenseElementsAttr::get(type, fill)));
    return success();
  }
  // Fill through a signless type: arith has no unsigned constants.
  Type fillType = elementType;
  if (auto intType = dyn_cast<IntegerType>(elementType);
      intType && !intType.isSignless())
    fillType = b.getIntegerType(intType.getWidth());
  TypedAttr fillValue = fill;
  if (fillType != elementType)
    fillValue = b.getIntegerAttr(fillType, cast<IntegerAttr>(fill).getValue());
  Value scalar = arith::ConstantOp::create(b, loc, fillValue);
  Value result = filledTensor(b, loc, sizes, scalar);
  if (fillType != elementType)
    result = castSignedness(b, loc, result, elementType);
  ctx.setResult(0, result);
  return success();
}

static LogicalResult convertConstant(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(0, 0)) ||
      failed(ctx.checkAttributes({"value", "value_float", "value_floats",
                                  "value_int", "value_ints", "value_string",
                                  "value_strings", "sparse_value"})))
    return failure();
  if (ctx.node().attribute_size() != 1)
    return ctx.emitError() << "expected exactly one value attribute, got "
                           << ctx.node().attribute_size();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  const onnx::AttributeProto &attr = ctx.node().attribute(0);
  llvm::StringRef name = attr.name();
  if (name == "sparse_value" || name == "value_string" ||
      name == "value_strings")
    return ctx.emitError() << "'" << name << "' constants are not supported "
                           << "(only dense numeric tensors)";
  ElementsAttr value;
  if (name == "value") {
    if (attr.type() != onnx::AttributeProto::TENSOR)
      return ctx.error("attribute 'value' must be a tensor");
    FailureOr<ElementsAttr> imported =
        importTensor(attr.t(), ctx.importState(),
                     [&] { return ctx.emitError() << "attribute 'value': "; });
    if (failed(imported))
      return failure();
    value = *imported;
  } else if (name == "value_float") {
    FailureOr<float> f = ctx.floatAttr("value_float");
    if (failed(f))
      return failure();
    value =
        DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()), *f);
  } else if (name == "value_int") {
    FailureOr<int64_t> i = ctx.intAttr("value_int");
    if (failed(i))
      return failure();
    value =
        DenseElementsAttr::get(RankedTensorType::get({}, b.getI64Type()), *i);
  } else if (name == "value_ints") {
    FailureOr<std::optional<SmallVector<int64_t>>> ints =
        ctx.intsAttr("value_ints");
    if (failed(ints))
      return failure();
    SmallVector<int64_t> values = **ints;
    value = DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(values.size())},
                              b.getI64Type()),
        llvm::ArrayRef<int64_t>(values));
  } else { // value_floats
    if (attr.type() != onnx::AttributeProto::FLOATS)
      return ctx.error("attribute 'value_floats' must be a list of floats");
    SmallVector<float> values(attr.floats().begin(), attr.floats().end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(values.size())},
                              b.getF32Type()),
        llvm::ArrayRef<float>(values));
  }
  ctx.setResult(0, arith::ConstantOp::create(b, loc, value));
  return success();
}

void registerShapeOps(ConverterTable &table) {
  table.add("", "Concat", &convertConcat);
  table.add("", "Constant", &convertConstant);
  table.add("", "ConstantOfShape", &convertConstantOfShape);
  table.add("", "Expand", &convertExpand);
  table.add("", "Flatten", &convertFlatten);
  table.add("", "Identity", &convertIdentity);
  table.add("", "Reshape", &convertReshape);
  table.add("", "Shape", &convertShape);
  table.add("", "Slice", &convertSlice);
  table.add("", "Split", &convertSplit);
  table.add("", "Squeeze", &convertSqueeze);
  table.add("", "Transpose", &convertTranspose);
  table.add("", "Unsqueeze", &convertUnsqueeze);
}

} // namespace mlir::moe::onnx_import
