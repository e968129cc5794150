//===- DispatchToDevice.cpp - the ragged layout as GPU grids --------------===//
//
// moe.dispatch, moe.permute and moe.combine as linalg.generic ops whose
// every output element is independent, so that each becomes one grid kernel
// (no atomics, no scattered stores, no host reads of token counts).
//
// Dispatch splits the (token, slot) assignments into chunks of whole tokens
// (about 256 assignments) and builds, each a grid over its output:
//   counts[c, e]  assignments of expert e in chunk c     (moe_histogram)
//   before[c, e]  sum of counts[c' < c, e]               (moe_scan_chunks)
//   kept[e]       sum over c, clamped to the capacity    (moe_expert_counts)
//   offsets[e]    sum of kept[e' < e]                    (moe_offsets)
// and then, instead of scattering assignments, gathers every row: row i
// finds its expert in the offsets, its chunk in `before`, and its
// assignment by rank inside the chunk (moe_dispatch_rows). Rows therefore
// keep the reference's order (by expert, then token, then slot) and the
// result is deterministic; the longest sequential walk is one chunk.
//
// Combine runs over (token, column): moe_token_rows lists each token's rows
// in row order (its slots ordered by (expert, slot), which is row order),
// and moe_combine adds them to the init in that order: the reference's
// additions in the reference's order, so the same bits.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/KernelName.h"
#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"
#include "moe/Conversion/MoEToLinalg/RoutingToDevice.h"

using namespace mlir;
using namespace mlir::moe;

namespace {

/// Assignments per chunk (rounded down to whole tokens, at least one).
constexpr int64_t kChunkAssignments = 256;

using GridBody = function_ref<SmallVector<Value>(OpBuilder &, Location,
                                                 ValueRange, ValueRange)>;

/// A linalg.generic over the index space of `inits` (same shapes), no
/// inputs; `body` gets the indices and the current output elements and
/// returns the new ones. Its kernel is called `kernel`. The GPU mapping
/// gives consecutive threads consecutive iterations of the first loop, so
/// `columnsFirst` (2-D) iterates (column, row): threads then read and write
/// consecutive elements of a row.
SmallVector<Value> grid(OpBuilder &b, Location loc, StringRef kernel,
                        ValueRange inits, GridBody body,
                        bool columnsFirst = false) {
  int64_t rank = cast<RankedTensorType>(inits[0].getType()).getRank();
  AffineMap map = b.getMultiDimIdentityMap(rank);
  if (columnsFirst)
    map = AffineMap::getPermutationMap(ArrayRef<unsigned>{1, 0},
                                       b.getContext());
  SmallVector<AffineMap> maps(inits.size(), map);
  auto op = linalg::GenericOp::create(
      b, kernelLoc(loc, kernel), TypeRange(inits), ValueRange{}, inits, maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location loc, ValueRange outs) {
        SmallVector<Value> indices;
        for (int64_t d = 0; d < rank; ++d)
          indices.push_back(linalg::IndexOp::create(b, loc, d));
        if (columnsFirst)
          std::swap(indices[0], indices[1]);
        linalg::YieldOp::create(b, loc, body(b, loc, indices, outs));
      });
  return SmallVector<Value>(op.getResults());
}

/// `sum over i in [lower, upper) of term(i)` (i32).
Value sumI32(OpBuilder &b, Location loc, Value lower, Value upper,
             function_ref<Value(OpBuilder &, Location, Value)> term) {
  return forRange(b, loc, lower, upper, i32Constant(b, loc, 0),
                  [&](OpBuilder &b, Location loc, Value i,
                      ValueRange acc) -> SmallVector<Value> {
                    return {arith::AddIOp::create(b, loc, acc[0],
                                                  term(b, loc, i))};
                  })[0];
}

/// 1 when `cond`, else 0 (i32).
Value oneIf(OpBuilder &b, Location loc, Value cond) {
  return arith::ExtUIOp::create(b, loc, b.getI32Type(), cond);
}

