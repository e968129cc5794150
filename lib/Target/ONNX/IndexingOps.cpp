//===- IndexingOps.cpp - ONNX gather/scatter/selection ops ----------------===//
//
// Gather, GatherElements, GatherND, ScatterElements, ScatterND, OneHot,
// NonZero, TopK, Range, Tile.
//
// Gathers are `linalg.generic` ops that read the data with `tensor.extract`
// at indices computed in the body. NonZero is a sequential `scf.for` nest
// over `tensor.extract`/`tensor.insert`. Scatters and TopK are parallel
// (`scf.forall`) over the lines that never meet and sequential where they
// may: the updates of one element in order (later updates win,
// deterministic), TopK's k selections one after the other. Negative indices
// wrap once (i + dim); indices out of range are undefined in ONNX and are not
// checked.
//
//===----------------------------------------------------------------------===//

#include "ShapeOps.h"

#include "BuildUtils.h"
#include "OpConverters.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::moe::onnx_import {

using llvm::SmallVector;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static RankedTensorType rankedType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

static Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

static Value indexValue(OpBuilder &b, Location loc, OpFoldResult ofr) {
  return getValueOrCreateConstantIndexOp(b, loc, ofr);
}

/// `index < 0 ? index + dim : index`.
static Value wrapIndex(OpBuilder &b, Location loc, Value index, Value dim) {
  Value negative = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                         index, indexConst(b, loc, 0));
  return arith::SelectOp::create(
      b, loc, negative, arith::AddIOp::create(b, loc, index, dim), index);
}

/// Sizes as index values (for loop bounds).
static SmallVector<Value> sizeValues(OpBuilder &b, Location loc, Value tensor) {
  SmallVector<Value> values;
  for (OpFoldResult size : tensorSizes(b, loc, tensor))
    values.push_back(indexValue(b, loc, size));
  return values;
}

/// Requires an integer tensor of indices.
static LogicalResult checkIndices(NodeContext &ctx, Value indices,
                                  llvm::StringRef what) {
  auto type = dyn_cast<IntegerType>(rankedType(indices).getElementType());
  if (!type || type.getWidth() == 1)
    return ctx.emitError() << what << " must hold integers (int32 or int64), "
                           << "got " << rankedType(indices);
  return success();
}

/// A tensor of unsigned integers viewed as signless (arith needs signless);
/// other tensors unchanged.
static Value asSignless(OpBuilder &b, Location loc, Value tensor) {
  RankedTensorType type = rankedType(tensor);
  auto intType = dyn_cast<IntegerType>(type.getElementType());
  if (!intType || intType.isSignless())
    return tensor;
  return castSignedness(b, loc, tensor, b.getIntegerType(intType.getWidth()));
}

static Value bitcastTo(OpBuilder &b, Location loc, Value tensor,
                       RankedTensorType type) {
  if (tensor.getType() == type)
    return tensor;
  return castSignedness(b, loc, tensor, type.getElementType());
}

static bool isUnsignedElement(Value tensor) {
  auto intType = dyn_cast<IntegerType>(rankedType(tensor).getElementType());
  return intType && intType.isUnsigned();
}

/// A loop nest over `ubs` (from 0, step 1) carrying `iterArgs`.
static scf::LoopNest
loopNest(OpBuilder &b, Location loc, ValueRange ubs, ValueRange iterArgs,
         function_ref<scf::ValueVector(OpBuilder &, Location, ValueRange,
                                       ValueRange)>
             body) {
  SmallVector<Value> lbs(ubs.size(), indexConst(b, loc, 0));
  SmallVector<Value> steps(ubs.size(), indexConst(b, loc, 1));
  return scf::buildLoopNest(b, loc, lbs, ubs, steps, iterArgs, body);
}

/// The lines along `axis` of a tensor of `sizes`: the other dimensions and
/// their sizes.
static std::pair<SmallVector<int64_t>, SmallVector<OpFoldResult>>
linesAlong(ArrayRef<OpFoldResult> sizes, int64_t axis) {
  std::pair<SmallVector<int64_t>, SmallVector<OpFoldResult>> lines;
  for (auto [d, size] : llvm::enumerate(sizes))
    if (int64_t(d) != axis) {
      lines.first.push_back(d);
      lines.second.push_back(size);
    }
  return lines;
}

/// An scf.forall with one iteration per line of `outs` (all of one rank):
/// the dimensions `lineDims` take the iteration's indices (their counts:
/// `counts`), the others are whole. Each iteration owns its line's slice of
/// every output (sizes 1 at `lineDims`), which `body` gets and returns
/// updated (same rank: the line's own dimensions at index 0). Lines run in
/// parallel on the CPU and the GPU; what a line does stays in order.
static SmallVector<Value>
parallelOverLines(OpBuilder &b, Location loc, ValueRange outs,
                  ArrayRef<int64_t> lineDims, ArrayRef<OpFoldResult> counts,
                  function_ref<SmallVector<Value>(OpBuilder &, Location,
                                                  ValueRange, ValueRange)>
                      body) {
  int64_t rank = rankedType(outs[0]).getRank();
  auto forall = scf::ForallOp::create(
      b, loc, counts, outs, /*mapping=*/std::nullopt,
      [&](OpBuilder &fb, Location floc, ValueRange args) {
        ValueRange ivs = args.take_front(counts.size());
        ValueRange shared = args.take_back(outs.size());
        SmallVector<OpFoldResult> offsets(rank, fb.getIndexAttr(0));
        for (auto [dim, iv] : llvm::zip(lineDims, ivs))
          offsets[dim] = iv;
        SmallVector<OpFoldResult> strides(rank, fb.getIndexAttr(1));
        SmallVector<SmallVector<OpFoldResult>> sizes;
        SmallVector<Value> slices;
        for (Value out : shared) {
          SmallVector<OpFoldResult> outSizes = tensorSizes(fb, floc, out);
          for (int64_t dim : lineDims)
            outSizes[dim] = fb.getIndexAttr(1);
          slices.push_back(tensor::ExtractSliceOp::create(
              fb, floc, out, offsets, outSizes, strides));
          sizes.push_back(std::move(outSizes));
        }
        SmallVector<Value> updated = body(fb, floc, ivs, slices);
        auto terminator = scf::InParallelOp::create(fb, floc);
        fb.setInsertionPointToStart(terminator.getBody());
        for (auto [i, out] : llvm::enumerate(shared))
          tensor::ParallelInsertSliceOp::create(fb, floc, updated[i], out,
                                                offsets, sizes[i], strides);
      });
  return SmallVector<Value>(forall.getResults());
}

