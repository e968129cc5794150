//===- MatMulOps.cpp - MatMul and Gemm ------------------------------------===//
//
// MatMul follows numpy.matmul: 1-D operands get a unit dimension that is
// removed from the result, batch dimensions broadcast. The common shapes map
// to named contractions so that later passes recognise them:
//   [..., M, K] x [K, N]          -> linalg.matmul on [(...·M), K]
//   [b..., M, K] x [b..., K, N]   -> linalg.batch_matmul on [(b...), M, K]
// everything else (broadcast batch dimensions) is a linalg.generic
// contraction. f16/bf16 operands accumulate in f32.
//
// Gemm is Y = alpha · op(A) · op(B) + beta · C on 2-D operands, with the
// transpositions expressed in the indexing maps of linalg.matmul and C
// broadcast unidirectionally to [M, N].
//
//===----------------------------------------------------------------------===//

#include "BuildUtils.h"
#include "ElementwiseOps.h"
#include "OpConverters.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

#include <cmath>

namespace mlir::moe::onnx_import {

static RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// Element types the contractions accept: floats and signless integers
/// other than bool.
static LogicalResult checkContractionType(NodeContext &ctx, Value a, Value b) {
  Type type = tensorType(a).getElementType();
  if (tensorType(b).getElementType() != type)
    return ctx.emitError() << "A and B must have the same element type, got "
                           << type << " and " << tensorType(b).getElementType();
  if (isa<FloatType>(type) || (type.isSignlessInteger() && !type.isInteger(1)))
    return success();
  return ctx.emitError() << "unsupported element type " << type
                         << " (expected a floating-point type or a signed "
                            "integer type)";
}

/// Zero-filled accumulator of `sizes` for element type `type`.
static Value zeroAccumulator(OpBuilder &b, Location loc,
                             llvm::ArrayRef<OpFoldResult> sizes, Type type) {
  return filledTensor(b, loc, sizes, scalarConstant(b, loc, type, 0.0));
}

/// Converts an accumulator of computeType(type) back to `type`.
static Value truncateAccumulator(OpBuilder &b, Location loc, Value acc,
                                 Type type) {
  auto accType = tensorType(acc);
  if (accType.getElementType() == type)
    return acc;
  unsigned rank = accType.getRank();
  return buildParallelGeneric(b, loc, {acc}, {b.getMultiDimIdentityMap(rank)},
                              tensorSizes(b, loc, acc), type,
                              [&](OpBuilder &nb, Location nl, ValueRange args) {
                                return demoteScalar(nb, nl, args[0], type);
                              });
}

/// Collapses dimensions `[first, last]` of `tensor` into one.
static Value collapseRange(OpBuilder &b, Location loc, Value tensor,
                           int64_t first, int64_t last) {
  if (first == last)
    return tensor;
  auto type = tensorType(tensor);
  llvm::SmallVector<ReassociationIndices> groups;
  llvm::SmallVector<int64_t> shape;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (d > first && d <= last) {
      groups.back().push_back(d);
      int64_t size = type.getDimSize(d);
      if (ShapedType::isDynamic(size) || ShapedType::isDynamic(shape.back()))
        shape.back() = ShapedType::kDynamic;
      else
        shape.back() *= size;
      continue;
    }
    groups.push_back({d});
    shape.push_back(type.getDimSize(d));
  }
  return tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), tensor,
      groups);
}

/// Expands dimension `dim` of `tensor` into `sizes`.
static Value expandDim(OpBuilder &b, Location loc, Value tensor, int64_t dim,
                       llvm::ArrayRef<OpFoldResult> sizes) {
  if (sizes.size() == 1)
    return tensor;
  auto type = tensorType(tensor);
  llvm::SmallVector<OpFoldResult> allSizes = tensorSizes(b, loc, tensor);
  llvm::SmallVector<OpFoldResult> outSizes;
  llvm::SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (d == dim) {
      ReassociationIndices group;
      for (OpFoldResult size : sizes) {
        group.push_back(outSizes.size());
        outSizes.push_back(size);
      }
      groups.push_back(group);
      continue;
    }
    groups.push_back({static_cast<int64_t>(outSizes.size())});
    outSizes.push_back(allSizes[d]);
  }
  auto resultType =
      RankedTensorType::get(staticShape(outSizes), type.getElementType());
  return tensor::ExpandShapeOp::create(b, loc, resultType, tensor, groups,
                                       outSizes);
}

//===----------------------------------------------------------------------===//
// MatMul
//===----------------------------------------------------------------------===//

