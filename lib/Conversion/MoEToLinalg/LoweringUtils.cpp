//===- LoweringUtils.cpp - helpers shared by the reference lowering -------===//

#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

using namespace mlir;

Value mlir::moe::indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value mlir::moe::floatConstant(OpBuilder &b, Location loc, Type type,
                               double value) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

Value mlir::moe::emptyLike(OpBuilder &b, Location loc, RankedTensorType type,
                           ValueRange dynamicSizes) {
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamicSizes);
}

Value mlir::moe::filledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                              double value, ValueRange dynamicSizes) {
  Value init = emptyLike(b, loc, type, dynamicSizes);
  Value scalar;
  if (isa<FloatType>(type.getElementType()))
    scalar = floatConstant(b, loc, type.getElementType(), value);
  else
    scalar = arith::ConstantOp::create(
        b, loc,
        b.getIntegerAttr(type.getElementType(), static_cast<int64_t>(value)));
  return linalg::FillOp::create(b, loc, scalar, init).getResult(0);
}

Value mlir::moe::castFloat(OpBuilder &b, Location loc, Value value, Type type) {
  unsigned from = value.getType().getIntOrFloatBitWidth();
  unsigned to = type.getIntOrFloatBitWidth();
  if (value.getType() == type)
    return value;
  if (from < to)
    return arith::ExtFOp::create(b, loc, type, value);
  return arith::TruncFOp::create(b, loc, type, value);
}

SmallVector<Value> mlir::moe::dynamicDimSizes(OpBuilder &b, Location loc,
                                              Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> sizes;
  for (int64_t d = 0, e = type.getRank(); d < e; ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, tensor, d));
  return sizes;
}

Value mlir::moe::extractAsIndex(OpBuilder &b, Location loc, Value tensor,
                                ValueRange indices) {
  Value element = tensor::ExtractOp::create(b, loc, tensor, indices);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), element);
}

Value mlir::moe::extractRow(OpBuilder &b, Location loc, Value matrix,
                            Value row) {
  auto type = cast<RankedTensorType>(matrix.getType());
  OpFoldResult width = tensor::getMixedSize(b, loc, matrix, 1);
  auto rowType =
      RankedTensorType::get({type.getDimSize(1)}, type.getElementType());
  return tensor::ExtractSliceOp::create(
      b, loc, rowType, matrix, ArrayRef<OpFoldResult>{row, b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), width},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
}

Value mlir::moe::insertRow(OpBuilder &b, Location loc, Value rowValue,
                           Value matrix, Value row) {
  OpFoldResult width = tensor::getMixedSize(b, loc, matrix, 1);
  return tensor::InsertSliceOp::create(
      b, loc, rowValue, matrix, ArrayRef<OpFoldResult>{row, b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), width},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
}

Value mlir::moe::mapElements(
    OpBuilder &b, Location loc, ValueRange inputs, Type elementType,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto shape = cast<RankedTensorType>(inputs.front().getType());
  auto type = RankedTensorType::get(shape.getShape(), elementType);
  Value init = emptyLike(b, loc, type, dynamicDimSizes(b, loc, inputs.front()));
  int64_t rank = shape.getRank();
  SmallVector<AffineMap> maps(inputs.size() + 1,
                              b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

Value mlir::moe::castFloatTensor(OpBuilder &b, Location loc, Value tensor,
                                 Type elementType) {
  if (cast<RankedTensorType>(tensor.getType()).getElementType() == elementType)
    return tensor;
  return mapElements(
      b, loc, tensor, elementType,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        return castFloat(nested, nestedLoc, args[0], elementType);
      });
}

Value mlir::moe::i32Constant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(value));
}

SmallVector<Value> mlir::moe::forRange(
    OpBuilder &b, Location loc, Value lowerBound, Value upperBound,
    ValueRange inits,
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)>
        body) {
  auto loop = scf::ForOp::create(
      b, loc, lowerBound, upperBound, indexConstant(b, loc, 1), inits,
      [&](OpBuilder &nested, Location nestedLoc, Value iv, ValueRange args) {
        scf::YieldOp::create(nested, nestedLoc,
                             body(nested, nestedLoc, iv, args));
      });
  return SmallVector<Value>(loop.getResults());
}