//===----------------------------------------------------------------------===//
// Gather, GatherElements, GatherND
//===----------------------------------------------------------------------===//

static LogicalResult convertGather(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 2)) ||
      failed(ctx.checkAttributes({"axis"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0), indices = ctx.input(1);
  RankedTensorType dataType = rankedType(data);
  RankedTensorType indicesType = rankedType(indices);
  if (failed(checkIndices(ctx, indices, "the indices")))
    return failure();
  int64_t r = dataType.getRank(), q = indicesType.getRank();
  if (r == 0)
    return ctx.error("cannot gather from a scalar (rank 0)");
  FailureOr<int64_t> axisAttr = ctx.intAttr("axis", 0);
  if (failed(axisAttr))
    return failure();
  FailureOr<int64_t> axis = normalizeAxis(ctx, *axisAttr, r);
  if (failed(axis))
    return failure();

  SmallVector<OpFoldResult> dataSizes = tensorSizes(b, loc, data);
  SmallVector<OpFoldResult> sizes(dataSizes.begin(), dataSizes.begin() + *axis);
  llvm::append_range(sizes, tensorSizes(b, loc, indices));
  sizes.append(dataSizes.begin() + *axis + 1, dataSizes.end());
  auto outType =
      RankedTensorType::get(staticSizes(sizes), dataType.getElementType());
  std::optional<int64_t> axisDim = getConstantIntValue(dataSizes[*axis]);
  std::optional<SmallVector<int64_t>> constIndices =
      NodeContext::constantInts(indices);

  // Shape arithmetic: a small known vector indexed by constants folds.
  if (r == 1 && constIndices && axisDim && outType.hasStaticShape()) {
    if (std::optional<SmallVector<OpFoldResult>> known = knownElements(data)) {
      SmallVector<OpFoldResult> elements;
      for (int64_t i : *constIndices) {
        int64_t wrapped = i < 0 ? i + *axisDim : i;
        if (wrapped < 0 || wrapped >= *axisDim)
          return ctx.emitError()
                 << "index " << i << " is out of range for a dimension of "
                 << *axisDim;
        elements.push_back((*known)[wrapped]);
      }
      ctx.setResult(0, buildFromElements(b, loc, outType, elements));
      return success();
    }
  }

  // One constant index: a rank-reducing slice.
  if (q == 0 && constIndices) {
    int64_t i = (*constIndices)[0];
    if (axisDim && (i >= *axisDim || i < -*axisDim))
      return ctx.emitError()
             << "index " << i << " is out of range for a dimension of "
             << *axisDim;
    OpFoldResult offset =
        i >= 0 ? OpFoldResult(b.getIndexAttr(i))
               : addIndex(b, loc, dataSizes[*axis], b.getIndexAttr(i));
    SmallVector<OpFoldResult> offsets(r, b.getIndexAttr(0));
    offsets[*axis] = offset;
    SmallVector<OpFoldResult> sliceSizes(dataSizes);
    sliceSizes[*axis] = b.getIndexAttr(1);
    SmallVector<OpFoldResult> strides(r, b.getIndexAttr(1));
    ctx.setResult(0, tensor::ExtractSliceOp::create(
                         b, loc, outType, data, offsets, sliceSizes, strides));
    return success();
  }

  int64_t outRank = outType.getRank();
  Value dim = indexValue(b, loc, dataSizes[*axis]);
  Value init = emptyTensor(b, loc, sizes, dataType.getElementType());
  SmallVector<AffineExpr> indexExprs;
  for (int64_t j = 0; j < q; ++j)
    indexExprs.push_back(b.getAffineDimExpr(*axis + j));
  SmallVector<AffineMap> maps = {
      AffineMap::get(outRank, 0, indexExprs, b.getContext()),
      b.getMultiDimIdentityMap(outRank)};
  SmallVector<utils::IteratorType> iterators(outRank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{indices}, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value index =
            wrapIndex(nb, nloc, scalarToIndex(nb, nloc, args[0]), dim);
        SmallVector<Value> position;
        for (int64_t d = 0; d < r; ++d) {
          if (d < *axis)
            position.push_back(linalg::IndexOp::create(nb, nloc, d));
          else if (d == *axis)
            position.push_back(index);
          else
            position.push_back(linalg::IndexOp::create(nb, nloc, d - 1 + q));
        }
        linalg::YieldOp::create(
            nb, nloc,
            tensor::ExtractOp::create(nb, nloc, data, position).getResult());
      });
  ctx.setResult(0, generic.getResult(0));
  return success();
}

static LogicalResult convertGatherElements(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 2)) ||
      failed(ctx.checkAttributes({"axis"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0), indices = ctx.input(1);
  RankedTensorType dataType = rankedType(data);
  RankedTensorType indicesType = rankedType(indices);
  if (failed(checkIndices(ctx, indices, "the indices")))
    return failure();
  int64_t r = dataType.getRank();
  if (r == 0 || indicesType.getRank() != r)
    return ctx.emitError() << "data and indices must have the same rank >= 1, "
                           << "got " << dataType << " and " << indicesType;
  FailureOr<int64_t> axisAttr = ctx.intAttr("axis", 0);
  if (failed(axisAttr))
    return failure();
  FailureOr<int64_t> axis = normalizeAxis(ctx, *axisAttr, r);
  if (failed(axis))
    return failure();
  Value dim = indexValue(b, loc, tensorSizes(b, loc, data)[*axis]);
  auto outType = indicesType.clone(dataType.getElementType());
  Value init = emptyTensor(b, loc, tensorSizes(b, loc, indices),
                           dataType.getElementType());
  AffineMap identity = b.getMultiDimIdentityMap(r);
  SmallVector<utils::IteratorType> iterators(r, utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{indices}, ValueRange{init},
      SmallVector<AffineMap>{identity, identity}, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        SmallVector<Value> position;
        for (int64_t d = 0; d < r; ++d)
          position.push_back(
              d == *axis
                  ? wrapIndex(nb, nloc, scalarToIndex(nb, nloc, args[0]), dim)
                  : linalg::IndexOp::create(nb, nloc, d).getResult());
        linalg::YieldOp::create(
            nb, nloc,
            tensor::ExtractOp::create(nb, nloc, data, position).getResult());
      });
  ctx.setResult(0, generic.getResult(0));
  return success();
}

