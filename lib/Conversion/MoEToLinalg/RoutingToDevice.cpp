//===- RoutingToDevice.cpp - moe.route with one GPU thread per token ------===//
//
// moe.route as an scf.forall over the tokens, which the CUDA pipeline maps
// to one thread per token. A thread keeps no per-expert array (that would
// live in local memory): each step re-reads the token's logits and
// recomputes what it needs (the softmax max and sum once, a key per
// comparison), the kept groups are a bit mask, and the k selected slots live
// in the token's rows of the results. Selection pick j takes the best key
// ordered after pick j-1 in (key descending, expert ascending), which is the
// reference's iterative argmax without its `taken` array. The arithmetic and
// its order are those of RoutingToLinalg.cpp, so results match to the bit.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToLinalg/RoutingToDevice.h"
#include "moe/Conversion/KernelName.h"
#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"
#include "moe/Dialect/MoE/IR/MoE.h"

using namespace mlir;
using namespace mlir::moe;

namespace {

/// At most this many expert groups (the kept groups are an i64 bit mask).
constexpr unsigned kMaxGroups = 64;

Value cmpf(OpBuilder &b, Location loc, arith::CmpFPredicate p, Value x,
           Value y) {
  return arith::CmpFOp::create(b, loc, p, x, y);
}

/// `scf.for i = 0 to count` carrying `inits`.
SmallVector<Value>
loop(OpBuilder &b, Location loc, int64_t count, ValueRange inits,
     function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)>
         body) {
  return forRange(b, loc, indexConstant(b, loc, 0),
                  indexConstant(b, loc, count), inits, body);
}

/// What one token's thread reads and the per-token values it computes once.
struct Token {
  /// The route's logits and optional bias, mask and logit offsets.
  Value logits, bias, mask, offsets;
  RoutingAttr routing;
  Value t;
  Type computeType;
  int64_t experts;
  /// Softmax max and sum of the adjusted logits (score_then_topk, softmax).
  Value max, sum;
  /// Bit g set: group g is kept (group-limited routing).
  Value keptGroups;

  bool scoreFirst() const {
    return routing.getOrder() == RoutingOrder::score_then_topk;
  }

  /// Route step 1: the adjusted logit of expert `e`.
  Value logit(OpBuilder &b, Location loc, Value e) const {
    Value l = castFloat(
        b, loc, tensor::ExtractOp::create(b, loc, logits, {t, e}), computeType);
    if (offsets)
      l = arith::AddFOp::create(
          b, loc, l,
          castFloat(b, loc, tensor::ExtractOp::create(b, loc, offsets, e),
                    computeType));
    if (mask)
      l = arith::SelectOp::create(b, loc,
                                  tensor::ExtractOp::create(b, loc, mask, e), l,
                                  negInfConstant(b, loc, computeType));
    return l;
  }

