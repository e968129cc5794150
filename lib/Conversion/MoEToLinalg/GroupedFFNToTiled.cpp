//===- GroupedFFNToTiled.cpp - fast CPU lowering of moe.grouped_ffn -------===//
//
// moe.grouped_ffn as, for each expert e, matrix products of its rows
// [offsets[e], offsets[e+1]) with the transposed expert weights (dropless:
// only the routed rows are computed). A product X [n, K] x W^T (W [N, K],
// row-major, K contiguous) is an scf.forall over tiles of tileN output
// columns; inside, tileRows rows at a time (then one at a time), the
// reduction over K runs as vector FMAs into tileRows * tileN vector
// accumulators that are reduced horizontally once per output element. Both
// X rows and W rows are read contiguously along K, so no packing is needed.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToLinalg/GroupedFFNToTiled.h"
#include "moe/Conversion/MoEToLinalg/Activations.h"
#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"
#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::moe {
#define GEN_PASS_DEF_CONVERTMOEGROUPEDFFNTOTILED
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// A 2-D extract_slice [rowOffset, colOffset] of size [rows, cols] with
/// column stride `colStride`.
Value slice2D(OpBuilder &b, Location loc, Value source, OpFoldResult rowOffset,
              OpFoldResult colOffset, OpFoldResult rows, OpFoldResult cols,
              int64_t colStride = 1) {
  return tensor::ExtractSliceOp::create(
      b, loc, source, {rowOffset, colOffset}, {rows, cols},
      {b.getIndexAttr(1), b.getIndexAttr(colStride)});
}

struct TiledGroupedFFN : OpRewritePattern<GroupedFFNOp> {
  TiledGroupedFFN(MLIRContext *context, GroupedFFNTilingOptions options)
      : OpRewritePattern(context), options(options) {}

  LogicalResult matchAndRewrite(GroupedFFNOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkSupported(op, rewriter)))
      return failure();
    Location loc = op.getLoc();
    Value rows = op.getRows();
    Value offsets = op.getOffsets();
    auto type = op.getResult().getType();
    int64_t inter =
        cast<RankedTensorType>(op.getFc2Weights().getType()).getDimSize(2);

    Value result = filledTensor(rewriter, loc, type, 0.0,
                                dynamicDimSizes(rewriter, loc, rows));
    Value one = indexConstant(rewriter, loc, 1);
    Value grouped = forRange(
        rewriter, loc, indexConstant(rewriter, loc, 0),
        indexDim(rewriter, loc, op.getFc1Weights(), 0), result,
        [&](OpBuilder &b, Location loc, Value e,
            ValueRange carried) -> SmallVector<Value> {
          Value begin = extractAsIndex(b, loc, offsets, e);
          Value end =
              extractAsIndex(b, loc, offsets,
                             arith::AddIOp::create(b, loc, e, one).getResult());
          Value count = arith::SubIOp::create(b, loc, end, begin);
          OpFoldResult hiddenSize = tensor::getMixedSize(b, loc, rows, 1);
          Value x = slice2D(b, loc, rows, begin, b.getIndexAttr(0), count,
                            hiddenSize);

          Value h =
              product(b, loc, x, selectExpert(b, loc, op.getFc1Weights(), e),
                      selectExpert(b, loc, op.getFc1Bias(), e),
                      /*init=*/Value());
          Value a = activate(b, loc, op.getActivation(), h, count, inter);
          if (Value fc3 = op.getFc3Weights()) {
            Value up = product(b, loc, x, selectExpert(b, loc, fc3, e),
                               selectExpert(b, loc, op.getFc3Bias(), e),
                               /*init=*/Value());
            a = mapElements(b, loc, {a, up}, type.getElementType(),
                            [](OpBuilder &b, Location loc, ValueRange args) {
                              return arith::MulFOp::create(b, loc, args[0],
                                                           args[1]);
                            });
          }
          // fc2 writes straight into the expert's rows of the result.
          Value destination = slice2D(b, loc, carried[0], begin,
                                      b.getIndexAttr(0), count, hiddenSize);
          Value y =
              product(b, loc, a, selectExpert(b, loc, op.getFc2Weights(), e),
                      selectExpert(b, loc, op.getFc2Bias(), e), destination);
          Value updated = tensor::InsertSliceOp::create(
              b, loc, y, carried[0],
              ArrayRef<OpFoldResult>{begin, b.getIndexAttr(0)},
              ArrayRef<OpFoldResult>{count, hiddenSize},
              ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
          return {updated};
        })[0];
    rewriter.replaceOp(op, grouped);
    return success();
  }