/// Checks GatherND/ScatterND operands; returns k (the index tuple length).
static FailureOr<int64_t> indexTupleLength(NodeContext &ctx, Value data,
                                           Value indices, int64_t batchDims) {
  RankedTensorType dataType = rankedType(data);
  RankedTensorType indicesType = rankedType(indices);
  if (failed(checkIndices(ctx, indices, "the indices")))
    return failure();
  int64_t r = dataType.getRank(), q = indicesType.getRank();
  if (q < 1)
    return ctx.emitError() << "the indices must have rank >= 1, got "
                           << indicesType;
  if (indicesType.isDynamicDim(q - 1))
    return ctx.emitError() << "the last dimension of the indices must be "
                           << "static (it is the index tuple length), got "
                           << indicesType;
  int64_t k = indicesType.getDimSize(q - 1);
  if (batchDims < 0 || batchDims >= std::min(q, std::max<int64_t>(r, 1)) ||
      k < 1 || batchDims + k > r)
    return ctx.emitError() << "index tuples of length " << k
                           << " with batch_dims " << batchDims
                           << " do not fit data " << dataType << " and indices "
                           << indicesType;
  return k;
}

/// The index tuple `indices[outer, :]` (one index per dimension of `dims`,
/// negative ones wrapped) appended to `position`.
static void appendIndexTuple(OpBuilder &b, Location loc, Value indices,
                             ValueRange outer, ArrayRef<Value> dims,
                             SmallVectorImpl<Value> &position) {
  for (auto [t, dim] : llvm::enumerate(dims)) {
    SmallVector<Value> at(outer);
    at.push_back(indexConst(b, loc, t));
    Value index =
        scalarToIndex(b, loc, tensor::ExtractOp::create(b, loc, indices, at));
    position.push_back(wrapIndex(b, loc, index, dim));
  }
}

static LogicalResult convertGatherND(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 2)) ||
      failed(ctx.checkAttributes({"batch_dims"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0), indices = ctx.input(1);
  FailureOr<int64_t> batchDims = ctx.intAttr("batch_dims", 0);
  if (failed(batchDims))
    return failure();
  FailureOr<int64_t> k = indexTupleLength(ctx, data, indices, *batchDims);
  if (failed(k))
    return failure();
  RankedTensorType dataType = rankedType(data);
  int64_t r = dataType.getRank(), q = rankedType(indices).getRank();
  int64_t bd = *batchDims;
  SmallVector<OpFoldResult> dataSizes = tensorSizes(b, loc, data);
  SmallVector<OpFoldResult> sizes = tensorSizes(b, loc, indices);
  sizes.pop_back();
  sizes.append(dataSizes.begin() + bd + *k, dataSizes.end());
  int64_t outRank = sizes.size();
  auto outType =
      RankedTensorType::get(staticSizes(sizes), dataType.getElementType());
  SmallVector<Value> dims;
  for (int64_t t = 0; t < *k; ++t)
    dims.push_back(indexValue(b, loc, dataSizes[bd + t]));
  Value init = emptyTensor(b, loc, sizes, dataType.getElementType());
  SmallVector<utils::IteratorType> iterators(outRank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{}, ValueRange{init},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(outRank)}, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        SmallVector<Value> outer;
        for (int64_t d = 0; d < q - 1; ++d)
          outer.push_back(linalg::IndexOp::create(nb, nloc, d));
        SmallVector<Value> position(outer.begin(), outer.begin() + bd);
        appendIndexTuple(nb, nloc, indices, outer, dims, position);
        for (int64_t d = bd + *k; d < r; ++d)
          position.push_back(
              linalg::IndexOp::create(nb, nloc, q - 1 + d - bd - *k));
        linalg::YieldOp::create(
            nb, nloc,
            tensor::ExtractOp::create(nb, nloc, data, position).getResult());
      });
  ctx.setResult(0, generic.getResult(0));
  return success();
}

//===----------------------------------------------------------------------===//
// ScatterElements, ScatterND
//===----------------------------------------------------------------------===//

namespace {
enum class Reduction { None, Add, Mul, Max, Min };
} // namespace

static FailureOr<Reduction> readReduction(NodeContext &ctx, Type elementType) {
  FailureOr<std::string> name =
      ctx.stringAttr("reduction", std::string("none"));
  if (failed(name))
    return failure();
  Reduction kind;
  if (*name == "none")
    kind = Reduction::None;
  else if (*name == "add")
    kind = Reduction::Add;
  else if (*name == "mul")
    kind = Reduction::Mul;
  else if (*name == "max")
    kind = Reduction::Max;
  else if (*name == "min")
    kind = Reduction::Min;
  else
    return ctx.emitError() << "unsupported reduction '" << *name
                           << "' (expected none, add, mul, max or min)";
  if (kind != Reduction::None && elementType.isInteger(1))
    return ctx.emitError() << "reduction '" << *name
                           << "' is not supported on bool tensors";
  return kind;
}

static Value combine(OpBuilder &b, Location loc, Reduction kind, Value old,
                     Value update, bool isUnsigned) {
  bool isFloat = isa<FloatType>(old.getType());
  switch (kind) {
  case Reduction::None:
    return update;
  case Reduction::Add:
    return isFloat ? arith::AddFOp::create(b, loc, old, update).getResult()
                   : arith::AddIOp::create(b, loc, old, update).getResult();
  case Reduction::Mul:
    return isFloat ? arith::MulFOp::create(b, loc, old, update).getResult()
                   : arith::MulIOp::create(b, loc, old, update).getResult();
  case Reduction::Max:
    if (isFloat)
      return arith::MaximumFOp::create(b, loc, old, update);
    return isUnsigned ? arith::MaxUIOp::create(b, loc, old, update).getResult()
                      : arith::MaxSIOp::create(b, loc, old, update).getResult();
  case Reduction::Min:
    if (isFloat)
      return arith::MinimumFOp::create(b, loc, old, update);
    return isUnsigned ? arith::MinUIOp::create(b, loc, old, update).getResult()
                      : arith::MinSIOp::create(b, loc, old, update).getResult();
  }
  llvm_unreachable("unknown reduction");
}

