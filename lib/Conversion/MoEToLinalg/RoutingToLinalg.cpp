//===- RoutingToLinalg.cpp - reference lowering of the routing ops --------===//
//
// Lowers `moe.route` and `moe.expert_choice_route` to scf/tensor/arith/math at
// tensor level. This lowering is the in-compiler semantic oracle of the
// routing ops, so it favours obviousness over speed: every step of the op
// description is one small function over 1-D tensors built with plain
// `scf.for` loops and `tensor.extract`/`tensor.insert`, and top-k selection is
// an iterative argmax (O(T * k * E)).
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"
#include "moe/Conversion/MoEToLinalg/MoEToLinalg.h"
#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::moe;

namespace {

//===----------------------------------------------------------------------===//
// Loop and vector building blocks
//===----------------------------------------------------------------------===//

/// Body of a loop: gets the induction variable and the carried values and
/// returns the values to carry to the next iteration.
using LoopBody =
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)>;
/// Computes element `i` of a vector being built.
using ElementFn = function_ref<Value(OpBuilder &, Location, Value)>;
/// Folds element `i` (with value `elem`) into the accumulators.
using FoldBody = function_ref<SmallVector<Value>(OpBuilder &, Location, Value,
                                                 Value, ValueRange)>;

/// `scf.for %iv = 0 to %upper step 1` carrying `inits`; returns its results.
SmallVector<Value> buildLoop(OpBuilder &b, Location loc, Value upper,
                             ValueRange inits, LoopBody body) {
  return forRange(b, loc, indexConstant(b, loc, 0), upper, inits, body);
}

/// Size of dimension `dim` of `tensor`, as a constant when it is static so
/// that the emitted loops have static bounds.
Value dimSize(OpBuilder &b, Location loc, Value tensor, int64_t dim) {
  int64_t size = cast<RankedTensorType>(tensor.getType()).getDimSize(dim);
  if (!ShapedType::isDynamic(size))
    return indexConstant(b, loc, size);
  return tensor::DimOp::create(b, loc, tensor, dim);
}

/// tensor.empty of `size` elements of `elemType`, with a static shape when
/// `size` is a constant.
Value emptyVector(OpBuilder &b, Location loc, Value size, Type elemType) {
  std::optional<int64_t> staticSize = getConstantIntValue(size);
  auto type = RankedTensorType::get({staticSize.value_or(ShapedType::kDynamic)},
                                    elemType);
  return emptyLike(b, loc, type, staticSize ? ValueRange{} : ValueRange{size});
}

/// A 1-D tensor `v` of `size` elements of `elemType` with `v[i] = fn(i)`.
Value buildVector(OpBuilder &b, Location loc, Value size, Type elemType,
                  ElementFn fn) {
  Value init = emptyVector(b, loc, size, elemType);
  return buildLoop(b, loc, size, init,
                   [&](OpBuilder &nb, Location nloc, Value i,
                       ValueRange args) -> SmallVector<Value> {
                     Value elem = fn(nb, nloc, i);
                     return {
                         tensor::InsertOp::create(nb, nloc, elem, args[0], i)};
                   })
      .front();
}

/// Left fold over the elements of the 1-D tensor `vec`.
SmallVector<Value> foldVector(OpBuilder &b, Location loc, Value vec,
                              ValueRange inits, FoldBody body) {
  return buildLoop(b, loc, dimSize(b, loc, vec, 0), inits,
                   [&](OpBuilder &nb, Location nloc, Value i, ValueRange args) {
                     Value elem = tensor::ExtractOp::create(nb, nloc, vec, i);
                     return body(nb, nloc, i, elem, args);
                   });
}

/// Applies `fn` to every element of the 1-D tensor `vec`.
Value mapVector(OpBuilder &b, Location loc, Value vec,
                function_ref<Value(OpBuilder &, Location, Value)> fn) {
  Type elemType = cast<RankedTensorType>(vec.getType()).getElementType();
  return buildVector(b, loc, dimSize(b, loc, vec, 0), elemType,
                     [&](OpBuilder &nb, Location nloc, Value i) {
                       return fn(nb, nloc,
                                 tensor::ExtractOp::create(nb, nloc, vec, i));
                     });
}