static LogicalResult convertMatMul(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 2)) || failed(ctx.checkAttributes({})))
    return failure();
  FailureOr<Value> lhsOr = ctx.requiredInput(0, "A");
  FailureOr<Value> rhsOr = ctx.requiredInput(1, "B");
  if (failed(lhsOr) || failed(rhsOr) ||
      failed(checkContractionType(ctx, *lhsOr, *rhsOr)))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  MLIRContext *mctx = ctx.context();
  Value lhs = *lhsOr, rhs = *rhsOr;
  int64_t lhsRank = tensorType(lhs).getRank();
  int64_t rhsRank = tensorType(rhs).getRank();
  if (lhsRank < 1 || rhsRank < 1)
    return ctx.emitError() << "operands must have rank >= 1, got A of rank "
                           << lhsRank << " and B of rank " << rhsRank;
  int64_t kLhs = tensorType(lhs).getDimSize(lhsRank - 1);
  int64_t kRhs = tensorType(rhs).getDimSize(rhsRank == 1 ? 0 : rhsRank - 2);
  if (!ShapedType::isDynamic(kLhs) && !ShapedType::isDynamic(kRhs) &&
      kLhs != kRhs)
    return ctx.emitError() << "inner dimensions differ: A is "
                           << tensorType(lhs) << " and B is " << tensorType(rhs)
                           << " (" << kLhs << " vs " << kRhs << ")";

  Type type = tensorType(lhs).getElementType();
  Type accType = computeType(type);

  // 1-D operands: [K] -> [1, K] for A, [K] -> [K, 1] for B.
  if (lhsRank == 1)
    lhs = insertUnitDims(b, loc, lhs, {0});
  if (rhsRank == 1)
    rhs = insertUnitDims(b, loc, rhs, {1});
  int64_t aRank = tensorType(lhs).getRank();
  int64_t bRank = tensorType(rhs).getRank();
  int64_t aBatch = aRank - 2, bBatch = bRank - 2;

  FailureOr<llvm::SmallVector<OpFoldResult>> batchSizes = broadcastSizes(
      ctx, {lhs, rhs}, {aBatch, bBatch}, "the batch dimensions of A and B");
  if (failed(batchSizes))
    return failure();
  int64_t nb = batchSizes->size();
  OpFoldResult m = tensorSizes(b, loc, lhs)[aRank - 2];
  OpFoldResult n = tensorSizes(b, loc, rhs)[bRank - 1];

  // tensor.expand_shape back to several dynamic dimensions in one group
  // crashes expand-strided-metadata in MLIR 22 (llvm-project#186830): such
  // shapes take the generic contraction instead of a named op.
  auto countDynamic = [](llvm::ArrayRef<int64_t> shape) {
    return llvm::count_if(shape, ShapedType::isDynamic);
  };
  llvm::ArrayRef<int64_t> aShape = tensorType(lhs).getShape();
  llvm::ArrayRef<int64_t> bShape = tensorType(rhs).getShape();
  bool rowsCollapsible = bBatch == 0 && countDynamic(aShape.drop_back()) <= 1;
  bool sameBatch = aBatch > 0 && aBatch == bBatch &&
                   aShape.take_front(aBatch) == bShape.take_front(bBatch) &&
                   countDynamic(aShape.take_front(aBatch)) <= 1;

  Value result;
  if (rowsCollapsible) {
    // [..., M, K] x [K, N]: one matmul over the flattened rows.
    Value rows = collapseRange(b, loc, lhs, 0, aRank - 2);
    llvm::SmallVector<OpFoldResult> accSizes = {tensorSizes(b, loc, rows)[0],
                                                n};
    Value acc = zeroAccumulator(b, loc, accSizes, accType);
    Value product =
        linalg::MatmulOp::create(b, loc, TypeRange{acc.getType()},
                                 ValueRange{rows, rhs}, ValueRange{acc})
            .getResult(0);
    llvm::SmallVector<OpFoldResult> rowSizes = tensorSizes(b, loc, lhs);
    rowSizes.pop_back();
    result = expandDim(b, loc, product, 0, rowSizes);
  } else if (bBatch == 0 && aBatch == 1) {
    // [B, M, K] x [K, N] with B and M dynamic: batch_matmul that broadcasts
    // B over the batch.
    auto dim = [&](unsigned i) { return getAffineDimExpr(i, mctx); };
    llvm::SmallVector<AffineMap> maps = {
        AffineMap::get(4, 0, {dim(0), dim(1), dim(3)}, mctx),
        AffineMap::get(4, 0, {dim(3), dim(2)}, mctx),
        AffineMap::get(4, 0, {dim(0), dim(1), dim(2)}, mctx)};
    llvm::SmallVector<OpFoldResult> accSizes = {(*batchSizes)[0], m, n};
    Value acc = zeroAccumulator(b, loc, accSizes, accType);
    result =
        linalg::BatchMatmulOp::create(
            b, loc, TypeRange{acc.getType()}, ValueRange{lhs, rhs},
            ValueRange{acc},
            {b.getNamedAttr("indexing_maps", b.getAffineMapArrayAttr(maps))})
            .getResult(0);
  } else if (sameBatch) {
    // Same batch dimensions (no broadcasting): batch_matmul.
    Value a = collapseRange(b, loc, lhs, 0, aBatch - 1);
    Value bb = collapseRange(b, loc, rhs, 0, bBatch - 1);
    llvm::SmallVector<OpFoldResult> accSizes = {tensorSizes(b, loc, a)[0], m,
                                                n};
    Value acc = zeroAccumulator(b, loc, accSizes, accType);
    Value product =
        linalg::BatchMatmulOp::create(b, loc, TypeRange{acc.getType()},
                                      ValueRange{a, bb}, ValueRange{acc})
            .getResult(0);
    result = expandDim(b, loc, product, 0,
                       llvm::ArrayRef<OpFoldResult>(*batchSizes));
  } else {
    // Broadcast batch dimensions: a generic contraction over
    // (batch..., m, n, k).
    unsigned numLoops = nb + 3;
    auto dim = [&](unsigned i) { return getAffineDimExpr(i, mctx); };
    auto withTail = [&](AffineMap map, llvm::ArrayRef<AffineExpr> tail) {
      llvm::SmallVector<AffineExpr> exprs(map.getResults());
      exprs.append(tail.begin(), tail.end());
      return AffineMap::get(numLoops, 0, exprs, mctx);
    };
    AffineMap aMap =
        withTail(broadcastIndexingMap(
                     mctx, tensorType(lhs).getShape().take_front(aBatch),
                     *batchSizes, numLoops),
                 {dim(nb), dim(nb + 2)});
    AffineMap bMap =
        withTail(broadcastIndexingMap(
                     mctx, tensorType(rhs).getShape().take_front(bBatch),
                     *batchSizes, numLoops),
                 {dim(nb + 2), dim(nb + 1)});
    llvm::SmallVector<AffineExpr> outExprs;
    for (unsigned i = 0; i < nb + 2; ++i)
      outExprs.push_back(dim(i));
    AffineMap outMap = AffineMap::get(numLoops, 0, outExprs, mctx);
    llvm::SmallVector<OpFoldResult> accSizes(*batchSizes);
    accSizes.push_back(m);
    accSizes.push_back(n);
    Value acc = zeroAccumulator(b, loc, accSizes, accType);
    llvm::SmallVector<utils::IteratorType> iterators(
        nb + 2, utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    result =
        linalg::GenericOp::create(
            b, loc, TypeRange{acc.getType()}, ValueRange{lhs, rhs},
            ValueRange{acc}, llvm::ArrayRef<AffineMap>{aMap, bMap, outMap},
            iterators,
            [&](OpBuilder &nb2, Location nl, ValueRange args) {
              Value x = promoteScalar(nb2, nl, args[0]);
              Value y = promoteScalar(nb2, nl, args[1]);
              Value sum;
              if (isa<FloatType>(accType))
                sum = arith::AddFOp::create(
                    nb2, nl, args[2], arith::MulFOp::create(nb2, nl, x, y));
              else
                sum = arith::AddIOp::create(
                    nb2, nl, args[2], arith::MulIOp::create(nb2, nl, x, y));
              linalg::YieldOp::create(nb2, nl, sum);
            })
            .getResult(0);
  }

  // Drop the unit dimensions that stood for 1-D operands.
  int64_t outRank = tensorType(result).getRank();
  llvm::SmallVector<int64_t> unitDims;
  if (lhsRank == 1)
    unitDims.push_back(outRank - 2);
  if (rhsRank == 1)
    unitDims.push_back(outRank - 1);
  result = dropUnitDims(b, loc, result, unitDims);
  ctx.setResult(0, truncateAccumulator(b, loc, result, type));
  return success();
}