/// `updates[ivs]` written into `into` at `position`, combined with the
/// element there by `kind` (None: replacing it).
static Value scatterOne(OpBuilder &b, Location loc, Reduction kind,
                        bool isUnsigned, Value updates, ValueRange ivs,
                        Value into, ValueRange position) {
  Value update = tensor::ExtractOp::create(b, loc, updates, ivs);
  if (kind != Reduction::None) {
    Value old = tensor::ExtractOp::create(b, loc, into, position);
    update = combine(b, loc, kind, old, update, isUnsigned);
  }
  return tensor::InsertOp::create(b, loc, update, into, position).getResult();
}

static LogicalResult convertScatterElements(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(3, 3)) ||
      failed(ctx.checkAttributes({"axis", "reduction"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0), indices = ctx.input(1), updates = ctx.input(2);
  RankedTensorType dataType = rankedType(data);
  RankedTensorType indicesType = rankedType(indices);
  RankedTensorType updatesType = rankedType(updates);
  if (failed(checkIndices(ctx, indices, "the indices")))
    return failure();
  int64_t r = dataType.getRank();
  if (r == 0 || indicesType.getRank() != r || updatesType.getRank() != r ||
      updatesType.getElementType() != dataType.getElementType() ||
      failed(verifyCompatibleShape(indicesType.getShape(),
                                   updatesType.getShape())))
    return ctx.emitError() << "expected data, indices and updates of one rank "
                           << ">= 1 (indices and updates of one shape, "
                           << "updates of the data's element type), got "
                           << dataType << ", " << indicesType << " and "
                           << updatesType;
  FailureOr<int64_t> axisAttr = ctx.intAttr("axis", 0);
  if (failed(axisAttr))
    return failure();
  FailureOr<int64_t> axis = normalizeAxis(ctx, *axisAttr, r);
  if (failed(axis))
    return failure();
  FailureOr<Reduction> kind = readReduction(ctx, dataType.getElementType());
  if (failed(kind))
    return failure();
  bool isUnsigned = isUnsignedElement(data);
  Value target = asSignless(b, loc, data);
  Value source = asSignless(b, loc, updates);
  Value dim = indexValue(b, loc, tensorSizes(b, loc, data)[*axis]);
  // Update `ivs` (indices' coordinates) into `into` at `position` with the
  // axis coordinate replaced by the index.
  auto scatter = [&](OpBuilder &nb, Location nloc, ValueRange ivs,
                     SmallVector<Value> position, Value into) {
    Value index = scalarToIndex(
        nb, nloc, tensor::ExtractOp::create(nb, nloc, indices, ivs));
    position[*axis] = wrapIndex(nb, nloc, index, dim);
    return scatterOne(nb, nloc, *kind, isUnsigned, source, ivs, into, position);
  };
  // Updates along the axis may hit the same element: in order. Lines across
  // the other dimensions never do: in parallel.
  SmallVector<OpFoldResult> indexSizes = tensorSizes(b, loc, indices);
  auto lines = linesAlong(indexSizes, *axis);
  SmallVector<int64_t> &lineDims = lines.first;
  Value result;
  if (lineDims.empty()) {
    result = loopNest(b, loc, sizeValues(b, loc, indices), ValueRange{target},
                      [&](OpBuilder &nb, Location nloc, ValueRange ivs,
                          ValueRange iter) -> scf::ValueVector {
                        return {scatter(nb, nloc, ivs, llvm::to_vector(ivs),
                                        iter[0])};
                      })
                 .results[0];
  } else {
    result = parallelOverLines(
        b, loc, ValueRange{target}, lineDims, lines.second,
        [&](OpBuilder &fb, Location floc, ValueRange lineIvs,
            ValueRange slices) {
          Value zero = indexConst(fb, floc, 0);
          auto along = scf::ForOp::create(
              fb, floc, zero, indexValue(fb, floc, indexSizes[*axis]),
              indexConst(fb, floc, 1), slices,
              [&](OpBuilder &nb, Location nloc, Value j, ValueRange iter) {
                SmallVector<Value> ivs(r, j);
                for (auto [d, iv] : llvm::zip(lineDims, lineIvs))
                  ivs[d] = iv;
                // In the line's slice every other coordinate is 0.
                SmallVector<Value> position(r, zero);
                scf::YieldOp::create(nb, nloc,
                                     scatter(nb, nloc, ivs, position, iter[0]));
              });
          return SmallVector<Value>{along.getResult(0)};
        })[0];
  }
  ctx.setResult(0, bitcastTo(b, loc, result, dataType));
  return success();
}

static LogicalResult convertScatterND(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(3, 3)) ||
      failed(ctx.checkAttributes({"reduction"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.input(0), indices = ctx.input(1), updates = ctx.input(2);
  FailureOr<int64_t> k = indexTupleLength(ctx, data, indices, 0);
  if (failed(k))
    return failure();
  RankedTensorType dataType = rankedType(data);
  RankedTensorType indicesType = rankedType(indices);
  RankedTensorType updatesType = rankedType(updates);
  int64_t q = indicesType.getRank();
  SmallVector<int64_t> expected(indicesType.getShape().drop_back());
  llvm::append_range(expected, dataType.getShape().drop_front(*k));
  if (updatesType.getElementType() != dataType.getElementType() ||
      failed(verifyCompatibleShape(expected, updatesType.getShape())))
    return ctx.emitError() << "updates must have shape indices.shape[:-1] + "
                           << "data.shape[k:] and the data's element type, "
                           << "got " << updatesType << " for data " << dataType
                           << " and indices " << indicesType;
  FailureOr<Reduction> kind = readReduction(ctx, dataType.getElementType());
  if (failed(kind))
    return failure();
  bool isUnsigned = isUnsignedElement(data);
  Value target = asSignless(b, loc, data);
  Value source = asSignless(b, loc, updates);
  SmallVector<OpFoldResult> dataSizes = tensorSizes(b, loc, data);
  SmallVector<Value> dims;
  for (int64_t t = 0; t < *k; ++t)
    dims.push_back(indexValue(b, loc, dataSizes[t]));
  // Update `ivs` (updates' coordinates: the index tuple's, then the
  // slice's) into `into`; `sliceAt`: where the slice coordinates go there.
  auto scatter = [&](OpBuilder &nb, Location nloc, ValueRange ivs,
                     ValueRange sliceAt, Value into) {
    SmallVector<Value> outer(ivs.begin(), ivs.begin() + (q - 1));
    SmallVector<Value> position;
    appendIndexTuple(nb, nloc, indices, outer, dims, position);
    llvm::append_range(position, sliceAt);
    return scatterOne(nb, nloc, *kind, isUnsigned, source, ivs, into, position);
  };
  // Index tuples may repeat: in order. The elements of the slices never
  // meet: in parallel (index_add_'s [tokens, H] rows: one line per column).
  int64_t r = dataType.getRank();
  SmallVector<int64_t> lineDims;
  SmallVector<OpFoldResult> lineCounts;
  for (int64_t d = *k; d < r; ++d) {
    lineDims.push_back(d);
    lineCounts.push_back(dataSizes[d]);
  }
  SmallVector<Value> tupleCounts = sizeValues(b, loc, updates);
  tupleCounts.resize(q - 1);
  Value result;
  if (lineDims.empty()) {
    result = loopNest(b, loc, sizeValues(b, loc, updates), ValueRange{target},
                      [&](OpBuilder &nb, Location nloc, ValueRange ivs,
                          ValueRange iter) -> scf::ValueVector {
                        return {scatter(nb, nloc, ivs, ValueRange{}, iter[0])};
                      })
                 .results[0];
  } else {
    result = parallelOverLines(
        b, loc, ValueRange{target}, lineDims, lineCounts,
        [&](OpBuilder &fb, Location floc, ValueRange lineIvs,
            ValueRange slices) {
          SmallVector<Value> sliceAt(lineIvs.size(), indexConst(fb, floc, 0));
          return SmallVector<Value>(
              loopNest(fb, floc, tupleCounts, slices,
                       [&](OpBuilder &nb, Location nloc, ValueRange tuple,
                           ValueRange iter) -> scf::ValueVector {
                         SmallVector<Value> ivs(tuple);
                         llvm::append_range(ivs, lineIvs);
                         return {scatter(nb, nloc, ivs, sliceAt, iter[0])};
                       })
                  .results);
        })[0];
  }
  ctx.setResult(0, bitcastTo(b, loc, result, dataType));
  return success();
}

//===----------------------------------------------------------------------===//
// OneHot
//===----------------------------------------------------------------------===//

/// The single element of a scalar or 1-element tensor, as an index; static
/// when it is a constant.
static FailureOr<OpFoldResult> scalarInput(NodeContext &ctx, Value value,
                                           llvm::StringRef what) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  RankedTensorType type = rankedType(value);
  if (type.getRank() > 1 || (type.getRank() == 1 && type.getDimSize(0) != 1))
    return ctx.emitError() << what << " must be a scalar or a 1-element "
                           << "tensor, got " << type;
  if (std::optional<SmallVector<int64_t>> ints =
          NodeContext::constantInts(value))
    return OpFoldResult(b.getIndexAttr((*ints)[0]));
  if (std::optional<SmallVector<double>> floats =
          NodeContext::constantFloats(value))
    return OpFoldResult(b.getIndexAttr(static_cast<int64_t>((*floats)[0])));
  SmallVector<Value> at(type.getRank(), indexConst(b, loc, 0));
  Value element = tensor::ExtractOp::create(b, loc, value, at);
  if (isa<IntegerType>(element.getType()) &&
      !element.getType().isSignlessInteger())
    return ctx.emitError() << what << " must be signed or float, got " << type;
  return OpFoldResult(scalarToIndex(b, loc, element));
}

static LogicalResult convertOneHot(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(3, 3)) ||
      failed(ctx.checkAttributes({"axis"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value indices = ctx.input(0), values = ctx.input(2);
  RankedTensorType indicesType = rankedType(indices);
  RankedTensorType valuesType = rankedType(values);
  if (isa<IntegerType>(indicesType.getElementType()) &&
      !indicesType.getElementType().isSignlessInteger())
    return ctx.emitError() << "unsupported indices type " << indicesType;
  if (valuesType.getRank() != 1 || valuesType.getDimSize(0) != 2)
    return ctx.emitError() << "'values' must be a 1-D tensor of 2 elements "
                           << "[off, on], got " << valuesType;
  int64_t rank = indicesType.getRank() + 1;
  FailureOr<int64_t> axisAttr = ctx.intAttr("axis", -1);
  if (failed(axisAttr))
    return failure();
  FailureOr<int64_t> axis = normalizeAxis(ctx, *axisAttr, rank);
  if (failed(axis))
    return failure();
  FailureOr<OpFoldResult> depth = scalarInput(ctx, ctx.input(1), "'depth'");
  if (failed(depth))
    return failure();
  if (std::optional<int64_t> d = getConstantIntValue(*depth); d && *d < 1)
    return ctx.emitError() << "'depth' must be positive, got " << *d;
  SmallVector<OpFoldResult> sizes = tensorSizes(b, loc, indices);
  sizes.insert(sizes.begin() + *axis, *depth);
  Type elementType = valuesType.getElementType();
  Value signlessValues = asSignless(b, loc, values);
  Type computeType = rankedType(signlessValues).getElementType();
  Value off = tensor::ExtractOp::create(b, loc, signlessValues,
                                        ValueRange{indexConst(b, loc, 0)});
  Value on = tensor::ExtractOp::create(b, loc, signlessValues,
                                       ValueRange{indexConst(b, loc, 1)});
  Value depthValue = indexValue(b, loc, *depth);
  auto outType = RankedTensorType::get(staticSizes(sizes), elementType);
  Value init = emptyTensor(b, loc, sizes, computeType);
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d)
    if (d != *axis)
      exprs.push_back(b.getAffineDimExpr(d));
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, exprs, b.getContext()),
                                 b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType.clone(computeType)}, ValueRange{indices},
      ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value index =
            wrapIndex(nb, nloc, scalarToIndex(nb, nloc, args[0]), depthValue);
        Value hot =
            arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq, index,
                                  linalg::IndexOp::create(nb, nloc, *axis));
        linalg::YieldOp::create(
            nb, nloc,
            arith::SelectOp::create(nb, nloc, hot, on, off).getResult());
      });
  ctx.setResult(0, bitcastTo(b, loc, generic.getResult(0), outType));
  return success();
}

