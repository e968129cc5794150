//===- LoweringUtils.cpp - helpers shared by the reference lowering -------===//

#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

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
