//===- GroupedFFNToWGMMA.h - grouped_ffn on warpgroup MMAs ------*- C++ -*-===//
//
// moe.grouped_ffn as a ragged grouped GEMM over expert-aligned tiles of 64
// rows whose products are marked for warpgroup MMAs (wgmma) with TMA
// operand loads: the CUDA pipeline's sm_90a lowering for --precision=bf16|f16.
// The products are linalg.generics with the GEMM's semantics (so the CPU can
// run them) carrying kWGMMAGemmAttrName; moe-gpu-wgmma-gemm turns them into
// kernels after bufferisation.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CONVERSION_MOETOLINALG_GROUPEDFFNTOWGMMA_H
#define MOE_CONVERSION_MOETOLINALG_GROUPEDFFNTOWGMMA_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::moe {

#define GEN_PASS_DECL_CONVERTMOEGROUPEDFFNTOWGMMA
#include "moe/Conversion/Passes.h.inc"

/// Dictionary attribute of a warpgroup GEMM's linalg.generic:
/// `tile_rows` (i64) and `operand_type` (bf16 or f16; the operands are
/// stored as f16, bf16 ones as their bits).
inline constexpr llvm::StringLiteral kWGMMAGemmAttrName = "moe.wgmma_gemm";

/// Columns (N) and reduction depth (K) the warpgroup GEMM tiles by: a
/// weight [M, K] takes it when both are multiples of 64.
inline constexpr int64_t kWGMMAMinCols = 64;
inline constexpr int64_t kWGMMADepth = 64;

/// Rewrites every moe.grouped_ffn whose products the warpgroup GEMM tiles
/// (H and I multiples of 64), with the operand type of `precision` as in
/// populateGroupedFFNToMMAPatterns.
void populateGroupedFFNToWGMMAPatterns(RewritePatternSet &patterns,
                                       StringRef precision);

} // namespace mlir::moe

#endif // MOE_CONVERSION_MOETOLINALG_GROUPEDFFNTOWGMMA_H
