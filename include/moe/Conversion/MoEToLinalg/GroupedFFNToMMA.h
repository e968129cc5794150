//===- GroupedFFNToMMA.h - grouped_ffn on tensor cores ----------*- C++ -*-===//
//
// moe.grouped_ffn as a ragged grouped GEMM of warp-level m16n8k16 MMAs over
// expert-aligned row tiles (bf16/f16 operands, f32 accumulation): the CUDA
// pipeline's lowering for --precision=bf16|f16 and for 16-bit models.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CONVERSION_MOETOLINALG_GROUPEDFFNTOMMA_H
#define MOE_CONVERSION_MOETOLINALG_GROUPEDFFNTOMMA_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::moe {

#define GEN_PASS_DECL_CONVERTMOEGROUPEDFFNTOMMA
#include "moe/Conversion/Passes.h.inc"

/// Rewrites every moe.grouped_ffn whose products fit m16n8k16 tiles
/// (H and I multiples of 16): with `precision` "bf16"/"f16" any float
/// model, with "f32" only models whose weights already are bf16/f16.
void populateGroupedFFNToMMAPatterns(RewritePatternSet &patterns,
                                     StringRef precision);

} // namespace mlir::moe

#endif // MOE_CONVERSION_MOETOLINALG_GROUPEDFFNTOMMA_H
