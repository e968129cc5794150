//===- MMAOperands.h - operands of the tensor-core grouped GEMMs -*- C++
//-*-===//
//
// What the mma.sync and wgmma lowerings of moe.grouped_ffn share: their
// operand type, the weights as 16-bit operands (constants converted at
// compile time) and element-wise generics over [rows, cols] tensors.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_CONVERSION_MOETOLINALG_MMAOPERANDS_H
#define MOE_LIB_CONVERSION_MOETOLINALG_MMAOPERANDS_H

#include "MMATileSchedule.h"

#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/IR/Builders.h"

namespace mlir::moe::mma {

/// An element-wise generic over an empty [rows, cols] tensor of `element`
/// whose body gets (row, column) indices.
Value indexedTensor(
    OpBuilder &b, Location loc, Value rows, int64_t cols, Type element,
    function_ref<Value(OpBuilder &, Location, Value, Value)> body);

/// Element (i, j) of a matrix as f32.
Value f32At(OpBuilder &b, Location loc, Value matrix, Value i, Value j);

/// A float constant's elements as MMA operands in the storage type (null if
/// its data cannot be read: an unsupported attribute kind).
DenseElementsAttr convertedConstant(Attribute attr, Type operandType);

/// `w` [E, M, K] as MMA operands: a constant converted at compile time,
/// anything else by an element-wise generic.
Value weightOperands(OpBuilder &b, Location loc, Value w, Type operandType);

/// The MMA operand type of `op`: the precision asked for, else the weights'
/// own 16-bit type; null when the op stays f32.
Type operandTypeOf(GroupedFFNOp op, StringRef precision);

/// `rows` [N, `hidden`] gathered into the schedule's padded layout
/// [padded, H] (padding rows zero) as MMA operands of `operandType` in the
/// storage type: one element-wise kernel.
Value gatherPaddedOperands(OpBuilder &b, Location loc,
                           const TileSchedule &schedule, Value rows,
                           Value padded, int64_t hidden, Type operandType);

} // namespace mlir::moe::mma

#endif // MOE_LIB_CONVERSION_MOETOLINALG_MMAOPERANDS_H