/// `result[j] = vec[indices[j]]`.
Value gather(OpBuilder &b, Location loc, Value vec, Value indices) {
  Type elemType = cast<RankedTensorType>(vec.getType()).getElementType();
  return buildVector(b, loc, dimSize(b, loc, indices, 0), elemType,
                     [&](OpBuilder &nb, Location nloc, Value j) -> Value {
                       Value index =
                           tensor::ExtractOp::create(nb, nloc, indices, j);
                       return tensor::ExtractOp::create(nb, nloc, vec, index);
                     });
}

/// Writes the 1-D tensor `vec` into `dest`, element `j` going to
/// `destIndex(j)`; floats are converted to the element type of `dest`.
Value storeVector(
    OpBuilder &b, Location loc, Value vec, Value dest,
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value)> destIndex) {
  Type destElem = cast<RankedTensorType>(dest.getType()).getElementType();
  return buildLoop(b, loc, dimSize(b, loc, vec, 0), dest,
                   [&](OpBuilder &nb, Location nloc, Value j,
                       ValueRange args) -> SmallVector<Value> {
                     Value elem = tensor::ExtractOp::create(nb, nloc, vec, j);
                     if (isa<FloatType>(destElem))
                       elem = castFloat(nb, nloc, elem, destElem);
                     return {tensor::InsertOp::create(nb, nloc, elem, args[0],
                                                      destIndex(nb, nloc, j))};
                   })
      .front();
}

/// tensor.empty `[T, width]` of `elemType`, `tokens` being the (possibly
/// dynamic) T of `logits`.
Value emptyPerToken(OpBuilder &b, Location loc, Value logits, Value tokens,
                    int64_t width, Type elemType) {
  auto logitsType = cast<RankedTensorType>(logits.getType());
  auto type =
      RankedTensorType::get({logitsType.getDimSize(0), width}, elemType);
  return emptyLike(b, loc, type,
                   logitsType.isDynamicDim(0) ? ValueRange{tokens}
                                              : ValueRange{});
}

/// Gives `value` the type of `result` (a tensor.cast), when the op declares
/// a less static result type than the one built.
Value castToResultType(OpBuilder &b, Location loc, Value value, Value result) {
  if (value.getType() == result.getType())
    return value;
  return tensor::CastOp::create(b, loc, result.getType(), value);
}

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

Value boolConstant(OpBuilder &b, Location loc, bool value) {
  return arith::ConstantIntOp::create(b, loc, b.getI1Type(), value);
}

Value indexToI32(OpBuilder &b, Location loc, Value index) {
  return arith::IndexCastOp::create(b, loc, b.getI32Type(), index);
}

//===----------------------------------------------------------------------===//
// Routing steps (shared by moe.route and moe.expert_choice_route)
//===----------------------------------------------------------------------===//

/// Route step 1: row `t` of `logits` in the compute type, plus the optional
/// logit offsets, with masked experts (mask false) set to -inf so that they
/// get probability 0 and are picked last.
Value adjustedLogitsRow(OpBuilder &b, Location loc, Value logits, Value t,
                        Type computeType, Value offsets = {}, Value mask = {}) {
  return buildVector(
      b, loc, dimSize(b, loc, logits, 1), computeType,
      [&](OpBuilder &nb, Location nloc, Value e) {
        Value l = castFloat(nb, nloc,
                            tensor::ExtractOp::create(nb, nloc, logits, {t, e}),
                            computeType);
        if (offsets) {
          Value offset = castFloat(
              nb, nloc, tensor::ExtractOp::create(nb, nloc, offsets, e),
              computeType);
          l = arith::AddFOp::create(nb, nloc, l, offset);
        }
        if (mask) {
          Value keep = tensor::ExtractOp::create(nb, nloc, mask, e);
          l = arith::SelectOp::create(nb, nloc, keep, l,
                                      negInfConstant(nb, nloc, computeType));
        }
        return l;
      });
}

