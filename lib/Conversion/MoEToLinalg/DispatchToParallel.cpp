//===- DispatchToParallel.cpp - parallel CPU lowering of permute/combine --===//
//
// moe.permute and moe.combine as scf.forall loops (OpenMP threads on the
// CPU) with vector bodies: permute in parallel over the rows it writes,
// combine over column blocks of the tokens (each block is owned by one
// thread, which adds the rows in row order, as the reference lowering does,
// so the result is the same to the bit). Unsupported forms are left to the
// reference lowering.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToLinalg/GroupedFFNToTiled.h"
#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"
#include "moe/Dialect/MoE/IR/MoE.h"


namespace mlir::moe {
#define GEN_PASS_DEF_CONVERTMOEDISPATCHTOPARALLEL
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// The widest vector of at most 16 lanes whose width divides `size`.
int64_t lanesFor(int64_t size) {
  int64_t lanes = 16;
  while (size % lanes != 0)
    lanes /= 2;
  return lanes;
}

/// A zero vector of `type`.
Value zeroVector(OpBuilder &b, Location loc, VectorType type) {
  return arith::ConstantOp::create(
      b, loc, type,
      DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), 0.0)));
}

/// `scf.for c = 0 to size step lanes` carrying `init`.
Value forVectors(
    OpBuilder &b, Location loc, int64_t size, int64_t lanes, Value init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> body) {
  auto loop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, size),
      indexConstant(b, loc, lanes), ValueRange{init},
      [&](OpBuilder &b, Location loc, Value c, ValueRange carried) {
        scf::YieldOp::create(b, loc, body(b, loc, c, carried[0]));
      });
  return loop.getResult(0);
}

/// An scf.forall over `count` iterations writing into `init`; `body` gets
/// the iteration and the shared output and returns the slice it wrote
/// together with that slice's offsets and sizes.
struct SliceWrite {
  Value value;
  SmallVector<OpFoldResult> offsets, sizes;
};
Value forallSlices(
    OpBuilder &b, Location loc, OpFoldResult count, Value init,
    function_ref<SliceWrite(OpBuilder &, Location, Value, Value)> body) {
  auto forall = scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{count},
                                      ValueRange{init},
                                      /*mapping=*/std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  SliceWrite write =
      body(b, loc, forall.getInductionVars()[0], forall.getRegionIterArgs()[0]);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(
      b, loc, write.value, forall.getRegionIterArgs()[0], write.offsets,
      write.sizes,
      SmallVector<OpFoldResult>(write.offsets.size(), b.getIndexAttr(1)));
  return forall.getResult(0);
}

