//===- MMATileSchedule.h - expert-aligned row tiles -------------*- C++ -*-===//
//
// The tile schedule of the tensor-core grouped FFN: the ragged rows of
// moe.grouped_ffn padded so that every tile of `tileRows` rows (kTileRows =
// 16 for the warp MMAs, kWGMMATileRows = 64 for the warpgroup MMAs) belongs
// to one expert (vLLM's moe_align_block_size), computed on the device from
// the offsets tensor. Shapes are static by an upper bound: ceil(N /
// tileRows) + E tiles; tiles past the last expert's are surplus (expert id
// E).
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_CONVERSION_MOETOLINALG_MMATILESCHEDULE_H
#define MOE_LIB_CONVERSION_MOETOLINALG_MMATILESCHEDULE_H

#include "mlir/IR/Builders.h"

namespace mlir::moe::mma {

/// Rows per tile: the M of one m16n8k16 warp MMA.
inline constexpr int64_t kTileRows = 16;
/// Rows per tile of the warpgroup GEMMs: the M of one wgmma.m64nNk16.
inline constexpr int64_t kWGMMATileRows = 64;

struct TileSchedule {
  Value offsets;   // [>= E + 1] i32, the grouped_ffn's
  int64_t experts; // E (FFN experts)
  Value numTiles;  // index: ceil(N / tileRows) + E
  Value tileEnds;  // [E] i32: one past expert e's last tile
  Value tileExperts; // [numTiles] i32: the expert of each tile, E if surplus
  int64_t tileRows = kTileRows; // rows per tile
};

/// Builds the schedule of `rowCount` rows (index) on `offsets`, in tiles of
/// `tileRows` rows.
TileSchedule buildTileSchedule(OpBuilder &b, Location loc, Value offsets,
                               Value rowCount, int64_t experts,
                               int64_t tileRows = kTileRows);

/// The tile's expert clamped to a valid one (scalar code in a body).
Value clampedExpertIndex(OpBuilder &b, Location loc, Value expertI32,
                         int64_t experts);

/// The first padded row of expert `expert` (index) and its first ragged row
/// (index), read from the schedule (scalar code in a body).
std::pair<Value, Value> expertStarts(OpBuilder &b, Location loc,
                                     const TileSchedule &schedule,
                                     Value expert);

/// The ragged source row of every padded row ([numTiles * tileRows] i32),
/// -1 for the padding at the end of each expert's last tile and for the
/// rows of surplus tiles.
Value paddedSourceRows(OpBuilder &b, Location loc,
                       const TileSchedule &schedule);

} // namespace mlir::moe::mma

#endif // MOE_LIB_CONVERSION_MOETOLINALG_MMATILESCHEDULE_H