private:
  /// f32 everywhere, static weight shapes, K a multiple of the vector width
  /// and N a multiple of tileN for every product.
  LogicalResult checkSupported(GroupedFFNOp op,
                               PatternRewriter &rewriter) const {
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
        !divides(options.tileN, fc1.getDimSize(1)) ||
        !divides(options.tileN, fc2.getDimSize(1)) ||
        !divides(options.tileN, inter))
      return rewriter.notifyMatchFailure(
          op, "sizes are not multiples of the vector width / tile");
    return success();
  }

  /// x [n, K] times w^T (w [N, K]) plus bias ([N], optional), into `init`
  /// ([n, N]; a fresh tensor when null).
  Value product(OpBuilder &b, Location loc, Value x, Value w, Value bias,
                Value init) const {
    auto wType = cast<RankedTensorType>(w.getType());
    int64_t n = wType.getDimSize(0), k = wType.getDimSize(1);
    Value rowCount = indexDim(b, loc, x, 0);
    if (!init)
      init = tensor::EmptyOp::create(
          b, loc, ArrayRef<OpFoldResult>{rowCount, b.getIndexAttr(n)},
          b.getF32Type());
    int64_t tileN = options.tileN;
    auto forall = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(n / tileN)},
        ValueRange{init}, /*mapping=*/std::nullopt);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forall.getBody());
    Value tileIndex = forall.getInductionVars()[0];
    Value column =
        arith::MulIOp::create(b, loc, tileIndex, indexConstant(b, loc, tileN));
    Value shared = forall.getRegionIterArgs()[0];
    Value tile = slice2D(b, loc, shared, b.getIndexAttr(0), column, rowCount,
                         b.getIndexAttr(tileN));
    Value wTile = slice2D(b, loc, w, column, b.getIndexAttr(0),
                          b.getIndexAttr(tileN), b.getIndexAttr(k));
    Value biasTile;
    if (bias)
      biasTile = tensor::ExtractSliceOp::create(
          b, loc, bias, ArrayRef<OpFoldResult>{column},
          ArrayRef<OpFoldResult>{b.getIndexAttr(tileN)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});

    // Full row tiles, then the remaining rows one at a time.
    int64_t tileRows = options.tileRows;
    Value tileRowsValue = indexConstant(b, loc, tileRows);
    Value remainder = arith::RemUIOp::create(b, loc, rowCount, tileRowsValue);
    Value mainEnd = arith::SubIOp::create(b, loc, rowCount, remainder);
    Value zero = indexConstant(b, loc, 0);
    auto rowLoop = [&](Value lb, Value ub, int64_t rowsPerStep, Value carried) {
      auto loop = scf::ForOp::create(
          b, loc, lb, ub, indexConstant(b, loc, rowsPerStep),
          ValueRange{carried},
          [&](OpBuilder &b, Location loc, Value row, ValueRange args) {
            Value updated = microKernel(b, loc, x, wTile, biasTile, args[0],
                                        row, rowsPerStep, k);
            scf::YieldOp::create(b, loc, updated);
          });
      return loop.getResult(0);
    };
    tile = rowLoop(zero, mainEnd, tileRows, tile);
    if (tileRows > 1)
      tile = rowLoop(mainEnd, rowCount, 1, tile);

    b.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(
        b, loc, tile, shared, ArrayRef<OpFoldResult>{b.getIndexAttr(0), column},
        ArrayRef<OpFoldResult>{rowCount, b.getIndexAttr(tileN)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    return forall.getResult(0);
  }

  /// Rows [row, row + rows) of the output tile ([n, tileN]): rows x tileN
  /// vector accumulators over K, reduced, biased and written as one
  /// vector<tileN> per row.
  Value microKernel(OpBuilder &b, Location loc, Value x, Value wTile,
                    Value biasTile, Value tile, Value row, int64_t rows,
                    int64_t k) const {
    int64_t width = options.vectorWidth, tileN = options.tileN;
    auto vectorType = VectorType::get({width}, b.getF32Type());
    Value padding = floatConstant(b, loc, b.getF32Type(), 0.0);
    Value zeros = arith::ConstantOp::create(
        b, loc, vectorType,
        DenseElementsAttr::get(vectorType, b.getF32FloatAttr(0.0f)));
    SmallVector<Value> rowIndices;
    for (int64_t i = 0; i < rows; ++i)
      rowIndices.push_back(
          i == 0 ? row
                 : arith::AddIOp::create(b, loc, row, indexConstant(b, loc, i))
                       .getResult());
    SmallVector<Value> inits(rows * tileN, zeros);
    auto reduction = scf::ForOp::create(
        b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, k),
        indexConstant(b, loc, width), inits,
        [&](OpBuilder &b, Location loc, Value kk, ValueRange accumulators) {
          SmallVector<Value> xs, ws;
          for (int64_t i = 0; i < rows; ++i)
            xs.push_back(vector::TransferReadOp::create(
                b, loc, vectorType, x, ValueRange{rowIndices[i], kk}, padding,
                ArrayRef<bool>{true}));
          for (int64_t j = 0; j < tileN; ++j)
            ws.push_back(vector::TransferReadOp::create(
                b, loc, vectorType, wTile,
                ValueRange{indexConstant(b, loc, j), kk}, padding,
                ArrayRef<bool>{true}));
          SmallVector<Value> next;
          for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < tileN; ++j)
              next.push_back(vector::FMAOp::create(
                  b, loc, xs[i], ws[j], accumulators[i * tileN + j]));
          scf::YieldOp::create(b, loc, next);
        });

    auto tileVectorType = VectorType::get({tileN}, b.getF32Type());
    Value biasVector;
    if (biasTile)
      biasVector = vector::TransferReadOp::create(
          b, loc, tileVectorType, biasTile,
          ValueRange{indexConstant(b, loc, 0)}, padding, ArrayRef<bool>{true});
    for (int64_t i = 0; i < rows; ++i) {
      SmallVector<Value> sums;
      for (int64_t j = 0; j < tileN; ++j)
        sums.push_back(
            vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                        reduction.getResult(i * tileN + j)));
      Value out = vector::FromElementsOp::create(b, loc, tileVectorType, sums);
      if (biasVector)
        out = arith::AddFOp::create(b, loc, out, biasVector);
      tile = vector::TransferWriteOp::create(
                 b, loc, out, tile,
                 ValueRange{rowIndices[i], indexConstant(b, loc, 0)},
                 ArrayRef<bool>{true})
                 .getResult();
    }
    return tile;
  }

  /// The activation of fc1's output h ([n, f*I]), giving [n, I]; swiglu's
  /// gate and linear halves are strided (interleaved) or contiguous
  /// (concatenated) column slices of h.
  static Value activate(OpBuilder &b, Location loc, ActivationConfigAttr act,
                        Value h, Value count, int64_t inter) {
    Type type = cast<RankedTensorType>(h.getType()).getElementType();
    if (act.getKind() != Activation::swiglu)
      return mapElements(
          b, loc, h, type, [&](OpBuilder &b, Location loc, ValueRange args) {
            return activateScalar(b, loc, act.getKind(), args[0]);
          });
    bool interleaved = act.getLayout() == SwigluLayout::interleaved;
    int64_t stride = interleaved ? 2 : 1;
    int64_t linStart = interleaved ? 1 : inter;
    Value gate = slice2D(b, loc, h, b.getIndexAttr(0), b.getIndexAttr(0), count,
                         b.getIndexAttr(inter), stride);
    Value lin = slice2D(b, loc, h, b.getIndexAttr(0), b.getIndexAttr(linStart),
                        count, b.getIndexAttr(inter), stride);
    return mapElements(b, loc, {gate, lin}, type,
                       [&](OpBuilder &b, Location loc, ValueRange args) {
                         return swigluScalar(b, loc, act, args[0], args[1]);
                       });
  }

  GroupedFFNTilingOptions options;
};

struct ConvertMoEGroupedFFNToTiledPass
    : moe::impl::ConvertMoEGroupedFFNToTiledBase<
          ConvertMoEGroupedFFNToTiledPass> {
  using Base::Base;

  void runOnOperation() override {
    if (vectorWidth < 1 || tileRows < 1 || tileN < 1) {
      getOperation()->emitError()
          << "convert-moe-grouped-ffn-to-tiled: vector-width, tile-rows and "
             "tile-n must be positive";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateGroupedFFNToTiledPatterns(
        patterns, GroupedFFNTilingOptions{vectorWidth, tileRows, tileN});
    // Only the grouped_ffn ops are rewritten: nothing else is touched.
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace

void mlir::moe::populateGroupedFFNToTiledPatterns(
    RewritePatternSet &patterns, const GroupedFFNTilingOptions &options) {
  patterns.add<TiledGroupedFFN>(patterns.getContext(), options);
}
