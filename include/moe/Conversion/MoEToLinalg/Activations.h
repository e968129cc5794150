//===- Activations.h - scalar FFN activations -------------------*- C++ -*-===//
//
// The scalar bodies of the FFN activations, defined once by the reference
// lowering (ExpertsToLinalg.cpp) and shared with the optimised lowerings so
// that both compute the same function.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CONVERSION_MOETOLINALG_ACTIVATIONS_H
#define MOE_CONVERSION_MOETOLINALG_ACTIVATIONS_H

#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/IR/Builders.h"

namespace mlir::moe {

/// The element-wise activations (every kind but the fused swiglu) on the
/// float scalar `x`.
Value activateScalar(OpBuilder &b, Location loc, Activation kind, Value x);

/// gpt-oss's fused swiglu on one (gate, lin) pair:
/// gate = min(gate, limit), lin = clamp(lin, -limit, limit),
/// gate * sigmoid(alpha * gate) * (lin + beta). No clamp for limit = +inf.
Value swigluScalar(OpBuilder &b, Location loc, ActivationConfigAttr act,
                   Value gate, Value lin);

} // namespace mlir::moe

#endif // MOE_CONVERSION_MOETOLINALG_ACTIVATIONS_H