Value cmpi(OpBuilder &b, Location loc, arith::CmpIPredicate p, Value x,
           Value y) {
  return arith::CmpIOp::create(b, loc, p, x, y);
}

Value toI32(OpBuilder &b, Location loc, Value index) {
  return arith::IndexCastOp::create(b, loc, b.getI32Type(), index);
}

Value toIndex(OpBuilder &b, Location loc, Value i32) {
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), i32);
}

/// A tensor.empty of `shape` (kDynamic entries sized by `sizes`, in order).
Value empty(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type elem,
            ValueRange sizes) {
  return tensor::EmptyOp::create(b, loc, shape, elem, sizes);
}

/// The dispatch's layout as the combine needs it.
struct Layout {
  Value ids;
  int64_t slots, experts, chunkTokens;
  Value tokens, counts, before, offsets;
  /// The capacity (i32), or null when dropless.
  Value capacity;

  /// The flat assignments `[first, end)` of the chunk of token `t`'s chunk
  /// `c`: `t * slots` for the first token of the chunk.
  Value chunkStart(OpBuilder &b, Location loc, Value c) const {
    return arith::MulIOp::create(b, loc, c,
                                 indexConstant(b, loc, chunkTokens * slots));
  }
  Value chunkEnd(OpBuilder &b, Location loc, Value c) const {
    Value lastToken = arith::MinUIOp::create(
        b, loc,
        arith::MulIOp::create(
            b, loc,
            arith::AddIOp::create(b, loc, c, indexConstant(b, loc, 1)),
            indexConstant(b, loc, chunkTokens)),
        tokens);
    return arith::MulIOp::create(b, loc, lastToken,
                                 indexConstant(b, loc, slots));
  }
  /// The expert id of flat assignment `a` (i32).
  Value idAt(OpBuilder &b, Location loc, Value a) const {
    Value k = indexConstant(b, loc, slots);
    return tensor::ExtractOp::create(
        b, loc, ids,
        ValueRange{arith::DivUIOp::create(b, loc, a, k),
                   arith::RemUIOp::create(b, loc, a, k)});
  }
  /// Assignments of expert `e` (i32) among the flat `[lower, upper)`.
  Value countOf(OpBuilder &b, Location loc, Value e, Value lower,
                Value upper) const {
    return sumI32(b, loc, lower, upper, [&](OpBuilder &b, Location loc, Value a) {
      return oneIf(b, loc,
                   cmpi(b, loc, arith::CmpIPredicate::eq, idAt(b, loc, a), e));
    });
  }
};

