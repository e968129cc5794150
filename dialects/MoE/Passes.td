//===- Passes.td - moe transformation passes ---------------*- tablegen -*-===//

#ifndef MOE_PASSES_TD
#define MOE_PASSES_TD

include "mlir/Pass/PassBase.td"

def MoEDecomposeLayer : Pass<"moe-decompose-layer"> {
  let summary = "Decompose moe.layer into route, dispatch, experts and combine";
  let description = [{
    Rewrites every `moe.layer` into the staged form

    ```
    moe.route -> moe.dispatch -> moe.permute -> moe.grouped_ffn -> moe.combine
    ```

    flattening `[B, S, H]` inputs to `[B*S, H]` and back. The combine
    accumulates into a zero tensor.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // MOE_PASSES_TD
