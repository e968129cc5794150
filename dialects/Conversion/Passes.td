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

#endif // MOE_CONVERSION_PASSES_TD