SmallVector<Value> mlir::moe::updateIf(
    OpBuilder &b, Location loc, Value cond, ValueRange current,
    function_ref<SmallVector<Value>(OpBuilder &, Location)> update) {
  auto ifOp = scf::IfOp::create(
      b, loc, cond,
      [&](OpBuilder &nested, Location nestedLoc) {
        scf::YieldOp::create(nested, nestedLoc, update(nested, nestedLoc));
      },
      [&](OpBuilder &nested, Location nestedLoc) {
        scf::YieldOp::create(nested, nestedLoc, current);
      });
  return SmallVector<Value>(ifOp.getResults());
}

Value mlir::moe::indexDim(OpBuilder &b, Location loc, Value tensor,
                          int64_t dim) {
  return getValueOrCreateConstantIndexOp(
      b, loc, tensor::getMixedSize(b, loc, tensor, dim));
}

Value mlir::moe::selectExpert(OpBuilder &b, Location loc, Value stacked,
                              Value expert) {
  if (!stacked)
    return stacked;
  auto type = cast<RankedTensorType>(stacked.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  offsets[0] = expert;
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, stacked);
  sizes[0] = b.getIndexAttr(1);
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  auto sliceType = RankedTensorType::get(type.getShape().drop_front(),
                                         type.getElementType());
  return tensor::ExtractSliceOp::create(b, loc, sliceType, stacked, offsets,
                                        sizes, strides);
}

Value mlir::moe::isValidExpert(OpBuilder &b, Location loc, Value expert,
                    int64_t numExperts) {
  Value lower = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, expert,
                                      i32Constant(b, loc, 0));
  Value upper = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, expert,
                                      i32Constant(b, loc, numExperts));
  return arith::AndIOp::create(b, loc, lower, upper);
}

Value mlir::moe::buildCapacity(OpBuilder &b, Location loc, Value expertIds,
                    double capacityFactor, int64_t numExperts) {
  Type f64 = b.getF64Type();
  auto toF64 = [&](Value index) -> Value {
    Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
    return arith::SIToFPOp::create(b, loc, f64, i64);
  };
  Value tokens = toF64(indexDim(b, loc, expertIds, 0));
  Value slots = toF64(indexDim(b, loc, expertIds, 1));
  Value product = arith::MulFOp::create(
      b, loc, floatConstant(b, loc, f64, capacityFactor), tokens);
  product = arith::MulFOp::create(b, loc, product, slots);
  Value quotient = arith::DivFOp::create(
      b, loc, product, floatConstant(b, loc, f64, double(numExperts)));
  Value ceil = math::CeilOp::create(b, loc, quotient);
  return arith::FPToSIOp::create(b, loc, b.getI32Type(), ceil);
}

Value mlir::moe::castWeight(OpBuilder &b, Location loc, Value weight, Type type) {
  Type from = weight.getType();
  if (from != type &&
      from.getIntOrFloatBitWidth() == type.getIntOrFloatBitWidth())
    weight = castFloat(b, loc, weight, b.getF32Type());
  return castFloat(b, loc, weight, type);
}

Type mlir::moe::routingComputeType(Type elemType) {
  if (isa<Float16Type, BFloat16Type>(elemType))
    return Float32Type::get(elemType.getContext());
  return elemType;
}

Value mlir::moe::negInfConstant(OpBuilder &b, Location loc, Type type) {
  return floatConstant(b, loc, type, -std::numeric_limits<double>::infinity());
}

Value mlir::moe::nanToNegInf(OpBuilder &b, Location loc, Value x) {
  Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
  return arith::SelectOp::create(b, loc, isNan,
                                 negInfConstant(b, loc, x.getType()), x);
}

Value mlir::moe::logisticSigmoid(OpBuilder &b, Location loc, Value x) {
  Value one = floatConstant(b, loc, x.getType(), 1.0);
  Value expNeg = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(b, loc, one,
                               arith::AddFOp::create(b, loc, one, expNeg));
}

LogicalResult moe::rewriteExistingOps(Operation *root,
                                      RewritePatternSet &&patterns) {
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingOps);
  return applyPatternsGreedily(root, std::move(patterns), config);
}