  /// Route step 2 (score_then_topk): the score of expert `e`.
  Value score(OpBuilder &b, Location loc, Value e) const {
    Value l = logit(b, loc, e);
    if (routing.getScore() == ScoreFunction::sigmoid)
      return logisticSigmoid(b, loc, l);
    Value exp =
        math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, l, max));
    return arith::DivFOp::create(b, loc, exp, sum);
  }

  /// Route step 2: the selection key of expert `e`, before the group limit.
  Value rawKey(OpBuilder &b, Location loc, Value e) const {
    Value s = scoreFirst() ? score(b, loc, e) : logit(b, loc, e);
    if (bias)
      s = arith::AddFOp::create(
          b, loc, s,
          castFloat(b, loc, tensor::ExtractOp::create(b, loc, bias, e),
                    computeType));
    return nanToNegInf(b, loc, s);
  }

  int64_t groupSize() const { return experts / routing.getNGroups(); }

  /// Route step 3: the key of expert `e`, -inf outside the kept groups.
  Value key(OpBuilder &b, Location loc, Value e) const {
    Value s = rawKey(b, loc, e);
    if (!keptGroups)
      return s;
    Type i64 = b.getI64Type();
    Value g = arith::IndexCastOp::create(
        b, loc, i64,
        arith::DivUIOp::create(b, loc, e, indexConstant(b, loc, groupSize())));
    Value bit = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, keptGroups, g),
        arith::ConstantIntOp::create(b, loc, i64, 1));
    Value kept =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, bit,
                              arith::ConstantIntOp::create(b, loc, i64, 0));
    return arith::SelectOp::create(b, loc, kept, s,
                                   negInfConstant(b, loc, s.getType()));
  }

  /// The max, or the sum of the two largest keys, of group `g`; NaN as -inf
  /// as the reference's group selection reads it.
  Value groupScore(OpBuilder &b, Location loc, Value g) const {
    Value first =
        arith::MulIOp::create(b, loc, g, indexConstant(b, loc, groupSize()));
    Value minusInf = negInfConstant(b, loc, computeType);
    SmallVector<Value> top2 = loop(
        b, loc, groupSize(), {minusInf, minusInf},
        [&](OpBuilder &b, Location loc, Value i,
            ValueRange acc) -> SmallVector<Value> {
          Value x = rawKey(b, loc, arith::AddIOp::create(b, loc, first, i));
          Value largest = acc[0], second = acc[1];
          Value aboveLargest =
              cmpf(b, loc, arith::CmpFPredicate::OGT, x, largest);
          Value aboveSecond =
              cmpf(b, loc, arith::CmpFPredicate::OGT, x, second);
          Value newSecond = arith::SelectOp::create(
              b, loc, aboveLargest, largest,
              arith::SelectOp::create(b, loc, aboveSecond, x, second));
          return {arith::SelectOp::create(b, loc, aboveLargest, x, largest),
                  newSecond};
        });
    Value score = routing.getGroupScore() == GroupScore::max
                      ? top2[0]
                      : arith::AddFOp::create(b, loc, top2[0], top2[1]);
    return nanToNegInf(b, loc, score);
  }

  /// The kept groups as a bit mask: group g is kept when fewer than
  /// `top_groups` groups come before it in (score descending, group
  /// ascending), the set the reference's top-k over the groups selects.
  Value computeKeptGroups(OpBuilder &b, Location loc) const {
    int64_t groups = routing.getNGroups();
    Type i64 = b.getI64Type();
    Value none = arith::ConstantIntOp::create(b, loc, i64, 0);
    return loop(b, loc, groups, none,
                [&](OpBuilder &b, Location loc, Value g,
                    ValueRange mask) -> SmallVector<Value> {
                  Value mine = groupScore(b, loc, g);
                  Value rank =
                      loop(b, loc, groups, indexConstant(b, loc, 0),
                           [&](OpBuilder &b, Location loc, Value h,
                               ValueRange count) -> SmallVector<Value> {
                             Value other = groupScore(b, loc, h);
                             Value before = arith::OrIOp::create(
                                 b, loc,
                                 cmpf(b, loc, arith::CmpFPredicate::OGT, other,
                                      mine),
                                 arith::AndIOp::create(
                                     b, loc,
                                     cmpf(b, loc, arith::CmpFPredicate::OEQ,
                                          other, mine),
                                     arith::CmpIOp::create(
                                         b, loc, arith::CmpIPredicate::ult, h,
                                         g)));
                             Value step = arith::SelectOp::create(
                                 b, loc, before, indexConstant(b, loc, 1),
                                 indexConstant(b, loc, 0));
                             return {
                                 arith::AddIOp::create(b, loc, count[0], step)};
                           })
                          .front();
                  Value kept = arith::CmpIOp::create(
                      b, loc, arith::CmpIPredicate::ult, rank,
                      indexConstant(b, loc, routing.getTopGroups()));
                  Value bit = arith::ShLIOp::create(
                      b, loc, arith::ExtUIOp::create(b, loc, i64, kept),
                      arith::IndexCastOp::create(b, loc, i64, g));
                  return {arith::OrIOp::create(b, loc, mask[0], bit)};
                })
        .front();
  }
};

