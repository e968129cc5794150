//===- LaneWise.h - scalar bodies applied lane-wise to vectors --*- C++ -*-===//
//
// The activations are defined once as scalar op sequences (Activations.h).
// The vector code of the tiled lowering applies the same sequences to every
// lane of its vectors, so that both lowerings compute the same function.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_CONVERSION_MOETOLINALG_LANEWISE_H
#define MOE_LIB_CONVERSION_MOETOLINALG_LANEWISE_H

#include "mlir/IR/Builders.h"

namespace mlir::moe {

/// Builds `body` on scalars of the vectors' element type, then re-creates
/// its ops on the same-shaped `vectors` (float constants become splats).
/// The body may only use element-wise ops (arith, math) and constants.
Value applyLaneWise(
    OpBuilder &b, Location loc, ValueRange vectors,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body);

} // namespace mlir::moe

#endif // MOE_LIB_CONVERSION_MOETOLINALG_LANEWISE_H
