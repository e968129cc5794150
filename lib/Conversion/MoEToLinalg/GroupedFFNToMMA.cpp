//===- GroupedFFNToMMA.cpp - grouped_ffn on tensor cores ------------------===//
//
// moe.grouped_ffn as a ragged grouped GEMM over expert-aligned row tiles:
//   1. the tile schedule from the offsets (MMATileSchedule), on the device;
//   2. the rows gathered into the padded layout as 16-bit MMA operands (the
//      permutation and the conversion in one element-wise kernel);
//   3. fc1 (and fc3) as one warp GEMM (WarpGemm) whose epilogue adds the
//      biases, applies the activation (both swiglu layouts) and fc3's gating
//      to the accumulators and writes the fc2 operand;
//   4. fc2 as a warp GEMM whose epilogue adds fc2's bias and writes each
//      tile's rows of its expert straight into the ragged result; the
//      surplus tiles write the zeros of the rows past the FFN experts.
// Weights that are constants are converted at compile time (new constants,
// which moe-gpu-hoist-constants uploads once); others on every call.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToLinalg/GroupedFFNToMMA.h"

#include "LaneWise.h"
#include "MMAOperands.h"
#include "MMATileSchedule.h"
#include "WarpGemm.h"

#include "moe/Conversion/KernelName.h"
#include "moe/Conversion/MoEToLinalg/Activations.h"
#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"
#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

namespace mlir::moe {
#define GEN_PASS_DEF_CONVERTMOEGROUPEDFFNTOMMA
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::mma;

namespace {

using utils::IteratorType;

/// Rows per group of the blocked interleaved-swiglu layout: one output
/// block's kMmaCols gate rows, then its kMmaCols linear rows.
constexpr int64_t kSwigluGroup = 2 * kMmaCols;

/// The row of an interleaved swiglu's fc1 (gate 2i, linear 2i + 1) that row
/// `p` of the blocked layout holds: each group of 16 rows holds the gates of
/// 8 outputs, then their linears, so that one output block's gates and
/// linears are two n8 blocks of the same shape (same lanes on the GPU).
int64_t interleavedSource(int64_t p) {
  int64_t q = p % kSwigluGroup;
  return p - q + (q < kMmaCols ? 2 * q : 2 * (q - kMmaCols) + 1);
}

/// interleavedSource on an index (scalar code in a body).
Value interleavedSource(OpBuilder &b, Location loc, Value p) {
  Value q =
      arith::RemUIOp::create(b, loc, p, indexConstant(b, loc, kSwigluGroup));
  Value twice = arith::MulIOp::create(b, loc, q, indexConstant(b, loc, 2));
  Value gate = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, q,
                                     indexConstant(b, loc, kMmaCols));
  Value linear = arith::SubIOp::create(b, loc, twice,
                                       indexConstant(b, loc, 2 * kMmaCols - 1));
  Value offset = arith::SelectOp::create(b, loc, gate, twice, linear);
  return arith::AddIOp::create(b, loc, arith::SubIOp::create(b, loc, p, q),
                               offset);
}

/// The bytes of a non-splat constant's elements (dense or resource blob).
std::optional<ArrayRef<char>> rawElements(Attribute attr) {
  if (auto dense = dyn_cast<DenseElementsAttr>(attr))
    if (!dense.isSplat())
      return dense.getRawData();
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      return blob->getData();
  return std::nullopt;
}

/// `x` ([E, 2I] or [E, 2I, H]: an interleaved swiglu's fc1 bias or weights)
/// with its rows in the blocked order of interleavedSource: a constant
/// permuted at compile time, anything else by a gather, which converts the
/// elements to MMA operands of `operandType` too when one is given.
Value blockedSwigluRows(OpBuilder &b, Location loc, Value x,
                        Type operandType = {}) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t experts = type.getDimSize(0), rows = type.getDimSize(1);
  Attribute values;
  if (matchPattern(x, m_Constant(&values))) {
    if (auto dense = dyn_cast<DenseElementsAttr>(values);
        dense && dense.isSplat())
      return x;
    std::optional<ArrayRef<char>> raw = rawElements(values);
    if (raw && raw->size() % (experts * rows) == 0) {
      size_t rowBytes = raw->size() / (experts * rows);
      SmallVector<char> permuted(raw->size());
      for (int64_t e = 0; e < experts; ++e)
        for (int64_t p = 0; p < rows; ++p)
          std::memcpy(&permuted[(e * rows + p) * rowBytes],
                      raw->data() +
                          (e * rows + interleavedSource(p)) * rowBytes,
                      rowBytes);
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::getFromRawBuffer(type, permuted));
    }
  }
  int64_t rank = type.getRank();
  if (operandType)
    type = type.clone(operandStorageType(b.getContext()));
  Value init =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  SmallVector<IteratorType> iterators(rank, IteratorType::parallel);
  auto op = linalg::GenericOp::create(
      b, loc, type, ValueRange{}, init,
      ArrayRef<AffineMap>{
          AffineMap::getMultiDimIdentityMap(rank, b.getContext())},
      iterators, [&](OpBuilder &b, Location loc, ValueRange) {
        SmallVector<Value> indices;
        for (int64_t d = 0; d < rank; ++d)
          indices.push_back(linalg::IndexOp::create(b, loc, d));
        indices[1] = interleavedSource(b, loc, indices[1]);
        Value value = tensor::ExtractOp::create(b, loc, x, indices);
        if (operandType)
          value = toOperandStorage(
              b, loc, castFloat(b, loc, value, b.getF32Type()), operandType);
        linalg::YieldOp::create(b, loc, value);
      });
  return op.getResult(0);
}

