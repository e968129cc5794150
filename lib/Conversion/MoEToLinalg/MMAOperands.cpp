//===- MMAOperands.cpp - operands of the tensor-core grouped GEMMs -------===//
//
// Shared by the mma.sync (GroupedFFNToMMA.cpp) and wgmma
// (GroupedFFNToWGMMA.cpp) lowerings.
//
//===----------------------------------------------------------------------===//

#include "MMAOperands.h"

#include "WarpGemm.h"

#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::mma;

using utils::IteratorType;

namespace {

/// The 16-bit pattern of `value` as `operandType` (round to nearest even).
uint16_t operandBits(APFloat value, Type operandType) {
  bool lost;
  value.convert(cast<FloatType>(operandType).getFloatSemantics(),
                APFloat::rmNearestTiesToEven, &lost);
  return value.bitcastToAPInt().getZExtValue();
}

} // namespace

Value mma::indexedTensor(
    OpBuilder &b, Location loc, Value rows, int64_t cols, Type element,
    function_ref<Value(OpBuilder &, Location, Value, Value)> body) {
  auto type = RankedTensorType::get({ShapedType::kDynamic, cols}, element);
  Value init = tensor::EmptyOp::create(b, loc, type, ValueRange{rows});
  auto op = linalg::GenericOp::create(
      b, loc, type, ValueRange{}, init,
      ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(2, b.getContext())},
      ArrayRef<IteratorType>{IteratorType::parallel, IteratorType::parallel},
      [&](OpBuilder &b, Location loc, ValueRange) {
        Value value = body(b, loc, linalg::IndexOp::create(b, loc, 0),
                           linalg::IndexOp::create(b, loc, 1));
        linalg::YieldOp::create(b, loc, value);
      });
  return op.getResult(0);
}

Value mma::f32At(OpBuilder &b, Location loc, Value matrix, Value i, Value j) {
  Value value = tensor::ExtractOp::create(b, loc, matrix, ValueRange{i, j});
  return castFloat(b, loc, value, b.getF32Type());
}

DenseElementsAttr mma::convertedConstant(Attribute attr, Type operandType) {
  auto type = dyn_cast<RankedTensorType>(cast<TypedAttr>(attr).getType());
  if (!type)
    return {};
  SmallVector<uint16_t> bits;
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr)) {
    bits.reserve(type.getNumElements());
    for (APFloat value : dense.getValues<APFloat>())
      bits.push_back(operandBits(value, operandType));
  } else if (auto blob = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    // Imported ONNX initializers are resource blobs.
    std::optional<ArrayRef<float>> values = blob.tryGetAsArrayRef();
    if (!values)
      return {};
    bits.reserve(values->size());
    for (float value : *values)
      bits.push_back(operandBits(APFloat(value), operandType));
  } else {
    return {};
  }
  auto storageType = type.clone(operandStorageType(attr.getContext()));
  return DenseElementsAttr::getFromRawBuffer(
      storageType, ArrayRef<char>(reinterpret_cast<const char *>(bits.data()),
                                  bits.size() * sizeof(uint16_t)));
}

Value mma::weightOperands(OpBuilder &b, Location loc, Value w,
                          Type operandType) {
  Type storage = operandStorageType(b.getContext());
  Attribute values;
  if (matchPattern(w, m_Constant(&values)))
    if (DenseElementsAttr converted = convertedConstant(values, operandType))
      return arith::ConstantOp::create(b, loc, converted);
  return mapElements(b, loc, w, storage,
                     [&](OpBuilder &b, Location loc, ValueRange args) {
                       Value x = castFloat(b, loc, args[0], b.getF32Type());
                       return toOperandStorage(b, loc, x, operandType);
                     });
}

Type mma::operandTypeOf(GroupedFFNOp op, StringRef precision) {
  MLIRContext *context = op.getContext();
  if (precision == "bf16")
    return BFloat16Type::get(context);
  if (precision == "f16")
    return Float16Type::get(context);
  Type weights = op.getFc1Weights().getType().getElementType();
  return weights.isBF16() || weights.isF16() ? weights : Type();
}

Value mma::gatherPaddedOperands(OpBuilder &b, Location loc,
                                const TileSchedule &schedule, Value rows,
                                Value padded, int64_t hidden,
                                Type operandType) {
  Type f32 = b.getF32Type();
  Value sources = paddedSourceRows(b, loc, schedule);
  return indexedTensor(
      b, loc, padded, hidden, operandStorageType(b.getContext()),
      [&](OpBuilder &b, Location loc, Value p, Value k) -> Value {
        Value source = tensor::ExtractOp::create(b, loc, sources, p);
        Value valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                            source, i32Constant(b, loc, 0));
        Value row = arith::IndexCastOp::create(
            b, loc, b.getIndexType(),
            arith::MaxSIOp::create(b, loc, source, i32Constant(b, loc, 0)));
        Value x =
            arith::SelectOp::create(b, loc, valid, f32At(b, loc, rows, row, k),
                                    floatConstant(b, loc, f32, 0.0));
        return toOperandStorage(b, loc, x, operandType);
      });
}
