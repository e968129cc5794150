//===- MoEAttrs.td - moe enums and attributes --------------*- tablegen -*-===//

#ifndef MOE_ATTRS_TD
#define MOE_ATTRS_TD

include "MoE/MoEDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def MoE_ScoreFunction : I32EnumAttr<"ScoreFunction",
    "function turning router logits into expert scores", [
      I32EnumAttrCase<"softmax", 0>,
      I32EnumAttrCase<"sigmoid", 1>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_RoutingOrder : I32EnumAttr<"RoutingOrder",
    "whether scores are computed before or after top-k selection", [
      I32EnumAttrCase<"score_then_topk", 0>,
      I32EnumAttrCase<"topk_then_score", 1>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_GroupScore : I32EnumAttr<"GroupScore",
    "how group-limited routing scores an expert group", [
      I32EnumAttrCase<"max", 0>,
      I32EnumAttrCase<"top2_sum", 1>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_Activation : I32EnumAttr<"Activation", "expert activation function", [
      I32EnumAttrCase<"relu", 0>,
      I32EnumAttrCase<"gelu_tanh", 1>,
      I32EnumAttrCase<"gelu_erf", 2>,
      I32EnumAttrCase<"silu", 3>,
      I32EnumAttrCase<"identity", 4>,
      I32EnumAttrCase<"swiglu", 5>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_SwigluLayout : I32EnumAttr<"SwigluLayout",
    "where the gate and linear halves of a fused swiglu fc1 output lie", [
      I32EnumAttrCase<"interleaved", 0>,
      I32EnumAttrCase<"concatenated", 1>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_ScoreFunctionAttr
    : EnumAttr<MoE_Dialect, MoE_ScoreFunction, "score_function"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

// A double-precision parameter with a default, printed in the shortest form
// that parses back to the same value.
class MoE_DoubleParameter<string default, string desc>
    : APFloatParameter<desc> {
  let defaultValue = "::llvm::APFloat(double(" # default # "))";
  let parser = [{ ::mlir::moe::parseDoubleParameter($_parser) }];
  let printer = [{ ::mlir::moe::printDoubleParameter($_printer, $_self) }];
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class MoE_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<MoE_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def MoE_RoutingAttr : MoE_Attr<"Routing", "routing"> {
  let summary = "Token-choice routing configuration";
  let description = [{
    How router logits `[T, E]` become `k` expert ids and weights per token.
    Only `k` is required; every other field has the default shown.

    * `k`: experts per token (the maximum when `threshold` is set).
    * `score = softmax | sigmoid`: softmax over the experts of a token, or an
      element-wise sigmoid.
    * `order = score_then_topk | topk_then_score`: `score_then_topk` scores
      all experts and selects the k best scores (onnxruntime `MoE`, DeepSeek);
      `topk_then_score` selects on logits and scores only the k selected
      (Mixtral). With `sigmoid` the two differ only through the bias.
    * `renormalize`: divide the kept weights by their sum.
    * `scale`: multiply the final weights (DeepSeek's routed scaling factor).
    * `n_groups`, `top_groups`: group-limited routing; experts are split into
      `n_groups` equal groups, each scored by `group_score`
      (`max` as DeepSeek-V2, `top2_sum` as DeepSeek-V3), and selection is
      limited to the best `top_groups` groups.
    * `threshold`: dynamic k (top-p). With `threshold > 0`, of the k selected
      experts in descending order only the shortest prefix whose scores sum
      to at least `threshold` is kept (at least one); the rest of the slots
      get id `-1` and weight 0.

    Ties are broken toward the lower expert index, as ONNX `TopK`. The
    per-expert correction bias (selection only), mask and logit offsets are
    operands of `moe.route`.

    ```mlir
    #moe.routing<k = 8, score = sigmoid, renormalize = true, scale = 2.5,
                 n_groups = 8, top_groups = 4, group_score = top2_sum>
    ```
  }];
  let parameters = (ins
    "unsigned":$k,
    DefaultValuedParameter<"::mlir::moe::ScoreFunction",
        "::mlir::moe::ScoreFunction::softmax", "score function">:$score,
    DefaultValuedParameter<"::mlir::moe::RoutingOrder",
        "::mlir::moe::RoutingOrder::score_then_topk", "scoring order">:$order,
    DefaultValuedParameter<"bool", "false", "renormalise top-k weights">:$renormalize,
    MoE_DoubleParameter<"1.0", "routed scaling factor">:$scale,
    DefaultValuedParameter<"unsigned", "1", "number of expert groups">:$n_groups,
    DefaultValuedParameter<"unsigned", "1", "groups kept per token">:$top_groups,
    DefaultValuedParameter<"::mlir::moe::GroupScore",
        "::mlir::moe::GroupScore::max", "group score">:$group_score,
    MoE_DoubleParameter<"0.0", "dynamic-k threshold (0: fixed k)">:$threshold
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True when the number of experts per token depends on the data.
    bool isDynamicK() const { return thresholdValue() > 0.0; }
    double scaleValue() const { return getScale().convertToDouble(); }
    double thresholdValue() const { return getThreshold().convertToDouble(); }
  }];
}

def MoE_ActivationAttr : MoE_Attr<"ActivationConfig", "activation"> {
  let summary = "Expert activation configuration";
  let description = [{
    The activation applied between an expert's fc1 and fc2.

    * `kind`: `relu`, `gelu_tanh`, `gelu_erf`, `silu`, `identity`, or the
      fused `swiglu` of gpt-oss. When an op also has fc3 weights the expert
      is gated: `a = act(fc1 x) * (fc3 x)` (SwiGLU/GeGLU).
    * `swiglu` only: fc1 produces `2 I` values split into `gate` and `lin`
      halves by `layout` (`interleaved`: even/odd; `concatenated`: first/second
      half); `gate = min(gate, limit)`, `lin = clamp(lin, -limit, limit)`,
      `a = gate * sigmoid(alpha * gate) * (lin + beta)`.
      `limit` defaults to +infinity (no clamp).

    ```mlir
    #moe.activation<kind = swiglu, alpha = 1.702, beta = 1.0, limit = 7.0>
    ```
  }];
  let parameters = (ins
    "::mlir::moe::Activation":$kind,
    DefaultValuedParameter<"::mlir::moe::SwigluLayout",
        "::mlir::moe::SwigluLayout::interleaved", "swiglu halves">:$layout,
    MoE_DoubleParameter<"1.0", "swiglu sigmoid slope">:$alpha,
    MoE_DoubleParameter<"0.0", "swiglu linear offset">:$beta,
    MoE_DoubleParameter<"std::numeric_limits<double>::infinity()",
        "swiglu clamp limit">:$limit
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// fc1 rows per intermediate unit: 2 for the fused swiglu, else 1.
    int64_t fc1RowsPerUnit() const {
      return getKind() == ::mlir::moe::Activation::swiglu ? 2 : 1;
    }
    double alphaValue() const { return getAlpha().convertToDouble(); }
    double betaValue() const { return getBeta().convertToDouble(); }
    double limitValue() const { return getLimit().convertToDouble(); }
  }];
}

#endif // MOE_ATTRS_TD