/// counts, before, kept and offsets (see the file comment).
Layout buildLayout(OpBuilder &b, Location loc, DispatchOp op) {
  Layout layout;
  layout.ids = op.getExpertIds();
  auto idsType = op.getExpertIds().getType();
  layout.slots = idsType.getDimSize(1);
  layout.experts = op.getNumExperts();
  layout.chunkTokens = std::max<int64_t>(1, kChunkAssignments / layout.slots);
  layout.tokens = indexDim(b, loc, layout.ids, 0);
  Type i32 = b.getI32Type();
  int64_t experts = layout.experts;

  // Chunks: ceil(T / chunkTokens).
  int64_t staticChunks = ShapedType::kDynamic;
  SmallVector<Value> chunkSizes;
  if (!idsType.isDynamicDim(0)) {
    staticChunks = llvm::divideCeil(idsType.getDimSize(0), layout.chunkTokens);
  } else {
    Value z = indexConstant(b, loc, layout.chunkTokens);
    chunkSizes.push_back(arith::DivUIOp::create(
        b, loc,
        arith::AddIOp::create(b, loc, layout.tokens,
                              indexConstant(b, loc, layout.chunkTokens - 1)),
        z));
  }
  Value chunks = staticChunks == ShapedType::kDynamic
                     ? chunkSizes[0]
                     : indexConstant(b, loc, staticChunks);
  Value zero = indexConstant(b, loc, 0);

  layout.counts =
      grid(b, loc, "moe_histogram",
           empty(b, loc, {staticChunks, experts}, i32, chunkSizes),
           [&](OpBuilder &b, Location loc, ValueRange ce,
               ValueRange) -> SmallVector<Value> {
             return {layout.countOf(b, loc, toI32(b, loc, ce[1]),
                                    layout.chunkStart(b, loc, ce[0]),
                                    layout.chunkEnd(b, loc, ce[0]))};
           })[0];
  layout.before =
      grid(b, loc, "moe_scan_chunks",
           empty(b, loc, {staticChunks, experts}, i32, chunkSizes),
           [&](OpBuilder &b, Location loc, ValueRange ce,
               ValueRange) -> SmallVector<Value> {
             return {sumI32(b, loc, zero, ce[0],
                            [&](OpBuilder &b, Location loc, Value c) -> Value {
                              return tensor::ExtractOp::create(
                                  b, loc, layout.counts, ValueRange{c, ce[1]});
                            })};
           })[0];

  if (std::optional<APFloat> factor = op.getCapacityFactor())
    layout.capacity = buildCapacity(b, loc, layout.ids,
                                    factor->convertToDouble(), experts);
  Value kept = grid(
      b, loc, "moe_expert_counts", empty(b, loc, {experts}, i32, {}),
      [&](OpBuilder &b, Location loc, ValueRange e,
          ValueRange) -> SmallVector<Value> {
        Value total =
            sumI32(b, loc, zero, chunks,
                   [&](OpBuilder &b, Location loc, Value c) -> Value {
                     return tensor::ExtractOp::create(b, loc, layout.counts,
                                                      ValueRange{c, e[0]});
                   });
        if (layout.capacity)
          total = arith::MinSIOp::create(b, loc, total, layout.capacity);
        return {total};
      })[0];

  auto offsetsType = op.getOffsets().getType();
  SmallVector<Value> offsetsSizes;
  if (offsetsType.isDynamicDim(0))
    offsetsSizes.push_back(indexConstant(b, loc, experts + 1));
  layout.offsets =
      grid(b, loc, "moe_offsets",
           empty(b, loc, offsetsType.getShape(), i32, offsetsSizes),
           [&](OpBuilder &b, Location loc, ValueRange e,
               ValueRange) -> SmallVector<Value> {
             return {sumI32(b, loc, zero, e[0],
                            [&](OpBuilder &b, Location loc, Value x) -> Value {
                              return tensor::ExtractOp::create(b, loc, kept, x);
                            })};
           })[0];
  return layout;
}

