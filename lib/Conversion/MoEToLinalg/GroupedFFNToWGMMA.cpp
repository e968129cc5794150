//===- GroupedFFNToWGMMA.cpp - grouped_ffn on warpgroup MMAs --------------===//
//
// moe.grouped_ffn as a ragged grouped GEMM over expert-aligned tiles of
// kWGMMATileRows (64) rows, for Hopper's wgmma (sm_90a):
//   1. the tile schedule from the offsets (MMATileSchedule, 64-row tiles);
//   2. the rows gathered into the padded layout as 16-bit operands;
//   3. fc1 (and fc3) as warpgroup GEMMs: a linalg.generic over (padded row,
//      column, reduction) reading the tile's expert's weight, marked with
//      kWGMMAGemmAttrName; after bufferisation moe-gpu-wgmma-gemm makes it a
//      kernel of one warpgroup per 64 x N tile (TMA loads, wgmma);
//   4. the epilogue (bias, activation, fc3 gating, fc2 operand) and
//   5. fc2 and the un-padding with fc2's bias, as in GroupedFFNToMMA.
// The generic has the GEMM's semantics, so the same IR runs on the CPU.
//
// Steps 2, 4 and 5 are those of GroupedFFNToMMA.cpp with another tile
// height; they are written here once more rather than shared, because that
// file is being reworked at the same time (see docs/CUDA.md).
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToLinalg/GroupedFFNToWGMMA.h"

#include "MMAOperands.h"
#include "MMATileSchedule.h"
#include "WarpGemm.h"

#include "moe/Conversion/KernelName.h"
#include "moe/Conversion/MoEToLinalg/Activations.h"
#include "moe/Conversion/MoEToLinalg/GroupedFFNRowParallel.h"
#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"
#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

namespace mlir::moe {
#define GEN_PASS_DEF_CONVERTMOEGROUPEDFFNTOWGMMA
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::mma;

namespace {

using utils::IteratorType;

/// Whether a [M, K] weight is a warpgroup GEMM's B operand: N tiles of 64 or
/// 128 columns, K steps of 64 (one 128-byte swizzled row of 16-bit values).
bool fitsWGMMA(int64_t m, int64_t k) {
  return m % kWGMMAMinCols == 0 && k % kWGMMADepth == 0;
}

/// An operand in the storage type as f32 (bf16 bits bitcast back first).
Value operandToF32(OpBuilder &b, Location loc, Value stored, Type operandType) {
  if (stored.getType() != operandType)
    stored = arith::BitcastOp::create(b, loc, operandType, stored);
  return arith::ExtFOp::create(b, loc, b.getF32Type(), stored);
}

/// padded [numTiles * tileRows, K] times the tile's expert's w^T (w [E, M,
/// K]), operands of `operandType` in the storage type: [numTiles * tileRows,
/// M] f32, as a marked linalg.generic over (row, column, reduction). The
/// output starts as an empty tensor (the first reduction step does not read
/// it), so the GPU kernel need not clear it; rows of surplus tiles are
/// computed with a clamped expert on the CPU and left undefined on the GPU.
Value wgmmaGemm(OpBuilder &b, Location loc, const TileSchedule &schedule,
                Value padded, Value w, Type operandType) {
  MLIRContext *context = b.getContext();
  int64_t m = cast<RankedTensorType>(w.getType()).getDimSize(1);
  Value rows = arith::MulIOp::create(b, loc, schedule.numTiles,
                                     indexConstant(b, loc, schedule.tileRows));
  auto type = RankedTensorType::get({ShapedType::kDynamic, m}, b.getF32Type());
  Value init = tensor::EmptyOp::create(b, loc, type, ValueRange{rows});
  AffineExpr p, n, k;
  bindDims(context, p, n, k);
  auto op = linalg::GenericOp::create(
      b, loc, type, ValueRange{padded}, ValueRange{init},
      ArrayRef<AffineMap>{AffineMap::get(3, 0, {p, k}, context),
                          AffineMap::get(3, 0, {p, n}, context)},
      ArrayRef<IteratorType>{IteratorType::parallel, IteratorType::parallel,
                             IteratorType::reduction},
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value row = linalg::IndexOp::create(b, loc, 0);
        Value column = linalg::IndexOp::create(b, loc, 1);
        Value depth = linalg::IndexOp::create(b, loc, 2);
        Value tile = arith::DivUIOp::create(
            b, loc, row, indexConstant(b, loc, schedule.tileRows));
        Value e = clampedExpertIndex(
            b, loc,
            tensor::ExtractOp::create(b, loc, schedule.tileExperts, tile),
            schedule.experts);
        Value weight =
            tensor::ExtractOp::create(b, loc, w, ValueRange{e, column, depth});
        Value product = arith::MulFOp::create(
            b, loc, operandToF32(b, loc, args[0], operandType),
            operandToF32(b, loc, weight, operandType));
        Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            depth, indexConstant(b, loc, 0));
        Value acc = arith::SelectOp::create(
            b, loc, first, floatConstant(b, loc, b.getF32Type(), 0.0), args[1]);
        linalg::YieldOp::create(
            b, loc, ValueRange{arith::AddFOp::create(b, loc, acc, product)});
      });
  op->setAttr(
      kWGMMAGemmAttrName,
      b.getDictionaryAttr(
          {b.getNamedAttr("tile_rows", b.getI64IntegerAttr(schedule.tileRows)),
           b.getNamedAttr("operand_type", TypeAttr::get(operandType))}));
  return op.getResult(0);
}

