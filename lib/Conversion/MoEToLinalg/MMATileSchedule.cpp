//===- MMATileSchedule.cpp - expert-aligned row tiles ---------------------===//
//
// Every quantity is a small reduction or element-wise linalg.generic over
// the offsets, so it runs on the device: no token count reaches the host.
//
//===----------------------------------------------------------------------===//

#include "MMATileSchedule.h"

#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::mma;

using utils::IteratorType;

namespace {

Value i32At(OpBuilder &b, Location loc, Value tensor, Value index) {
  return tensor::ExtractOp::create(b, loc, tensor, index);
}

Value asIndex(OpBuilder &b, Location loc, Value i32) {
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), i32);
}

/// ceil(count / tileRows) for an i32 count >= 0.
Value tilesOf(OpBuilder &b, Location loc, Value count, int64_t tileRows) {
  Value rounded = arith::AddIOp::create(b, loc, count,
                                        i32Constant(b, loc, tileRows - 1));
  return arith::DivSIOp::create(b, loc, rounded,
                                i32Constant(b, loc, tileRows));
}

/// Rows of expert `e` (index): offsets[e + 1] - offsets[e], as i32.
Value expertRows(OpBuilder &b, Location loc, Value offsets, Value e) {
  Value next = arith::AddIOp::create(b, loc, e, indexConstant(b, loc, 1));
  return arith::SubIOp::create(b, loc, i32At(b, loc, offsets, next),
                               i32At(b, loc, offsets, e));
}

/// A reduction over (i, j) into a zero-initialised [size] i32 tensor:
/// out[i] += term(i, j), j over the `reduced` input's elements.
Value countInto(OpBuilder &b, Location loc, Value reduced, Value size,
                function_ref<Value(OpBuilder &, Location, Value)> term) {
  MLIRContext *context = b.getContext();
  auto type = RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type());
  Value init = filledTensor(b, loc, type, 0.0, {size});
  AffineExpr i, j;
  bindDims(context, i, j);
  auto op = linalg::GenericOp::create(
      b, loc, type, reduced, init,
      ArrayRef<AffineMap>{AffineMap::get(2, 0, {j}, context),
                          AffineMap::get(2, 0, {i}, context)},
      ArrayRef<IteratorType>{IteratorType::parallel, IteratorType::reduction},
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value sum = arith::AddIOp::create(b, loc, args[1],
                                          term(b, loc, args[0]));
        linalg::YieldOp::create(b, loc, sum);
      });
  return op.getResult(0);
}

} // namespace

Value mma::clampedExpertIndex(OpBuilder &b, Location loc, Value expertI32,
                              int64_t experts) {
  return arith::MinUIOp::create(b, loc, asIndex(b, loc, expertI32),
                                indexConstant(b, loc, experts - 1));
}

std::pair<Value, Value> mma::expertStarts(OpBuilder &b, Location loc,
                                          const TileSchedule &schedule,
                                          Value expert) {
  Value tiles = tilesOf(b, loc, expertRows(b, loc, schedule.offsets, expert),
                        schedule.tileRows);
  Value firstTile = arith::SubIOp::create(
      b, loc, i32At(b, loc, schedule.tileEnds, expert), tiles);
  Value firstPadded =
      arith::MulIOp::create(b, loc, asIndex(b, loc, firstTile),
                            indexConstant(b, loc, schedule.tileRows));
  return {firstPadded, asIndex(b, loc, i32At(b, loc, schedule.offsets, expert))};
}

TileSchedule mma::buildTileSchedule(OpBuilder &b, Location loc, Value offsets,
                                    Value rowCount, int64_t experts,
                                    int64_t tileRows) {
  TileSchedule schedule;
  schedule.offsets = offsets;
  schedule.experts = experts;
  schedule.tileRows = tileRows;
  Value rounded = arith::AddIOp::create(b, loc, rowCount,
                                        indexConstant(b, loc, tileRows - 1));
  Value full = arith::DivUIOp::create(b, loc, rounded,
                                      indexConstant(b, loc, tileRows));
  schedule.numTiles = arith::AddIOp::create(b, loc, full,
                                            indexConstant(b, loc, experts));

  // tileEnds[e] = sum over j <= e of ceil(rows_j / tileRows): E x E terms,
  // small next to any GEMM.
  Value firsts = tensor::ExtractSliceOp::create(
      b, loc, offsets, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(experts)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  schedule.tileEnds = countInto(
      b, loc, firsts, indexConstant(b, loc, experts),
      [&](OpBuilder &b, Location loc, Value) -> Value {
        Value e = linalg::IndexOp::create(b, loc, 0);
        Value j = linalg::IndexOp::create(b, loc, 1);
        Value tiles = tilesOf(b, loc, expertRows(b, loc, offsets, j),
                              tileRows);
        Value counted = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::ule, j, e);
        return arith::SelectOp::create(b, loc, counted, tiles,
                                       i32Constant(b, loc, 0));
      });

  // tileExperts[t] = the number of experts whose tiles end at or before t.
  schedule.tileExperts = countInto(
      b, loc, schedule.tileEnds, schedule.numTiles,
      [&](OpBuilder &b, Location loc, Value end) -> Value {
        Value t = arith::IndexCastOp::create(
            b, loc, b.getI32Type(), linalg::IndexOp::create(b, loc, 0));
        Value past = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle,
                                           end, t);
        return arith::ExtUIOp::create(b, loc, b.getI32Type(), past);
      });
  return schedule;
}

Value mma::paddedSourceRows(OpBuilder &b, Location loc,
                            const TileSchedule &schedule) {
  Value tileRows = indexConstant(b, loc, schedule.tileRows);
  Value padded = arith::MulIOp::create(b, loc, schedule.numTiles, tileRows);
  auto type = RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type());
  Value init = tensor::EmptyOp::create(b, loc, type, ValueRange{padded});
  MLIRContext *context = b.getContext();
  auto op = linalg::GenericOp::create(
      b, loc, type, ValueRange{}, init,
      ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(1, context)},
      ArrayRef<IteratorType>{IteratorType::parallel},
      [&](OpBuilder &b, Location loc, ValueRange) {
        Value p = linalg::IndexOp::create(b, loc, 0);
        Value t = arith::DivUIOp::create(b, loc, p, tileRows);
        Value expert = i32At(b, loc, schedule.tileExperts, t);
        Value e = clampedExpertIndex(b, loc, expert, schedule.experts);
        auto [firstPadded, firstRow] = expertStarts(b, loc, schedule, e);
        // source = firstRow + (p - firstPadded), valid below the expert's end.
        Value source = arith::AddIOp::create(
            b, loc, firstRow, arith::SubIOp::create(b, loc, p, firstPadded));
        Value end = asIndex(
            b, loc,
            i32At(b, loc, schedule.offsets,
                  arith::AddIOp::create(b, loc, e, indexConstant(b, loc, 1))));
        Value inSegment = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::ult, source, end);
        Value ffnTile = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::slt, expert,
            i32Constant(b, loc, schedule.experts));
        Value valid = arith::AndIOp::create(b, loc, inSegment, ffnTile);
        Value sourceI32 =
            arith::IndexCastOp::create(b, loc, b.getI32Type(), source);
        linalg::YieldOp::create(
            b, loc,
            ValueRange{arith::SelectOp::create(b, loc, valid, sourceI32,
                                               i32Constant(b, loc, -1))});
      });
  return op.getResult(0);
}