/// Left fold over the k slots of `row` (a 1-D tensor).
Value foldSlots(OpBuilder &b, Location loc, Value row, int64_t k, Value init,
                function_ref<Value(OpBuilder &, Location, Value, Value)> body) {
  return loop(b, loc, k, init,
              [&](OpBuilder &b, Location loc, Value j,
                  ValueRange acc) -> SmallVector<Value> {
                Value x = tensor::ExtractOp::create(b, loc, row, j);
                return {body(b, loc, acc[0], x)};
              })
      .front();
}

/// row[j] = fn(row[j]) for the k slots.
Value mapSlots(OpBuilder &b, Location loc, Value row, int64_t k,
               function_ref<Value(OpBuilder &, Location, Value)> fn) {
  return loop(b, loc, k, row,
              [&](OpBuilder &b, Location loc, Value j,
                  ValueRange acc) -> SmallVector<Value> {
                Value x = tensor::ExtractOp::create(b, loc, acc[0], j);
                return {
                    tensor::InsertOp::create(b, loc, fn(b, loc, x), acc[0], j)};
              })
      .front();
}

/// Routes one token into its rows: `ids` (i32) and `scores` (the compute
/// type; the weights when done). Returns the updated rows.
std::pair<Value, Value> routeToken(OpBuilder &b, Location loc, Token &token,
                                   Value ids, Value scores) {
  RoutingAttr routing = token.routing;
  int64_t k = routing.getK(), experts = token.experts;
  Type ct = token.computeType;
  Value zero = floatConstant(b, loc, ct, 0.0);

  if (token.scoreFirst() && routing.getScore() == ScoreFunction::softmax) {
    token.max = loop(b, loc, experts, negInfConstant(b, loc, ct),
                     [&](OpBuilder &b, Location loc, Value e,
                         ValueRange acc) -> SmallVector<Value> {
                       return {arith::MaximumFOp::create(
                           b, loc, acc[0], token.logit(b, loc, e))};
                     })
                    .front();
    token.sum = loop(b, loc, experts, zero,
                     [&](OpBuilder &b, Location loc, Value e,
                         ValueRange acc) -> SmallVector<Value> {
                       Value exp = math::ExpOp::create(
                           b, loc,
                           arith::SubFOp::create(b, loc, token.logit(b, loc, e),
                                                 token.max));
                       return {arith::AddFOp::create(b, loc, acc[0], exp)};
                     })
                    .front();
  }
  if (routing.getNGroups() > 1)
    token.keptGroups = token.computeKeptGroups(b, loc);

  // Pick j: the best key after pick j-1 in (key descending, expert
  // ascending); ties keep the lower expert, as the reference's strict `>`.
  Value trueValue = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1);
  SmallVector<Value> picked = loop(
      b, loc, k,
      {ids, scores, indexConstant(b, loc, 0), negInfConstant(b, loc, ct),
       trueValue},
      [&](OpBuilder &b, Location loc, Value j,
          ValueRange state) -> SmallVector<Value> {
        Value prevIndex = state[2], prevKey = state[3], first = state[4];
        Value falseValue =
            arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
        SmallVector<Value> best = loop(
            b, loc, experts,
            {indexConstant(b, loc, 0), negInfConstant(b, loc, ct), falseValue},
            [&](OpBuilder &b, Location loc, Value e,
                ValueRange acc) -> SmallVector<Value> {
              Value x = token.key(b, loc, e);
              Value after = arith::OrIOp::create(
                  b, loc, cmpf(b, loc, arith::CmpFPredicate::OLT, x, prevKey),
                  arith::AndIOp::create(
                      b, loc,
                      cmpf(b, loc, arith::CmpFPredicate::OEQ, x, prevKey),
                      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt,
                                            e, prevIndex)));
              Value candidate = arith::OrIOp::create(b, loc, first, after);
              Value notFound = arith::XOrIOp::create(b, loc, acc[2], trueValue);
              Value greater =
                  cmpf(b, loc, arith::CmpFPredicate::OGT, x, acc[1]);
              Value better = arith::AndIOp::create(
                  b, loc, candidate,
                  arith::OrIOp::create(b, loc, notFound, greater));
              return {arith::SelectOp::create(b, loc, better, e, acc[0]),
                      arith::SelectOp::create(b, loc, better, x, acc[1]),
                      arith::OrIOp::create(b, loc, acc[2], better)};
            });
        Value id = arith::IndexCastOp::create(b, loc, b.getI32Type(), best[0]);
        // The weights never see the bias: the score, or the logit to be
        // scored over the selected slots only (topk_then_score).
        Value value = token.scoreFirst() ? token.score(b, loc, best[0])
                                         : token.logit(b, loc, best[0]);
        return {tensor::InsertOp::create(b, loc, id, state[0], j),
                tensor::InsertOp::create(b, loc, value, state[1], j), best[0],
                best[1], falseValue};
      });
  ids = picked[0];
  scores = picked[1];

  if (!token.scoreFirst()) {
    if (routing.getScore() == ScoreFunction::sigmoid) {
      scores = mapSlots(b, loc, scores, k, logisticSigmoid);
    } else {
      Value max = foldSlots(
          b, loc, scores, k, negInfConstant(b, loc, ct),
          [](OpBuilder &b, Location loc, Value acc, Value x) {
            return arith::MaximumFOp::create(b, loc, acc, x).getResult();
          });
      auto expOf = [&](OpBuilder &b, Location loc, Value x) -> Value {
        return math::ExpOp::create(b, loc,
                                   arith::SubFOp::create(b, loc, x, max));
      };
      Value sum = foldSlots(
          b, loc, scores, k, zero,
          [&](OpBuilder &b, Location loc, Value acc, Value x) {
            return arith::AddFOp::create(b, loc, acc, expOf(b, loc, x))
                .getResult();
          });
      scores = mapSlots(
          b, loc, scores, k, [&](OpBuilder &b, Location loc, Value x) -> Value {
            return arith::DivFOp::create(b, loc, expOf(b, loc, x), sum);
          });
    }
  }

  // Dynamic k: slot j is kept while the scores before it sum below the
  // threshold; a dropped slot gets id -1 and weight 0.
  if (routing.isDynamicK()) {
    Value limit = floatConstant(b, loc, ct, routing.thresholdValue());
    SmallVector<Value> pruned =
        loop(b, loc, k, {ids, scores, zero, trueValue},
             [&](OpBuilder &b, Location loc, Value j,
                 ValueRange acc) -> SmallVector<Value> {
               Value keep = acc[3];
               Value p = tensor::ExtractOp::create(b, loc, acc[1], j);
               Value id = tensor::ExtractOp::create(b, loc, acc[0], j);
               Value newId = arith::SelectOp::create(b, loc, keep, id,
                                                     i32Constant(b, loc, -1));
               Value weight = arith::SelectOp::create(b, loc, keep, p, zero);
               Value sum = arith::AddFOp::create(b, loc, acc[2], p);
               Value below =
                   cmpf(b, loc, arith::CmpFPredicate::OLT, sum, limit);
               return {tensor::InsertOp::create(b, loc, newId, acc[0], j),
                       tensor::InsertOp::create(b, loc, weight, acc[1], j), sum,
                       arith::AndIOp::create(b, loc, keep, below)};
             });
    ids = pruned[0];
    scores = pruned[1];
  }
  if (routing.getRenormalize()) {
    Value sum =
        foldSlots(b, loc, scores, k, zero,
                  [](OpBuilder &b, Location loc, Value acc, Value w) {
                    return arith::AddFOp::create(b, loc, acc, w).getResult();
                  });
    scores = mapSlots(b, loc, scores, k,
                      [&](OpBuilder &b, Location loc, Value w) -> Value {
                        return arith::DivFOp::create(b, loc, w, sum);
                      });
  }
  if (routing.scaleValue() != 1.0) {
    Value scale = floatConstant(b, loc, ct, routing.scaleValue());
    scores = mapSlots(b, loc, scores, k,
                      [&](OpBuilder &b, Location loc, Value w) -> Value {
                        return arith::MulFOp::create(b, loc, w, scale);
                      });
  }
  return {ids, scores};
}

