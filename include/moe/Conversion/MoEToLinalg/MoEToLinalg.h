//===- MoEToLinalg.h - reference lowering of moe ops ------------*- C++ -*-===//
//
// The reference lowering: each moe compute op becomes loops and linalg ops at
// tensor level. One populate function per op family; the pass adds them all.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CONVERSION_MOETOLINALG_MOETOLINALG_H
#define MOE_CONVERSION_MOETOLINALG_MOETOLINALG_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::moe {

#define GEN_PASS_DECL_CONVERTMOETOLINALG
#include "moe/Conversion/Passes.h.inc"

/// moe.route and moe.expert_choice_route.
void populateRoutingToLinalgPatterns(RewritePatternSet &patterns);
/// moe.dispatch, moe.permute and moe.combine.
void populateDispatchToLinalgPatterns(RewritePatternSet &patterns);
/// moe.grouped_ffn, moe.shared_ffn, moe.special_experts, moe.dequantize.
void populateExpertsToLinalgPatterns(RewritePatternSet &patterns);

} // namespace mlir::moe

#endif // MOE_CONVERSION_MOETOLINALG_MOETOLINALG_H
