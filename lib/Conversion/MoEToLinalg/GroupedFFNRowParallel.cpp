//===- GroupedFFNRowParallel.cpp - grouped_ffn as gathered products -------===//
//
// moe.grouped_ffn without a loop over experts: each row finds its expert
// from the offsets (on the device, no token count leaves it), and every
// product is one linalg.generic over (row, output column, reduction) that
// reads the row's expert's weights with tensor.extract. Every output element
// is independent, so after bufferisation the products are parallel loops
// over all rows and columns at once: the shape a GPU grid wants, where the
// reference lowering's per-expert loop would run in one thread.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToLinalg/GroupedFFNRowParallel.h"
#include "moe/Conversion/MoEToLinalg/Activations.h"
#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"
#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

namespace mlir::moe {
#define GEN_PASS_DEF_CONVERTMOEGROUPEDFFNTOROWPARALLEL
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

using utils::IteratorType;

/// The generic's body builder: (builder, loc, block arguments).
using BodyBuilder =
    function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// A linalg.generic with indexing maps `maps` (inputs then output),
/// iterators `iterators`, writing into `init`; the body yields `body(args)`.
Value generic(OpBuilder &b, Location loc, ValueRange inputs, Value init,
              ArrayRef<AffineMap> maps, ArrayRef<IteratorType> iterators,
              BodyBuilder body) {
  auto op = linalg::GenericOp::create(
      b, loc, init.getType(), inputs, init, maps, iterators,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        linalg::YieldOp::create(b, loc, body(b, loc, args));
      });
  return op.getResult(0);
}

/// The row's expert as an index clamped to a valid one (rows past the FFN
/// experts compute garbage that the final mask drops).
Value clampedExpert(OpBuilder &b, Location loc, Value expert,
                    int64_t experts) {
  Value index = arith::IndexCastOp::create(b, loc, b.getIndexType(), expert);
  return arith::MinUIOp::create(b, loc, index,
                                indexConstant(b, loc, experts - 1));
}

/// x [N, K] times the row's expert's w^T (w [E, M, K]) plus its bias
/// ([E, M], optional): [N, M].
Value gatheredProduct(OpBuilder &b, Location loc, Value x, Value w, Value bias,
                      Value experts, Value rowCount) {
  MLIRContext *context = b.getContext();
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t numExperts = wType.getDimSize(0), m = wType.getDimSize(1);
  auto type = RankedTensorType::get({ShapedType::kDynamic, m},
                                    wType.getElementType());

  // The init is the bias of the row's expert (or zero).
  AffineExpr r, n, k;
  bindDims(context, r, n, k);
  Value empty = tensor::EmptyOp::create(b, loc, type, ValueRange{rowCount});
  Value init =
      generic(b, loc, experts, empty,
              {AffineMap::get(2, 0, {r}, context),
               AffineMap::getMultiDimIdentityMap(2, context)},
              {IteratorType::parallel, IteratorType::parallel},
              [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
                if (!bias)
                  return floatConstant(b, loc, type.getElementType(), 0.0);
                Value e = clampedExpert(b, loc, args[0], numExperts);
                Value column = linalg::IndexOp::create(b, loc, 1);
                return tensor::ExtractOp::create(b, loc, bias,
                                                 ValueRange{e, column});
              });
  return generic(
      b, loc, ValueRange{x, experts}, init,
      {AffineMap::get(3, 0, {r, k}, context), AffineMap::get(3, 0, {r}, context),
       AffineMap::get(3, 0, {r, n}, context)},
      {IteratorType::parallel, IteratorType::parallel, IteratorType::reduction},
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        Value e = clampedExpert(b, loc, args[1], numExperts);
        Value weight = tensor::ExtractOp::create(
            b, loc, w,
            ValueRange{e, linalg::IndexOp::create(b, loc, 1),
                       linalg::IndexOp::create(b, loc, 2)});
        Value product = arith::MulFOp::create(b, loc, args[0], weight);
        return arith::AddFOp::create(b, loc, args[2], product);
      });
}

/// Column slice [offset, offset + size) with stride `stride` of h [N, *].
Value columns(OpBuilder &b, Location loc, Value h, Value rowCount,
              int64_t offset, int64_t size, int64_t stride) {
  return tensor::ExtractSliceOp::create(
      b, loc, h, ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(offset)},
      ArrayRef<OpFoldResult>{rowCount, b.getIndexAttr(size)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(stride)});
}

