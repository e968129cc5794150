//===- WarpGemm.h - expert-tiled GEMM of warp MMAs --------------*- C++ -*-===//
//
// The products of the tensor-core grouped FFN as tensor-level vector IR that
// both targets compile: an scf.forall over row tiles (mapped to #gpu.warp:
// one warp per tile on the GPU, a sequential loop on the CPU) whose body
// runs m16n8k16 vector.contracts of extended bf16/f16 operands into f32
// accumulators and hands them to an epilogue, element-wise vector code that
// writes the tile's destination (moe-gpu-prepare-mma distributes it over the
// lanes with the accumulators).
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_CONVERSION_MOETOLINALG_WARPGEMM_H
#define MOE_LIB_CONVERSION_MOETOLINALG_WARPGEMM_H

#include "MMATileSchedule.h"

namespace mlir::moe::mma {

/// Columns per MMA (the N of m16n8k16) and reduction depth per MMA (its K).
inline constexpr int64_t kMmaCols = 8;
inline constexpr int64_t kMmaDepth = 16;

/// Whether a [M, K] weight can be a warp GEMM's B operand.
inline bool fitsWarpGemm(int64_t m, int64_t k) {
  return m % kMmaCols == 0 && k % kMmaDepth == 0;
}

/// The storage type of MMA operands: f16. bf16 operands travel as their
/// bits in f16 tensors, because upstream's vector-to-gpu and nvgpu.mma.sync
/// handle f16 only (MLIR 22); the contracts bitcast them back.
Type operandStorageType(MLIRContext *context);

/// An f32 scalar as an MMA operand of type `operandType` (bf16 or f16), in
/// the storage type.
Value toOperandStorage(OpBuilder &b, Location loc, Value f32Value,
                       Type operandType);

/// One product of a fused warp GEMM: for the output columns [n, n + 8) the
/// warp multiplies its rows by rows [scale * n + offset, + 8) of its
/// expert's `w` ([E, M, K], operands in the storage type).
struct WarpGemmTerm {
  Value w;
  int64_t scale = 1;
  int64_t offset = 0;
};

/// The row of `term`'s weight for output column `n` (index):
/// scale * n + offset.
Value termRow(OpBuilder &b, Location loc, const WarpGemmTerm &term, Value n);

/// The destination rows of a warp tile: `count` rows from `first` (both
/// index); a null `count` means kTileRows rows (a static slice).
struct WarpTileRows {
  Value first;
  Value count;
};

/// The rows tile `t` (index) of expert `expert` (i32, E for surplus tiles)
/// writes.
using WarpTileRowsFn =
    function_ref<WarpTileRows(OpBuilder &, Location, Value t, Value expert)>;

/// One output block's epilogue: `accs` are the terms' accumulators
/// (vector<kTileRows x kMmaCols x f32>, in term order) for the output
/// columns [n, n + kMmaCols) of a tile of expert `e` (index); it returns the
/// block to store there (vector<kTileRows x kMmaCols> of the destination's
/// element type).
using WarpEpilogue = function_ref<Value(OpBuilder &, Location, Value e, Value n,
                                        ValueRange accs)>;

/// What a surplus tile writes into its destination slice `tile` (and
/// returns); without one, surplus tiles write nothing.
using WarpSurplusFn = function_ref<Value(OpBuilder &, Location, Value tile)>;

/// The fused warp GEMM: an scf.forall over the schedule's tiles and the
/// column groups of the M output columns into `init` ([rows, M] of any
/// element type). A group is the output blocks of kMmaCols columns whose
/// accumulators fit the registers together (they share the A fragment).
/// Each (tile of an FFN expert, group) runs the K loop of the terms'
/// contracts over `padded` ([numTiles * kTileRows, K], operands of
/// `operandType` in the storage type), then stores each block's `epilogue`
/// into the rows of `init` that `tileRows` gives; surplus tiles run
/// `surplus` on their slice of those rows and the group's columns.
Value fusedWarpGemm(OpBuilder &b, Location loc, const TileSchedule &schedule,
                    Value padded, ArrayRef<WarpGemmTerm> terms, Value init,
                    WarpTileRowsFn tileRows, WarpEpilogue epilogue,
                    Type operandType, WarpSurplusFn surplus = nullptr);

/// Zeros written into the destination slice `tile` ([rows, M], M a multiple
/// of kMmaCols), kMmaCols columns at a time.
Value zeroTile(OpBuilder &b, Location loc, Value tile);

/// Writes `block` (vector<kTileRows x kMmaCols>) into the destination slice
/// `tile` at column `n`: rows past a dynamic slice's size are dropped.
Value writeTileBlock(OpBuilder &b, Location loc, Value block, Value tile,
                     Value n);

/// `source` [E, M] at (e, n .. n + kMmaCols) broadcast over the tile's rows:
/// vector<kTileRows x kMmaCols x f32> (a bias in an epilogue).
Value readRowBroadcast(OpBuilder &b, Location loc, Value source, Value e,
                       Value n);

/// padded [numTiles * kTileRows, K] times the tile's expert's w^T
/// (w [E, M, K], both operands of `operandType` in the storage type):
/// [numTiles * kTileRows, M] f32. Tiles of surplus experts are skipped (their
/// rows stay undefined).
Value warpGemm(OpBuilder &b, Location loc, const TileSchedule &schedule,
               Value padded, Value w, Type operandType);

} // namespace mlir::moe::mma

#endif // MOE_LIB_CONVERSION_MOETOLINALG_WARPGEMM_H