//===----------------------------------------------------------------------===//
// NonZero
//===----------------------------------------------------------------------===//

static Value isNonZero(OpBuilder &b, Location loc, Value v) {
  Type type = v.getType();
  if (isa<FloatType>(type))
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v,
                                 scalarConstant(b, loc, type, 0.0));
  if (type.isInteger(1))
    return v;
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v,
                               scalarConstant(b, loc, type, 0.0));
}

static LogicalResult convertNonZero(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(1, 1)) || failed(ctx.checkAttributes({})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value input = ctx.input(0);
  int64_t rank = rankedType(input).getRank();
  if (rank == 0)
    return ctx.error("NonZero of a scalar (rank 0) is not supported");
  input = asSignless(b, loc, input);
  SmallVector<Value> ubs = sizeValues(b, loc, input);
  Value zero = indexConst(b, loc, 0), one = indexConst(b, loc, 1);

  // Pass 1: count.
  scf::LoopNest count = loopNest(
      b, loc, ubs, ValueRange{zero},
      [&](OpBuilder &nb, Location nloc, ValueRange ivs, ValueRange iter) {
        Value v = tensor::ExtractOp::create(nb, nloc, input, ivs);
        Value add = arith::SelectOp::create(nb, nloc, isNonZero(nb, nloc, v),
                                            one, zero);
        return scf::ValueVector{arith::AddIOp::create(nb, nloc, iter[0], add)};
      });
  Value total = count.results[0];

  // Pass 2: fill column by column.
  Value result = emptyTensor(
      b, loc, {b.getIndexAttr(rank), OpFoldResult(total)}, b.getI64Type());
  scf::LoopNest fill = loopNest(
      b, loc, ubs, ValueRange{result, zero},
      [&](OpBuilder &nb, Location nloc, ValueRange ivs, ValueRange iter) {
        Value v = tensor::ExtractOp::create(nb, nloc, input, ivs);
        auto ifOp = scf::IfOp::create(
            nb, nloc, isNonZero(nb, nloc, v),
            [&](OpBuilder &tb, Location tloc) {
              Value column = iter[0];
              for (int64_t d = 0; d < rank; ++d) {
                Value coordinate = arith::IndexCastOp::create(
                    tb, tloc, tb.getI64Type(), ivs[d]);
                column = tensor::InsertOp::create(
                    tb, tloc, coordinate, column,
                    ValueRange{indexConst(tb, tloc, d), iter[1]});
              }
              Value next = arith::AddIOp::create(tb, tloc, iter[1],
                                                 indexConst(tb, tloc, 1));
              scf::YieldOp::create(tb, tloc, ValueRange{column, next});
            },
            [&](OpBuilder &eb, Location eloc) {
              scf::YieldOp::create(eb, eloc, ValueRange{iter[0], iter[1]});
            });
        return scf::ValueVector{ifOp.getResult(0), ifOp.getResult(1)};
      });
  ctx.setResult(0, fill.results[0]);
  return success();
}