//===----------------------------------------------------------------------===//
// Gemm
//===----------------------------------------------------------------------===//

static LogicalResult convertGemm(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 3)) ||
      failed(ctx.checkAttributes({"alpha", "beta", "transA", "transB"})))
    return failure();
  FailureOr<Value> aOr = ctx.requiredInput(0, "A");
  FailureOr<Value> bOr = ctx.requiredInput(1, "B");
  FailureOr<float> alpha = ctx.floatAttr("alpha", 1.0f);
  FailureOr<float> beta = ctx.floatAttr("beta", 1.0f);
  FailureOr<int64_t> transA = ctx.intAttr("transA", 0);
  FailureOr<int64_t> transB = ctx.intAttr("transB", 0);
  if (failed(aOr) || failed(bOr) || failed(alpha) || failed(beta) ||
      failed(transA) || failed(transB) ||
      failed(checkContractionType(ctx, *aOr, *bOr)))
    return failure();
  Value a = *aOr, bv = *bOr;
  if (tensorType(a).getRank() != 2 || tensorType(bv).getRank() != 2)
    return ctx.emitError() << "A and B must be 2-D, got " << tensorType(a)
                           << " and " << tensorType(bv);
  if ((*transA != 0 && *transA != 1) || (*transB != 0 && *transB != 1))
    return ctx.error("transA and transB must be 0 or 1");
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  MLIRContext *mctx = ctx.context();
  Type type = tensorType(a).getElementType();
  Type accType = computeType(type);
  if (!isa<FloatType>(type) && (*alpha != 1.0f || *beta != 1.0f) &&
      (*alpha != std::floor(*alpha) || *beta != std::floor(*beta)))
    return ctx.error("integer Gemm needs integral alpha and beta");

  int64_t kDimA = *transA ? 0 : 1, mDim = *transA ? 1 : 0;
  int64_t kDimB = *transB ? 1 : 0, nDim = *transB ? 0 : 1;
  int64_t kA = tensorType(a).getDimSize(kDimA);
  int64_t kB = tensorType(bv).getDimSize(kDimB);
  if (!ShapedType::isDynamic(kA) && !ShapedType::isDynamic(kB) && kA != kB)
    return ctx.emitError() << "inner dimensions differ: op(A) has K = " << kA
                           << " and op(B) has K = " << kB;
  llvm::SmallVector<OpFoldResult> outSizes = {tensorSizes(b, loc, a)[mDim],
                                              tensorSizes(b, loc, bv)[nDim]};

  Value c = ctx.input(2);
  if (c) {
    if (tensorType(c).getElementType() != type)
      return ctx.emitError()
             << "C has element type " << tensorType(c).getElementType()
             << ", expected that of A (" << type << ")";
    if (failed(checkBroadcastableTo(ctx, c, outSizes, "C")))
      return failure();
  }

  // (m, n, k) loops; transpositions live in the maps.
  auto dim = [&](unsigned i) { return getAffineDimExpr(i, mctx); };
  AffineMap aMap =
      AffineMap::get(3, 0,
                     *transA ? llvm::ArrayRef<AffineExpr>{dim(2), dim(0)}
                             : llvm::ArrayRef<AffineExpr>{dim(0), dim(2)},
                     mctx);
  AffineMap bMap =
      AffineMap::get(3, 0,
                     *transB ? llvm::ArrayRef<AffineExpr>{dim(1), dim(2)}
                             : llvm::ArrayRef<AffineExpr>{dim(2), dim(1)},
                     mctx);
  AffineMap cMap = AffineMap::get(3, 0, {dim(0), dim(1)}, mctx);
  Value acc = zeroAccumulator(b, loc, outSizes, accType);
  llvm::SmallVector<NamedAttribute> attrs;
  if (*transA || *transB)
    attrs.push_back(b.getNamedAttr(
        "indexing_maps", b.getAffineMapArrayAttr({aMap, bMap, cMap})));
  Value product =
      linalg::MatmulOp::create(b, loc, TypeRange{acc.getType()},
                               ValueRange{a, bv}, ValueRange{acc}, attrs)
          .getResult(0);

  bool useC = c && *beta != 0.0f;
  if (!useC && *alpha == 1.0f) {
    ctx.setResult(0, truncateAccumulator(b, loc, product, type));
    return success();
  }
  // Epilogue: alpha * AB + beta * C.
  llvm::SmallVector<Value> inputs = {product};
  llvm::SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(2)};
  if (useC) {
    inputs.push_back(c);
    maps.push_back(
        broadcastIndexingMap(mctx, tensorType(c).getShape(), outSizes, 2));
  }
  Value result = buildParallelGeneric(
      b, loc, inputs, maps, outSizes, type,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        bool isFloat = isa<FloatType>(accType);
        auto mul = [&](Value x, Value y) -> Value {
          return isFloat ? Value(arith::MulFOp::create(nb, nl, x, y))
                         : Value(arith::MulIOp::create(nb, nl, x, y));
        };
        auto add = [&](Value x, Value y) -> Value {
          return isFloat ? Value(arith::AddFOp::create(nb, nl, x, y))
                         : Value(arith::AddIOp::create(nb, nl, x, y));
        };
        Value r = args[0];
        if (*alpha != 1.0f)
          r = mul(r, scalarConstant(nb, nl, accType, *alpha));
        if (useC) {
          Value cv = promoteScalar(nb, nl, args[1]);
          if (*beta != 1.0f)
            cv = mul(cv, scalarConstant(nb, nl, accType, *beta));
          r = add(r, cv);
        }
        return demoteScalar(nb, nl, r, type);
      });
  ctx.setResult(0, result);
  return success();
}

void registerMatMulOps(ConverterTable &table) {
  table.add("", "MatMul", &convertMatMul);
  table.add("", "Gemm", &convertGemm);
}

} // namespace mlir::moe::onnx_import
