//===- DispatchToLinalg.cpp - reference lowering of the ragged layout -----===//
//
// moe.dispatch, moe.permute and moe.combine become scalar scf.for loops that
// carry their result tensors as iter_args and follow the op descriptions
// statement by statement. This is the semantic oracle of the compiler: it
// is meant to be obviously correct, not fast.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"
#include "moe/Conversion/MoEToLinalg/MoEToLinalg.h"
#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::moe;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// The dynamic sizes of a tensor of `type` whose dimension d has the size
/// `sizes[d]`: what tensor.empty needs for the dynamic dimensions only.
SmallVector<Value> dynamicSizesOf(RankedTensorType type, ValueRange sizes) {
  SmallVector<Value> dynamic;
  for (int64_t d = 0, e = type.getRank(); d < e; ++d)
    if (type.isDynamicDim(d))
      dynamic.push_back(sizes[d]);
  return dynamic;
}

/// Visits the assignments (t, s) of `expertIds : [T, k]` in token-then-slot
/// order, the order that fixes the ragged layout. `body` gets the token, the
/// slot, the expert id (i32) and the carried values, and returns the values
/// to carry on.
using AssignmentBody = function_ref<SmallVector<Value>(
    OpBuilder &, Location, Value, Value, Value, ValueRange)>;

SmallVector<Value> forEachAssignment(OpBuilder &b, Location loc,
                                     Value expertIds, ValueRange inits,
                                     AssignmentBody body) {
  Value zero = indexConstant(b, loc, 0);
  Value tokens = indexDim(b, loc, expertIds, 0);
  Value slots = indexDim(b, loc, expertIds, 1);
  return forRange(
      b, loc, zero, tokens, inits,
      [&](OpBuilder &b, Location loc, Value token, ValueRange carried) {
        return forRange(
            b, loc, zero, slots, carried,
            [&](OpBuilder &b, Location loc, Value slot, ValueRange carried) {
              Value expert = tensor::ExtractOp::create(b, loc, expertIds,
                                                       ValueRange{token, slot});
              return body(b, loc, token, slot, expert, carried);
            });
      });
}

/// `tensor[index] + 1` written back to `tensor[index]` (an i32 counter).
Value incrementAt(OpBuilder &b, Location loc, Value tensor, Value index) {
  Value count = tensor::ExtractOp::create(b, loc, tensor, index);
  Value next = arith::AddIOp::create(b, loc, count, i32Constant(b, loc, 1));
  return tensor::InsertOp::create(b, loc, next, tensor, index);
}

/// Counts the valid assignments of every expert: an i32 tensor [E].
Value countAssignments(OpBuilder &b, Location loc, Value expertIds,
                       int64_t numExperts) {
  auto type = RankedTensorType::get({numExperts}, b.getI32Type());
  Value counts = filledTensor(b, loc, type, 0);
  return forEachAssignment(
      b, loc, expertIds, counts,
      [&](OpBuilder &b, Location loc, Value, Value, Value expert,
          ValueRange carried) {
        return updateIf(
            b, loc, isValidExpert(b, loc, expert, numExperts), carried,
            [&](OpBuilder &b, Location loc) -> SmallVector<Value> {
              Value e =
                  arith::IndexCastOp::create(b, loc, b.getIndexType(), expert);
              return {incrementAt(b, loc, carried[0], e)};
            });
      })[0];
}

/// offsets[0] = 0, offsets[e + 1] = offsets[e] + kept[e].
Value exclusivePrefixSum(OpBuilder &b, Location loc, Value kept,
                         int64_t numExperts, RankedTensorType offsetsType) {
  Value offsets = filledTensor(
      b, loc, offsetsType, 0,
      dynamicSizesOf(offsetsType, indexConstant(b, loc, numExperts + 1)));
  Value one = indexConstant(b, loc, 1);
  return forRange(
      b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, numExperts),
      offsets,
      [&](OpBuilder &b, Location loc, Value e,
          ValueRange carried) -> SmallVector<Value> {
        Value start = tensor::ExtractOp::create(b, loc, carried[0], e);
        Value count = tensor::ExtractOp::create(b, loc, kept, e);
        Value end = arith::AddIOp::create(b, loc, start, count);
        Value next = arith::AddIOp::create(b, loc, e, one);
        return {tensor::InsertOp::create(b, loc, end, carried[0], next)};
      })[0];
}

//===----------------------------------------------------------------------===//
// moe.dispatch
//===----------------------------------------------------------------------===//

