//===- GroupedFFNToTiled.h - fast CPU lowerings -----------------*- C++ -*-===//
//
// The optimised CPU lowerings, checked against the reference lowering:
// moe.grouped_ffn as per-expert matrix products in tiled vector code (fused
// with its permute and combine when it can), moe.permute / moe.combine as
// parallel vector loops, and the schedule of the resulting OpenMP loops.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CONVERSION_MOETOLINALG_GROUPEDFFNTOTILED_H
#define MOE_CONVERSION_MOETOLINALG_GROUPEDFFNTOTILED_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::moe {

#define GEN_PASS_DECL_CONVERTMOEGROUPEDFFNTOTILED
#define GEN_PASS_DECL_CONVERTMOEDISPATCHTOPARALLEL
#define GEN_PASS_DECL_MOESETOMPSCHEDULE
#include "moe/Conversion/Passes.h.inc"

/// Micro-kernel shape of the tiled lowering.
struct GroupedFFNTilingOptions {
  /// f32 lanes per vector FMA.
  int64_t vectorWidth = 16;
  /// Rows computed together.
  int64_t tileRows = 4;
  /// Weight rows (product columns) computed together.
  int64_t tileN = 4;
  /// Prefetch the next tile's weights while the first rows of a tile run.
  bool prefetch = true;
  /// Bytes of a tile's weight rows above which the reduction over K of a
  /// product without epilogue (fc2) is split into blocks that stay in L1.
  int64_t weightTileBytes = 16 * 1024;
  /// Bytes of that product's rows ([n, K] f32, checked at run time) above
  /// which each block is its own parallel pass (its slab of rows in L2).
  int64_t rowSlabBytes = 512 * 1024;
};

/// Rewrites every moe.grouped_ffn the tiled lowering supports; the others
/// are left for the reference lowering.
void populateGroupedFFNToTiledPatterns(RewritePatternSet &patterns,
                                       const GroupedFFNTilingOptions &options);

/// Rewrites f32 moe.permute and moe.combine with a static row width into
/// parallel vector loops; the others are left for the reference lowering.
void populateDispatchToParallelPatterns(RewritePatternSet &patterns);

} // namespace mlir::moe

#endif // MOE_CONVERSION_MOETOLINALG_GROUPEDFFNTOTILED_H
