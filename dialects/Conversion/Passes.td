//===- Passes.td - moe conversion passes -------------------*- tablegen -*-===//

#ifndef MOE_CONVERSION_PASSES_TD
#define MOE_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertMoEToLinalg : Pass<"convert-moe-to-linalg"> {
  let summary = "Reference lowering of moe compute ops to upstream dialects";
  let description = [{
    Lowers `moe.route`, `moe.expert_choice_route`, `moe.dispatch`,
    `moe.permute`, `moe.grouped_ffn`, `moe.special_experts`,
    `moe.combine`, `moe.shared_ffn` and `moe.dequantize` to
    linalg/tensor/arith/scf/math at tensor level.

    This lowering is deliberately simple and obviously correct: loops over
    tokens and experts with element-wise bodies and `linalg.matvec` for the
    expert GEMVs. It is the in-compiler semantic oracle the optimised
    lowerings are tested against, not a fast path. `moe.layer` must be
    decomposed first (`moe-decompose-layer`); communication ops are left
    alone.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ConvertMoEGroupedFFNToTiled : Pass<"convert-moe-grouped-ffn-to-tiled"> {
  let summary = "Fast CPU lowering of moe.grouped_ffn to tiled vector code";
  let description = [{
    Lowers `moe.grouped_ffn` with f32 rows, weights and result to a loop
    over experts; for expert `e`, fc1 (and fc3) and fc2 run as matrix
    products of the expert's rows `[offsets[e], offsets[e+1])` (dropless, no
    padding) with the transposed weights. Each product is an `scf.forall`
    over tiles of `tile-n` output columns; inside, `tile-rows` rows at a time
    (then a one-row remainder), the reduction over the hidden dimension runs
    in `vector<vector-width x f32>` FMAs with `tile-rows * tile-n`
    accumulators, reduced horizontally once per output tile. Bias and the
    activation (the reference lowering's scalar helpers) follow as
    element-wise ops.

    Ops it does not handle (other element types, a reduction dimension that
    is not a multiple of `vector-width`, output dimensions that are not a
    multiple of `tile-n`, dynamic weight shapes) are left alone for the
    reference lowering (`convert-moe-to-linalg`).
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector (16 for AVX-512, 8 for AVX2)">,
    Option<"tileRows", "tile-rows", "int64_t", /*default=*/"4",
           "rows computed together by the micro-kernel">,
    Option<"tileN", "tile-n", "int64_t", /*default=*/"4",
           "output columns computed together by the micro-kernel">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // MOE_CONVERSION_PASSES_TD
