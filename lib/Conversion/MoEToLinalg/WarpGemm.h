//===- WarpGemm.h - expert-tiled GEMM of warp MMAs --------------*- C++ -*-===//
//
// The products of the tensor-core grouped FFN as tensor-level vector IR that
// both targets compile: an scf.forall over row tiles (mapped to #gpu.warp:
// one warp per tile on the GPU, a sequential loop on the CPU) whose body
// runs m16n8k16 vector.contracts of extended bf16/f16 operands into f32.
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

/// padded [numTiles * kTileRows, K] times the tile's expert's w^T
/// (w [E, M, K]), both operands of `operandType` in the storage type:
/// [numTiles * kTileRows, M] f32. Tiles of surplus experts are skipped (their
/// rows stay undefined).
Value warpGemm(OpBuilder &b, Location loc, const TileSchedule &schedule,
               Value padded, Value w, Type operandType);

} // namespace mlir::moe::mma

#endif // MOE_LIB_CONVERSION_MOETOLINALG_WARPGEMM_H
