//===- LoweringUtils.h - helpers shared by the reference lowering -*- C++ -*-===//

#ifndef MOE_CONVERSION_MOETOLINALG_LOWERINGUTILS_H
#define MOE_CONVERSION_MOETOLINALG_LOWERINGUTILS_H

#include "mlir/IR/Builders.h"
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

} // namespace mlir::moe

#endif // MOE_CONVERSION_MOETOLINALG_LOWERINGUTILS_H