/// result[i] = input[row_token[i]], zeros for padding rows: one parallel
/// iteration per row, each writing its row once.
struct ParallelPermute : OpRewritePattern<PermuteOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PermuteOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getResult().getType();
    int64_t width = type.getDimSize(1);
    if (ShapedType::isDynamic(width))
      return rewriter.notifyMatchFailure(op, "dynamic row width");
    Location loc = op.getLoc();
    Value input = op.getInput(), rowToken = op.getRowToken();
    Value rows = indexDim(rewriter, loc, rowToken, 0);
    SmallVector<Value> dynamicSizes;
    if (type.isDynamicDim(0))
      dynamicSizes.push_back(rows);
    Value empty = emptyLike(rewriter, loc, type, dynamicSizes);
    int64_t lanes = lanesFor(width);
    auto vectorType = VectorType::get({lanes}, type.getElementType());

    Value result = forallSlices(
        rewriter, loc, rows, empty,
        [&](OpBuilder &b, Location loc, Value i, Value shared) -> SliceWrite {
          SmallVector<OpFoldResult> offsets = {i, b.getIndexAttr(0)};
          SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                             b.getIndexAttr(width)};
          Value row = tensor::ExtractSliceOp::create(
              b, loc, shared, offsets, sizes,
              SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
          Value token = tensor::ExtractOp::create(b, loc, rowToken, i);
          Value isRow = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::sge, token,
              arith::ConstantOp::create(b, loc,
                                        b.getIntegerAttr(token.getType(), 0)));
          Value zero = indexConstant(b, loc, 0);
          auto ifOp = scf::IfOp::create(
              b, loc, isRow,
              [&](OpBuilder &b, Location loc) {
                Value t =
                    arith::IndexCastOp::create(b, loc, b.getIndexType(), token);
                Value padding = floatConstant(b, loc, type.getElementType(), 0);
                scf::YieldOp::create(
                    b, loc,
                    forVectors(b, loc, width, lanes, row,
                               [&](OpBuilder &b, Location loc, Value c,
                                   Value row) -> Value {
                                 Value v = vector::TransferReadOp::create(
                                     b, loc, vectorType, input,
                                     ValueRange{t, c}, padding,
                                     ArrayRef<bool>{true});
                                 return vector::TransferWriteOp::create(
                                            b, loc, v, row, ValueRange{zero, c},
                                            ArrayRef<bool>{true})
                                     .getResult();
                               }));
              },
              [&](OpBuilder &b, Location loc) {
                Value zeros = zeroVector(b, loc, vectorType);
                scf::YieldOp::create(
                    b, loc,
                    forVectors(b, loc, width, lanes, row,
                               [&](OpBuilder &b, Location loc, Value c,
                                   Value row) -> Value {
                                 return vector::TransferWriteOp::create(
                                            b, loc, zeros, row,
                                            ValueRange{zero, c},
                                            ArrayRef<bool>{true})
                                     .getResult();
                               }));
              });
          return {ifOp.getResult(0), offsets, sizes};
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// result = init; result[t] += w * expert_rows[i] for the rows i of token
/// t, in row order: parallel over column blocks, each walking all rows.
struct ParallelCombine : OpRewritePattern<CombineOp> {
  using OpRewritePattern::OpRewritePattern;

  /// Columns per parallel block: 128 (512 bytes of f32 per row) when they
  /// divide the width.
  static constexpr int64_t kBlock = 128;

  LogicalResult matchAndRewrite(CombineOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getResult().getType();
    int64_t width = type.getDimSize(1);
    auto isF32 = [](Value v) {
      return cast<RankedTensorType>(v.getType()).getElementType().isF32();
    };
    if (!isF32(op.getExpertRows()) || !isF32(op.getRowWeight()) ||
        !type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "only f32 is parallelised");
    if (ShapedType::isDynamic(width) ||
        cast<RankedTensorType>(op.getExpertRows().getType()).getDimSize(1) !=
            width)
      return rewriter.notifyMatchFailure(op, "dynamic row width");
    Location loc = op.getLoc();
    Value expertRows = op.getExpertRows(), rowToken = op.getRowToken();
    Value rowWeight = op.getRowWeight();
    int64_t block = width % kBlock == 0 ? kBlock : width;
    int64_t lanes = lanesFor(block);
    auto vectorType = VectorType::get({lanes}, rewriter.getF32Type());
    Value tokens = indexDim(rewriter, loc, op.getInit(), 0);
    Value rows = indexDim(rewriter, loc, rowToken, 0);

    Value result = forallSlices(
        rewriter, loc, rewriter.getIndexAttr(width / block), op.getInit(),
        [&](OpBuilder &b, Location loc, Value blockIndex,
            Value shared) -> SliceWrite {
          Value first = arith::MulIOp::create(b, loc, blockIndex,
                                              indexConstant(b, loc, block));
          SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), first};
          SmallVector<OpFoldResult> sizes = {tokens, b.getIndexAttr(block)};
          Value tile = tensor::ExtractSliceOp::create(
              b, loc, shared, offsets, sizes,
              SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
          Value padding = floatConstant(b, loc, b.getF32Type(), 0);
          Value combined = forRange(
              b, loc, indexConstant(b, loc, 0), rows, tile,
              [&](OpBuilder &b, Location loc, Value i, ValueRange carried) {
                Value token = tensor::ExtractOp::create(b, loc, rowToken, i);
                Value isRow = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::sge, token,
                    arith::ConstantOp::create(
                        b, loc, b.getIntegerAttr(token.getType(), 0)));
                return updateIf(
                    b, loc, isRow, carried,
                    [&](OpBuilder &b, Location loc) -> SmallVector<Value> {
                      Value t = arith::IndexCastOp::create(
                          b, loc, b.getIndexType(), token);
                      Value weight = vector::BroadcastOp::create(
                          b, loc, vectorType,
                          tensor::ExtractOp::create(b, loc, rowWeight, i));
                      return {forVectors(
                          b, loc, block, lanes, carried[0],
                          [&](OpBuilder &b, Location loc, Value c,
                              Value tile) -> Value {
                            Value column =
                                arith::AddIOp::create(b, loc, first, c);
                            Value row = vector::TransferReadOp::create(
                                b, loc, vectorType, expertRows,
                                ValueRange{i, column}, padding,
                                ArrayRef<bool>{true});
                            Value sum = vector::TransferReadOp::create(
                                b, loc, vectorType, tile, ValueRange{t, c},
                                padding, ArrayRef<bool>{true});
                            Value scaled =
                                arith::MulFOp::create(b, loc, weight, row);
                            sum = arith::AddFOp::create(b, loc, sum, scaled);
                            return vector::TransferWriteOp::create(
                                       b, loc, sum, tile, ValueRange{t, c},
                                       ArrayRef<bool>{true})
                                .getResult();
                          })};
                    });
              })[0];
          return {combined, offsets, sizes};
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ConvertMoEDispatchToParallelPass
    : moe::impl::ConvertMoEDispatchToParallelBase<
          ConvertMoEDispatchToParallelPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateDispatchToParallelPatterns(patterns);
    if (failed(rewriteExistingOps(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::moe::populateDispatchToParallelPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ParallelPermute, ParallelCombine>(patterns.getContext());
}