//===----------------------------------------------------------------------===//
// TopK
//===----------------------------------------------------------------------===//

static LogicalResult convertTopK(NodeContext &ctx) {
  if (failed(ctx.checkAttributes({"axis", "largest", "sorted", "k"})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  FailureOr<int64_t> axisAttr = ctx.intAttr("axis", -1);
  FailureOr<int64_t> largest = ctx.intAttr("largest", 1);
  FailureOr<int64_t> sorted = ctx.intAttr("sorted", 1);
  if (failed(axisAttr) || failed(largest) || failed(sorted))
    return failure();
  Value input = ctx.input(0);
  if (!input)
    return ctx.error("missing required input 0 (X)");
  RankedTensorType type = rankedType(input);
  int64_t rank = type.getRank();
  if (rank == 0)
    return ctx.error("TopK needs an input of rank >= 1");
  if (isa<IntegerType>(type.getElementType()) &&
      type.getElementType().isInteger(1))
    return ctx.error("TopK of bool tensors is not supported");
  FailureOr<int64_t> axis = normalizeAxis(ctx, *axisAttr, rank);
  if (failed(axis))
    return failure();
  FailureOr<OpFoldResult> k = failure();
  if (ctx.opset() < 10 || ctx.hasAttribute("k")) {
    if (failed(ctx.checkInputCount(1, 1)))
      return failure();
    FailureOr<int64_t> kAttr = ctx.intAttr("k");
    if (failed(kAttr))
      return failure();
    k = OpFoldResult(b.getIndexAttr(*kAttr));
  } else {
    if (failed(ctx.checkInputCount(2, 2)))
      return failure();
    k = scalarInput(ctx, ctx.input(1), "'K'");
  }
  if (failed(k))
    return failure();
  SmallVector<OpFoldResult> inSizes = tensorSizes(b, loc, input);
  if (std::optional<int64_t> kc = getConstantIntValue(*k)) {
    std::optional<int64_t> n = getConstantIntValue(inSizes[*axis]);
    if (*kc < 0 || (n && *kc > *n))
      return ctx.emitError() << "K = " << *kc << " is out of range for axis "
                             << *axis << " of " << type;
  }
  bool isUnsigned = isUnsignedElement(input);
  bool isFloat = isa<FloatType>(type.getElementType());
  Value data = asSignless(b, loc, input);
  Type elementType = rankedType(data).getElementType();
  SmallVector<OpFoldResult> sizes(inSizes);
  sizes[*axis] = *k;
  Value values = emptyTensor(b, loc, sizes, elementType);
  Value indices = emptyTensor(b, loc, sizes, b.getI64Type());
  Value n = indexValue(b, loc, inSizes[*axis]);

  // Order: a before b when a's value is better, or equal with a lower index.
  auto strictlyBetter = [&](OpBuilder &nb, Location nloc, Value x, Value y) {
    if (isFloat)
      return arith::CmpFOp::create(nb, nloc,
                                   *largest ? arith::CmpFPredicate::OGT
                                            : arith::CmpFPredicate::OLT,
                                   x, y)
          .getResult();
    arith::CmpIPredicate pred = *largest
                                    ? (isUnsigned ? arith::CmpIPredicate::ugt
                                                  : arith::CmpIPredicate::sgt)
                                    : (isUnsigned ? arith::CmpIPredicate::ult
                                                  : arith::CmpIPredicate::slt);
    return arith::CmpIOp::create(nb, nloc, pred, x, y).getResult();
  };
  auto equal = [&](OpBuilder &nb, Location nloc, Value x, Value y) {
    if (isFloat)
      return arith::CmpFOp::create(nb, nloc, arith::CmpFPredicate::OEQ, x, y)
          .getResult();
    return arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq, x, y)
        .getResult();
  };
  auto before = [&](OpBuilder &nb, Location nloc, Value av, Value ai, Value bv,
                    Value bi) -> Value {
    Value lowerIndex =
        arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::ult, ai, bi);
    Value tie =
        arith::AndIOp::create(nb, nloc, equal(nb, nloc, av, bv), lowerIndex);
    return arith::OrIOp::create(nb, nloc, strictlyBetter(nb, nloc, av, bv),
                                tie);
  };

  // Selection t of one line along the axis (`line`: the other dimensions'
  // indices, `at`: where the line's values and indices are stored): the
  // best element after selection t - 1, by a scan over the line.
  auto select = [&](OpBuilder &nb, Location nloc, ValueRange line, Value t,
                    ValueRange at, ValueRange iter) -> scf::ValueVector {
    Value zero = indexConst(nb, nloc, 0), one = indexConst(nb, nloc, 1);
    Value hasPrevious =
        arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::ugt, t, zero);
    SmallVector<Value> previousAt(at);
    previousAt[*axis] = arith::SelectOp::create(
        nb, nloc, hasPrevious, arith::SubIOp::create(nb, nloc, t, one), zero);
    Value previousValue =
        tensor::ExtractOp::create(nb, nloc, iter[0], previousAt);
    Value previousIndex = arith::IndexCastOp::create(
        nb, nloc, nb.getIndexType(),
        tensor::ExtractOp::create(nb, nloc, iter[1], previousAt));
    Value initial = scalarConstant(nb, nloc, elementType, 0.0);
    Value falseValue =
        arith::ConstantOp::create(nb, nloc, nb.getBoolAttr(false));
    auto scan = scf::ForOp::create(
        nb, nloc, zero, n, one, ValueRange{initial, zero, falseValue},
        [&](OpBuilder &lb, Location lloc, Value j, ValueRange best) {
          SmallVector<Value> dataAt(line);
          dataAt[*axis] = j;
          Value v = tensor::ExtractOp::create(lb, lloc, data, dataAt);
          Value notPrevious = arith::XOrIOp::create(
              lb, lloc, hasPrevious,
              arith::ConstantOp::create(lb, lloc, lb.getBoolAttr(true)));
          Value eligible = arith::OrIOp::create(
              lb, lloc, notPrevious,
              before(lb, lloc, previousValue, previousIndex, v, j));
          Value notFound = arith::XOrIOp::create(
              lb, lloc, best[2],
              arith::ConstantOp::create(lb, lloc, lb.getBoolAttr(true)));
          Value improves = arith::OrIOp::create(
              lb, lloc, notFound, before(lb, lloc, v, j, best[0], best[1]));
          Value take = arith::AndIOp::create(lb, lloc, eligible, improves);
          Value newValue = arith::SelectOp::create(lb, lloc, take, v, best[0]);
          Value newIndex = arith::SelectOp::create(lb, lloc, take, j, best[1]);
          Value found = arith::OrIOp::create(lb, lloc, best[2], take);
          scf::YieldOp::create(lb, lloc, ValueRange{newValue, newIndex, found});
        });
    Value newValues =
        tensor::InsertOp::create(nb, nloc, scan.getResult(0), iter[0], at);
    Value index64 = arith::IndexCastOp::create(nb, nloc, nb.getI64Type(),
                                               scan.getResult(1));
    Value newIndices = tensor::InsertOp::create(nb, nloc, index64, iter[1], at);
    return scf::ValueVector{newValues, newIndices};
  };

  // The lines are independent: in parallel, each running its k selections
  // in order on its own slice. A 1-D input is one line.
  auto lines = linesAlong(sizes, *axis);
  SmallVector<int64_t> &lineDims = lines.first;
  Value topValues, topIndices;
  if (lineDims.empty()) {
    scf::LoopNest nest = loopNest(
        b, loc, sizeValues(b, loc, values), ValueRange{values, indices},
        [&](OpBuilder &nb, Location nloc, ValueRange ivs, ValueRange iter) {
          return select(nb, nloc, ivs, ivs[0], ivs, iter);
        });
    topValues = nest.results[0];
    topIndices = nest.results[1];
  } else {
    SmallVector<Value> results = parallelOverLines(
        b, loc, ValueRange{values, indices}, lineDims, lines.second,
        [&](OpBuilder &fb, Location floc, ValueRange ivs, ValueRange slices) {
          Value zero = indexConst(fb, floc, 0);
          SmallVector<Value> line(rank, zero);
          for (auto [dim, iv] : llvm::zip(lineDims, ivs))
            line[dim] = iv;
          auto selections = scf::ForOp::create(
              fb, floc, zero, indexValue(fb, floc, sizes[*axis]),
              indexConst(fb, floc, 1), slices,
              [&](OpBuilder &nb, Location nloc, Value t, ValueRange iter) {
                SmallVector<Value> at(rank, zero);
                at[*axis] = t;
                scf::YieldOp::create(nb, nloc,
                                     select(nb, nloc, line, t, at, iter));
              });
          return SmallVector<Value>(selections.getResults());
        });
    topValues = results[0];
    topIndices = results[1];
  }
  auto outType =
      RankedTensorType::get(staticSizes(sizes), type.getElementType());
  ctx.setResult(0, bitcastTo(b, loc, topValues, outType));
  ctx.setResult(1, topIndices);
  return success();
}

