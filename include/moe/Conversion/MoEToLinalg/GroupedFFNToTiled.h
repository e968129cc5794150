//===- GroupedFFNToTiled.h - fast CPU lowering of grouped_ffn ---*- C++ -*-===//
//
// moe.grouped_ffn as per-expert matrix products in tiled vector code: the
// optimised CPU lowering, checked against the reference lowering.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CONVERSION_MOETOLINALG_GROUPEDFFNTOTILED_H
#define MOE_CONVERSION_MOETOLINALG_GROUPEDFFNTOTILED_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::moe {

#define GEN_PASS_DECL_CONVERTMOEGROUPEDFFNTOTILED
#include "moe/Conversion/Passes.h.inc"

/// Micro-kernel shape of the tiled lowering.
struct GroupedFFNTilingOptions {
  /// f32 lanes per vector FMA.
  int64_t vectorWidth = 16;
  /// Rows computed together.
  int64_t tileRows = 4;
  /// Output columns computed together.
  int64_t tileN = 4;
};

/// Rewrites every moe.grouped_ffn the tiled lowering supports; the others
/// are left for the reference lowering.
void populateGroupedFFNToTiledPatterns(RewritePatternSet &patterns,
                                       const GroupedFFNTilingOptions &options);

} // namespace mlir::moe

#endif // MOE_CONVERSION_MOETOLINALG_GROUPEDFFNTOTILED_H
