//===- WarpGemm.cpp - expert-tiled GEMM of warp MMAs ----------------------===//
//
// The contracts read their operands with vector.transfer_read and are
// written as f32 contracts of arith.extf'd vectors, which every vector
// lowering understands; the GPU pipeline folds the extensions back into
// mixed-precision contracts before convert-vector-to-gpu turns them into
// nvgpu.mma.sync (moe-gpu-prepare-mma).
//
//===----------------------------------------------------------------------===//

#include "WarpGemm.h"

#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::mma;

namespace {

/// Accumulators a step of the column loop keeps live: 4 x 4 registers per
/// lane beside the A fragment and the epilogue's values.
constexpr int64_t kMaxAccumulators = 4;

/// Output blocks per step of the column loop: they share the A fragment (a
/// wider warp tile, fewer re-reads of A), one accumulator per term each.
int64_t blocksPerStep(int64_t m, int64_t terms) {
  for (int64_t count : {4, 2})
    if (count * terms <= kMaxAccumulators && m % (count * kMmaCols) == 0)
      return count;
  return 1;
}

/// A 2-D in-bounds read of `shape` at `indices` (operands of `operandType`
/// in the storage type), extended to f32.
Value readExtended(OpBuilder &b, Location loc, Value source, ValueRange indices,
                   ArrayRef<int64_t> shape, Type operandType) {
  Type element = cast<RankedTensorType>(source.getType()).getElementType();
  auto type = VectorType::get(shape, element);
  // Created in the loop body: convert-vector-to-gpu rejects reduction loops
  // that capture non-constant scalars from above.
  Value pad = arith::ConstantOp::create(b, loc, b.getFloatAttr(element, 0.0));
  Value read = vector::TransferReadOp::create(b, loc, type, source, indices,
                                              pad, ArrayRef<bool>{true, true});
  if (operandType != element)
    read = arith::BitcastOp::create(b, loc, VectorType::get(shape, operandType),
                                    read);
  return arith::ExtFOp::create(b, loc, VectorType::get(shape, b.getF32Type()),
                               read);
}

/// The contract acc[m, n] += a[m, k] * b[n, k] (B as stored: [n, k]).
Value contract(OpBuilder &b, Location loc, Value lhs, Value rhs, Value acc) {
  MLIRContext *context = b.getContext();
  AffineExpr m, n, k;
  bindDims(context, m, n, k);
  auto maps = b.getAffineMapArrayAttr({AffineMap::get(3, 0, {m, k}, context),
                                       AffineMap::get(3, 0, {n, k}, context),
                                       AffineMap::get(3, 0, {m, n}, context)});
  auto iterators = b.getArrayAttr(
      {vector::IteratorTypeAttr::get(context, vector::IteratorType::parallel),
       vector::IteratorTypeAttr::get(context, vector::IteratorType::parallel),
       vector::IteratorTypeAttr::get(context,
                                     vector::IteratorType::reduction)});
  return vector::ContractionOp::create(b, loc, lhs, rhs, acc, maps, iterators);
}

/// One column group of a tile of expert `e` (index): the K loop of the
/// terms' contracts for the `group` output blocks from column `column`, then
/// each block's epilogue stored into `tile` (the group's columns).
Value tileProduct(OpBuilder &b, Location loc, Value padded,
                  ArrayRef<WarpGemmTerm> terms, Value e, Value row,
                  Value column, int64_t group, Value tile,
                  WarpEpilogue epilogue, Type operandType) {
  int64_t depth =
      cast<RankedTensorType>(terms.front().w.getType()).getDimSize(2);
  int64_t numTerms = terms.size();
  auto accType = VectorType::get({kTileRows, kMmaCols}, b.getF32Type());
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0f)));
  auto blockColumn = [&](OpBuilder &b, Location loc, int64_t j) {
    return arith::AddIOp::create(b, loc, column,
                                 indexConstant(b, loc, j * kMmaCols))
        .getResult();
  };
  SmallVector<Value> zeros(group * numTerms, zero);
  auto depthLoop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, depth),
      indexConstant(b, loc, kMmaDepth), zeros,
      [&](OpBuilder &b, Location loc, Value k, ValueRange accs) {
        Value a = readExtended(b, loc, padded, ValueRange{row, k},
                               {kTileRows, kMmaDepth}, operandType);
        SmallVector<Value> next;
        for (int64_t j = 0; j < group; ++j) {
          Value n = blockColumn(b, loc, j);
          for (auto [i, term] : llvm::enumerate(terms)) {
            Value wRow = termRow(b, loc, term, n);
            Value bFragment =
                readExtended(b, loc, term.w, ValueRange{e, wRow, k},
                             {kMmaCols, kMmaDepth}, operandType);
            next.push_back(
                contract(b, loc, a, bFragment, accs[j * numTerms + i]));
          }
        }
        scf::YieldOp::create(b, loc, next);
      });
  for (int64_t j = 0; j < group; ++j) {
    Value block =
        epilogue(b, loc, e, blockColumn(b, loc, j),
                 depthLoop.getResults().slice(j * numTerms, numTerms));
    tile = writeTileBlock(b, loc, block, tile,
                          indexConstant(b, loc, j * kMmaCols));
  }
  return tile;
}

} // namespace

