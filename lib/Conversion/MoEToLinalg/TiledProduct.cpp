//===- TiledProduct.cpp - tiled vector matrix products --------------------===//
//
// An scf.forall over output column tiles; inside, tileRows rows at a time
// (then one at a time) the reduction over K runs as vector FMAs into
// rows x columns vector accumulators (x rows and weight rows are both read
// contiguously along K, so no packing is needed). The accumulators are
// summed horizontally by one shuffle tree into a single vector, biased, and
// the epilogue runs on whole vectors before the tile's rows are stored (or
// scatter-added, for a fused combine). Each row tile also prefetches a share
// of the next column tile's weights, so that streaming the weights from
// memory overlaps the arithmetic.
//
//===----------------------------------------------------------------------===//

#include "TiledProduct.h"

#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::moe;

namespace {

Value shuffle(OpBuilder &b, Location loc, Value lhs, Value rhs,
              ArrayRef<int64_t> mask) {
  return vector::ShuffleOp::create(b, loc, lhs, rhs, mask);
}

int64_t lanes(Value vector) {
  return cast<VectorType>(vector.getType()).getDimSize(0);
}

/// A vector whose lane i is the sum of the lanes of `accs[i]`. For a power
/// of two count, a tree: each level pairs vectors and halves the lanes per
/// partial sum (two shuffles and one add), ~3 ops per accumulator instead of
/// a full horizontal reduction each. Other even counts: one tree per
/// power-of-two chunk; odd counts: one reduction per accumulator.
Value horizontalSums(OpBuilder &b, Location loc, ArrayRef<Value> accs) {
  int64_t count = accs.size(), width = lanes(accs.front());
  int64_t chunk = count & -count;
  if (chunk != count && chunk > 1 && llvm::isPowerOf2_64(width)) {
    Value sums = horizontalSums(b, loc, accs.take_front(chunk));
    for (int64_t start = chunk; start < count; start += chunk) {
      Value next = horizontalSums(b, loc, accs.slice(start, chunk));
      sums = shuffle(b, loc, sums, next,
                     llvm::to_vector(llvm::seq<int64_t>(0, start + chunk)));
    }
    return sums;
  }
  if (!llvm::isPowerOf2_64(count) || !llvm::isPowerOf2_64(width)) {
    SmallVector<Value> sums;
    for (Value acc : accs)
      sums.push_back(
          vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc));
    return vector::FromElementsOp::create(
        b, loc, VectorType::get({count}, b.getF32Type()), sums);
  }
  // Every vector of `level` holds the partial sums of consecutive
  // accumulators, `group` lanes each, in accumulator order.
  SmallVector<Value> level(accs);
  int64_t group = width;
  // The low (or high) half of every group of `operands` vectors of
  // `vectorLanes` lanes.
  auto halves = [&](int64_t vectorLanes, int64_t operands, bool high) {
    SmallVector<int64_t> mask;
    for (int64_t v = 0; v < operands; ++v)
      for (int64_t start = 0; start < vectorLanes; start += group)
        for (int64_t l = 0; l < group / 2; ++l)
          mask.push_back(v * vectorLanes + start + (high ? group / 2 : 0) + l);
    return mask;
  };
  while (level.size() > 1 && group > 1) {
    SmallVector<Value> next;
    for (size_t i = 0; i < level.size(); i += 2) {
      Value low =
          shuffle(b, loc, level[i], level[i + 1], halves(width, 2, false));
      Value high =
          shuffle(b, loc, level[i], level[i + 1], halves(width, 2, true));
      next.push_back(arith::AddFOp::create(b, loc, low, high));
    }
    level = std::move(next);
    group /= 2;
  }
  // Fewer accumulators than lanes: finish inside the last vector.
  for (; group > 1; group /= 2) {
    Value v = level.front();
    Value low = shuffle(b, loc, v, v, halves(lanes(v), 1, false));
    Value high = shuffle(b, loc, v, v, halves(lanes(v), 1, true));
    level.front() = arith::AddFOp::create(b, loc, low, high);
  }
  // More accumulators than lanes: concatenate the complete sums.
  while (level.size() > 1) {
    SmallVector<Value> next;
    for (size_t i = 0; i < level.size(); i += 2)
      next.push_back(
          shuffle(b, loc, level[i], level[i + 1],
                  llvm::to_vector(llvm::seq<int64_t>(0, 2 * lanes(level[i])))));
    level = std::move(next);
  }
  return level.front();
}