/// row_token and row_weight: each row gathers its assignment (see the file
/// comment); rows past offsets[E] are padding (token -1, weight 0).
std::pair<Value, Value> buildRows(OpBuilder &b, Location loc, DispatchOp op,
                                  const Layout &layout) {
  Value weights = op.getWeights();
  auto tokenType = op.getRowToken().getType();
  auto weightType = op.getRowWeight().getType();
  SmallVector<Value> rowSizes;
  if (tokenType.isDynamicDim(0))
    rowSizes.push_back(arith::MulIOp::create(
        b, loc, layout.tokens, indexConstant(b, loc, layout.slots)));
  Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
  Value chunks = indexDim(b, loc, layout.before, 0);
  Type weightElem = weightType.getElementType();

  SmallVector<Value> rows = grid(
      b, loc, "moe_dispatch_rows",
      {empty(b, loc, tokenType.getShape(), b.getI32Type(), rowSizes),
       empty(b, loc, weightType.getShape(), weightElem, rowSizes)},
      [&](OpBuilder &b, Location loc, ValueRange i,
          ValueRange) -> SmallVector<Value> {
        Value row = toI32(b, loc, i[0]);
        // The row's expert: how many experts end at or before it.
        Value e = sumI32(
            b, loc, one, indexConstant(b, loc, layout.experts + 1),
            [&](OpBuilder &b, Location loc, Value x) {
              Value end = tensor::ExtractOp::create(b, loc, layout.offsets, x);
              return oneIf(b, loc,
                           cmpi(b, loc, arith::CmpIPredicate::sle, end, row));
            });
        Value isRow = cmpi(b, loc, arith::CmpIPredicate::slt, e,
                           i32Constant(b, loc, layout.experts));
        auto ifOp = scf::IfOp::create(
            b, loc, isRow,
            [&](OpBuilder &b, Location loc) {
              Value ei = toIndex(b, loc, e);
              Value rank = arith::SubIOp::create(
                  b, loc, row,
                  tensor::ExtractOp::create(b, loc, layout.offsets, ei));
              // The last chunk whose first assignment of e is at or before
              // the rank holds it (`before` grows with the chunk).
              Value c = toIndex(
                  b, loc,
                  sumI32(b, loc, one, chunks,
                         [&](OpBuilder &b, Location loc, Value x) {
                           Value start = tensor::ExtractOp::create(
                               b, loc, layout.before, ValueRange{x, ei});
                           return oneIf(b, loc,
                                        cmpi(b, loc, arith::CmpIPredicate::sle,
                                             start, rank));
                         }));
              Value local = arith::SubIOp::create(
                  b, loc, rank,
                  tensor::ExtractOp::create(b, loc, layout.before,
                                            ValueRange{c, ei}));
              // Walk the chunk to the local-th assignment of e.
              SmallVector<Value> found = forRange(
                  b, loc, layout.chunkStart(b, loc, c),
                  layout.chunkEnd(b, loc, c),
                  {i32Constant(b, loc, 0), zero},
                  [&](OpBuilder &b, Location loc, Value a,
                      ValueRange acc) -> SmallVector<Value> {
                    Value mine = cmpi(b, loc, arith::CmpIPredicate::eq,
                                      layout.idAt(b, loc, a), e);
                    Value hit = arith::AndIOp::create(
                        b, loc, mine,
                        cmpi(b, loc, arith::CmpIPredicate::eq, acc[0], local));
                    return {arith::AddIOp::create(b, loc, acc[0],
                                                  oneIf(b, loc, mine)),
                            arith::SelectOp::create(b, loc, hit, a, acc[1])};
                  });
              Value k = indexConstant(b, loc, layout.slots);
              Value t = arith::DivUIOp::create(b, loc, found[1], k);
              Value s = arith::RemUIOp::create(b, loc, found[1], k);
              Value weight =
                  tensor::ExtractOp::create(b, loc, weights, ValueRange{t, s});
              scf::YieldOp::create(
                  b, loc,
                  ValueRange{toI32(b, loc, t),
                             castWeight(b, loc, weight, weightElem)});
            },
            [&](OpBuilder &b, Location loc) {
              scf::YieldOp::create(
                  b, loc,
                  ValueRange{i32Constant(b, loc, -1),
                             floatConstant(b, loc, weightElem, 0.0)});
            });
        return SmallVector<Value>(ifOp.getResults());
      });
  return {rows[0], rows[1]};
}

