//===- GroupedFFNRowParallel.h - grouped_ffn as gathered products -*- C++ -*-===//
//
// moe.grouped_ffn as products whose every output element is independent
// (each row reads its own expert's weights): the GPU pipeline's lowering.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CONVERSION_MOETOLINALG_GROUPEDFFNROWPARALLEL_H
#define MOE_CONVERSION_MOETOLINALG_GROUPEDFFNROWPARALLEL_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::moe {

#define GEN_PASS_DECL_CONVERTMOEGROUPEDFFNTOROWPARALLEL
#include "moe/Conversion/Passes.h.inc"

/// Rewrites every f32 moe.grouped_ffn with static weight shapes; the others
/// are left for the reference lowering.
void populateGroupedFFNToRowParallelPatterns(RewritePatternSet &patterns);

/// The expert of each of `rowCount` ragged rows: the number of FFN experts
/// whose rows end at or before it ([N] i32; `experts` for rows past the FFN
/// experts). A reduction over the offsets, so it runs on the device.
Value rowExperts(OpBuilder &b, Location loc, Value offsets, Value rowCount,
                 int64_t experts);

} // namespace mlir::moe

#endif // MOE_CONVERSION_MOETOLINALG_GROUPEDFFNROWPARALLEL_H