/// `rows` copies of the lanes of `v`, one after the other.
Value repeatLanes(OpBuilder &b, Location loc, Value v, int64_t rows) {
  if (rows == 1)
    return v;
  SmallVector<int64_t> mask;
  for (int64_t r = 0; r < rows; ++r)
    llvm::append_range(mask, llvm::seq<int64_t>(0, lanes(v)));
  return shuffle(b, loc, v, v, mask);
}

/// Lanes r * stride + start + [0, size) of `v` for r < rows, in order.
Value selectLanes(OpBuilder &b, Location loc, Value v, int64_t rows,
                  int64_t stride, int64_t start, int64_t size) {
  if (rows * size == lanes(v))
    return v;
  SmallVector<int64_t> mask;
  for (int64_t r = 0; r < rows; ++r)
    llvm::append_range(mask, llvm::seq<int64_t>(r * stride + start,
                                                r * stride + start + size));
  return shuffle(b, loc, v, v, mask);
}

/// What one output tile reads: each column's weight matrix and row, and
/// (to prefetch) the buffer of that matrix and the row the next tile reads.
struct TileColumns {
  SmallVector<Value> matrices;
  SmallVector<Value> rows;
  SmallVector<Value> buffers;
  SmallVector<Value> nextRows;
};

/// The next tile's weight lines one call of the micro-kernel prefetches:
/// `steps` lines per weight row from K offset `start` (clamped to the
/// last line).
struct PrefetchRange {
  Value start, steps;
};

/// Rows `xRows` of `x` dotted with the tile's weight rows over
/// [kBegin, kEnd): rows x C vector accumulators, returned as one
/// vector<rows * C> of sums (lane r * C + j). With `prefetch`, the first
/// `prefetch.steps` steps over K also prefetch one line of each of the next
/// tile's weight rows into L2.
Value microKernel(OpBuilder &b, Location loc, Value x, const TileColumns &tile,
                  ArrayRef<Value> xRows, Value kBegin, Value kEnd,
                  int64_t width, std::optional<PrefetchRange> prefetch) {
  int64_t rows = xRows.size();
  int64_t columns = tile.matrices.size();
  auto vectorType = VectorType::get({width}, b.getF32Type());
  Value padding = floatConstant(b, loc, b.getF32Type(), 0.0);
  Value zeros = arith::ConstantOp::create(
      b, loc, vectorType,
      DenseElementsAttr::get(vectorType, b.getF32FloatAttr(0.0f)));
  Value step = indexConstant(b, loc, width);
  auto fmaSteps = [&](Value lb, Value ub, ValueRange inits, bool prefetching) {
    return scf::ForOp::create(
        b, loc, lb, ub, step, inits,
        [&](OpBuilder &b, Location loc, Value kk, ValueRange accumulators) {
          SmallVector<Value> xs, ws;
          for (int64_t i = 0; i < rows; ++i)
            xs.push_back(vector::TransferReadOp::create(
                b, loc, vectorType, x, ValueRange{xRows[i], kk}, padding,
                ArrayRef<bool>{true}));
          for (int64_t j = 0; j < columns; ++j)
            ws.push_back(vector::TransferReadOp::create(
                b, loc, vectorType, tile.matrices[j],
                ValueRange{tile.rows[j], kk}, padding, ArrayRef<bool>{true}));
          SmallVector<Value> next;
          for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < columns; ++j)
              next.push_back(vector::FMAOp::create(
                  b, loc, xs[i], ws[j], accumulators[i * columns + j]));
          if (prefetching) {
            Value offset = arith::AddIOp::create(
                b, loc, prefetch->start,
                arith::SubIOp::create(b, loc, kk, kBegin));
            offset = arith::MinUIOp::create(
                b, loc, offset, arith::SubIOp::create(b, loc, kEnd, step));
            for (int64_t j = 0; j < columns; ++j)
              memref::PrefetchOp::create(b, loc, tile.buffers[j],
                                         ValueRange{tile.nextRows[j], offset},
                                         /*isWrite=*/false, /*localityHint=*/2,
                                         /*isDataCache=*/true);
          }
          scf::YieldOp::create(b, loc, next);
        });
  };
  SmallVector<Value> accumulators(rows * columns, zeros);
  Value kSplit = kBegin;
  if (prefetch) {
    kSplit = arith::MinUIOp::create(
        b, loc,
        arith::AddIOp::create(
            b, loc, kBegin,
            arith::MulIOp::create(b, loc, prefetch->steps, step)),
        kEnd);
    accumulators = SmallVector<Value>(
        fmaSteps(kBegin, kSplit, accumulators, true).getResults());
  }
  accumulators = SmallVector<Value>(
      fmaSteps(kSplit, kEnd, accumulators, false).getResults());
  return horizontalSums(b, loc, accumulators);
}