/// Row `t` of the [T, k] tensor `matrix` as a 1-D [k] slice.
Value slotRow(OpBuilder &b, Location loc, Value matrix, Value t, int64_t k) {
  auto type = cast<RankedTensorType>(matrix.getType());
  return tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get({k}, type.getElementType()), matrix,
      ArrayRef<OpFoldResult>{t, b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(k)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
}

} // namespace

FailureOr<SmallVector<Value>>
mlir::moe::lowerRouteToDevice(RewriterBase &rewriter, RouteOp op) {
  auto logitsType = op.getLogits().getType();
  RoutingAttr routing = op.getRouting();
  if (logitsType.isDynamicDim(1))
    return rewriter.notifyMatchFailure(op, "needs a static expert count");
  if (routing.getNGroups() > kMaxGroups)
    return rewriter.notifyMatchFailure(op, "more than 64 expert groups");
  Location loc = kernelLoc(op.getLoc(), "moe_topk");
  Type elemType = logitsType.getElementType();
  Type computeType = routingComputeType(elemType);
  int64_t k = routing.getK();

  Value logits = op.getLogits();
  Value tokens = indexDim(rewriter, loc, logits, 0);
  SmallVector<Value> dynamicTokens;
  if (logitsType.isDynamicDim(0))
    dynamicTokens.push_back(tokens);
  auto perToken = [&](Type elem) {
    return emptyLike(rewriter, loc,
                     RankedTensorType::get({logitsType.getDimSize(0), k}, elem),
                     dynamicTokens);
  };
  // The scores are computed and stored in the compute type; narrower
  // weights are converted by an element-wise kernel after the loop (a
  // scratch result of the loop itself would be dropped by canonicalisation
  // as unused, leaving a buffer allocated inside the kernel).
  SmallVector<Value> outs = {perToken(rewriter.getI32Type()),
                             perToken(computeType)};

  auto forall =
      scf::ForallOp::create(rewriter, loc, ArrayRef<OpFoldResult>{tokens}, outs,
                            /*mapping=*/std::nullopt);
  {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(forall.getBody());
    Value t = forall.getInductionVars()[0];
    ValueRange shared = forall.getRegionIterArgs();
    Token token{logits,
                op.getCorrectionBias(),
                op.getExpertMask(),
                op.getLogitOffsets(),
                routing,
                t,
                computeType,
                logitsType.getDimSize(1),
                {},
                {},
                {}};
    Value ids = slotRow(rewriter, loc, shared[0], t, k);
    Value scores = slotRow(rewriter, loc, shared[1], t, k);
    std::tie(ids, scores) = routeToken(rewriter, loc, token, ids, scores);
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    SmallVector<Value> rows = {ids, scores};
    for (auto [row, out] : llvm::zip(rows, shared))
      tensor::ParallelInsertSliceOp::create(
          rewriter, loc, row, out,
          ArrayRef<OpFoldResult>{t, rewriter.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1),
                                 rewriter.getIndexAttr(k)},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1),
                                 rewriter.getIndexAttr(1)});
  }
  Value weights = forall.getResult(1);
  if (computeType != elemType)
    weights = mapElements(rewriter, kernelLoc(op.getLoc(), "moe_route_weights"),
                          weights, elemType,
                          [&](OpBuilder &b, Location loc, ValueRange args) {
                            return castFloat(b, loc, args[0], elemType);
                          });
  auto castTo = [&](Value value, Value result) -> Value {
    if (value.getType() == result.getType())
      return value;
    return tensor::CastOp::create(rewriter, loc, result.getType(), value);
  };
  return SmallVector<Value>{castTo(weights, op.getWeights()),
                            castTo(forall.getResult(0), op.getExpertIds())};
}