/// Softmax of a 1-D tensor, max-subtracted so that exp cannot overflow.
Value softmax(OpBuilder &b, Location loc, Value vec) {
  Type type = cast<RankedTensorType>(vec.getType()).getElementType();
  Value max =
      foldVector(b, loc, vec, negInfConstant(b, loc, type),
                 [](OpBuilder &nb, Location nloc, Value, Value x,
                    ValueRange acc) -> SmallVector<Value> {
                   return {arith::MaximumFOp::create(nb, nloc, acc[0], x)};
                 })
          .front();
  Value exps =
      mapVector(b, loc, vec, [&](OpBuilder &nb, Location nloc, Value x) {
        return math::ExpOp::create(nb, nloc,
                                   arith::SubFOp::create(nb, nloc, x, max));
      });
  Value sum = foldVector(b, loc, exps, floatConstant(b, loc, type, 0.0),
                         [](OpBuilder &nb, Location nloc, Value, Value x,
                            ValueRange acc) -> SmallVector<Value> {
                           return {arith::AddFOp::create(nb, nloc, acc[0], x)};
                         })
                  .front();
  return mapVector(b, loc, exps, [&](OpBuilder &nb, Location nloc, Value x) {
    return arith::DivFOp::create(nb, nloc, x, sum);
  });
}

/// Element-wise logistic sigmoid, 1 / (1 + exp(-x)).
Value sigmoid(OpBuilder &b, Location loc, Value vec) {
  return mapVector(b, loc, vec, logisticSigmoid);
}

/// Route step 2 (and expert-choice scores): the score function over a 1-D
/// tensor of logits.
Value applyScore(OpBuilder &b, Location loc, Value vec, ScoreFunction score) {
  return score == ScoreFunction::softmax ? softmax(b, loc, vec)
                                         : sigmoid(b, loc, vec);
}

/// Route step 2: selection keys `s = v + bias` (bias optional), with NaN
/// keys turned into -inf (step 3) before anything compares them.
Value selectionKeys(OpBuilder &b, Location loc, Value vec, Value bias) {
  Type type = cast<RankedTensorType>(vec.getType()).getElementType();
  return buildVector(
      b, loc, dimSize(b, loc, vec, 0), type,
      [&](OpBuilder &nb, Location nloc, Value e) {
        Value s = tensor::ExtractOp::create(nb, nloc, vec, e);
        if (bias) {
          Value beta = castFloat(
              nb, nloc, tensor::ExtractOp::create(nb, nloc, bias, e), type);
          s = arith::AddFOp::create(nb, nloc, s, beta);
        }
        return nanToNegInf(nb, nloc, s);
      });
}

/// The k largest keys, in descending order.
struct TopK {
  /// `[count] x index`: the selected positions, best first.
  Value indices;
  /// `[N] x i1`: whether each position was selected.
  Value taken;
};