//===----------------------------------------------------------------------===//
// Range, Tile
//===----------------------------------------------------------------------===//

static LogicalResult convertRange(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(3, 3)) || failed(ctx.checkAttributes({})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value start = ctx.input(0), limit = ctx.input(1), delta = ctx.input(2);
  Type elementType = rankedType(start).getElementType();
  for (Value v : {start, limit, delta}) {
    RankedTensorType type = rankedType(v);
    if (type.getRank() != 0 || type.getElementType() != elementType)
      return ctx.emitError() << "start, limit and delta must be scalars of one "
                             << "type, got " << type;
  }
  bool isFloat = isa<FloatType>(elementType);
  if (!isFloat && !elementType.isSignlessInteger())
    return ctx.emitError() << "unsupported element type " << elementType;
  OpFoldResult count;
  auto ints = [](Value v) { return NodeContext::constantInts(v); };
  auto floats = [](Value v) { return NodeContext::constantFloats(v); };
  if (!isFloat && ints(start) && ints(limit) && ints(delta)) {
    int64_t s = (*ints(start))[0], l = (*ints(limit))[0], d = (*ints(delta))[0];
    if (d == 0)
      return ctx.error("'delta' must not be 0");
    double n = std::ceil(static_cast<double>(l - s) / static_cast<double>(d));
    count = b.getIndexAttr(std::max<int64_t>(static_cast<int64_t>(n), 0));
  } else if (isFloat && floats(start) && floats(limit) && floats(delta)) {
    double s = (*floats(start))[0], l = (*floats(limit))[0],
           d = (*floats(delta))[0];
    if (d == 0)
      return ctx.error("'delta' must not be 0");
    count = b.getIndexAttr(
        std::max<int64_t>(static_cast<int64_t>(std::ceil((l - s) / d)), 0));
  }
  Value s = tensor::ExtractOp::create(b, loc, start, ValueRange{});
  Value d = tensor::ExtractOp::create(b, loc, delta, ValueRange{});
  if (!count) {
    Value l = tensor::ExtractOp::create(b, loc, limit, ValueRange{});
    Value n;
    if (isFloat) {
      Value q =
          arith::DivFOp::create(b, loc, arith::SubFOp::create(b, loc, l, s), d);
      // ceil(q) as an integer: trunc, plus one where q had a fraction > 0.
      Value truncated = arith::FPToSIOp::create(b, loc, b.getI64Type(), q);
      Value back = arith::SIToFPOp::create(b, loc, elementType, truncated);
      Value up =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, q, back);
      n = arith::AddIOp::create(
          b, loc, truncated,
          arith::ExtUIOp::create(b, loc, b.getI64Type(), up));
      n = arith::IndexCastOp::create(b, loc, b.getIndexType(), n);
    } else {
      n = arith::CeilDivSIOp::create(b, loc,
                                     arith::SubIOp::create(b, loc, l, s), d);
      n = scalarToIndex(b, loc, n);
    }
    count =
        arith::MaxSIOp::create(b, loc, n, indexConst(b, loc, 0)).getResult();
  }
  auto outType = RankedTensorType::get(staticSizes({count}), elementType);
  Value init = emptyTensor(b, loc, {count}, elementType);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{}, ValueRange{init},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(1)},
      SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        Value i = linalg::IndexOp::create(nb, nloc, 0);
        Value v;
        if (isFloat) {
          Value fi = arith::UIToFPOp::create(
              nb, nloc, elementType,
              arith::IndexCastOp::create(nb, nloc, nb.getI64Type(), i));
          v = arith::AddFOp::create(nb, nloc, s,
                                    arith::MulFOp::create(nb, nloc, fi, d));
        } else {
          Value ii = arith::IndexCastOp::create(nb, nloc, elementType, i);
          v = arith::AddIOp::create(nb, nloc, s,
                                    arith::MulIOp::create(nb, nloc, ii, d));
        }
        linalg::YieldOp::create(nb, nloc, v);
      });
  ctx.setResult(0, generic.getResult(0));
  return success();
}