Type mma::operandStorageType(MLIRContext *context) {
  return Float16Type::get(context);
}

Value mma::toOperandStorage(OpBuilder &b, Location loc, Value f32Value,
                            Type operandType) {
  Value narrow = arith::TruncFOp::create(b, loc, operandType, f32Value);
  Type storage = operandStorageType(b.getContext());
  if (operandType == storage)
    return narrow;
  return arith::BitcastOp::create(b, loc, storage, narrow);
}

Value mma::termRow(OpBuilder &b, Location loc, const WarpGemmTerm &term,
                   Value n) {
  Value row = n;
  if (term.scale != 1)
    row = arith::MulIOp::create(b, loc, row, indexConstant(b, loc, term.scale));
  if (term.offset != 0)
    row =
        arith::AddIOp::create(b, loc, row, indexConstant(b, loc, term.offset));
  return row;
}

Value mma::fusedWarpGemm(OpBuilder &b, Location loc,
                         const TileSchedule &schedule, Value padded,
                         ArrayRef<WarpGemmTerm> terms, Value init,
                         WarpTileRowsFn tileRows, WarpEpilogue epilogue,
                         Type operandType, WarpSurplusFn surplus) {
  MLIRContext *context = b.getContext();
  auto initType = cast<RankedTensorType>(init.getType());
  int64_t m = initType.getDimSize(1);
  int64_t group = blocksPerStep(m, terms.size());
  int64_t groupCols = group * kMmaCols;

  // One iteration per (tile, column group), one warp per iteration on the
  // GPU: tiles on the grid's x (unbounded), groups on its y (M / groupCols
  // <= 65535). Splitting the columns is what spreads a decode step (one
  // tile per activated expert) over the machine.
  ArrayAttr mapping = b.getArrayAttr(
      {gpu::GPUWarpMappingAttr::get(context, gpu::MappingId::DimX),
       gpu::GPUWarpMappingAttr::get(context, gpu::MappingId::DimY)});
  auto forall = scf::ForallOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{schedule.numTiles, b.getIndexAttr(m / groupCols)},
      ValueRange{init}, mapping,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value t = args[0], out = args[2];
        Value row =
            arith::MulIOp::create(b, loc, t, indexConstant(b, loc, kTileRows));
        Value column = arith::MulIOp::create(b, loc, args[1],
                                             indexConstant(b, loc, groupCols));
        Value expert =
            tensor::ExtractOp::create(b, loc, schedule.tileExperts, t);
        WarpTileRows rows = tileRows(b, loc, t, expert);
        SmallVector<OpFoldResult> offsets{rows.first, column};
        SmallVector<OpFoldResult> sizes{
            rows.count ? OpFoldResult(rows.count)
                       : OpFoldResult(b.getIndexAttr(kTileRows)),
            b.getIndexAttr(groupCols)};
        SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
        auto tileType = RankedTensorType::get(
            {rows.count ? ShapedType::kDynamic : kTileRows, groupCols},
            initType.getElementType());
        Value tile = tensor::ExtractSliceOp::create(b, loc, tileType, out,
                                                    offsets, sizes, strides);
        // Surplus tiles (beyond the last expert's) exit.
        Value ffnTile =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, expert,
                                  i32Constant(b, loc, schedule.experts));
        auto ifOp = scf::IfOp::create(
            b, loc, ffnTile,
            [&](OpBuilder &b, Location loc) {
              Value e =
                  arith::IndexCastOp::create(b, loc, b.getIndexType(), expert);
              scf::YieldOp::create(b, loc,
                                   tileProduct(b, loc, padded, terms, e, row,
                                               column, group, tile, epilogue,
                                               operandType));
            },
            [&](OpBuilder &b, Location loc) {
              scf::YieldOp::create(b, loc,
                                   surplus ? surplus(b, loc, tile) : tile);
            });
        auto terminator = scf::InParallelOp::create(b, loc);
        b.setInsertionPointToStart(terminator.getBody());
        tensor::ParallelInsertSliceOp::create(b, loc, ifOp.getResult(0), out,
                                              offsets, sizes, strides);
      });
  return forall.getResult(0);
}

