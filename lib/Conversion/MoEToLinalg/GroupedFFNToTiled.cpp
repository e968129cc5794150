//===- GroupedFFNToTiled.cpp - fast CPU lowering of moe.grouped_ffn -------===//
//
// moe.grouped_ffn as, for each expert e with rows [offsets[e], offsets[e+1])
// (dropless: only the routed rows are computed, experts without rows are
// skipped), two tiled vector products (TiledProduct.h): fc1 with the
// activation (and the fc3 gate) fused into its tile epilogue, writing the
// activated [n, I] directly, then fc2 into the expert's rows of the result.
// Only the rows no FFN expert owns are zero-filled. A combine of such a
// grouped_ffn of permuted rows is lowered together with both: fc1 gathers
// its rows from the tokens, fc2 scatter-adds into the combine's result.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToLinalg/GroupedFFNToTiled.h"
#include "LaneWise.h"
#include "TiledProduct.h"
#include "moe/Conversion/MoEToLinalg/Activations.h"
#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"
#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::moe {
#define GEN_PASS_DEF_CONVERTMOEGROUPEDFFNTOTILED
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// Rows [begin, end) of the 2-D `matrix` as a slice.
Value rowRange(OpBuilder &b, Location loc, Value matrix, Value begin,
               Value count) {
  return tensor::ExtractSliceOp::create(
      b, loc, matrix, ArrayRef<OpFoldResult>{begin, b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{count, tensor::getMixedSize(b, loc, matrix, 1)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
}

/// `matrix` with rows [begin, end) set to zero.
Value zeroRows(OpBuilder &b, Location loc, Value matrix, Value begin,
               Value end) {
  Value count = arith::SubIOp::create(b, loc, end, begin);
  Value rows = rowRange(b, loc, matrix, begin, count);
  Value zero = floatConstant(b, loc, b.getF32Type(), 0.0);
  Value zeros = linalg::FillOp::create(b, loc, zero, rows).getResult(0);
  return tensor::InsertSliceOp::create(
      b, loc, zeros, matrix, ArrayRef<OpFoldResult>{begin, b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{count, tensor::getMixedSize(b, loc, matrix, 1)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
}

/// The tiled lowering of one moe.grouped_ffn: what the patterns share.
class TiledExperts {
public:
  TiledExperts(GroupedFFNOp op, const GroupedFFNTilingOptions &options)
      : op(op), options(options) {}

  /// f32 everywhere, static weight shapes, K a multiple of the vector width
  /// and the output columns of both products multiples of their tiles.
  LogicalResult checkSupported(PatternRewriter &rewriter) const {
    auto isF32 = [](Value v) {
      return !v || cast<RankedTensorType>(v.getType()).getElementType().isF32();
    };
    for (Value v : op->getOperands())
      if (!isa<IntegerType>(
              cast<RankedTensorType>(v.getType()).getElementType()) &&
          !isF32(v))
        return rewriter.notifyMatchFailure(op, "only f32 is tiled");
    if (!op.getResult().getType().getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "only f32 is tiled");
    auto fc1 = cast<RankedTensorType>(op.getFc1Weights().getType());
    auto fc2 = cast<RankedTensorType>(op.getFc2Weights().getType());
    if (!fc1.hasStaticShape() || !fc2.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic weight shapes");
    if (Value fc3 = op.getFc3Weights())
      if (!cast<RankedTensorType>(fc3.getType()).hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic weight shapes");
    int64_t hidden = fc1.getDimSize(2), inter = fc2.getDimSize(2);
    auto divides = [](int64_t d, int64_t n) { return n % d == 0; };
    if (!divides(options.vectorWidth, hidden) ||
        !divides(options.vectorWidth, inter) ||
        !divides(options.tileN, fc2.getDimSize(1)) ||
        !divides(fc1OutTile(), inter))
      return rewriter.notifyMatchFailure(
          op, "sizes are not multiples of the vector width / tile");
    return success();
  }

  /// Folds `body` over the experts that have rows (experts without rows
  /// start no parallel loops), carrying `init`; `body` gets the expert, its
  /// first row and its row count.
  Value forEachExpert(
      OpBuilder &b, Location loc, Value init,
      function_ref<Value(OpBuilder &, Location, Value, Value, Value, Value)>
          body) const {
    Value offsets = op.getOffsets();
    Value one = indexConstant(b, loc, 1);
    return forRange(
        b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, experts()),
        init,
        [&](OpBuilder &b, Location loc, Value e,
            ValueRange carried) -> SmallVector<Value> {
          Value begin = extractAsIndex(b, loc, offsets, e);
          Value end =
              extractAsIndex(b, loc, offsets,
                             arith::AddIOp::create(b, loc, e, one).getResult());
          Value count = arith::SubIOp::create(b, loc, end, begin);
          Value hasRows =
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, count,
                                    indexConstant(b, loc, 0));
          return updateIf(
              b, loc, hasRows, carried,
              [&](OpBuilder &b, Location loc) -> SmallVector<Value> {
                return {body(b, loc, e, begin, count, carried[0])};
              });
        })[0];
  }

  /// Expert `e`'s fc1 (+ fc3) with the activation in the epilogue on the
  /// rows of `x` selected by `rows`: the activated [count, I].
  Value activated(OpBuilder &b, Location loc, Value e, Value x,
                  const ProductRows &rows) const {
    ActivationConfigAttr act = op.getActivation();
    int64_t inter = intermediate();
    Value fc1 = selectExpert(b, loc, op.getFc1Weights(), e);
    Value fc1Bias = selectExpert(b, loc, op.getFc1Bias(), e);
    // Per tile of T activated columns c + j, the weight rows of each group.
    TiledProduct product;
    product.outTile = fc1OutTile();
    product.outColumns = inter;
    int64_t tile = product.outTile;
    auto addGroup = [&](Value matrix, Value bias, int64_t scale, int64_t offset,
                        int64_t stride) {
      for (int64_t j = 0; j < tile; ++j)
        product.columns.push_back({matrix, bias, scale, offset + stride * j});
    };
    bool swiglu = act.getKind() == Activation::swiglu;
    if (swiglu && act.getLayout() == SwigluLayout::interleaved) {
      addGroup(fc1, fc1Bias, 2, 0, 2); // gate: row 2c
      addGroup(fc1, fc1Bias, 2, 1, 2); // linear: row 2c + 1
    } else if (swiglu) {
      addGroup(fc1, fc1Bias, 1, 0, 1);     // gate: row c
      addGroup(fc1, fc1Bias, 1, inter, 1); // linear: row I + c
    } else {
      addGroup(fc1, fc1Bias, 1, 0, 1);
    }
    bool gated = bool(op.getFc3Weights());
    if (gated)
      addGroup(selectExpert(b, loc, op.getFc3Weights(), e),
               selectExpert(b, loc, op.getFc3Bias(), e), 1, 0, 1);
    auto epilogue = [&](OpBuilder &b, Location loc, ValueRange groups) {
      return applyLaneWise(
          b, loc, groups, [&](OpBuilder &b, Location loc, ValueRange v) {
            Value a = swiglu ? swigluScalar(b, loc, act, v[0], v[1])
                             : activateScalar(b, loc, act.getKind(), v[0]);
            if (gated)
              a = arith::MulFOp::create(b, loc, a, v.back());
            return a;
          });
    };
    product.epilogue = epilogue;
    Value init = tensor::EmptyOp::create(
        b, loc, ArrayRef<OpFoldResult>{rows.count, b.getIndexAttr(inter)},
        b.getF32Type());
    return buildTiledProduct(b, loc, product, x, rows, init, options);
  }

  /// Expert `e`'s fc2 on the activated rows `a`, written (or scattered, see
  /// ProductRows) into `init`.
  Value fc2(OpBuilder &b, Location loc, Value e, Value a,
            const ProductRows &rows, Value init) const {
    TiledProduct product;
    product.outTile = options.tileN;
    product.outColumns = hidden();
    Value weights = selectExpert(b, loc, op.getFc2Weights(), e);
    Value bias = selectExpert(b, loc, op.getFc2Bias(), e);
    for (int64_t j = 0; j < options.tileN; ++j)
      product.columns.push_back({weights, bias, 1, j});
    return buildTiledProduct(b, loc, product, a, rows, init, options);
  }

  int64_t experts() const {
    return cast<RankedTensorType>(op.getFc1Weights().getType()).getDimSize(0);
  }
  int64_t hidden() const {
    return cast<RankedTensorType>(op.getFc2Weights().getType()).getDimSize(1);
  }
  int64_t intermediate() const {
    return cast<RankedTensorType>(op.getFc2Weights().getType()).getDimSize(2);
  }

private:
  /// Activated columns per fc1 tile: tile-n weight rows shared by the gate
  /// (and linear half) of swiglu and the fc3 row of a gated expert.
  int64_t fc1OutTile() const {
    int64_t groups =
        op.getActivation().fc1RowsPerUnit() + (op.getFc3Weights() ? 1 : 0);
    return std::max<int64_t>(1, options.tileN / groups);
  }

  // Op adaptors' getters are not const.
  mutable GroupedFFNOp op;
  const GroupedFFNTilingOptions &options;
};

/// moe.grouped_ffn: per expert, fc1 on the expert's rows, then fc2 into
/// those rows of the result.
struct TiledGroupedFFN : OpRewritePattern<GroupedFFNOp> {
  TiledGroupedFFN(MLIRContext *context, GroupedFFNTilingOptions options)
      : OpRewritePattern(context), options(options) {}

  LogicalResult matchAndRewrite(GroupedFFNOp op,
                                PatternRewriter &rewriter) const override {
    TiledExperts experts(op, options);
    if (failed(experts.checkSupported(rewriter)))
      return failure();
    Location loc = op.getLoc();
    Value rows = op.getRows(), offsets = op.getOffsets();

    // Rows outside [offsets[0], offsets[E]) belong to no FFN expert and are
    // zero; fc2 overwrites all the others.
    Value result = emptyLike(rewriter, loc, op.getResult().getType(),
                             dynamicDimSizes(rewriter, loc, rows));
    Value firstRow =
        extractAsIndex(rewriter, loc, offsets, indexConstant(rewriter, loc, 0));
    Value lastRow =
        extractAsIndex(rewriter, loc, offsets,
                       indexConstant(rewriter, loc, experts.experts()));
    result = zeroRows(rewriter, loc, result, indexConstant(rewriter, loc, 0),
                      firstRow);
    result = zeroRows(rewriter, loc, result, lastRow,
                      indexDim(rewriter, loc, rows, 0));

    result = experts.forEachExpert(
        rewriter, loc, result,
        [&](OpBuilder &b, Location loc, Value e, Value begin, Value count,
            Value result) -> Value {
          ProductRows expertRows{count, {}, {}, {}, {}};
          Value x = rowRange(b, loc, rows, begin, count);
          Value a = experts.activated(b, loc, e, x, expertRows);
          Value y = experts.fc2(b, loc, e, a, expertRows,
                                rowRange(b, loc, result, begin, count));
          return tensor::InsertSliceOp::create(
              b, loc, y, result,
              ArrayRef<OpFoldResult>{begin, b.getIndexAttr(0)},
              ArrayRef<OpFoldResult>{count, b.getIndexAttr(experts.hidden())},
              ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
        });
    rewriter.replaceOp(op, result);
    return success();
  }

  GroupedFFNTilingOptions options;
};

/// moe.combine(moe.grouped_ffn(moe.permute(x, tok)), tok, w) with the
/// grouped_ffn used only there: the experts read their rows straight from
/// x (fc1 gathers by token) and fc2 adds w * row into the combine's result
/// (scatters by token), so neither the permuted rows nor the grouped
/// result exist. The sums follow the reference order: experts in order,
/// their rows in order. Rows outside the experts' ranges contribute zero.
struct TiledExpertsCombine : OpRewritePattern<CombineOp> {
  TiledExpertsCombine(MLIRContext *context, GroupedFFNTilingOptions options)
      : OpRewritePattern(context), options(options) {}

  LogicalResult matchAndRewrite(CombineOp combine,
                                PatternRewriter &rewriter) const override {
    auto ffn = combine.getExpertRows().getDefiningOp<GroupedFFNOp>();
    if (!ffn || !ffn->hasOneUse())
      return rewriter.notifyMatchFailure(combine,
                                         "not a grouped_ffn's only use");
    auto permute = ffn.getRows().getDefiningOp<PermuteOp>();
    if (!permute || permute.getRowToken() != combine.getRowToken())
      return rewriter.notifyMatchFailure(
          combine, "rows not permuted by the same tokens");
    auto isF32 = [](Value v) {
      return cast<RankedTensorType>(v.getType()).getElementType().isF32();
    };
    if (!isF32(combine.getRowWeight()) || !isF32(combine.getInit()))
      return rewriter.notifyMatchFailure(combine, "only f32 is fused");
    TiledExperts experts(ffn, options);
    if (failed(experts.checkSupported(rewriter)))
      return failure();
    Location loc = combine.getLoc();
    Value tokens = combine.getRowToken();
    Value result = experts.forEachExpert(
        rewriter, loc, combine.getInit(),
        [&](OpBuilder &b, Location loc, Value e, Value begin, Value count,
            Value result) -> Value {
          Value a =
              experts.activated(b, loc, e, permute.getInput(),
                                ProductRows{count, tokens, {}, {}, begin});
          return experts.fc2(
              b, loc, e, a,
              ProductRows{count, {}, tokens, combine.getRowWeight(), begin},
              result);
        });
    rewriter.replaceOp(combine, result);
    return success();
  }

  GroupedFFNTilingOptions options;
};

struct ConvertMoEGroupedFFNToTiledPass
    : moe::impl::ConvertMoEGroupedFFNToTiledBase<
          ConvertMoEGroupedFFNToTiledPass> {
  using Base::Base;

  void runOnOperation() override {
    if (vectorWidth < 1 || tileRows < 1 || tileN < 1 || weightTileBytes < 1 ||
        rowSlabBytes < 0) {
      getOperation()->emitError()
          << "convert-moe-grouped-ffn-to-tiled: vector-width, tile-rows, "
             "tile-n and weight-tile-bytes must be positive, row-slab-bytes "
             "not negative";
      return signalPassFailure();
    }
    GroupedFFNTilingOptions options;
    options.vectorWidth = vectorWidth;
    options.tileRows = tileRows;
    options.tileN = tileN;
    options.prefetch = prefetch;
    options.weightTileBytes = weightTileBytes;
    options.rowSlabBytes = rowSlabBytes;
    // Only the moe ops are rewritten: nothing else is touched. The fused
    // combines first, so that their grouped_ffn is not lowered alone.
    RewritePatternSet fused(&getContext());
    fused.add<TiledExpertsCombine>(&getContext(), options);
    RewritePatternSet patterns(&getContext());
    populateGroupedFFNToTiledPatterns(patterns, options);
    if (failed(rewriteExistingOps(getOperation(), std::move(fused))) ||
        failed(rewriteExistingOps(getOperation(), std::move(patterns))))
      return signalPassFailure();
    if (approximateMath && failed(approximateVectorMath()))
      signalPassFailure();
  }

  /// The epilogues' vector exp/tanh/erf as polynomials (arith and vector
  /// ops, ~1e-7 relative error) instead of one libm call per lane. Scalar
  /// math elsewhere (routing) keeps libm.
  LogicalResult approximateVectorMath() {
    SmallVector<Operation *> vectorMath;
    getOperation()->walk([&](Operation *op) {
      if (isa<math::ExpOp, math::TanhOp, math::ErfOp>(op) &&
          isa<VectorType>(op->getResult(0).getType()))
        vectorMath.push_back(op);
    });
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return name == math::ExpOp::getOperationName() ||
             name == math::TanhOp::getOperationName() ||
             name == math::ErfOp::getOperationName();
    });
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    return applyOpPatternsGreedily(vectorMath, std::move(patterns), config);
  }
};

} // namespace

void mlir::moe::populateGroupedFFNToTiledPatterns(
    RewritePatternSet &patterns, const GroupedFFNTilingOptions &options) {
  patterns.add<TiledGroupedFFN>(patterns.getContext(), options);
}