/// Selects the `count` largest keys of the 1-D tensor `keys` by iterative
/// argmax over the positions not taken yet. The strict `>` keeps the first
/// (lowest) position on ties, and the `found` flag lets a -inf key be taken
/// when nothing better remains. NaN keys compare as -inf.
TopK selectTopK(OpBuilder &b, Location loc, Value keys, int64_t count) {
  Type keyType = cast<RankedTensorType>(keys.getType()).getElementType();
  Value noneTaken =
      linalg::FillOp::create(
          b, loc, boolConstant(b, loc, false),
          emptyVector(b, loc, dimSize(b, loc, keys, 0), b.getI1Type()))
          .getResult(0);
  Value countValue = indexConstant(b, loc, count);
  Value indicesInit = emptyVector(b, loc, countValue, b.getIndexType());

  // One argmax over the positions not taken yet; marks and records it.
  auto pickOne = [&](OpBuilder &nb, Location nloc, Value j,
                     ValueRange state) -> SmallVector<Value> {
    Value taken = state[0], indices = state[1];
    Value falseValue = boolConstant(nb, nloc, false);
    Value trueValue = boolConstant(nb, nloc, true);
    SmallVector<Value> best = foldVector(
        nb, nloc, keys,
        {indexConstant(nb, nloc, 0), negInfConstant(nb, nloc, keyType), falseValue},
        [&](OpBuilder &ib, Location iloc, Value i, Value key,
            ValueRange acc) -> SmallVector<Value> {
          Value bestIndex = acc[0], bestKey = acc[1], found = acc[2];
          key = nanToNegInf(ib, iloc, key);
          Value isFree = arith::XOrIOp::create(
              ib, iloc, tensor::ExtractOp::create(ib, iloc, taken, i),
              trueValue);
          Value notFound = arith::XOrIOp::create(ib, iloc, found, trueValue);
          Value greater = arith::CmpFOp::create(
              ib, iloc, arith::CmpFPredicate::OGT, key, bestKey);
          Value better = arith::AndIOp::create(
              ib, iloc, isFree,
              arith::OrIOp::create(ib, iloc, notFound, greater));
          return {arith::SelectOp::create(ib, iloc, better, i, bestIndex),
                  arith::SelectOp::create(ib, iloc, better, key, bestKey),
                  arith::OrIOp::create(ib, iloc, found, better)};
        });
    return {tensor::InsertOp::create(nb, nloc, trueValue, taken, best[0]),
            tensor::InsertOp::create(nb, nloc, best[0], indices, j)};
  };
  SmallVector<Value> result =
      buildLoop(b, loc, countValue, {noneTaken, indicesInit}, pickOne);
  return {result[1], result[0]};
}

/// Score of the experts `[first, first + size)` of `keys`: their max, or the
/// sum of their two largest keys (duplicates count twice).
Value groupScore(OpBuilder &b, Location loc, Value keys, Value first,
                 int64_t size, GroupScore kind) {
  Type type = cast<RankedTensorType>(keys.getType()).getElementType();
  Value minusInf = negInfConstant(b, loc, type);
  SmallVector<Value> top2 = buildLoop(
      b, loc, indexConstant(b, loc, size), {minusInf, minusInf},
      [&](OpBuilder &nb, Location nloc, Value i,
          ValueRange acc) -> SmallVector<Value> {
        Value e = arith::AddIOp::create(nb, nloc, first, i);
        Value x = tensor::ExtractOp::create(nb, nloc, keys, e);
        Value largest = acc[0], second = acc[1];
        Value aboveLargest = arith::CmpFOp::create(
            nb, nloc, arith::CmpFPredicate::OGT, x, largest);
        Value aboveSecond = arith::CmpFOp::create(
            nb, nloc, arith::CmpFPredicate::OGT, x, second);
        Value newSecond = arith::SelectOp::create(
            nb, nloc, aboveLargest, largest,
            arith::SelectOp::create(nb, nloc, aboveSecond, x, second));
        return {arith::SelectOp::create(nb, nloc, aboveLargest, x, largest),
                newSecond};
      });
  if (kind == GroupScore::max)
    return top2[0];
  return arith::AddFOp::create(b, loc, top2[0], top2[1]);
}

/// Route step 3: group-limited routing. Experts form `n_groups` contiguous
/// groups; only the `top_groups` best groups (ties: lower group) keep their
/// keys, the others get -inf.
Value limitToTopGroups(OpBuilder &b, Location loc, Value keys,
                       RoutingAttr routing) {
  int64_t experts = cast<RankedTensorType>(keys.getType()).getDimSize(0);
  int64_t groupSize = experts / routing.getNGroups();
  Type type = cast<RankedTensorType>(keys.getType()).getElementType();
  Value groupScores =
      buildVector(b, loc, indexConstant(b, loc, routing.getNGroups()), type,
                  [&](OpBuilder &nb, Location nloc, Value g) {
                    Value first = arith::MulIOp::create(
                        nb, nloc, g, indexConstant(nb, nloc, groupSize));
                    return groupScore(nb, nloc, keys, first, groupSize,
                                      routing.getGroupScore());
                  });
  Value keptGroups =
      selectTopK(b, loc, groupScores, routing.getTopGroups()).taken;
  return buildVector(b, loc, indexConstant(b, loc, experts), type,
                     [&](OpBuilder &nb, Location nloc, Value e) {
                       Value g = arith::DivUIOp::create(
                           nb, nloc, e, indexConstant(nb, nloc, groupSize));
                       Value kept =
                           tensor::ExtractOp::create(nb, nloc, keptGroups, g);
                       Value key = tensor::ExtractOp::create(nb, nloc, keys, e);
                       return arith::SelectOp::create(nb, nloc, kept, key,
                                                      negInfConstant(nb, nloc, type));
                     });
}