struct WGMMAGroupedFFN : OpRewritePattern<GroupedFFNOp> {
  WGMMAGroupedFFN(MLIRContext *context, StringRef precision)
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
    int64_t experts = fc1.getDimSize(0), width1 = fc1.getDimSize(1);
    int64_t hidden = fc1.getDimSize(2), inter = fc2.getDimSize(2);
    if (!fitsWGMMA(width1, hidden) || !fitsWGMMA(hidden, inter) ||
        (fc3 && !fitsWGMMA(inter, hidden)))
      return rewriter.notifyMatchFailure(
          op, "H and I must be multiples of 64 for the warpgroup GEMM");

    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    Type storage = operandStorageType(getContext());
    Value rows = op.getRows();
    Value rowCount = indexDim(rewriter, loc, rows, 0);
    TileSchedule schedule = buildTileSchedule(
        rewriter, loc, op.getOffsets(), rowCount, experts, kWGMMATileRows);
    Value tileRows = indexConstant(rewriter, loc, kWGMMATileRows);
    Value padded =
        arith::MulIOp::create(rewriter, loc, schedule.numTiles, tileRows);

    // The rows in the padded layout, as operands (zero padding).
    Value a = gatherPaddedOperands(rewriter, kernelLoc(loc, "moe_wgmma_gather"),
                                   schedule, rows, padded, hidden, operandType);

    auto gemm = [&](Value lhs, Value w, StringRef kernel) {
      return wgmmaGemm(rewriter, kernelLoc(loc, kernel), schedule, lhs,
                       weightOperands(rewriter, loc, w, operandType),
                       operandType);
    };
    Value h1 = gemm(a, op.getFc1Weights(), "moe_wgmma_fc1");
    Value h3 = fc3 ? gemm(a, fc3, "moe_wgmma_fc3") : Value();