/// The rows of the ragged [N, H] result that each tile writes, as two
/// [numTiles] i32 tensors (first row, count), in one element-wise kernel:
/// tile t of expert e holds the expert's rows from
/// offsets[e] + (16 t - firstPadded(e)), as many as remain (up to 16). The
/// surplus tiles take the rows past the FFN experts (offsets[E] ..), 16
/// each, to zero them: there are at least as many surplus tiles
/// (ceil(N / 16) + E - sum_e ceil(rows_e / 16)) as such groups of rows.
/// (Computed apart from the warp kernel, whose scalar code must stay index
/// loads: upstream's vector-to-gpu takes scalar integer arithmetic there
/// for element-wise MMA ops.)
std::pair<Value, Value> raggedTileRows(OpBuilder &b, Location loc,
                                       const TileSchedule &schedule,
                                       Value rowCount) {
  MLIRContext *context = b.getContext();
  int64_t experts = schedule.experts;
  auto type = RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type());
  auto empty = [&] {
    return tensor::EmptyOp::create(b, loc, type, ValueRange{schedule.numTiles})
        .getResult();
  };
  auto op = linalg::GenericOp::create(
      b, loc, TypeRange{type, type}, ValueRange{}, ValueRange{empty(), empty()},
      ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(1, context),
                          AffineMap::getMultiDimIdentityMap(1, context)},
      ArrayRef<IteratorType>{IteratorType::parallel},
      [&](OpBuilder &b, Location loc, ValueRange) {
        Value t = linalg::IndexOp::create(b, loc, 0);
        Value paddedRow =
            arith::MulIOp::create(b, loc, t, indexConstant(b, loc, kTileRows));
        auto indexAt = [&](Value tensor, Value i) -> Value {
          return arith::IndexCastOp::create(
              b, loc, b.getIndexType(),
              tensor::ExtractOp::create(b, loc, tensor, i));
        };
        Value expert =
            tensor::ExtractOp::create(b, loc, schedule.tileExperts, t);
        Value e = clampedExpertIndex(b, loc, expert, experts);
        auto [firstPadded, firstRow] = expertStarts(b, loc, schedule, e);
        Value end =
            indexAt(schedule.offsets,
                    arith::AddIOp::create(b, loc, e, indexConstant(b, loc, 1)));
        Value ffnFirst = arith::AddIOp::create(
            b, loc, firstRow,
            arith::SubIOp::create(b, loc, paddedRow, firstPadded));
        // Surplus tile s = t - tileEnds[E - 1]: rows offsets[E] + 16 s ..
        Value firstSurplus =
            indexAt(schedule.tileEnds, indexConstant(b, loc, experts - 1));
        Value tailFirst = arith::AddIOp::create(
            b, loc, indexAt(schedule.offsets, indexConstant(b, loc, experts)),
            arith::SubIOp::create(
                b, loc, paddedRow,
                arith::MulIOp::create(b, loc, firstSurplus,
                                      indexConstant(b, loc, kTileRows))));
        tailFirst = arith::MinSIOp::create(b, loc, tailFirst, rowCount);
        Value ffnTile =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, expert,
                                  i32Constant(b, loc, experts));
        Value first =
            arith::SelectOp::create(b, loc, ffnTile, ffnFirst, tailFirst);
        Value last = arith::SelectOp::create(b, loc, ffnTile, end, rowCount);
        Value count = arith::MinSIOp::create(
            b, loc, arith::SubIOp::create(b, loc, last, first),
            indexConstant(b, loc, kTileRows));
        auto i32 = [&](Value index) -> Value {
          return arith::IndexCastOp::create(b, loc, b.getI32Type(), index);
        };
        linalg::YieldOp::create(b, loc, ValueRange{i32(first), i32(count)});
      });
  return {op.getResult(0), op.getResult(1)};
}