/// Route step 5: dynamic k. Walking the selected slots in order, slot `j` is
/// kept while the scores of the slots before it sum to less than
/// `threshold`; the first slot is always kept.
Value dynamicKPrefix(OpBuilder &b, Location loc, Value scores,
                     double threshold) {
  Type type = cast<RankedTensorType>(scores.getType()).getElementType();
  Value limit = floatConstant(b, loc, type, threshold);
  Value keepInit =
      emptyVector(b, loc, dimSize(b, loc, scores, 0), b.getI1Type());
  Value trueValue = boolConstant(b, loc, true);
  return foldVector(
             b, loc, scores,
             {keepInit, floatConstant(b, loc, type, 0.0), trueValue},
             [&](OpBuilder &nb, Location nloc, Value j, Value p,
                 ValueRange acc) -> SmallVector<Value> {
               Value keep = acc[0], sum = acc[1], open = acc[2];
               keep = tensor::InsertOp::create(nb, nloc, open, keep, j);
               sum = arith::AddFOp::create(nb, nloc, sum, p);
               Value below = arith::CmpFOp::create(
                   nb, nloc, arith::CmpFPredicate::OLT, sum, limit);
               return {keep, sum, arith::AndIOp::create(nb, nloc, open, below)};
             })
      .front();
}

/// Route step 6: weights of the selected slots. Dropped slots (`keep` false)
/// weigh 0; the rest are optionally divided by their sum, then scaled.
Value finalWeights(OpBuilder &b, Location loc, Value scores, Value keep,
                   RoutingAttr routing) {
  Type type = cast<RankedTensorType>(scores.getType()).getElementType();
  Value weights = scores;
  if (keep)
    weights = buildVector(b, loc, dimSize(b, loc, scores, 0), type,
                          [&](OpBuilder &nb, Location nloc, Value j) {
                            return arith::SelectOp::create(
                                nb, nloc,
                                tensor::ExtractOp::create(nb, nloc, keep, j),
                                tensor::ExtractOp::create(nb, nloc, scores, j),
                                floatConstant(nb, nloc, type, 0.0));
                          });
  if (routing.getRenormalize()) {
    Value sum =
        foldVector(b, loc, weights, floatConstant(b, loc, type, 0.0),
                   [](OpBuilder &nb, Location nloc, Value, Value w,
                      ValueRange acc) -> SmallVector<Value> {
                     return {arith::AddFOp::create(nb, nloc, acc[0], w)};
                   })
            .front();
    weights =
        mapVector(b, loc, weights, [&](OpBuilder &nb, Location nloc, Value w) {
          return arith::DivFOp::create(nb, nloc, w, sum);
        });
  }
  if (routing.scaleValue() != 1.0) {
    Value scale = floatConstant(b, loc, type, routing.scaleValue());
    weights =
        mapVector(b, loc, weights, [&](OpBuilder &nb, Location nloc, Value w) {
          return arith::MulFOp::create(nb, nloc, w, scale);
        });
  }
  return weights;
}