/// The activation of h [N, f*I], giving [N, I]; swiglu's halves are strided
/// (interleaved) or contiguous (concatenated) column slices.
Value activate(OpBuilder &b, Location loc, ActivationConfigAttr act, Value h,
               Value rowCount, int64_t inter) {
  Type type = cast<RankedTensorType>(h.getType()).getElementType();
  if (act.getKind() != Activation::swiglu)
    return mapElements(b, loc, h, type,
                       [&](OpBuilder &b, Location loc, ValueRange args) {
                         return activateScalar(b, loc, act.getKind(), args[0]);
                       });
  bool interleaved = act.getLayout() == SwigluLayout::interleaved;
  int64_t stride = interleaved ? 2 : 1;
  Value gate = columns(b, loc, h, rowCount, 0, inter, stride);
  Value lin = columns(b, loc, h, rowCount, interleaved ? 1 : inter, inter,
                      stride);
  return mapElements(b, loc, {gate, lin}, type,
                     [&](OpBuilder &b, Location loc, ValueRange args) {
                       return swigluScalar(b, loc, act, args[0], args[1]);
                     });
}

struct RowParallelGroupedFFN : OpRewritePattern<GroupedFFNOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GroupedFFNOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getResult().getType().getElementType().isF32() ||
        llvm::any_of(op->getOperands(), [](Value v) {
          auto type = cast<RankedTensorType>(v.getType());
          return isa<FloatType>(type.getElementType()) &&
                 !type.getElementType().isF32();
        }))
      return rewriter.notifyMatchFailure(op, "only f32 is row-parallel");
    auto fc1 = cast<RankedTensorType>(op.getFc1Weights().getType());
    auto fc2 = cast<RankedTensorType>(op.getFc2Weights().getType());
    if (!fc1.hasStaticShape() || !fc2.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic weight shapes");

    Location loc = op.getLoc();
    Value rows = op.getRows();
    int64_t experts = fc1.getDimSize(0), inter = fc2.getDimSize(2);
    Value rowCount = indexDim(rewriter, loc, rows, 0);
    Value rowExpert =
        rowExperts(rewriter, loc, op.getOffsets(), rowCount, experts);

    Value h = gatheredProduct(rewriter, loc, rows, op.getFc1Weights(),
                              op.getFc1Bias(), rowExpert, rowCount);
    Value a = activate(rewriter, loc, op.getActivation(), h, rowCount, inter);
    if (Value fc3 = op.getFc3Weights()) {
      Value up = gatheredProduct(rewriter, loc, rows, fc3, op.getFc3Bias(),
                                 rowExpert, rowCount);
      a = mapElements(rewriter, loc, {a, up}, rewriter.getF32Type(),
                      [](OpBuilder &b, Location loc, ValueRange args) {
                        return arith::MulFOp::create(b, loc, args[0], args[1]);
                      });
    }
    Value y = gatheredProduct(rewriter, loc, a, op.getFc2Weights(),
                              op.getFc2Bias(), rowExpert, rowCount);

    // Rows past the FFN experts (special experts, padding) are zero.
    MLIRContext *context = rewriter.getContext();
    AffineExpr r, c;
    bindDims(context, r, c);
    Value masked = generic(
        rewriter, loc, rowExpert, y,
        {AffineMap::get(2, 0, {r}, context),
         AffineMap::getMultiDimIdentityMap(2, context)},
        {IteratorType::parallel, IteratorType::parallel},
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value inFFN = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::slt, args[0],
              i32Constant(b, loc, experts));
          return arith::SelectOp::create(
              b, loc, inFFN, args[1],
              floatConstant(b, loc, rewriter.getF32Type(), 0.0));
        });
    rewriter.replaceOp(op, tensor::CastOp::create(
                               rewriter, loc, op.getResult().getType(),
                               masked));
    return success();
  }
};

struct ConvertMoEGroupedFFNToRowParallelPass
    : moe::impl::ConvertMoEGroupedFFNToRowParallelBase<
          ConvertMoEGroupedFFNToRowParallelPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateGroupedFFNToRowParallelPatterns(patterns);
    if (failed(rewriteExistingOps(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::moe::populateGroupedFFNToRowParallelPatterns(
    RewritePatternSet &patterns) {
  patterns.add<RowParallelGroupedFFN>(patterns.getContext());
}

Value mlir::moe::rowExperts(OpBuilder &b, Location loc, Value offsets,
                            Value rowCount, int64_t experts) {
  MLIRContext *context = b.getContext();
  Type i32 = b.getI32Type();
  Value ends = tensor::ExtractSliceOp::create(
      b, loc, offsets, ArrayRef<OpFoldResult>{b.getIndexAttr(1)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(experts)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  auto type = RankedTensorType::get({ShapedType::kDynamic}, i32);
  Value init = filledTensor(b, loc, type, 0.0, {rowCount});
  AffineExpr r, e;
  bindDims(context, r, e);
  return generic(
      b, loc, ends, init,
      {AffineMap::get(2, 0, {e}, context), AffineMap::get(2, 0, {r}, context)},
      {IteratorType::parallel, IteratorType::reduction},
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        Value row = arith::IndexCastOp::create(
            b, loc, i32, linalg::IndexOp::create(b, loc, 0));
        Value past = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle,
                                           args[0], row);
        Value step = arith::ExtUIOp::create(b, loc, i32, past);
        return arith::AddIOp::create(b, loc, args[1], step);
      });
}