/// [T, k] i32: token t's rows in row order (-1 for slots without one).
/// Rows of one token are in (expert, slot) order, so entry j is the row of
/// the slot of rank j in that order.
Value buildTokenRows(OpBuilder &b, Location loc, const Layout &layout) {
  auto idsType = cast<RankedTensorType>(layout.ids.getType());
  SmallVector<Value> sizes;
  if (idsType.isDynamicDim(0))
    sizes.push_back(layout.tokens);
  Value zero = indexConstant(b, loc, 0);
  Value k = indexConstant(b, loc, layout.slots);
  return grid(
      b, loc, "moe_token_rows",
      empty(b, loc, idsType.getShape(), b.getI32Type(), sizes),
      [&](OpBuilder &b, Location loc, ValueRange tj,
          ValueRange) -> SmallVector<Value> {
        Value t = tj[0], j = toI32(b, loc, tj[1]);
        auto idOf = [&](OpBuilder &b, Location loc, Value s) -> Value {
          return tensor::ExtractOp::create(b, loc, layout.ids,
                                           ValueRange{t, s});
        };
        // The slot whose rank in (expert, slot) order is j.
        Value slot =
            forRange(
                b, loc, zero, k, zero,
                [&](OpBuilder &b, Location loc, Value s,
                    ValueRange acc) -> SmallVector<Value> {
                  Value id = idOf(b, loc, s);
                  Value rank = sumI32(
                      b, loc, zero, k,
                      [&](OpBuilder &b, Location loc, Value x) {
                        Value other = idOf(b, loc, x);
                        Value earlier = arith::OrIOp::create(
                            b, loc,
                            cmpi(b, loc, arith::CmpIPredicate::slt, other, id),
                            arith::AndIOp::create(
                                b, loc,
                                cmpi(b, loc, arith::CmpIPredicate::eq, other,
                                     id),
                                cmpi(b, loc, arith::CmpIPredicate::ult, x, s)));
                        return oneIf(b, loc, earlier);
                      });
                  Value match =
                      cmpi(b, loc, arith::CmpIPredicate::eq, rank, j);
                  return {arith::SelectOp::create(b, loc, match, s, acc[0])};
                })[0];
        Value id = idOf(b, loc, slot);
        Value valid = isValidExpert(b, loc, id, layout.experts);
        auto ifOp = scf::IfOp::create(
            b, loc, valid,
            [&](OpBuilder &b, Location loc) {
              Value e = toIndex(b, loc, id);
              Value c = arith::DivUIOp::create(
                  b, loc, t, indexConstant(b, loc, layout.chunkTokens));
              Value a = arith::AddIOp::create(
                  b, loc, arith::MulIOp::create(b, loc, t, k), slot);
              Value rank = arith::AddIOp::create(
                  b, loc,
                  tensor::ExtractOp::create(b, loc, layout.before,
                                            ValueRange{c, e}),
                  layout.countOf(b, loc, id, layout.chunkStart(b, loc, c), a));
              Value row = arith::AddIOp::create(
                  b, loc, tensor::ExtractOp::create(b, loc, layout.offsets, e),
                  rank);
              // Past the capacity the assignment was dropped.
              if (layout.capacity)
                row = arith::SelectOp::create(
                    b, loc,
                    cmpi(b, loc, arith::CmpIPredicate::slt, rank,
                         layout.capacity),
                    row, i32Constant(b, loc, -1));
              scf::YieldOp::create(b, loc, row);
            },
            [&](OpBuilder &b, Location loc) {
              scf::YieldOp::create(b, loc,
                                   ValueRange{i32Constant(b, loc, -1)});
            });
        return {ifOp.getResult(0)};
      })[0];
}

/// Whether `combine`'s tokens are the dispatch's tokens (its init has the
/// T of `ids`): then token t's rows are those of ids row t.
bool combinesTokensOf(CombineOp combine, DispatchOp dispatch) {
  int64_t initTokens = combine.getInit().getType().getDimSize(0);
  int64_t idTokens = dispatch.getExpertIds().getType().getDimSize(0);
  return initTokens == idTokens;
}