static LogicalResult convertTile(NodeContext &ctx) {
  if (failed(ctx.checkInputCount(2, 2)) || failed(ctx.checkAttributes({})))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value input = ctx.input(0);
  RankedTensorType type = rankedType(input);
  int64_t rank = type.getRank();
  FailureOr<SmallVector<OpFoldResult>> repeats =
      shapeInputElements(ctx, ctx.input(1), "'repeats'");
  if (failed(repeats))
    return failure();
  if (static_cast<int64_t>(repeats->size()) != rank)
    return ctx.emitError() << "'repeats' has " << repeats->size()
                           << " elements for an input of rank " << rank;
  SmallVector<OpFoldResult> inSizes = tensorSizes(b, loc, input);
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < rank; ++d) {
    OpFoldResult repeat = (*repeats)[d];
    if (std::optional<int64_t> c = getConstantIntValue(repeat)) {
      if (*c < 0)
        return ctx.emitError() << "'repeats' has a negative element " << *c;
      repeat = b.getIndexAttr(*c);
    }
    sizes.push_back(mulIndex(b, loc, inSizes[d], repeat));
  }
  SmallVector<Value> dims;
  for (OpFoldResult size : inSizes)
    dims.push_back(indexValue(b, loc, size));
  auto outType =
      RankedTensorType::get(staticSizes(sizes), type.getElementType());
  Value init = emptyTensor(b, loc, sizes, type.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{}, ValueRange{init},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        SmallVector<Value> position;
        for (int64_t d = 0; d < rank; ++d)
          position.push_back(arith::RemUIOp::create(
              nb, nloc, linalg::IndexOp::create(nb, nloc, d), dims[d]));
        linalg::YieldOp::create(
            nb, nloc,
            tensor::ExtractOp::create(nb, nloc, input, position).getResult());
      });
  ctx.setResult(0, generic.getResult(0));
  return success();
}

void registerIndexingOps(ConverterTable &table) {
  table.add("", "Gather", &convertGather);
  table.add("", "GatherElements", &convertGatherElements);
  table.add("", "GatherND", &convertGatherND);
  table.add("", "NonZero", &convertNonZero);
  table.add("", "OneHot", &convertOneHot);
  table.add("", "Range", &convertRange);
  table.add("", "ScatterElements", &convertScatterElements);
  table.add("", "ScatterND", &convertScatterND);
  table.add("", "Tile", &convertTile);
  table.add("", "TopK", &convertTopK);
}

} // namespace mlir::moe::onnx_import