/// Route step 6: i32 ids of the selected slots, -1 for the slots dropped by
/// dynamic k (`keep` false; no slot is dropped without `keep`).
Value selectedIds(OpBuilder &b, Location loc, Value selected, Value keep) {
  return buildVector(
      b, loc, dimSize(b, loc, selected, 0), b.getI32Type(),
      [&](OpBuilder &nb, Location nloc, Value j) {
        Value id = indexToI32(nb, nloc,
                              tensor::ExtractOp::create(nb, nloc, selected, j));
        if (!keep)
          return id;
        return arith::SelectOp::create(
                   nb, nloc, tensor::ExtractOp::create(nb, nloc, keep, j), id,
                   i32Constant(nb, nloc, -1))
            .getResult();
      });
}

//===----------------------------------------------------------------------===//
// moe.route
//===----------------------------------------------------------------------===//

/// Routes token `t`; returns its `[k]` weights (compute type) and i32 ids.
std::pair<Value, Value> routeToken(OpBuilder &b, Location loc,
                                   RouteOp::Adaptor adaptor, Value t,
                                   Type computeType) {
  RoutingAttr routing = adaptor.getRouting();
  bool scoreFirst = routing.getOrder() == RoutingOrder::score_then_topk;
  Value logits =
      adjustedLogitsRow(b, loc, adaptor.getLogits(), t, computeType,
                        adaptor.getLogitOffsets(), adaptor.getExpertMask());
  Value scores =
      scoreFirst ? applyScore(b, loc, logits, routing.getScore()) : Value();
  Value keys = selectionKeys(b, loc, scoreFirst ? scores : logits,
                             adaptor.getCorrectionBias());
  if (routing.getNGroups() > 1)
    keys = limitToTopGroups(b, loc, keys, routing);
  Value selected = selectTopK(b, loc, keys, routing.getK()).indices;
  // The weights never see the bias: they are gathered from the scores, or,
  // for topk_then_score, scored over the selected logits only.
  Value selectedScores =
      scoreFirst ? gather(b, loc, scores, selected)
                 : applyScore(b, loc, gather(b, loc, logits, selected),
                              routing.getScore());
  Value keep = routing.isDynamicK() ? dynamicKPrefix(b, loc, selectedScores,
                                                     routing.thresholdValue())
                                    : Value();
  return {finalWeights(b, loc, selectedScores, keep, routing),
          selectedIds(b, loc, selected, keep)};
}

/// moe.route as a loop over the tokens carrying the `[T, k]` results.
struct RouteOpLowering : OpConversionPattern<RouteOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RouteOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto logitsType = cast<RankedTensorType>(adaptor.getLogits().getType());
    if (logitsType.isDynamicDim(1))
      return rewriter.notifyMatchFailure(op, "needs a static expert count");
    Type elemType = logitsType.getElementType();
    Type computeType = routingComputeType(elemType);
    int64_t k = adaptor.getRouting().getK();

    Value logits = adaptor.getLogits();
    Value tokens = dimSize(rewriter, loc, logits, 0);
    Value weightsInit =
        emptyPerToken(rewriter, loc, logits, tokens, k, elemType);
    Value idsInit =
        emptyPerToken(rewriter, loc, logits, tokens, k, rewriter.getI32Type());

    SmallVector<Value> results =
        buildLoop(rewriter, loc, tokens, {weightsInit, idsInit},
                  [&](OpBuilder &b, Location nloc, Value t,
                      ValueRange acc) -> SmallVector<Value> {
                    auto [weights, ids] =
                        routeToken(b, nloc, adaptor, t, computeType);
                    auto slotOfToken = [&](OpBuilder &, Location,
                                           Value j) -> SmallVector<Value> {
                      return {t, j};
                    };
                    return {storeVector(b, nloc, weights, acc[0], slotOfToken),
                            storeVector(b, nloc, ids, acc[1], slotOfToken)};
                  });
    rewriter.replaceOp(
        op, {castToResultType(rewriter, loc, results[0], op.getWeights()),
             castToResultType(rewriter, loc, results[1], op.getExpertIds())});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// moe.expert_choice_route
//===----------------------------------------------------------------------===//