/// `row + r`.
Value plus(OpBuilder &b, Location loc, Value row, int64_t r) {
  return r == 0 ? row
                : arith::AddIOp::create(b, loc, row, indexConstant(b, loc, r))
                      .getResult();
}

/// `tokens[index]` and whether it is a token (>= 0).
std::pair<Value, Value> tokenAt(OpBuilder &b, Location loc, Value tokens,
                                Value index) {
  Value token = tensor::ExtractOp::create(b, loc, tokens, index);
  Value zero =
      arith::ConstantOp::create(b, loc, b.getIntegerAttr(token.getType(), 0));
  Value isToken =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, token, zero);
  return {token, isToken};
}

Value toIndex(OpBuilder &b, Location loc, Value integer) {
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), integer);
}

} // namespace

Value mlir::moe::buildTiledProduct(OpBuilder &b, Location loc,
                                   const TiledProduct &product, Value x,
                                   const ProductRows &rows, Value init,
                                   const GroupedFFNTilingOptions &options) {
  int64_t columns = product.columns.size(), outTile = product.outTile;
  int64_t groups = columns / outTile, width = options.vectorWidth;
  int64_t k = cast<RankedTensorType>(product.columns.front().matrix.getType())
                  .getDimSize(1);
  // Weight rows too long to stay in L1 while all the tile's rows pass: the
  // reduction over K runs in blocks. Without an epilogue, the partial sums
  // accumulate in the output tile (scattered: each block's sums are scaled
  // and added).
  int64_t kBlock = k;
  if (!product.epilogue)
    while (columns * kBlock * 4 > options.weightTileBytes && kBlock % 2 == 0 &&
           (kBlock / 2) % width == 0)
      kBlock /= 2;
  Value rowCount = rows.count;
  // The weights' buffers, for prefetching (memref.prefetch has no tensor
  // form); one per distinct matrix.
  llvm::SmallDenseMap<Value, Value> buffers;
  if (options.prefetch)
    for (const WeightColumn &column : product.columns)
      if (!buffers.count(column.matrix)) {
        auto type = cast<RankedTensorType>(column.matrix.getType());
        auto layout = StridedLayoutAttr::get(
            b.getContext(), ShapedType::kDynamic,
            SmallVector<int64_t>(type.getRank(), ShapedType::kDynamic));
        buffers[column.matrix] = bufferization::ToBufferOp::create(
            b, loc,
            MemRefType::get(type.getShape(), type.getElementType(), layout),
            column.matrix, /*readOnly=*/true);
      }
  // One parallel pass over the output tiles for K in [kBegin, kEnd).
  auto tiledPass = [&](OpBuilder &b, Value init, Value kBegin, Value kEnd,
                       bool accumulate) -> Value {
    auto forall = scf::ForallOp::create(
        b, loc,
        ArrayRef<OpFoldResult>{b.getIndexAttr(product.outColumns / outTile)},
        ValueRange{init}, /*mapping=*/std::nullopt);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forall.getBody());
    Value first = forall.getInductionVars()[0];
    if (outTile != 1)
      first =
          arith::MulIOp::create(b, loc, first, indexConstant(b, loc, outTile));

    // Per tile: the weight rows of its columns (and of the next tile's; the
    // last tile's next is itself) and their bias vector.
    auto weightRow = [&](const WeightColumn &column, Value first) {
      Value row = first;
      if (column.scale != 1)
        row = arith::MulIOp::create(b, loc, row,
                                    indexConstant(b, loc, column.scale));
      if (column.offset != 0)
        row = arith::AddIOp::create(b, loc, row,
                                    indexConstant(b, loc, column.offset));
      return row;
    };
    Value nextFirst;
    if (options.prefetch)
      nextFirst = arith::MinUIOp::create(
          b, loc,
          arith::AddIOp::create(b, loc, first, indexConstant(b, loc, outTile)),
          indexConstant(b, loc, product.outColumns - outTile));
    TileColumns tile;
    SmallVector<Value> biases;
    bool hasBias = false;
    for (const WeightColumn &column : product.columns) {
      Value row = weightRow(column, first);
      tile.matrices.push_back(column.matrix);
      tile.rows.push_back(row);
      if (options.prefetch) {
        tile.buffers.push_back(buffers[column.matrix]);
        tile.nextRows.push_back(weightRow(column, nextFirst));
      }
      hasBias |= bool(column.bias);
      biases.push_back(
          column.bias
              ? tensor::ExtractOp::create(b, loc, column.bias, row).getResult()
              : floatConstant(b, loc, b.getF32Type(), 0.0));
    }
    auto biasType = VectorType::get({columns}, b.getF32Type());
    Value bias;
    if (hasBias)
      bias = vector::FromElementsOp::create(b, loc, biasType, biases);

    Value shared = forall.getRegionIterArgs()[0];
    // Scattered rows go to any row of `init`; otherwise to rows [0, count).
    OpFoldResult outRows = rows.scatterTokens
                               ? tensor::getMixedSize(b, loc, init, 0)
                               : OpFoldResult(rowCount);
    Value out = tensor::ExtractSliceOp::create(
        b, loc, shared, ArrayRef<OpFoldResult>{b.getIndexAttr(0), first},
        ArrayRef<OpFoldResult>{outRows, b.getIndexAttr(outTile)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    Value padding = floatConstant(b, loc, b.getF32Type(), 0.0);

    int64_t tileRows = options.tileRows;
    Value tileRowsValue = indexConstant(b, loc, tileRows);
    // Row tiles of this product (at least one).
    Value rowTiles = arith::MaxUIOp::create(
        b, loc, arith::CeilDivUIOp::create(b, loc, rowCount, tileRowsValue),
        indexConstant(b, loc, 1));
    // A fused combine: out[t] += w * values for the row's token t >= 0 (mulf
    // then addf, as the reference lowering of moe.combine).
    auto scatterAdd = [&](OpBuilder &b, Value values, Value tileOut,
                          Value row) {
      Value index = arith::AddIOp::create(b, loc, rows.begin, row);
      auto [token, isToken] = tokenAt(b, loc, rows.scatterTokens, index);
      return updateIf(
          b, loc, isToken, tileOut,
          [&](OpBuilder &b, Location loc) -> SmallVector<Value> {
            SmallVector<Value> at = {toIndex(b, loc, token),
                                     indexConstant(b, loc, 0)};
            auto type = cast<VectorType>(values.getType());
            Value weight = vector::BroadcastOp::create(
                b, loc, type,
                tensor::ExtractOp::create(b, loc, rows.scatterWeights, index));
            Value sum = vector::TransferReadOp::create(
                b, loc, type, tileOut, at, padding, ArrayRef<bool>{true});
            sum = arith::AddFOp::create(
                b, loc, sum, arith::MulFOp::create(b, loc, weight, values));
            return {vector::TransferWriteOp::create(b, loc, sum, tileOut, at,
                                                    ArrayRef<bool>{true})
                        .getResult()};
          })[0];
    };
    // `rowsPerStep` rows at a time over K in [kBegin, kEnd): sums, bias (or,
    // with `accumulate`, the tile's partial sums so far), epilogue, one store
    // (or scatter-add) per row.
    auto rowLoop = [&](OpBuilder &b, Value lb, Value ub, int64_t rowsPerStep,
                       Value carried, Value kBegin, Value kEnd,
                       bool accumulate) {
      Value rowBias = bias && !accumulate
                          ? repeatLanes(b, loc, bias, rowsPerStep)
                          : Value();
      auto loop = scf::ForOp::create(
          b, loc, lb, ub, indexConstant(b, loc, rowsPerStep),
          ValueRange{carried},
          [&](OpBuilder &b, Location loc, Value row, ValueRange args) {
            SmallVector<Value> xRows;
            for (int64_t r = 0; r < rowsPerStep; ++r) {
              Value xRow = plus(b, loc, row, r);
              if (rows.gatherTokens) {
                // Padding rows (token < 0) read row 0; nothing uses them.
                Value token = tensor::ExtractOp::create(
                    b, loc, rows.gatherTokens,
                    arith::AddIOp::create(b, loc, rows.begin, xRow)
                        .getResult());
                xRow = arith::MaxSIOp::create(b, loc, toIndex(b, loc, token),
                                              indexConstant(b, loc, 0));
              }
              xRows.push_back(xRow);
            }
            // Row tile i prefetches lines [i * P, (i + 1) * P) of the next
            // tile (P = K steps / row tiles), so that the whole next tile
            // arrives in L2 at an even pace while this one runs.
            std::optional<PrefetchRange> range;
            if (options.prefetch) {
              Value rowTile =
                  arith::DivUIOp::create(b, loc, row, tileRowsValue);
              Value linesPerTile = arith::CeilDivUIOp::create(
                  b, loc,
                  arith::DivUIOp::create(
                      b, loc, arith::SubIOp::create(b, loc, kEnd, kBegin),
                      indexConstant(b, loc, width)),
                  rowTiles);
              Value start = arith::AddIOp::create(
                  b, loc, kBegin,
                  arith::MulIOp::create(
                      b, loc,
                      arith::MulIOp::create(b, loc, rowTile, linesPerTile),
                      indexConstant(b, loc, width)));
              range = PrefetchRange{start, linesPerTile};
            }
            Value sums =
                microKernel(b, loc, x, tile, xRows, kBegin, kEnd, width, range);
            if (rowBias)
              sums = arith::AddFOp::create(b, loc, sums, rowBias);
            Value result = sums;
            if (product.epilogue) {
              SmallVector<Value> groupSums;
              for (int64_t q = 0; q < groups; ++q)
                groupSums.push_back(selectLanes(b, loc, sums, rowsPerStep,
                                                columns, q * outTile, outTile));
              result = product.epilogue(b, loc, groupSums);
            }
            Value updated = args[0];
            for (int64_t r = 0; r < rowsPerStep; ++r) {
              Value rowValues =
                  selectLanes(b, loc, result, 1, 0, r * outTile, outTile);
              if (rows.scatterTokens) {
                updated =
                    scatterAdd(b, rowValues, updated, plus(b, loc, row, r));
                continue;
              }
              SmallVector<Value> at = {plus(b, loc, row, r),
                                       indexConstant(b, loc, 0)};
              if (accumulate)
                rowValues = arith::AddFOp::create(
                    b, loc,
                    vector::TransferReadOp::create(
                        b, loc, cast<VectorType>(rowValues.getType()), updated,
                        at, padding, ArrayRef<bool>{true}),
                    rowValues);
              updated =
                  vector::TransferWriteOp::create(b, loc, rowValues, updated,
                                                  at, ArrayRef<bool>{true})
                      .getResult();
            }
            scf::YieldOp::create(b, loc, updated);
          });
      return loop.getResult(0);
    };
    Value remainder = arith::RemUIOp::create(b, loc, rowCount, tileRowsValue);
    Value mainEnd = arith::SubIOp::create(b, loc, rowCount, remainder);
    // All rows over K in [kBegin, kEnd).
    auto allRows = [&](OpBuilder &b, Value carried, Value kBegin, Value kEnd,
                       bool accumulate) -> Value {
      carried = rowLoop(b, indexConstant(b, loc, 0), mainEnd, tileRows, carried,
                        kBegin, kEnd, accumulate);
      if (tileRows > 1)
        carried =
            rowLoop(b, mainEnd, rowCount, 1, carried, kBegin, kEnd, accumulate);
      return carried;
    };
    // Within the pass, K in blocks whose weight rows stay in L1 while all
    // the tile's rows pass.
    Value firstEnd = kEnd;
    if (kBlock < k)
      firstEnd = arith::MinUIOp::create(
          b, loc,
          arith::AddIOp::create(b, loc, kBegin, indexConstant(b, loc, kBlock)),
          kEnd);
    out = allRows(b, out, kBegin, firstEnd, accumulate);
    if (kBlock < k) {
      auto blocks = scf::ForOp::create(
          b, loc, firstEnd, kEnd, indexConstant(b, loc, kBlock),
          ValueRange{out},
          [&](OpBuilder &b, Location loc, Value blockBegin, ValueRange args) {
            Value blockEnd = arith::AddIOp::create(
                b, loc, blockBegin, indexConstant(b, loc, kBlock));
            scf::YieldOp::create(b, loc,
                                 allRows(b, args[0], blockBegin, blockEnd,
                                         /*accumulate=*/true));
          });
      out = blocks.getResult(0);
    }

    b.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(
        b, loc, out, shared, ArrayRef<OpFoldResult>{b.getIndexAttr(0), first},
        ArrayRef<OpFoldResult>{outRows, b.getIndexAttr(outTile)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    return forall.getResult(0);
  };
  // Many rows: one pass per K block, so that each block's slab of x stays
  // in L2 while all the column tiles pass (decided at run time; for few
  // rows the extra passes cost more than they save).
  if (kBlock == k)
    return tiledPass(b, init, indexConstant(b, loc, 0),
                     indexConstant(b, loc, k),
                     /*accumulate=*/false);
  Value slabBytes =
      arith::MulIOp::create(b, loc, rowCount, indexConstant(b, loc, k * 4));
  Value blocked =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, slabBytes,
                            indexConstant(b, loc, options.rowSlabBytes));
  Value firstEnd = arith::SelectOp::create(
      b, loc, blocked, indexConstant(b, loc, kBlock), indexConstant(b, loc, k));
  Value passes = arith::SelectOp::create(b, loc, blocked,
                                         indexConstant(b, loc, k / kBlock),
                                         indexConstant(b, loc, 1));
  Value result = tiledPass(b, init, indexConstant(b, loc, 0), firstEnd,
                           /*accumulate=*/false);
  result = forRange(b, loc, indexConstant(b, loc, 1), passes, result,
                    [&](OpBuilder &b, Location loc, Value pass,
                        ValueRange carried) -> SmallVector<Value> {
                      Value kBegin = arith::MulIOp::create(
                          b, loc, pass, indexConstant(b, loc, kBlock));
                      Value kEnd = arith::AddIOp::create(
                          b, loc, kBegin, indexConstant(b, loc, kBlock));
                      return {tiledPass(b, carried[0], kBegin, kEnd,
                                        /*accumulate=*/true)};
                    })[0];
  return result;
}