struct MMAGroupedFFN : OpRewritePattern<GroupedFFNOp> {
  MMAGroupedFFN(MLIRContext *context, StringRef precision)
      : OpRewritePattern(context), precision(precision.str()) {}

  LogicalResult matchAndRewrite(GroupedFFNOp op,
                                PatternRewriter &rewriter) const override {
    Type operandType = operandTypeOf(op, precision);
    if (!operandType)
      return rewriter.notifyMatchFailure(op, "no 16-bit precision asked for");
    auto fc1 = cast<RankedTensorType>(op.getFc1Weights().getType());
    auto fc2 = cast<RankedTensorType>(op.getFc2Weights().getType());
    Value fc3 = op.getFc3Weights();
    if (!fc1.hasStaticShape() || !fc2.hasStaticShape() ||
        (fc3 && !cast<RankedTensorType>(fc3.getType()).hasStaticShape()))
      return rewriter.notifyMatchFailure(op, "dynamic weight shapes");
    for (Value bias : {op.getFc1Bias(), op.getFc2Bias(), op.getFc3Bias()})
      if (bias && !cast<RankedTensorType>(bias.getType()).hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic bias shapes");
    int64_t experts = fc1.getDimSize(0), width1 = fc1.getDimSize(1);
    int64_t hidden = fc1.getDimSize(2), inter = fc2.getDimSize(2);
    if (!fitsWarpGemm(width1, hidden) || !fitsWarpGemm(hidden, inter) ||
        (fc3 && !fitsWarpGemm(inter, hidden)))
      return rewriter.notifyMatchFailure(
          op, "H and I must be multiples of 16 for m16n8k16 tiles");

    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    Type storage = operandStorageType(getContext());
    Value rows = op.getRows();
    Value rowCount = indexDim(rewriter, loc, rows, 0);
    TileSchedule schedule =
        buildTileSchedule(rewriter, loc, op.getOffsets(), rowCount, experts);
    Value padded =
        arith::MulIOp::create(rewriter, loc, schedule.numTiles,
                              indexConstant(rewriter, loc, kTileRows));

    // The rows in the padded layout, as operands (zero padding).
    Value a = gatherPaddedOperands(rewriter, kernelLoc(loc, "moe_mma_gather"),
                                   schedule, rows, padded, hidden, operandType);

    auto operands = [&](Value w) {
      return weightOperands(rewriter, loc, w, operandType);
    };

    // fc1 (and fc3): per block of 8 outputs n, the accumulators of its
    // terms, then bias, activation and gating in registers, written as the
    // fc2 operand. Swiglu's gate and linear are two n8 blocks: at n and
    // I + n (concatenated), or at 2n and 2n + 8 of fc1 in the blocked order
    // (interleaved).
    ActivationConfigAttr act = op.getActivation();
    bool swiglu = act.getKind() == Activation::swiglu;
    bool interleaved = swiglu && act.getLayout() == SwigluLayout::interleaved;
    Value w1 = op.getFc1Weights(), bias1 = op.getFc1Bias();
    Value w1Operands;
    if (interleaved) {
      // Constants permuted and converted at compile time; other weights
      // gathered and converted in one kernel.
      Location blockedLoc = kernelLoc(loc, "moe_mma_swiglu_rows");
      w1Operands =
          matchPattern(w1, m_Constant())
              ? operands(blockedSwigluRows(rewriter, blockedLoc, w1))
              : blockedSwigluRows(rewriter, blockedLoc, w1, operandType);
      if (bias1)
        bias1 = blockedSwigluRows(rewriter, blockedLoc, bias1);
    } else {
      w1Operands = operands(w1);
    }
    SmallVector<WarpGemmTerm> terms;
    SmallVector<Value> termBiases;
    if (!swiglu) {
      terms.push_back({w1Operands});
    } else if (interleaved) {
      terms.push_back({w1Operands, 2, 0});
      terms.push_back({w1Operands, 2, kMmaCols});
    } else {
      terms.push_back({w1Operands});
      terms.push_back({w1Operands, 1, inter});
    }
    termBiases.append(terms.size(), bias1);
    if (fc3) {
      terms.push_back({operands(fc3)});
      termBiases.push_back(op.getFc3Bias());
    }
    auto fc1Epilogue = [&](OpBuilder &b, Location loc, Value e, Value n,
                           ValueRange accs) -> Value {
      // The accumulators, then the biases of the terms that have one.
      SmallVector<Value> blocks = llvm::to_vector(accs);
      SmallVector<int64_t> biasOf(terms.size(), -1);
      for (auto [i, bias] : llvm::enumerate(termBiases)) {
        if (!bias)
          continue;
        biasOf[i] = blocks.size();
        blocks.push_back(
            readRowBroadcast(b, loc, bias, e, termRow(b, loc, terms[i], n)));
      }
      Value y = applyLaneWise(
          b, loc, blocks, [&](OpBuilder &b, Location loc, ValueRange x) {
            auto term = [&](int64_t i) -> Value {
              if (biasOf[i] < 0)
                return x[i];
              return arith::AddFOp::create(b, loc, x[i], x[biasOf[i]]);
            };
            Value y = swiglu ? swigluScalar(b, loc, act, term(0), term(1))
                             : activateScalar(b, loc, act.getKind(), term(0));
            if (fc3)
              y = arith::MulFOp::create(b, loc, y, term(terms.size() - 1));
            return toOperandStorage(b, loc, y, operandType);
          });
      return y;
    };
    auto paddedRows = [](OpBuilder &b, Location loc, Value t, Value) {
      return WarpTileRows{
          arith::MulIOp::create(b, loc, t, indexConstant(b, loc, kTileRows)),
          Value()};
    };
    Value a2Init = tensor::EmptyOp::create(
        rewriter, loc,
        RankedTensorType::get({ShapedType::kDynamic, inter}, storage),
        ValueRange{padded});
    Value a2 =
        fusedWarpGemm(rewriter, kernelLoc(loc, "moe_mma_fc1_act"), schedule, a,
                      terms, a2Init, paddedRows, fc1Epilogue, operandType);

    // fc2 into the ragged result (see raggedTileRows); the warp kernel only
    // reads its tile's rows.
    auto [tileFirsts, tileCounts] = raggedTileRows(
        rewriter, kernelLoc(loc, "moe_mma_tile_rows"), schedule, rowCount);
    auto raggedRows = [&](OpBuilder &b, Location loc, Value t,
                          Value) -> WarpTileRows {
      auto at = [&](Value tensor) -> Value {
        return arith::IndexCastOp::create(
            b, loc, b.getIndexType(),
            tensor::ExtractOp::create(b, loc, tensor, t));
      };
      return {at(tileFirsts), at(tileCounts)};
    };
    Value bias2 = op.getFc2Bias();
    auto fc2Epilogue = [&](OpBuilder &b, Location loc, Value e, Value n,
                           ValueRange accs) -> Value {
      Value y = accs[0];
      if (bias2)
        y = arith::AddFOp::create(b, loc, y,
                                  readRowBroadcast(b, loc, bias2, e, n));
      return y;
    };
    auto resultF32 = RankedTensorType::get({ShapedType::kDynamic, hidden}, f32);
    Value result =
        tensor::EmptyOp::create(rewriter, loc, resultF32, ValueRange{rowCount});
    result = fusedWarpGemm(rewriter, kernelLoc(loc, "moe_mma_fc2"), schedule,
                           a2, WarpGemmTerm{operands(op.getFc2Weights())},
                           result, raggedRows, fc2Epilogue, operandType,
                           [](OpBuilder &b, Location loc, Value tile) {
                             return zeroTile(b, loc, tile);
                           });
    auto resultType = op.getResult().getType();
    result =
        castFloatTensor(rewriter, loc, result, resultType.getElementType());
    rewriter.replaceOp(
        op, tensor::CastOp::create(rewriter, loc, resultType, result));
    return success();
  }

  std::string precision;
};

struct ConvertMoEGroupedFFNToMMAPass
    : moe::impl::ConvertMoEGroupedFFNToMMABase<ConvertMoEGroupedFFNToMMAPass> {
  using Base::Base;

  void runOnOperation() override {
    if (precision != "f32" && precision != "bf16" && precision != "f16") {
      getOperation()->emitError()
          << "convert-moe-grouped-ffn-to-mma: unknown precision '" << precision
          << "' (expected f32, bf16 or f16)";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateGroupedFFNToMMAPatterns(patterns, precision);
    if (failed(rewriteExistingOps(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::moe::populateGroupedFFNToMMAPatterns(RewritePatternSet &patterns,
                                                StringRef precision) {
  patterns.add<MMAGroupedFFN>(patterns.getContext(), precision);
}