/// result[t, h] = init[t, h] + w * rows[r, h] over token t's rows r in row
/// order, the weight cast to the rows' type: the reference's additions.
Value buildCombine(OpBuilder &b, CombineOp op, Value tokenRows, int64_t k) {
  Location loc = op.getLoc();
  Value expertRows = op.getExpertRows(), rowWeight = op.getRowWeight();
  Type elem = op.getResult().getType().getElementType();
  Value zero = indexConstant(b, loc, 0);
  return grid(
      b, loc, "moe_combine", op.getInit(),
      [&](OpBuilder &b, Location loc, ValueRange th,
          ValueRange outs) -> SmallVector<Value> {
        return forRange(
            b, loc, zero, indexConstant(b, loc, k), outs[0],
            [&](OpBuilder &b, Location loc, Value j, ValueRange acc) {
              Value row = tensor::ExtractOp::create(b, loc, tokenRows,
                                                    ValueRange{th[0], j});
              Value isRow = cmpi(b, loc, arith::CmpIPredicate::sge, row,
                                 i32Constant(b, loc, 0));
              return updateIf(
                  b, loc, isRow, acc,
                  [&](OpBuilder &b, Location loc) -> SmallVector<Value> {
                    Value r = toIndex(b, loc, row);
                    Value w = castWeight(
                        b, loc, tensor::ExtractOp::create(b, loc, rowWeight, r),
                        elem);
                    Value x = tensor::ExtractOp::create(b, loc, expertRows,
                                                        ValueRange{r, th[1]});
                    Value scaled = arith::MulFOp::create(b, loc, w, x);
                    return {arith::AddFOp::create(b, loc, acc[0], scaled)};
                  });
            });
      },
      /*columnsFirst=*/true)[0];
}

} // namespace

LogicalResult mlir::moe::lowerDispatchToDevice(RewriterBase &rewriter,
                                               DispatchOp op) {
  if (op.getExpertIds().getType().isDynamicDim(1))
    return rewriter.notifyMatchFailure(op, "needs a static k");
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Layout layout = buildLayout(rewriter, loc, op);
  auto [rowToken, rowWeight] = buildRows(rewriter, loc, op, layout);

  SmallVector<CombineOp> combines;
  for (Operation *user : op.getRowToken().getUsers())
    if (auto combine = dyn_cast<CombineOp>(user))
      if (combine.getRowToken() == op.getRowToken() &&
          combinesTokensOf(combine, op))
        combines.push_back(combine);
  if (!combines.empty()) {
    Value tokenRows = buildTokenRows(rewriter, loc, layout);
    for (CombineOp combine : combines) {
      rewriter.setInsertionPoint(combine);
      rewriter.replaceOp(combine,
                         buildCombine(rewriter, combine, tokenRows,
                                      layout.slots));
    }
  }
  rewriter.replaceOp(op, {rowToken, rowWeight, layout.offsets});
  return success();
}

LogicalResult mlir::moe::lowerPermuteToDevice(RewriterBase &rewriter,
                                              PermuteOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto type = op.getResult().getType();
  SmallVector<Value> sizes;
  if (type.isDynamicDim(0))
    sizes.push_back(indexDim(rewriter, loc, op.getRowToken(), 0));
  if (type.isDynamicDim(1))
    sizes.push_back(indexDim(rewriter, loc, op.getInput(), 1));
  Value input = op.getInput(), rowToken = op.getRowToken();
  Type elem = type.getElementType();
  Value result =
      grid(rewriter, loc, "moe_permute",
           empty(rewriter, loc, type.getShape(), elem, sizes),
           [&](OpBuilder &b, Location loc, ValueRange ih,
               ValueRange) -> SmallVector<Value> {
             Value token = tensor::ExtractOp::create(b, loc, rowToken, ih[0]);
             Value isRow = cmpi(b, loc, arith::CmpIPredicate::sge, token,
                                i32Constant(b, loc, 0));
             auto ifOp = scf::IfOp::create(
                 b, loc, isRow,
                 [&](OpBuilder &b, Location loc) {
                   Value x = tensor::ExtractOp::create(
                       b, loc, input,
                       ValueRange{toIndex(b, loc, token), ih[1]});
                   scf::YieldOp::create(b, loc, x);
                 },
                 [&](OpBuilder &b, Location loc) {
                   scf::YieldOp::create(
                       b, loc, ValueRange{floatConstant(b, loc, elem, 0.0)});
                 });
             return {ifOp.getResult(0)};
           },
           /*columnsFirst=*/true)[0];
  rewriter.replaceOp(op, result);
  return success();
}