/// Expert-choice scores `[T, E]` (compute type): the score function applied
/// to each token's row of logits.
Value tokenScores(OpBuilder &b, Location loc, Value logits, Type computeType,
                  ScoreFunction score) {
  Value tokens = dimSize(b, loc, logits, 0);
  int64_t experts = cast<RankedTensorType>(logits.getType()).getDimSize(1);
  Value init = emptyPerToken(b, loc, logits, tokens, experts, computeType);
  return buildLoop(b, loc, tokens, init,
                   [&](OpBuilder &nb, Location nloc, Value t,
                       ValueRange acc) -> SmallVector<Value> {
                     Value row = applyScore(
                         nb, nloc,
                         adjustedLogitsRow(nb, nloc, logits, t, computeType),
                         score);
                     return {storeVector(nb, nloc, row, acc[0],
                                         [&](OpBuilder &, Location,
                                             Value e) -> SmallVector<Value> {
                                           return {t, e};
                                         })};
                   })
      .front();
}

/// moe.expert_choice_route: a loop over the experts, each taking the top
/// `capacity` tokens of its score column into rows `[e * C, (e + 1) * C)`.
struct ExpertChoiceRouteOpLowering : OpConversionPattern<ExpertChoiceRouteOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ExpertChoiceRouteOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value logits = adaptor.getLogits();
    auto logitsType = cast<RankedTensorType>(logits.getType());
    if (logitsType.isDynamicDim(1))
      return rewriter.notifyMatchFailure(op, "needs a static expert count");
    Type elemType = logitsType.getElementType();
    int64_t experts = logitsType.getDimSize(1);
    int64_t capacity = op.getCapacity();

    Value scores = tokenScores(rewriter, loc, logits, routingComputeType(elemType),
                               op.getScore());
    Value tokenInit = emptyLike(
        rewriter, loc,
        RankedTensorType::get({experts * capacity}, rewriter.getI32Type()));
    Value weightInit = emptyLike(
        rewriter, loc, RankedTensorType::get({experts * capacity}, elemType));
    Value capacityValue = indexConstant(rewriter, loc, capacity);

    SmallVector<Value> rows = buildLoop(
        rewriter, loc, indexConstant(rewriter, loc, experts),
        {tokenInit, weightInit},
        [&](OpBuilder &b, Location nloc, Value e,
            ValueRange acc) -> SmallVector<Value> {
          Value column =
              buildVector(b, nloc, dimSize(b, nloc, scores, 0),
                          getElementTypeOrSelf(scores.getType()),
                          [&](OpBuilder &nb, Location nloc, Value t) -> Value {
                            return tensor::ExtractOp::create(nb, nloc, scores,
                                                             ValueRange{t, e});
                          });
          Value chosen = selectTopK(b, nloc, column, capacity).indices;
          Value firstRow = arith::MulIOp::create(b, nloc, e, capacityValue);
          auto rowOfSlot = [&](OpBuilder &ib, Location iloc,
                               Value c) -> SmallVector<Value> {
            return {arith::AddIOp::create(ib, iloc, firstRow, c)};
          };
          return {storeVector(b, nloc, selectedIds(b, nloc, chosen, {}), acc[0],
                              rowOfSlot),
                  storeVector(b, nloc, gather(b, nloc, column, chosen), acc[1],
                              rowOfSlot)};
        });

    Value offsets = buildVector(
        rewriter, loc, indexConstant(rewriter, loc, experts + 1),
        rewriter.getI32Type(), [&](OpBuilder &b, Location nloc, Value e) {
          return indexToI32(b, nloc,
                            arith::MulIOp::create(b, nloc, e, capacityValue));
        });
    rewriter.replaceOp(
        op, {castToResultType(rewriter, loc, rows[0], op.getRowToken()),
             castToResultType(rewriter, loc, rows[1], op.getRowWeight()),
             castToResultType(rewriter, loc, offsets, op.getOffsets())});
    return success();
  }
};

} // namespace

void mlir::moe::populateRoutingToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<RouteOpLowering, ExpertChoiceRouteOpLowering>(
      patterns.getContext());
}