Value mma::writeTileBlock(OpBuilder &b, Location loc, Value block, Value tile,
                          Value n) {
  bool rowsInBounds =
      cast<RankedTensorType>(tile.getType()).getDimSize(0) == kTileRows;
  return vector::TransferWriteOp::create(
             b, loc, block, tile, ValueRange{indexConstant(b, loc, 0), n},
             ArrayRef<bool>{rowsInBounds, true})
      .getResult();
}

Value mma::zeroTile(OpBuilder &b, Location loc, Value tile) {
  auto type = cast<RankedTensorType>(tile.getType());
  auto blockType =
      VectorType::get({kTileRows, kMmaCols}, type.getElementType());
  auto loop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0),
      indexConstant(b, loc, type.getDimSize(1)),
      indexConstant(b, loc, kMmaCols), ValueRange{tile},
      [&](OpBuilder &b, Location loc, Value n, ValueRange args) {
        Value zero = arith::ConstantOp::create(
            b, loc,
            DenseElementsAttr::get(blockType,
                                   b.getZeroAttr(type.getElementType())));
        scf::YieldOp::create(b, loc, writeTileBlock(b, loc, zero, args[0], n));
      });
  return loop.getResult(0);
}

Value mma::readRowBroadcast(OpBuilder &b, Location loc, Value source, Value e,
                            Value n) {
  Type element = cast<RankedTensorType>(source.getType()).getElementType();
  Value pad = arith::ConstantOp::create(b, loc, b.getFloatAttr(element, 0.0));
  Value row = vector::TransferReadOp::create(
      b, loc, VectorType::get({kMmaCols}, element), source, ValueRange{e, n},
      pad, ArrayRef<bool>{true});
  Value block = vector::BroadcastOp::create(
      b, loc, VectorType::get({kTileRows, kMmaCols}, element), row);
  Type f32 = b.getF32Type();
  if (element == f32)
    return block;
  return arith::ExtFOp::create(
      b, loc, VectorType::get({kTileRows, kMmaCols}, f32), block);
}

Value mma::warpGemm(OpBuilder &b, Location loc, const TileSchedule &schedule,
                    Value padded, Value w, Type operandType) {
  int64_t m = cast<RankedTensorType>(w.getType()).getDimSize(1);
  Value rows = arith::MulIOp::create(b, loc, schedule.numTiles,
                                     indexConstant(b, loc, kTileRows));
  auto type = RankedTensorType::get({ShapedType::kDynamic, m}, b.getF32Type());
  Value init = tensor::EmptyOp::create(b, loc, type, ValueRange{rows});
  return fusedWarpGemm(
      b, loc, schedule, padded, WarpGemmTerm{w}, init,
      [](OpBuilder &b, Location loc, Value t, Value) {
        return WarpTileRows{
            arith::MulIOp::create(b, loc, t, indexConstant(b, loc, kTileRows)),
            Value()};
      },
      [](OpBuilder &, Location, Value, Value, ValueRange accs) {
        return accs[0];
      },
      operandType);
}