    // The epilogue of fc1/fc3: the reference lowering's bias, activation and
    // gating, as the fc2 operand.
    ActivationConfigAttr act = op.getActivation();
    Value bias1 = op.getFc1Bias(), bias3 = op.getFc3Bias();
    Value a2 = indexedTensor(
        rewriter, kernelLoc(loc, "moe_wgmma_activation"), padded, inter,
        storage, [&](OpBuilder &b, Location loc, Value p, Value i) -> Value {
          Value t = arith::DivUIOp::create(
              b, loc, p, indexConstant(b, loc, kWGMMATileRows));
          Value e = clampedExpertIndex(
              b, loc,
              tensor::ExtractOp::create(b, loc, schedule.tileExperts, t),
              experts);
          auto biased = [&](Value h, Value bias, Value column) -> Value {
            Value x = f32At(b, loc, h, p, column);
            if (!bias)
              return x;
            return arith::AddFOp::create(b, loc, x,
                                         f32At(b, loc, bias, e, column));
          };
          Value y;
          if (act.getKind() == Activation::swiglu) {
            bool interleaved = act.getLayout() == SwigluLayout::interleaved;
            Value gateColumn = i, linColumn;
            if (interleaved) {
              gateColumn =
                  arith::MulIOp::create(b, loc, i, indexConstant(b, loc, 2));
              linColumn = arith::AddIOp::create(b, loc, gateColumn,
                                                indexConstant(b, loc, 1));
            } else {
              linColumn = arith::AddIOp::create(b, loc, i,
                                                indexConstant(b, loc, inter));
            }
            y = swigluScalar(b, loc, act, biased(h1, bias1, gateColumn),
                             biased(h1, bias1, linColumn));
          } else {
            y = activateScalar(b, loc, act.getKind(), biased(h1, bias1, i));
          }
          if (h3)
            y = arith::MulFOp::create(b, loc, y, biased(h3, bias3, i));
          return toOperandStorage(b, loc, y, operandType);
        });
    Value y = gemm(a2, op.getFc2Weights(), "moe_wgmma_fc2");

    // Back to the ragged layout with fc2's bias; rows past the FFN experts
    // (special experts, padding) are zero.
    Value rowExpert =
        rowExperts(rewriter, loc, op.getOffsets(), rowCount, experts);
    Value bias2 = op.getFc2Bias();
    Value result = indexedTensor(
        rewriter, kernelLoc(loc, "moe_wgmma_unpad"), rowCount, hidden, f32,
        [&](OpBuilder &b, Location loc, Value r, Value c) -> Value {
          Value expert = tensor::ExtractOp::create(b, loc, rowExpert, r);
          Value e = clampedExpertIndex(b, loc, expert, experts);
          auto [firstPadded, firstRow] = expertStarts(b, loc, schedule, e);
          Value p = arith::AddIOp::create(
              b, loc, firstPadded, arith::SubIOp::create(b, loc, r, firstRow));
          Value inFFN =
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, expert,
                                    i32Constant(b, loc, experts));
          p = arith::SelectOp::create(b, loc, inFFN, p,
                                      indexConstant(b, loc, 0));
          Value value = f32At(b, loc, y, p, c);
          if (bias2)
            value = arith::AddFOp::create(b, loc, value,
                                          f32At(b, loc, bias2, e, c));
          return arith::SelectOp::create(b, loc, inFFN, value,
                                         floatConstant(b, loc, f32, 0.0));
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

struct ConvertMoEGroupedFFNToWGMMAPass
    : moe::impl::ConvertMoEGroupedFFNToWGMMABase<
          ConvertMoEGroupedFFNToWGMMAPass> {
  using Base::Base;

  void runOnOperation() override {
    if (precision != "f32" && precision != "bf16" && precision != "f16") {
      getOperation()->emitError()
          << "convert-moe-grouped-ffn-to-wgmma: unknown precision '"
          << precision << "' (expected f32, bf16 or f16)";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateGroupedFFNToWGMMAPatterns(patterns, precision);
    if (failed(rewriteExistingOps(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::moe::populateGroupedFFNToWGMMAPatterns(RewritePatternSet &patterns,
                                                  StringRef precision) {
  patterns.add<WGMMAGroupedFFN>(patterns.getContext(), precision);
}
