//===- MoEDialect.td - The moe dialect ---------------------*- tablegen -*-===//
//
// The `moe` dialect: Mixture-of-Experts routing, dispatch, grouped expert
// computation, combine and expert-parallel communication at tensor level.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_DIALECT_TD
#define MOE_DIALECT_TD

include "mlir/IR/OpBase.td"

def MoE_Dialect : Dialect {
  let name = "moe";
  let cppNamespace = "::mlir::moe";
  let summary = "Mixture-of-Experts layers: routing, dispatch, experts, combine";
  let description = [{
    The `moe` dialect captures the structure of a Mixture-of-Experts layer so
    that passes can reason about it: which expert each token goes to, how
    tokens are grouped by expert (a ragged layout with per-expert offsets),
    what each expert computes, and how the results are combined.

    A layer is usually imported as one `moe.layer` op and decomposed into

    ```
    moe.route -> moe.dispatch -> moe.permute -> moe.grouped_ffn
              [-> moe.special_experts] -> moe.combine
    ```

    The ragged layout used between `dispatch` and `combine` has a static
    upper bound of rows (`N = T * k` for token-choice routing) with three
    companion tensors: `row_token : tensor<Nxi32>` (the token each row came
    from, `-1` for unused padding rows), `row_weight : tensor<NxF>` (its
    routing weight) and `offsets : tensor<(E+1)xi32>` (rows of expert `e`
    are `[offsets[e], offsets[e+1])`). Shapes stay static; only loop bounds
    read data, so token counts never need to leave the device.

    Expert ids `0 .. E_ffn-1` are FFN experts whose weights are operands;
    higher ids may be null, copy or constant experts (`moe.special_experts`).
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let hasConstantMaterializer = 1;
  // Canonicalisations and folds create arith and tensor ops.
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

class MoE_Op<string mnemonic, list<Trait> traits = []>
    : Op<MoE_Dialect, mnemonic, traits>;

#endif // MOE_DIALECT_TD
