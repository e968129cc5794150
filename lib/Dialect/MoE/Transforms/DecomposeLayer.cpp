//===- DecomposeLayer.cpp - moe.layer into staged ops ---------------------===//

#include "moe/Dialect/MoE/IR/MoE.h"
#include "moe/Dialect/MoE/Transforms/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEDECOMPOSELAYER
#include "moe/Dialect/MoE/Transforms/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// A zero-filled tensor of `type`, sized from `like` where dynamic.
Value zerosLike(OpBuilder &b, Location loc, RankedTensorType type, Value like) {
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamicSizes.push_back(tensor::DimOp::create(b, loc, like, d));
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(),
                                        type.getElementType(), dynamicSizes);
  Value zero =
      arith::ConstantOp::create(b, loc, b.getZeroAttr(type.getElementType()));
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

/// `tokens : [B*S, H]` back to the shape of `input : [B, S, H]`. With B and
/// S both dynamic, `tensor.expand_shape` would need two dynamic sizes in one
/// group, which MLIR 22's expand-strided-metadata crashes on; copy by the
/// row index `b * S + s` instead.
Value expandTokens(OpBuilder &b, Location loc, Value tokens, Value input) {
  auto inputType = cast<RankedTensorType>(input.getType());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, input);
  if (!inputType.isDynamicDim(0) || !inputType.isDynamicDim(1))
    return tensor::ExpandShapeOp::create(
        b, loc, inputType, tokens, ArrayRef<ReassociationIndices>{{0, 1}, {2}},
        sizes);
  Value init =
      tensor::EmptyOp::create(b, loc, sizes, inputType.getElementType());
  Value seqLen = getValueOrCreateConstantIndexOp(b, loc, sizes[1]);
  auto copy = linalg::GenericOp::create(
      b, loc, TypeRange{inputType}, ValueRange{}, ValueRange{init},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(3)},
      SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        Value row = arith::AddIOp::create(
            nb, nloc,
            arith::MulIOp::create(nb, nloc,
                                  linalg::IndexOp::create(nb, nloc, 0), seqLen),
            linalg::IndexOp::create(nb, nloc, 1));
        Value col = linalg::IndexOp::create(nb, nloc, 2);
        linalg::YieldOp::create(
            nb, nloc,
            tensor::ExtractOp::create(nb, nloc, tokens, ValueRange{row, col})
                .getResult());
      });
  return copy.getResult(0);
}

struct DecomposeLayer : OpRewritePattern<LayerOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LayerOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inputType = op.getInput().getType();
    Type elementType = inputType.getElementType();
    RoutingAttr routing = op.getRouting();

    // [B, S, H] -> [B*S, H].
    Value tokens = op.getInput();
    if (inputType.getRank() == 3)
      tokens = tensor::CollapseShapeOp::create(
          rewriter, loc, tokens, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    auto tokensType = cast<RankedTensorType>(tokens.getType());
    int64_t numTokens = tokensType.getDimSize(0);
    int64_t k = routing.getK();
    int64_t numExperts = op.getFc1Weights().getType().getDimSize(0);
    if (ShapedType::isDynamic(numExperts))
      numExperts = op.getRouterLogits().getType().getDimSize(1);
    if (ShapedType::isDynamic(numExperts))
      return rewriter.notifyMatchFailure(op,
                                         "the number of experts is dynamic");

    auto logitsType = op.getRouterLogits().getType();
    Type logitsElement = logitsType.getElementType();
    auto weightsType = RankedTensorType::get({numTokens, k}, logitsElement);
    auto idsType = RankedTensorType::get({numTokens, k}, rewriter.getI32Type());
    auto route = RouteOp::create(rewriter, loc, weightsType, idsType,
                                 op.getRouterLogits(), Value(), Value(),
                                 Value(), routing);

    int64_t rows =
        ShapedType::isDynamic(numTokens) ? ShapedType::kDynamic : numTokens * k;
    auto dispatch = DispatchOp::create(
        rewriter, loc, RankedTensorType::get({rows}, rewriter.getI32Type()),
        RankedTensorType::get({rows}, logitsElement),
        RankedTensorType::get({numExperts + 1}, rewriter.getI32Type()),
        route.getExpertIds(), route.getWeights(),
        rewriter.getI64IntegerAttr(numExperts), FloatAttr());

    auto rowsType =
        RankedTensorType::get({rows, tokensType.getDimSize(1)}, elementType);
    Value permuted = PermuteOp::create(rewriter, loc, rowsType, tokens,
                                       dispatch.getRowToken());
    Value expertRows = GroupedFFNOp::create(
        rewriter, loc, rowsType, permuted, dispatch.getOffsets(),
        op.getFc1Weights(), op.getFc1Bias(), op.getFc2Weights(),
        op.getFc2Bias(), op.getFc3Weights(), op.getFc3Bias(),
        op.getActivation());

    Value init = zerosLike(rewriter, loc, tokensType, tokens);
    Value combined = CombineOp::create(rewriter, loc, tokensType, expertRows,
                                       dispatch.getRowToken(),
                                       dispatch.getRowWeight(), init);
    if (inputType.getRank() == 3)
      combined = expandTokens(rewriter, loc, combined, op.getInput());
    rewriter.replaceOp(op, combined);
    return success();
  }
};

struct MoEDecomposeLayerPass
    : moe::impl::MoEDecomposeLayerBase<MoEDecomposeLayerPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateDecomposeLayerPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // A layer left behind could not be decomposed: say why at its location.
    getOperation()->walk([&](LayerOp op) {
      op.emitError("moe.layer could not be decomposed (dynamic expert count)");
      signalPassFailure();
    });
  }
};

} // namespace

void mlir::moe::populateDecomposeLayerPatterns(RewritePatternSet &patterns) {
  patterns.add<DecomposeLayer>(patterns.getContext());
}
