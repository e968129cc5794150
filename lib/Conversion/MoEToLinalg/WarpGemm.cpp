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

/// MMAs per step of the column loop: they share the A fragment (a wider
/// warp tile, fewer re-reads of A).
int64_t mmasPerStep(int64_t m) {
  for (int64_t count : {4, 2})
    if (m % (count * kMmaCols) == 0)
      return count;
  return 1;
}

/// A 2-D in-bounds read of `shape` at `indices` (operands of `operandType`
/// in the storage type), extended to f32.
Value readExtended(OpBuilder &b, Location loc, Value source,
                   ValueRange indices, ArrayRef<int64_t> shape,
                   Type operandType) {
  Type element = cast<RankedTensorType>(source.getType()).getElementType();
  auto type = VectorType::get(shape, element);
  // Created in the loop body: convert-vector-to-gpu rejects reduction loops
  // that capture non-constant scalars from above.
  Value pad = arith::ConstantOp::create(b, loc, b.getFloatAttr(element, 0.0));
  Value read = vector::TransferReadOp::create(b, loc, type, source, indices,
                                             pad, ArrayRef<bool>{true, true});
  if (operandType != element)
    read = arith::BitcastOp::create(
        b, loc, VectorType::get(shape, operandType), read);
  return arith::ExtFOp::create(
      b, loc, VectorType::get(shape, b.getF32Type()), read);
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

/// One tile of expert `e` (index): for every group of columns, the K loop
/// of contracts, then the accumulators written into `tile` [kTileRows, M].
Value tileProduct(OpBuilder &b, Location loc, Value padded, Value w, Value e,
                  Value row, Value tile, Type operandType) {
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t m = wType.getDimSize(1), depth = wType.getDimSize(2);
  int64_t group = mmasPerStep(m);
  auto accType = VectorType::get({kTileRows, kMmaCols}, b.getF32Type());
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0f)));
  Value c0 = indexConstant(b, loc, 0);
  auto columnLoop = scf::ForOp::create(
      b, loc, c0, indexConstant(b, loc, m),
      indexConstant(b, loc, group * kMmaCols), ValueRange{tile},
      [&](OpBuilder &b, Location loc, Value column, ValueRange tileArgs) {
        SmallVector<Value> zeros(group, zero);
        auto depthLoop = scf::ForOp::create(
            b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, depth),
            indexConstant(b, loc, kMmaDepth), zeros,
            [&](OpBuilder &b, Location loc, Value k, ValueRange accs) {
              Value a = readExtended(b, loc, padded, ValueRange{row, k},
                                     {kTileRows, kMmaDepth}, operandType);
              SmallVector<Value> next;
              for (int64_t j = 0; j < group; ++j) {
                Value n = arith::AddIOp::create(
                    b, loc, column, indexConstant(b, loc, j * kMmaCols));
                Value bFragment = readExtended(b, loc, w, ValueRange{e, n, k},
                                               {kMmaCols, kMmaDepth},
                                               operandType);
                next.push_back(contract(b, loc, a, bFragment, accs[j]));
              }
              scf::YieldOp::create(b, loc, next);
            });
        Value result = tileArgs[0];
        for (int64_t j = 0; j < group; ++j) {
          Value n = arith::AddIOp::create(b, loc, column,
                                          indexConstant(b, loc, j * kMmaCols));
          result = vector::TransferWriteOp::create(
                       b, loc, depthLoop.getResult(j), result,
                       ValueRange{c0, n}, ArrayRef<bool>{true, true})
                       .getResult();
        }
        scf::YieldOp::create(b, loc, result);
      });
  return columnLoop.getResult(0);
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

Value mma::warpGemm(OpBuilder &b, Location loc, const TileSchedule &schedule,
                    Value padded, Value w, Type operandType) {
  MLIRContext *context = b.getContext();
  int64_t m = cast<RankedTensorType>(w.getType()).getDimSize(1);
  Value rows = arith::MulIOp::create(b, loc, schedule.numTiles,
                                     indexConstant(b, loc, kTileRows));
  auto type = RankedTensorType::get({ShapedType::kDynamic, m}, b.getF32Type());
  Value init = tensor::EmptyOp::create(b, loc, type, ValueRange{rows});
  auto tileType = RankedTensorType::get({kTileRows, m}, b.getF32Type());

  // One iteration per tile, one warp per iteration on the GPU.
  ArrayAttr mapping = b.getArrayAttr(
      {gpu::GPUWarpMappingAttr::get(context, gpu::MappingId::DimX)});
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{schedule.numTiles}, ValueRange{init},
      mapping, [&](OpBuilder &b, Location loc, ValueRange args) {
        Value t = args[0], out = args[1];
        Value row = arith::MulIOp::create(b, loc, t,
                                          indexConstant(b, loc, kTileRows));
        SmallVector<OpFoldResult> offsets{row, b.getIndexAttr(0)};
        SmallVector<OpFoldResult> sizes{b.getIndexAttr(kTileRows),
                                        b.getIndexAttr(m)};
        SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
        Value tile = tensor::ExtractSliceOp::create(b, loc, tileType, out,
                                                    offsets, sizes, strides);
        Value expert = tensor::ExtractOp::create(b, loc, schedule.tileExperts,
                                                 t);
        // Surplus tiles (beyond the last expert's) exit.
        Value ffnTile = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::slt, expert,
            i32Constant(b, loc, schedule.experts));
        auto ifOp = scf::IfOp::create(
            b, loc, ffnTile,
            [&](OpBuilder &b, Location loc) {
              Value e = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                                   expert);
              scf::YieldOp::create(
                  b, loc, tileProduct(b, loc, padded, w, e, row, tile,
                                      operandType));
            },
            [&](OpBuilder &b, Location loc) {
              scf::YieldOp::create(b, loc, tile);
            });
        auto terminator = scf::InParallelOp::create(b, loc);
        b.setInsertionPointToStart(terminator.getBody());
        tensor::ParallelInsertSliceOp::create(b, loc, ifOp.getResult(0), out,
                                              offsets, sizes, strides);
      });
  return forall.getResult(0);
}