/// Two passes over the assignments: the first counts the rows of every
/// expert (clamped to the capacity), the prefix sum of the counts gives the
/// offsets, and the second writes each kept assignment at
/// `offsets[e] + (rows of e written so far)`. Rows past `offsets[E]` keep
/// their initial padding (token -1, weight 0).
struct DispatchOpLowering : OpConversionPattern<DispatchOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DispatchOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value ids = adaptor.getExpertIds();
    Value weights = adaptor.getWeights();
    int64_t numExperts = op.getNumExperts();

    Value capacity;
    if (std::optional<APFloat> factor = op.getCapacityFactor())
      capacity = buildCapacity(rewriter, loc, ids, factor->convertToDouble(),
                               numExperts);

    Value kept = countAssignments(rewriter, loc, ids, numExperts);
    if (capacity)
      kept = mapElements(rewriter, loc, kept, rewriter.getI32Type(),
                         [&](OpBuilder &b, Location loc, ValueRange args) {
                           return arith::MinSIOp::create(b, loc, args[0],
                                                         capacity);
                         });
    Value offsets = exclusivePrefixSum(rewriter, loc, kept, numExperts,
                                       op.getOffsets().getType());

    // Padding everywhere, then the kept assignments on top.
    Value rows =
        arith::MulIOp::create(rewriter, loc, indexDim(rewriter, loc, ids, 0),
                              indexDim(rewriter, loc, ids, 1));
    auto tokenType = op.getRowToken().getType();
    auto weightType = op.getRowWeight().getType();
    Value rowToken = filledTensor(rewriter, loc, tokenType, -1,
                                  dynamicSizesOf(tokenType, rows));
    Value rowWeight = filledTensor(rewriter, loc, weightType, 0.0,
                                   dynamicSizesOf(weightType, rows));
    Value written = filledTensor(
        rewriter, loc,
        RankedTensorType::get({numExperts}, rewriter.getI32Type()), 0);

    SmallVector<Value> results = forEachAssignment(
        rewriter, loc, ids, {rowToken, rowWeight, written},
        [&](OpBuilder &b, Location loc, Value token, Value slot, Value expert,
            ValueRange carried) {
          return updateIf(
              b, loc, isValidExpert(b, loc, expert, numExperts), carried,
              [&](OpBuilder &b, Location loc) {
                Value e = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                                     expert);
                Value rank = tensor::ExtractOp::create(b, loc, carried[2], e);
                auto place = [&](OpBuilder &b,
                                 Location loc) -> SmallVector<Value> {
                  Value start = tensor::ExtractOp::create(b, loc, offsets, e);
                  Value position = arith::IndexCastOp::create(
                      b, loc, b.getIndexType(),
                      arith::AddIOp::create(b, loc, start, rank));
                  Value tokenI32 =
                      arith::IndexCastOp::create(b, loc, b.getI32Type(), token);
                  Value weight = tensor::ExtractOp::create(
                      b, loc, weights, ValueRange{token, slot});
                  return {tensor::InsertOp::create(b, loc, tokenI32, carried[0],
                                                   position),
                          tensor::InsertOp::create(b, loc, weight, carried[1],
                                                   position),
                          incrementAt(b, loc, carried[2], e)};
                };
                if (!capacity)
                  return place(b, loc);
                // Past the capacity: the assignment is dropped.
                Value fits = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::slt, rank, capacity);
                return updateIf(b, loc, fits, carried, place);
              });
        });
    rewriter.replaceOp(op, {results[0], results[1], offsets});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// moe.permute
//===----------------------------------------------------------------------===//

/// Folds `body` over the rows i of the ragged layout whose `row_token[i]` is
/// a token (>= 0; padding rows are skipped), in row order, carrying one
/// tensor from `init`. `body` gets the row and its token as indices.
Value forEachRoutedRow(OpBuilder &b, Location loc, Value rowToken, Value init,
                       function_ref<Value(OpBuilder &, Location, Value row,
                                          Value token, Value carried)>
                           body) {
  return forRange(
      b, loc, indexConstant(b, loc, 0), indexDim(b, loc, rowToken, 0), init,
      [&](OpBuilder &b, Location loc, Value i, ValueRange carried) {
        Value token = tensor::ExtractOp::create(b, loc, rowToken, i);
        Value isRow = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                            token, i32Constant(b, loc, 0));
        return updateIf(b, loc, isRow, carried,
                        [&](OpBuilder &b, Location loc) -> SmallVector<Value> {
                          Value t = arith::IndexCastOp::create(
                              b, loc, b.getIndexType(), token);
                          return {body(b, loc, i, t, carried[0])};
                        });
      })[0];
}

/// result = zeros; result[i] = input[row_token[i]] for every non-padding row.
struct PermuteOpLowering : OpConversionPattern<PermuteOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PermuteOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    Value rowToken = adaptor.getRowToken();
    auto type = op.getResult().getType();
    Value rows = indexDim(rewriter, loc, rowToken, 0);
    Value result = filledTensor(
        rewriter, loc, type, 0.0,
        dynamicSizesOf(type, {rows, indexDim(rewriter, loc, input, 1)}));

    Value permuted = forEachRoutedRow(
        rewriter, loc, rowToken, result,
        [&](OpBuilder &b, Location loc, Value i, Value t, Value carried) {
          return insertRow(b, loc, extractRow(b, loc, input, t), carried, i);
        });
    rewriter.replaceOp(op, permuted);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// moe.combine
//===----------------------------------------------------------------------===//

/// result = init; result[t] += w * expert_rows[i] for every row i of token
/// t >= 0, in row order. The weight is cast to the rows' element type.
struct CombineOpLowering : OpConversionPattern<CombineOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(CombineOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value expertRows = adaptor.getExpertRows();
    Value rowToken = adaptor.getRowToken();
    Value rowWeight = adaptor.getRowWeight();
    Type elementType = op.getResult().getType().getElementType();

    Value combined = forEachRoutedRow(
        rewriter, loc, rowToken, adaptor.getInit(),
        [&](OpBuilder &b, Location loc, Value i, Value t, Value carried) {
          Value weight = castWeight(
              b, loc, tensor::ExtractOp::create(b, loc, rowWeight, i),
              elementType);
          Value sum = mapElements(
              b, loc,
              {extractRow(b, loc, carried, t),
               extractRow(b, loc, expertRows, i)},
              elementType, [&](OpBuilder &b, Location loc, ValueRange args) {
                Value scaled = arith::MulFOp::create(b, loc, weight, args[1]);
                return arith::AddFOp::create(b, loc, args[0], scaled);
              });
          return insertRow(b, loc, sum, carried, t);
        });
    rewriter.replaceOp(op, combined);
    return success();
  }
};

} // namespace

void mlir::moe::populateDispatchToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<DispatchOpLowering, PermuteOpLowering, CombineOpLowering>(
      patterns.getContext());
}
