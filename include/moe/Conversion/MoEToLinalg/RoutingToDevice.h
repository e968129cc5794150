//===- RoutingToDevice.h - routing and dispatch as GPU grids ----*- C++ -*-===//
//
// The CUDA pipeline's lowering of moe.route, moe.dispatch, moe.permute and
// moe.combine: loops parallel over tokens, chunks, experts or rows, each
// mapped to a grid kernel named after what it does (KernelName.h).
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CONVERSION_MOETOLINALG_ROUTINGTODEVICE_H
#define MOE_CONVERSION_MOETOLINALG_ROUTINGTODEVICE_H

#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace mlir::moe {

#define GEN_PASS_DECL_CONVERTMOEROUTINGTODEVICE
#include "moe/Conversion/Passes.h.inc"

/// moe.route as an scf.forall over the tokens; returns the weights and ids
/// (not yet replacing the op), or fails for forms left to the reference.
FailureOr<SmallVector<Value>> lowerRouteToDevice(RewriterBase &rewriter,
                                                 RouteOp op);

/// Replaces moe.dispatch by the chunked histogram, scan and row gather, and
/// every moe.combine of its rows by a per-token sum in row order.
LogicalResult lowerDispatchToDevice(RewriterBase &rewriter, DispatchOp op);

/// Replaces moe.permute by a gather parallel over (row, column).
LogicalResult lowerPermuteToDevice(RewriterBase &rewriter, PermuteOp op);

} // namespace mlir::moe

#endif // MOE_CONVERSION_MOETOLINALG_ROUTINGTODEVICE_H
