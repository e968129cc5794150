//===- MoEOps.td - moe operations --------------------------*- tablegen -*-===//
//
// Aggregates the dialect: ops are grouped by concern (routing, dispatch,
// experts, communication) below; attributes and types live in their own files.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_OPS_TD
#define MOE_OPS_TD

include "MoE/MoEDialect.td"
include "MoE/MoEAttrs.td"
include "MoE/MoETypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def MoE_FloatTensor : RankedTensorOf<[F32, F16, BF16, F64]>;
def MoE_IndexTensor : RankedTensorOf<[I32]>;
def MoE_OffsetsTensor : 1DTensorOf<[I32]>;

//===----------------------------------------------------------------------===//
// Whole layer
//===----------------------------------------------------------------------===//

def MoE_LayerOp : MoE_Op<"layer", [Pure, AttrSizedOperandSegments]> {
  let summary = "A whole Mixture-of-Experts layer (ONNX com.microsoft.MoE)";
  let description = [{
    Routes each token of `input` (`[T, H]` or `[B, S, H]`) with the
    `router_logits` (`[T, E]`, `T` = all tokens) according to `routing`, runs
    the selected FFN experts and returns the routing-weighted sum of their
    outputs, with the shape of `input`.

    Expert `e` computes `fc2(act(fc1 x))` where `fc1` has weights
    `[E, f*I, H]` (`f` = 2 for the fused swiglu, else 1) and optional bias
    `[E, f*I]`, `fc2` has weights `[E, H, I]` and optional bias `[E, H]`.
    With `fc3` (`[E, I, H]`, bias `[E, I]`) the expert is gated:
    `fc2(act(fc1 x) * fc3 x)`. `moe-decompose-layer` rewrites this op into
    `route`/`dispatch`/`permute`/`grouped_ffn`/`combine`.

    ```mlir
    %y = moe.layer %x, %logits fc1(%w1, %b1) fc2(%w2)
           {routing = #moe.routing<k = 2, renormalize = true>,
            activation = #moe.activation<kind = silu>}
           : (tensor<16x64xf32>, tensor<16x8xf32>, tensor<8x128x64xf32>,
              tensor<8x128xf32>, tensor<8x64x128xf32>) -> tensor<16x64xf32>
    ```
  }];
  let arguments = (ins
    MoE_FloatTensor:$input,
    MoE_FloatTensor:$router_logits,
    MoE_FloatTensor:$fc1_weights,
    Optional<MoE_FloatTensor>:$fc1_bias,
    MoE_FloatTensor:$fc2_weights,
    Optional<MoE_FloatTensor>:$fc2_bias,
    Optional<MoE_FloatTensor>:$fc3_weights,
    Optional<MoE_FloatTensor>:$fc3_bias,
    MoE_RoutingAttr:$routing,
    MoE_ActivationAttr:$activation
  );
  let results = (outs MoE_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $router_logits
    `fc1` `(` $fc1_weights (`,` $fc1_bias^)? `)`
    `fc2` `(` $fc2_weights (`,` $fc2_bias^)? `)`
    (`fc3` `(` $fc3_weights^ (`,` $fc3_bias^)? `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Routing
//===----------------------------------------------------------------------===//

def MoE_RouteOp : MoE_Op<"route", [Pure, AttrSizedOperandSegments]> {
  let summary = "Token-choice routing: logits to k expert ids and weights";
  let description = [{
    For every token (row of `logits : [T, E]`) selects `routing.k` experts and
    their weights, following `#moe.routing` (score function, order,
    renormalisation, scale, group limit, dynamic k):

    1. `l = logits + logit_offsets` (steering; optional `[E]`); experts whose
       `expert_mask` (`[E]`, `i1`) is false get `l = -inf` (probability 0;
       picked only if fewer than k experts are unmasked). NaN selection keys
       count as `-inf`, so routing stays deterministic.
    2. `score_then_topk`: `p = score(l)`, selection key `s = p + bias`.
       `topk_then_score`: selection key `s = l + bias`, and `p` is the score
       of the selected logits only.
       `bias` (`correction_bias`, `[E]`) steers selection only and never
       enters the weights (DeepSeek-V3's aux-loss-free balancing).
    3. Group limit, then the k largest `s` in descending order (ties: lower
       expert index), then dynamic-k truncation.
    4. `w = p[selected]`, renormalised over the kept slots if requested, then
       multiplied by `scale`.

    Results are `weights : [T, k]` (type of the logits) and
    `expert_ids : [T, k]` (`i32`, `-1` marks a slot dropped by dynamic k).

    ```mlir
    %w, %ids = moe.route %logits bias(%b : tensor<8xf32>)
        {routing = #moe.routing<k = 2, score = sigmoid, renormalize = true>}
        : tensor<16x8xf32> -> tensor<16x2xf32>, tensor<16x2xi32>
    ```
  }];
  let arguments = (ins
    MoE_FloatTensor:$logits,
    Optional<MoE_FloatTensor>:$correction_bias,
    Optional<1DTensorOf<[I1]>>:$expert_mask,
    Optional<MoE_FloatTensor>:$logit_offsets,
    MoE_RoutingAttr:$routing
  );
  let results = (outs MoE_FloatTensor:$weights, MoE_IndexTensor:$expert_ids);
  let assemblyFormat = [{
    $logits
    (`bias` `(` $correction_bias^ `:` type($correction_bias) `)`)?
    (`mask` `(` $expert_mask^ `:` type($expert_mask) `)`)?
    (`offsets` `(` $logit_offsets^ `:` type($logit_offsets) `)`)?
    attr-dict `:` type($logits) `->` type($weights) `,` type($expert_ids)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def MoE_ExpertChoiceRouteOp : MoE_Op<"expert_choice_route", [Pure]> {
  let summary = "Expert-choice routing: each expert takes its top tokens";
  let description = [{
    Expert-choice routing (Zhou et al. 2022). Scores are `score(logits)` per
    token (`softmax` over experts, or `sigmoid`); each expert `e` then takes
    the `capacity` tokens with the highest score `p[:, e]` (ties: lower token
    index). The result is directly in the ragged layout consumed by
    `moe.permute`/`moe.grouped_ffn`/`moe.combine`: row `e * capacity + c` is
    expert `e`'s c-th token, with its score as weight, and
    `offsets[e] = e * capacity`. A token may be taken by several experts or
    by none.

    ```mlir
    %tok, %w, %off = moe.expert_choice_route %logits {capacity = 4 : i64}
        : tensor<16x8xf32> -> tensor<32xi32>, tensor<32xf32>, tensor<9xi32>
    ```
  }];
  let arguments = (ins
    MoE_FloatTensor:$logits,
    ConfinedAttr<I64Attr, [IntPositive]>:$capacity,
    DefaultValuedAttr<MoE_ScoreFunctionAttr,
        "::mlir::moe::ScoreFunction::softmax">:$score
  );
  let results = (outs MoE_IndexTensor:$row_token, MoE_FloatTensor:$row_weight,
                      MoE_OffsetsTensor:$offsets);
  let assemblyFormat = [{
    $logits attr-dict `:` type($logits) `->` type($row_token) `,`
    type($row_weight) `,` type($offsets)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Dispatch and combine
//===----------------------------------------------------------------------===//

def MoE_DispatchOp : MoE_Op<"dispatch", [Pure]> {
  let summary = "Group (token, slot) assignments by expert";
  let description = [{
    Sorts the `T*k` assignments of `expert_ids : [T, k]` by expert into the
    ragged layout: `row_token[i]` is the token of row `i`, `row_weight[i]`
    its routing weight and rows of expert `e` are
    `[offsets[e], offsets[e+1])` (`offsets : [num_experts + 1]`). Within an
    expert, rows keep token order (then slot order), so the layout is
    deterministic. Ids of `-1` (dynamic k) are skipped. Rows past
    `offsets[num_experts]` are padding: token `-1`, weight 0.

    By default dispatch is dropless. With `capacity_factor` each expert keeps
    at most `C = ceil(capacity_factor * T * k / num_experts)` assignments
    (the earliest tokens); the others are dropped and contribute nothing.

    ```mlir
    %tok, %w, %off = moe.dispatch %ids, %weights {num_experts = 8 : i64}
        : tensor<16x2xi32>, tensor<16x2xf32>
        -> tensor<32xi32>, tensor<32xf32>, tensor<9xi32>
    ```
  }];
  let arguments = (ins
    MoE_IndexTensor:$expert_ids,
    MoE_FloatTensor:$weights,
    ConfinedAttr<I64Attr, [IntPositive]>:$num_experts,
    OptionalAttr<F64Attr>:$capacity_factor
  );
  let results = (outs MoE_IndexTensor:$row_token, MoE_FloatTensor:$row_weight,
                      MoE_OffsetsTensor:$offsets);
  let assemblyFormat = [{
    $expert_ids `,` $weights attr-dict `:` type($expert_ids) `,` type($weights)
    `->` type($row_token) `,` type($row_weight) `,` type($offsets)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def MoE_PermuteOp : MoE_Op<"permute", [Pure]> {
  let summary = "Gather token rows into the ragged expert layout";
  let description = [{
    `result[i] = input[row_token[i]]`, and zeros where `row_token[i] < 0`
    (padding rows). `input : [T, H]`, `row_token : [N]`, result `[N, H]`.
    Optimised lowerings fuse this gather into the grouped GEMM's A-tile load.

    ```mlir
    %rows = moe.permute %x, %tok
        : tensor<16x64xf32>, tensor<32xi32> -> tensor<32x64xf32>
    ```
  }];
  let arguments = (ins MoE_FloatTensor:$input, MoE_IndexTensor:$row_token);
  let results = (outs MoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $row_token attr-dict `:` type($input) `,` type($row_token)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def MoE_CombineOp : MoE_Op<"combine", [Pure, AllTypesMatch<["init", "result"]>]> {
  let summary = "Weighted scatter-add of expert rows back to tokens";
  let description = [{
    `result = init`, then for every row `i` with `row_token[i] >= 0`:
    `result[row_token[i]] += row_weight[i] * expert_rows[i]`.
    `expert_rows : [N, H]`, `row_token`, `row_weight : [N]`,
    `init : [T, H]` (zeros, or e.g. the shared experts' output).

    ```mlir
    %y = moe.combine %rows, %tok, %w into %init
        : tensor<32x64xf32>, tensor<32xi32>, tensor<32xf32>
        into tensor<16x64xf32>
    ```
  }];
  let arguments = (ins MoE_FloatTensor:$expert_rows, MoE_IndexTensor:$row_token,
                       MoE_FloatTensor:$row_weight, MoE_FloatTensor:$init);
  let results = (outs MoE_FloatTensor:$result);
  let assemblyFormat = [{
    $expert_rows `,` $row_token `,` $row_weight `into` $init attr-dict `:`
    type($expert_rows) `,` type($row_token) `,` type($row_weight)
    `into` type($init)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Experts
//===----------------------------------------------------------------------===//

def MoE_GroupedFFNOp : MoE_Op<"grouped_ffn", [Pure, AttrSizedOperandSegments]> {
  let summary = "FFN experts applied to the rows of the ragged layout";
  let description = [{
    Rows `[offsets[e], offsets[e+1])` of `rows : [N, H]` are transformed by
    FFN expert `e` for `e < E_ffn` (`E_ffn` = first dimension of the
    weights); every other row of the result is zero. The weights, biases
    and activation follow `moe.layer`. `offsets` may have more than
    `E_ffn + 1` entries when special experts follow the FFN experts.
    Only the routed rows are computed (dropless, no padding to capacity).

    ```mlir
    %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2) fc3(%w3)
           {activation = #moe.activation<kind = silu>}
           : (tensor<32x64xf32>, tensor<9xi32>, tensor<8x128x64xf32>,
              tensor<8x64x128xf32>, tensor<8x128x64xf32>) -> tensor<32x64xf32>
    ```
  }];
  let arguments = (ins
    MoE_FloatTensor:$rows,
    MoE_OffsetsTensor:$offsets,
    MoE_FloatTensor:$fc1_weights,
    Optional<MoE_FloatTensor>:$fc1_bias,
    MoE_FloatTensor:$fc2_weights,
    Optional<MoE_FloatTensor>:$fc2_bias,
    Optional<MoE_FloatTensor>:$fc3_weights,
    Optional<MoE_FloatTensor>:$fc3_bias,
    MoE_ActivationAttr:$activation
  );
  let results = (outs MoE_FloatTensor:$result);
  let assemblyFormat = [{
    $rows `,` $offsets
    `fc1` `(` $fc1_weights (`,` $fc1_bias^)? `)`
    `fc2` `(` $fc2_weights (`,` $fc2_bias^)? `)`
    (`fc3` `(` $fc3_weights^ (`,` $fc3_bias^)? `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MoE_SpecialExpertsOp : MoE_Op<"special_experts", [Pure]> {
  let summary = "Null, copy and constant experts (MoE++, AdaMoE)";
  let description = [{
    Experts that cost (almost) no FLOPs. Expert ids from `first_expert` on
    are `num_null` null experts (output zero), then `num_copy` copy experts
    (output = input row), then `num_constant` constant experts (output =
    row `j` of `constants : [num_constant, H]`). Rows of other experts are
    zero in the result, so the result is added to `moe.grouped_ffn`'s.

    ```mlir
    %s = moe.special_experts %rows, %off constants(%c : tensor<1x64xf32>)
           {first_expert = 8 : i64, num_null = 1 : i64, num_copy = 1 : i64,
            num_constant = 1 : i64}
           : tensor<32x64xf32>, tensor<12xi32> -> tensor<32x64xf32>
    ```
  }];
  let arguments = (ins
    MoE_FloatTensor:$rows,
    MoE_OffsetsTensor:$offsets,
    Optional<MoE_FloatTensor>:$constants,
    ConfinedAttr<I64Attr, [IntNonNegative]>:$first_expert,
    DefaultValuedAttr<ConfinedAttr<I64Attr, [IntNonNegative]>, "0">:$num_null,
    DefaultValuedAttr<ConfinedAttr<I64Attr, [IntNonNegative]>, "0">:$num_copy,
    DefaultValuedAttr<ConfinedAttr<I64Attr, [IntNonNegative]>, "0">:$num_constant
  );
  let results = (outs MoE_FloatTensor:$result);
  let assemblyFormat = [{
    $rows `,` $offsets (`constants` `(` $constants^ `:` type($constants) `)`)?
    attr-dict `:` type($rows) `,` type($offsets) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def MoE_SharedFFNOp : MoE_Op<"shared_ffn", [Pure, AttrSizedOperandSegments]> {
  let summary = "An always-on (shared) expert, optionally sigmoid-gated";
  let description = [{
    Applies one FFN to every token of `input : [T, H]`: weights `fc1
    [f*I, H]`, `fc2 [H, I]`, optional `fc3 [I, H]` and biases, activation as
    in `moe.layer`. With `gate` (`[H]`) the output of token `t` is scaled by
    `sigmoid(dot(input[t], gate))` (Qwen2-MoE's shared expert gate).

    ```mlir
    %s = moe.shared_ffn %x fc1(%w1) fc2(%w2) fc3(%w3) gate(%g)
           {activation = #moe.activation<kind = silu>}
           : (tensor<16x64xf32>, tensor<128x64xf32>, tensor<64x128xf32>,
              tensor<128x64xf32>, tensor<64xf32>) -> tensor<16x64xf32>
    ```
  }];
  let arguments = (ins
    MoE_FloatTensor:$input,
    MoE_FloatTensor:$fc1_weights,
    Optional<MoE_FloatTensor>:$fc1_bias,
    MoE_FloatTensor:$fc2_weights,
    Optional<MoE_FloatTensor>:$fc2_bias,
    Optional<MoE_FloatTensor>:$fc3_weights,
    Optional<MoE_FloatTensor>:$fc3_bias,
    Optional<MoE_FloatTensor>:$gate,
    MoE_ActivationAttr:$activation
  );
  let results = (outs MoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input
    `fc1` `(` $fc1_weights (`,` $fc1_bias^)? `)`
    `fc2` `(` $fc2_weights (`,` $fc2_bias^)? `)`
    (`fc3` `(` $fc3_weights^ (`,` $fc3_bias^)? `)`)?
    (`gate` `(` $gate^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MoE_DequantizeOp : MoE_Op<"dequantize", [Pure]> {
  let summary = "Dequantise int8 / packed int4 expert weights (QMoE)";
  let description = [{
    `result[..., n, j] = (q[..., n, j] - zp) * scale` where `q` are the
    quantised weights `[..., N, K]` and scale/zero point are per row
    (`scales : [..., N]`, `block_size = 0`) or per block of `block_size`
    consecutive `j` (`scales : [..., N, ceil(K / block_size)]`).

    `bits = 8`: `quantized` holds one value per byte (`[..., N, K]`).
    `bits = 4`: two values per byte, the low nibble first
    (`[..., N, ceil(K / 2)]`).
    Unsigned storage (`ui8`) is offset binary: without `zero_points` the
    zero point is `2^(bits-1)` (128 or 8), as QMoE's symmetric form.
    Signed storage (`i8`/`si8`) is two's complement with zero point 0.
    `zero_points` (shape of `scales`) override the default.

    ```mlir
    %w = moe.dequantize %q, %s {bits = 4 : i64}
        : tensor<8x128x32xui8>, tensor<8x128xf32> -> tensor<8x128x64xf32>
    ```
  }];
  let arguments = (ins
    RankedTensorOf<[I8, UI8, SI8]>:$quantized,
    MoE_FloatTensor:$scales,
    Optional<RankedTensorOf<[I8, UI8, SI8, F32, F16, BF16]>>:$zero_points,
    ConfinedAttr<I64Attr, [IntMinValue<4>, IntMaxValue<8>]>:$bits,
    DefaultValuedAttr<ConfinedAttr<I64Attr, [IntNonNegative]>, "0">:$block_size
  );
  let results = (outs MoE_FloatTensor:$result);
  let assemblyFormat = [{
    $quantized `,` $scales (`zero_points` `(` $zero_points^ `:` type($zero_points) `)`)?
    attr-dict `:` type($quantized) `,` type($scales) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Expert-parallel communication
//===----------------------------------------------------------------------===//

def MoE_RaggedAllToAllStartOp : MoE_Op<"ragged_all_to_all_start", [
    AllTypesMatch<["input_offsets", "send_sizes", "output_offsets",
                   "recv_sizes"]>]> {
  let summary = "Start a ragged all-to-all exchange between expert-parallel ranks";
  let description = [{
    The semantics of `jax.lax.ragged_all_to_all` over `num_ranks` ranks:
    for each peer `p`, rows `[input_offsets[p], input_offsets[p] + send_sizes[p])`
    of `input` are sent to `p`, which writes them at rows
    `[output_offsets[p], ...)` of its `output` (offsets on the receiver's
    side, as computed by the sender). `recv_sizes[p]` is how many rows this
    rank receives from `p`. Rows of `output` that receive nothing keep their
    value. The op only starts the exchange: its result is consumed by
    `moe.ragged_all_to_all_wait`, and independent work between the two
    overlaps with the communication (the pending value may be carried
    through loop iterations to pipeline chunks). All size/offset tensors are
    `[num_ranks]`.

    ```mlir
    %p = moe.ragged_all_to_all_start %rows, %out, %in_off, %send, %out_off, %recv
           {num_ranks = 4 : i64}
           : tensor<64x32xf32>, tensor<96x32xf32>, tensor<4xi32>
           -> !moe.pending<tensor<96x32xf32>>
    ```
  }];
  let arguments = (ins
    MoE_FloatTensor:$input,
    MoE_FloatTensor:$output,
    MoE_OffsetsTensor:$input_offsets,
    MoE_OffsetsTensor:$send_sizes,
    MoE_OffsetsTensor:$output_offsets,
    MoE_OffsetsTensor:$recv_sizes,
    ConfinedAttr<I64Attr, [IntPositive]>:$num_ranks
  );
  let results = (outs MoE_PendingType:$pending);
  let assemblyFormat = [{
    $input `,` $output `,` $input_offsets `,` $send_sizes `,` $output_offsets
    `,` $recv_sizes attr-dict `:` type($input) `,` type($output) `,`
    type($input_offsets) `->` qualified(type($pending))
  }];
  let hasVerifier = 1;
}

def MoE_RaggedAllToAllWaitOp : MoE_Op<"ragged_all_to_all_wait", [
    TypesMatchWith<"result is the pending value", "pending", "result",
                   "::llvm::cast<::mlir::moe::PendingType>($_self).getValueType()">]> {
  let summary = "Wait for a ragged all-to-all and take its received tensor";
  let description = [{
    Blocks until the exchange started by `moe.ragged_all_to_all_start`
    completes and returns the filled output tensor.

    ```mlir
    %recv = moe.ragged_all_to_all_wait %p : !moe.pending<tensor<96x32xf32>>
    ```
  }];
  let arguments = (ins MoE_PendingType:$pending);
  let results = (outs MoE_FloatTensor:$result);
  let assemblyFormat = "$pending attr-dict `:` qualified(type($pending))";
}

#endif // MOE_OPS_TD
