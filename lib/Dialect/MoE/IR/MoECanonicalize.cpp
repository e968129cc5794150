//===- MoECanonicalize.cpp - moe canonicalisation patterns ----------------===//
//
// Rewrites that are always profitable: redundant routing work removed, a
// single-expert layer turned into a dense FFN, capacities that can never drop
// a token turned dropless.
//
//===----------------------------------------------------------------------===//

#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::moe;

namespace {

/// Softmax over all E experts with k == E already sums to one, so
/// renormalising the k weights changes nothing.
struct DropRedundantRenormalize : OpRewritePattern<RouteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RouteOp op,
                                PatternRewriter &rewriter) const override {
    RoutingAttr r = op.getRouting();
    int64_t experts = op.getLogits().getType().getDimSize(1);
    if (!r.getRenormalize() || r.getScore() != ScoreFunction::softmax ||
        r.getK() != experts || r.isDynamicK() || r.getNGroups() != 1 ||
        op.getExpertMask())
      return failure();
    auto updated = RoutingAttr::get(
        op.getContext(), r.getK(), r.getScore(), r.getOrder(),
        /*renormalize=*/false, r.getScale(), r.getNGroups(),
        r.getTopGroups(), r.getGroupScore(), r.getThreshold());
    rewriter.modifyOpInPlace(op, [&] { op.setRoutingAttr(updated); });
    return success();
  }
};

/// Sigmoid is monotonic and element-wise: without a correction bias,
/// selecting on logits then scoring equals scoring then selecting. Use the
/// canonical score_then_topk order.
struct CanonicalizeSigmoidOrder : OpRewritePattern<RouteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RouteOp op,
                                PatternRewriter &rewriter) const override {
    RoutingAttr r = op.getRouting();
    if (r.getScore() != ScoreFunction::sigmoid ||
        r.getOrder() != RoutingOrder::topk_then_score ||
        op.getCorrectionBias())
      return failure();
    auto updated = RoutingAttr::get(
        op.getContext(), r.getK(), r.getScore(),
        RoutingOrder::score_then_topk, r.getRenormalize(), r.getScale(),
        r.getNGroups(), r.getTopGroups(), r.getGroupScore(),
        r.getThreshold());
    rewriter.modifyOpInPlace(op, [&] { op.setRoutingAttr(updated); });
    return success();
  }
};

/// Takes expert 0 of a [1, ...] weight tensor as a rank-reduced slice.
Value sliceExpertZero(PatternRewriter &rewriter, Location loc, Value weights) {
  if (!weights)
    return {};
  auto type = cast<RankedTensorType>(weights.getType());
  auto reduced = RankedTensorType::get(type.getShape().drop_front(),
                                       type.getElementType());
  SmallVector<OpFoldResult> offsets(type.getRank(), rewriter.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(type.getRank(),
                                           rewriter.getIndexAttr(1));
  sizes.push_back(rewriter.getIndexAttr(1));
  for (int64_t d : type.getShape().drop_front())
    sizes.push_back(rewriter.getIndexAttr(d));
  return tensor::ExtractSliceOp::create(rewriter, loc, reduced, weights,
                                        offsets, sizes, strides);
}

/// A layer with a single softmax-routed expert routes every token to it with
/// weight 1 (times scale): it is a dense FFN.
struct SingleExpertLayerToSharedFFN : OpRewritePattern<LayerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerOp op,
                                PatternRewriter &rewriter) const override {
    RoutingAttr r = op.getRouting();
    auto fc1 = op.getFc1Weights().getType();
    if (fc1.getDimSize(0) != 1 || r.getScore() != ScoreFunction::softmax ||
        op.getInput().getType().getRank() != 2)
      return failure();
    for (Value w : op.getOperands().drop_front(2))
      if (!cast<RankedTensorType>(w.getType()).hasStaticShape())
        return failure();
    Location loc = op.getLoc();
    auto slice = [&](Value v) { return sliceExpertZero(rewriter, loc, v); };
    Value dense = SharedFFNOp::create(
        rewriter, loc, op.getType(), op.getInput(), slice(op.getFc1Weights()),
        slice(op.getFc1Bias()), slice(op.getFc2Weights()),
        slice(op.getFc2Bias()), slice(op.getFc3Weights()),
        slice(op.getFc3Bias()), /*gate=*/Value(), op.getActivation());
    if (r.scaleValue() != 1.0) {
      auto type = op.getType();
      Value scale = arith::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(
              type, FloatAttr::get(type.getElementType(), r.scaleValue())
                        .getValue()));
      dense = arith::MulFOp::create(rewriter, loc, dense, scale);
    }
    rewriter.replaceOp(op, dense);
    return success();
  }
};

/// An expert receives each token at most once, so a capacity of at least T
/// (capacity_factor * k >= E) can never drop: the dispatch is dropless.
struct DropUnreachableCapacity : OpRewritePattern<DispatchOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DispatchOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<APFloat> factor = op.getCapacityFactor();
    int64_t k = op.getExpertIds().getType().getDimSize(1);
    if (!factor || ShapedType::isDynamic(k) ||
        factor->convertToDouble() * k < op.getNumExperts())
      return failure();
    rewriter.modifyOpInPlace(op, [&] { op.removeCapacityFactorAttr(); });
    return success();
  }
};

} // namespace

void RouteOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                          MLIRContext *context) {
  results.add<DropRedundantRenormalize, CanonicalizeSigmoidOrder>(context);
}

void LayerOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                          MLIRContext *context) {
  results.add<SingleExpertLayerToSharedFFN>(context);
}

void DispatchOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                             MLIRContext *context) {
  results.add<DropUnreachableCapacity>(context);
}
