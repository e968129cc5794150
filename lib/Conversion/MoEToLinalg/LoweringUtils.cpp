//===- LoweringUtils.cpp - helpers shared by the reference lowering -------===//

#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
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
  return tensor::EmptyOp::create(b, loc, type.getShape(),
                                 type.getElementType(), dynamicSizes);
}

Value mlir::moe::filledTensor(OpBuilder &b, Location loc,
                              RankedTensorType type, double value,
                              ValueRange dynamicSizes) {
  Value init = emptyLike(b, loc, type, dynamicSizes);
  Value scalar;
  if (isa<FloatType>(type.getElementType()))
    scalar = floatConstant(b, loc, type.getElementType(), value);
  else
    scalar = arith::ConstantOp::create(
        b, loc, b.getIntegerAttr(type.getElementType(),
                                 static_cast<int64_t>(value)));
  return linalg::FillOp::create(b, loc, scalar, init).getResult(0);
}

Value mlir::moe::castFloat(OpBuilder &b, Location loc, Value value,
                           Type type) {
  unsigned from = value.getType().getIntOrFloatBitWidth();
  unsigned to = type.getIntOrFloatBitWidth();
  if (value.getType() == type)
    return value;
  if (from < to)
    return arith::ExtFOp::create(b, loc, type, value);
  return arith::TruncFOp::create(b, loc, type, value);
}
