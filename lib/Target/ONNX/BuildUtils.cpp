//===- BuildUtils.cpp - small IR builders shared by converters ------------===//

#include "BuildUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace mlir::moe::onnx_import {

FailureOr<int64_t> normalizeAxis(const NodeContext &node, int64_t axis,
                                 int64_t rank) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return node.emitError()
           << "axis " << axis << " is out of range for rank " << rank;
  return axis < 0 ? axis + rank : axis;
}

llvm::SmallVector<OpFoldResult> tensorSizes(OpBuilder &b, Location loc,
                                            Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  llvm::SmallVector<OpFoldResult> sizes;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (type.isDynamicDim(i))
      sizes.push_back(tensor::DimOp::create(b, loc, tensor, i).getResult());
    else
      sizes.push_back(b.getIndexAttr(type.getDimSize(i)));
  }
  return sizes;
}

Value emptyTensor(OpBuilder &b, Location loc,
                  llvm::ArrayRef<OpFoldResult> sizes, Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

Value filledTensor(OpBuilder &b, Location loc,
                   llvm::ArrayRef<OpFoldResult> sizes, Value fillValue) {
  Value empty = emptyTensor(b, loc, sizes, fillValue.getType());
  return linalg::FillOp::create(b, loc, fillValue, empty).getResult(0);
}

Value scalarConstant(OpBuilder &b, Location loc, Type type, double value) {
  if (isa<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  if (type.isIndex())
    return arith::ConstantIndexOp::create(b, loc, static_cast<int64_t>(value));
  return arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

Value intTensorConstant(OpBuilder &b, Location loc,
                        llvm::ArrayRef<int64_t> values, Type elementType,
                        llvm::ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, elementType);
  llvm::SmallVector<llvm::APInt> ints;
  for (int64_t v : values)
    ints.emplace_back(elementType.getIntOrFloatBitWidth(), v,
                      /*isSigned=*/true);
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, ints));
}

Value castSignedness(OpBuilder &b, Location loc, Value tensor,
                     Type elementType) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getElementType() == elementType)
    return tensor;
  Value init = emptyTensor(b, loc, tensorSizes(b, loc, tensor), elementType);
  int64_t rank = type.getRank();
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{tensor}, ValueRange{init},
      SmallVector<AffineMap>(2, b.getMultiDimIdentityMap(rank)),
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value cast =
            UnrealizedConversionCastOp::create(nb, nloc, elementType, args[0])
                .getResult(0);
        linalg::YieldOp::create(nb, nloc, cast);
      });
  return generic.getResult(0);
}

} // namespace mlir::moe::onnx_import
