//===- PrepareMMA.cpp - warp contracts to tensor-core MMAs ---------------===//
//
// The warp GEMMs are written so that the CPU can run them too: f32
// contracts of extended 16-bit vectors, index arithmetic where it is
// natural. Upstream's convert-vector-to-gpu{use-nvgpu} wants mixed-precision
// contracts and reduction loops that capture nothing but constants, and its
// nvgpu.mma.sync has no bf16: this pass prepares the kernels, runs
// upstream's conversion on those with contracts only, and lowers bf16 MMAs
// itself. Element-wise epilogues of the accumulators (bias, activation,
// conversion, stores of rows that may be out of bounds), which upstream's
// conversion does not take, are cut from the accumulators before it and
// rebuilt on each lane's fragment elements after it.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToGPU/MoEToGPU.h"

#include "mlir/Conversion/VectorToGPU/VectorToGPU.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/Index/IR/IndexOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/NVGPU/Utils/MMAUtils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEGPUPREPAREMMA
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// The 16-bit vector a contract operand extends, looking through the
/// bitcast of bf16 operands stored as f16 (`bf16` is set then).
Value unextended(Value operand, bool &bf16) {
  auto ext = operand.getDefiningOp<arith::ExtFOp>();
  if (!ext)
    return {};
  Value source = ext.getIn();
  if (auto cast = source.getDefiningOp<arith::BitcastOp>()) {
    if (!getElementTypeOrSelf(cast.getType()).isBF16())
      return {};
    bf16 = true;
    source = cast.getIn();
  }
  return getElementTypeOrSelf(source.getType()).isF16() ? source : Value();
}

/// Erases the extension `value` (and the bitcast it extends) once unused.
void eraseDeadChain(Value value) {
  Operation *op = value.getDefiningOp();
  while (op && isa<arith::ExtFOp, arith::BitcastOp>(op) && op->use_empty()) {
    Operation *source = op->getOperand(0).getDefiningOp();
    op->erase();
    op = source;
  }
}

/// Folds the extensions into the contracts; returns whether some contract
/// multiplies bf16 operands.
FailureOr<bool> foldExtensions(Operation *root) {
  bool anyBF16 = false, anyF16 = false;
  root->walk([&](vector::ContractionOp contract) {
    bool lhsBF16 = false, rhsBF16 = false;
    Value lhs = unextended(contract.getLhs(), lhsBF16);
    Value rhs = unextended(contract.getRhs(), rhsBF16);
    if (!lhs || !rhs || lhsBF16 != rhsBF16 ||
        !getElementTypeOrSelf(contract.getAccType()).isF32())
      return;
    Value oldLhs = contract.getLhs(), oldRhs = contract.getRhs();
    contract.getLhsMutable().assign(lhs);
    contract.getRhsMutable().assign(rhs);
    (lhsBF16 ? anyBF16 : anyF16) = true;
    // convert-vector-to-gpu drops a whole chain when a dead extension or
    // bitcast of its operands is still there.
    for (Value old : {oldLhs, oldRhs})
      eraseDeadChain(old);
  });
  if (anyBF16 && anyF16)
    return root->emitError()
           << "moe-gpu-prepare-mma: bf16 and f16 contracts in one kernel";
  return anyBF16;
}

/// Whether `memref` is only ever read.
bool isReadOnly(Value memref) {
  return llvm::all_of(memref.getUsers(), [](Operation *user) {
    return isa<memref::LoadOp>(user);
  });
}

/// Whether `op`, defined outside a loop, may be cloned into it.
bool isSinkable(Operation *op) {
  if (auto load = dyn_cast<memref::LoadOp>(op))
    return isReadOnly(load.getMemref());
  return op->getNumRegions() == 0 && isMemoryEffectFree(op) &&
         !op->hasTrait<OpTrait::IsTerminator>();
}

/// Clones into `loop` the non-constant operations outside it whose results
/// it uses, until it uses only constants and block arguments from above (or
/// something that cannot move; then convert-vector-to-gpu leaves the loop).
void sinkScalars(scf::ForOp loop) {
  OpBuilder b(loop.getContext());
  b.setInsertionPointToStart(loop.getBody());
  while (true) {
    llvm::SetVector<Operation *> outside;
    loop.getBody()->walk([&](Operation *op) {
      for (Value operand : op->getOperands()) {
        Operation *def = operand.getDefiningOp();
        if (def && !loop->isAncestor(def) && !matchPattern(def, m_Constant()) &&
            isSinkable(def))
          outside.insert(def);
      }
    });
    if (outside.empty())
      return;
    for (Operation *def : outside) {
      b.setInsertionPointToStart(loop.getBody());
      Operation *clone = b.clone(*def);
      for (auto [from, to] :
           llvm::zip(def->getResults(), clone->getResults()))
        from.replaceUsesWithIf(to, [&](OpOperand &use) {
          return loop->isAncestor(use.getOwner());
        });
    }
  }
}

/// Index arithmetic as index-dialect ops: upstream's vector-to-gpu treats
/// every arith add/mul/sub/div as an element-wise MMA op, scalars included,
/// and fails on them (MLIR 22).
void hideIndexArithmetic(Operation *kernel) {
  kernel->walk([](Operation *op) {
    if (op->getNumResults() != 1 || !op->getResult(0).getType().isIndex())
      return;
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value replacement;
    if (auto add = dyn_cast<arith::AddIOp>(op))
      replacement = index::AddOp::create(b, loc, add.getLhs(), add.getRhs());
    else if (auto mul = dyn_cast<arith::MulIOp>(op))
      replacement = index::MulOp::create(b, loc, mul.getLhs(), mul.getRhs());
    else if (auto sub = dyn_cast<arith::SubIOp>(op))
      replacement = index::SubOp::create(b, loc, sub.getLhs(), sub.getRhs());
    else if (auto div = dyn_cast<arith::DivUIOp>(op))
      replacement = index::DivUOp::create(b, loc, div.getLhs(), div.getRhs());
    else if (auto div = dyn_cast<arith::DivSIOp>(op))
      replacement = index::DivSOp::create(b, loc, div.getLhs(), div.getRhs());
    if (!replacement)
      return;
    op->getResult(0).replaceAllUsesWith(replacement);
    op->erase();
  });
}

/// Reduction loops that carry warp accumulators.
bool carriesVectors(scf::ForOp loop) {
  return llvm::any_of(loop.getInitArgs(), [](Value value) {
    return isa<VectorType>(value.getType());
  });
}

/// An element-wise epilogue of warp accumulators: a transfer_write of a value
/// computed element by element from accumulators (bias, activation,
/// conversion to 16 bits), or of an accumulator into rows that may be out of
/// bounds. Upstream's vector-to-gpu takes neither (MLIR 22: no element-wise
/// ops on nvgpu fragments, in-bounds stores only): the epilogue is cut from
/// its accumulators before the conversion and rebuilt after it on each
/// lane's fragment elements.
struct Epilogue {
  vector::TransferWriteOp write;
  /// The accumulators' type (they are gone after the conversion).
  VectorType accType;
  /// The ops computing the written value, definitions before uses.
  SmallVector<Operation *> ops;
  SmallVector<Value> accumulators;
};

/// The accumulators' stand-ins while upstream converts: each one's fragment
/// is found through `probe`, a buffer upstream stores it into.
struct CutAccumulator {
  Value placeholder;
  memref::AllocaOp probe;
  Value fragment; // per lane, after the conversion
};

/// A warp accumulator: a contract's result or a loop's vector result.
bool isAccumulator(Value value) {
  if (value.getDefiningOp<vector::ContractionOp>())
    return true;
  auto loop = value.getDefiningOp<scf::ForOp>();
  return loop && isa<VectorType>(value.getType()) && carriesVectors(loop);
}

/// An in-bounds, unmasked read of a memref whose vector's last dimension
/// runs along the memref's last one (the others broadcast or along the one
/// before): `rank` is the vector's.
bool isLaneReadable(vector::TransferReadOp read, int64_t rank) {
  auto memref = dyn_cast<MemRefType>(read.getBase().getType());
  if (!memref || read.getMask() || read.hasOutOfBoundsDim() ||
      read.getVectorType().getRank() != rank || !memref.isLastDimUnitStride())
    return false;
  ArrayRef<AffineExpr> results = read.getPermutationMap().getResults();
  int64_t memrefRank = memref.getRank();
  auto dim = dyn_cast<AffineDimExpr>(results.back());
  if (!dim || dim.getPosition() != memrefRank - 1)
    return false;
  if (rank == 1)
    return true;
  if (auto row = dyn_cast<AffineDimExpr>(results.front()))
    return memrefRank >= 2 && row.getPosition() == memrefRank - 2;
  auto constant = dyn_cast<AffineConstantExpr>(results.front());
  return constant && constant.getValue() == 0;
}

/// Collects the ops that compute `value` of an epilogue (post-order) and its
/// accumulators; false if one of them cannot be computed lane by lane.
bool collectEpilogue(Value value, Epilogue &epilogue,
                     llvm::SmallPtrSetImpl<Operation *> &seen) {
  if (isAccumulator(value)) {
    if (!llvm::is_contained(epilogue.accumulators, value))
      epilogue.accumulators.push_back(value);
    return true;
  }
  Operation *op = value.getDefiningOp();
  if (!op)
    return false;
  if (seen.contains(op))
    return true;
  if (auto broadcast = dyn_cast<vector::BroadcastOp>(op)) {
    // A scalar, or a row read from memory (a bias).
    Value source = broadcast.getSource();
    if (auto row = source.getDefiningOp<vector::TransferReadOp>()) {
      if (!isLaneReadable(row, 1) || !row->hasOneUse())
        return false;
      epilogue.ops.push_back(row);
    } else if (isa<VectorType>(source.getType())) {
      return false;
    }
  } else if (auto read = dyn_cast<vector::TransferReadOp>(op)) {
    if (!isLaneReadable(read, 2))
      return false;
  } else if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    auto splat = dyn_cast<SplatElementsAttr>(constant.getValue());
    if (!splat)
      return false;
  } else if (op->hasTrait<OpTrait::Elementwise>() && op->getNumResults() == 1 &&
             isMemoryEffectFree(op)) {
    for (Value operand : op->getOperands())
      if (!isa<VectorType>(operand.getType()) ||
          !collectEpilogue(operand, epilogue, seen))
        return false;
  } else {
    return false;
  }
  seen.insert(op);
  epilogue.ops.push_back(op);
  return true;
}

/// The epilogues of `kernel`: transfer_writes of warp-tile vectors into
/// memrefs that upstream's conversion would not take together with their
/// accumulators, and writes of constant tiles shaped like the accumulators
/// (zeros), which only the warp's lanes together should store.
SmallVector<Epilogue> findEpilogues(Operation *kernel) {
  llvm::SmallDenseSet<VectorType> accTypes;
  kernel->walk([&](vector::ContractionOp contract) {
    if (auto type = dyn_cast<VectorType>(contract.getAccType()))
      accTypes.insert(type);
  });
  SmallVector<Epilogue> epilogues;
  kernel->walk([&](vector::TransferWriteOp write) {
    auto memref = dyn_cast<MemRefType>(write.getBase().getType());
    if (!memref || write.getMask() || write.getVectorType().getRank() != 2 ||
        !write.getPermutationMap().isMinorIdentity() ||
        !memref.isLastDimUnitStride() || !write.getInBoundsValues().back())
      return;
    Value value = write.getVector();
    // Direct in-bounds stores of accumulators are upstream's.
    if (isAccumulator(value) && !write.hasOutOfBoundsDim())
      return;
    Epilogue epilogue;
    epilogue.write = write;
    llvm::SmallPtrSet<Operation *, 16> seen;
    if (!collectEpilogue(value, epilogue, seen))
      return;
    // The values computed from accumulators are rebuilt per lane and
    // erased: nothing else may use them (constants and reads may be shared).
    llvm::SmallPtrSet<Operation *, 16> fromAccumulators;
    for (Operation *op : epilogue.ops)
      if (llvm::any_of(op->getOperands(), [&](Value operand) {
            return isAccumulator(operand) ||
                   fromAccumulators.contains(operand.getDefiningOp());
          }))
        fromAccumulators.insert(op);
    if (llvm::any_of(fromAccumulators, [&](Operation *op) {
          return llvm::any_of(op->getUsers(), [&](Operation *user) {
            return user != write.getOperation() && !seen.contains(user);
          });
        }))
      return;
    if (epilogue.accumulators.empty()) {
      auto accType = VectorType::get(write.getVectorType().getShape(),
                                     Float32Type::get(write.getContext()));
      if (!value.getDefiningOp<arith::ConstantOp>() ||
          !accTypes.contains(accType))
        return;
      epilogue.accType = accType;
      epilogues.push_back(std::move(epilogue));
      return;
    }
    epilogue.accType =
        cast<VectorType>(epilogue.accumulators.front().getType());
    if (llvm::any_of(epilogue.accumulators, [&](Value accumulator) {
          return accumulator.getType() != epilogue.accType;
        }))
      return;
    epilogues.push_back(std::move(epilogue));
  });
  return epilogues;
}

/// Cuts the epilogues from their accumulators: every accumulator is stored
/// into a probe buffer (upstream turns that into the lanes' stores of its
/// fragment) and replaced in the epilogues by a placeholder.
llvm::MapVector<Value, CutAccumulator>
cutEpilogues(ArrayRef<Epilogue> epilogues) {
  llvm::MapVector<Value, CutAccumulator> cut;
  for (const Epilogue &epilogue : epilogues)
    for (Value accumulator : epilogue.accumulators) {
      if (cut.contains(accumulator))
        continue;
      auto type = cast<VectorType>(accumulator.getType());
      OpBuilder b(accumulator.getContext());
      b.setInsertionPointAfterValue(accumulator);
      Location loc = accumulator.getLoc();
      CutAccumulator entry;
      entry.probe = memref::AllocaOp::create(
          b, loc, MemRefType::get(type.getShape(), type.getElementType()));
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      vector::TransferWriteOp::create(
          b, loc, accumulator, entry.probe, ValueRange{zero, zero},
          ArrayRef<bool>{true, true});
      entry.placeholder = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(type, b.getZeroAttr(
                                                    type.getElementType())));
      cut.insert({accumulator, entry});
    }
  for (const Epilogue &epilogue : epilogues) {
    SmallVector<Operation *> users(epilogue.ops);
    users.push_back(epilogue.write);
    for (Operation *user : users)
      for (OpOperand &operand : user->getOpOperands())
        if (auto it = cut.find(operand.get()); it != cut.end())
          operand.set(it->second.placeholder);
  }
  return cut;
}

/// After upstream's conversion: each accumulator's per-lane fragment, read
/// off the stores into its probe (which go).
LogicalResult findFragments(llvm::MapVector<Value, CutAccumulator> &cut) {
  for (auto &[accumulator, entry] : cut) {
    SmallVector<Operation *> stores(entry.probe->getUsers());
    for (Operation *user : stores) {
      auto store = dyn_cast<vector::StoreOp>(user);
      auto element =
          store ? store.getValueToStore().getDefiningOp<vector::ExtractOp>()
                : vector::ExtractOp();
      if (!element)
        return user->emitError()
               << "moe-gpu-prepare-mma: an accumulator with an element-wise "
                  "epilogue did not become an mma.sync fragment";
      entry.fragment = element.getSource();
      store->erase();
    }
    if (!entry.fragment)
      return entry.probe->emitError()
             << "moe-gpu-prepare-mma: no fragment for an epilogue";
    entry.probe->erase();
  }
  return success();
}

/// Rebuilds `epilogue` on the fragment elements of this lane: for each
/// element, its ops on scalars (reads at the element's coordinates), and
/// per fragment row one store of its elements at their coordinates (guarded
/// where rows may be out of bounds). The layout is upstream's accumulator
/// layout (nvgpu::getLaneIdAndValueIdToOperandCoord), the one its own
/// stores use.
LogicalResult distributeEpilogue(const Epilogue &epilogue,
                                 llvm::MapVector<Value, CutAccumulator> &cut) {
  vector::TransferWriteOp write = epilogue.write;
  Location loc = write.getLoc();
  OpBuilder b(write);
  nvgpu::WarpMatrixInfo info{epilogue.accType,
                             nvgpu::MatMulOperandRole::C};
  FailureOr<nvgpu::FragmentElementInfo> fragment =
      nvgpu::getMmaSyncRegisterType(info);
  FailureOr<AffineMap> coords =
      nvgpu::getLaneIdAndValueIdToOperandCoord(b, loc, info);
  if (failed(fragment) || failed(coords))
    return write.emitError()
           << "moe-gpu-prepare-mma: no lane layout for the epilogue";
  Value lane = gpu::LaneIdOp::create(b, loc, /*upperBound=*/nullptr);
  auto coordinate = [&](int64_t valueId, unsigned result) -> Value {
    return affine::AffineApplyOp::create(
        b, loc, coords->getSubMap({result}),
        ValueRange{lane, arith::ConstantIndexOp::create(b, loc, valueId)});
  };
  auto offset = [&](ValueRange indices, int64_t position, Value delta) {
    SmallVector<Value> shifted(indices);
    shifted[position] =
        arith::AddIOp::create(b, loc, shifted[position], delta);
    return shifted;
  };

  auto written = cast<VectorType>(write.getVector().getType());
  int64_t registers = fragment->numRegistersPerFragment;
  int64_t perRegister = fragment->elementsPerRegister;
  auto memref = cast<MemRefType>(write.getBase().getType());
  int64_t rowDim = memref.getRank() - 2, colDim = memref.getRank() - 1;
  // All elements first (reads before the stores), then one store per
  // fragment row.
  SmallVector<Value> rowValues;
  for (int64_t i = 0; i < registers; ++i) {
    SmallVector<Value> elements;
    for (int64_t j = 0; j < perRegister; ++j) {
      int64_t valueId = i * perRegister + j;
      Value row = coordinate(valueId, 0), col = coordinate(valueId, 1);
      IRMapping scalars;
      for (Value accumulator : epilogue.accumulators) {
        const CutAccumulator &entry = cut.find(accumulator)->second;
        scalars.map(entry.placeholder,
                    vector::ExtractOp::create(b, loc, entry.fragment,
                                              ArrayRef<int64_t>{i, j}));
      }
      for (Operation *op : epilogue.ops) {
        Value scalar;
        if (auto read = dyn_cast<vector::TransferReadOp>(op)) {
          int64_t rank = read.getVectorType().getRank();
          SmallVector<Value> indices =
              offset(read.getIndices(), read.getIndices().size() - 1, col);
          if (rank == 2 &&
              isa<AffineDimExpr>(read.getPermutationMap().getResult(0)))
            indices = offset(indices, indices.size() - 2, row);
          scalar = memref::LoadOp::create(b, loc, read.getBase(), indices);
          if (rank == 1) {
            // Stands for the broadcast that uses it.
            scalars.map(read.getResult(), scalar);
            continue;
          }
        } else if (auto broadcast = dyn_cast<vector::BroadcastOp>(op)) {
          scalar = scalars.lookupOrDefault(broadcast.getSource());
        } else if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
          auto splat = cast<SplatElementsAttr>(constant.getValue());
          scalar = arith::ConstantOp::create(
              b, op->getLoc(),
              cast<TypedAttr>(splat.getSplatValue<Attribute>()));
        } else {
          OperationState state(op->getLoc(), op->getName());
          for (Value operand : op->getOperands())
            state.addOperands(scalars.lookup(operand));
          state.addTypes(getElementTypeOrSelf(op->getResult(0).getType()));
          state.addAttributes(op->getAttrs());
          scalar = b.create(state)->getResult(0);
        }
        scalars.map(op->getResult(0), scalar);
      }
      elements.push_back(scalars.lookup(write.getVector()));
    }
    // The register's elements are consecutive columns of one row.
    rowValues.push_back(vector::FromElementsOp::create(
        b, loc, VectorType::get({perRegister}, written.getElementType()),
        elements));
  }
  for (int64_t i = 0; i < registers; ++i) {
    Value values = rowValues[i];
    int64_t first = i * perRegister;
    SmallVector<Value> indices = offset(
        offset(write.getIndices(), rowDim, coordinate(first, 0)), colDim,
        coordinate(first, 1));
    if (write.getInBoundsValues().front()) {
      vector::StoreOp::create(b, loc, values, write.getBase(), indices);
      continue;
    }
    Value rows = memref::DimOp::create(b, loc, write.getBase(), rowDim);
    Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         indices[rowDim], rows);
    scf::IfOp::create(b, loc, inside, [&](OpBuilder &b, Location loc) {
      vector::StoreOp::create(b, loc, values, write.getBase(), indices);
      scf::YieldOp::create(b, loc);
    });
  }
  write->erase();
  for (Operation *op : llvm::reverse(epilogue.ops))
    if (op->use_empty())
      op->erase();
  return success();
}

/// An `nvgpu.mma.sync` m16n8k16 on f16 vectors that hold bf16 bits as the
/// bf16 `nvvm.mma.sync` (same fragment layout, 32-bit registers).
LogicalResult lowerBF16(nvgpu::MmaSyncOp mma) {
  OpBuilder b(mma);
  Location loc = mma.getLoc();
  auto shape = mma.getMmaShapeAsArray();
  if (shape != std::array<int64_t, 3>{16, 8, 16})
    return mma.emitError() << "moe-gpu-prepare-mma: bf16 MMAs are m16n8k16";
  auto registers = [&](Value fragment) {
    SmallVector<Value> values;
    auto type = cast<VectorType>(fragment.getType());
    for (int64_t i = 0; i < type.getDimSize(0); ++i) {
      Value pair = vector::ExtractOp::create(b, loc, fragment, i);
      Value word = vector::BitCastOp::create(
          b, loc, VectorType::get({1}, b.getI32Type()), pair);
      values.push_back(vector::ExtractOp::create(b, loc, word, 0));
    }
    return values;
  };
  SmallVector<Value> a = registers(mma.getMatrixA());
  SmallVector<Value> bRegs = registers(mma.getMatrixB());
  SmallVector<Value> c;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j)
      c.push_back(vector::ExtractOp::create(b, loc, mma.getMatrixC(),
                                            ArrayRef<int64_t>{i, j}));
  Type f32 = b.getF32Type();
  auto resultType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(4, f32));
  auto product = NVVM::MmaOp::create(
      b, loc, resultType, a, bRegs, c, ArrayRef<int64_t>{16, 8, 16},
      std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                    NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> d;
  for (int64_t i = 0; i < 4; ++i)
    d.push_back(LLVM::ExtractValueOp::create(b, loc, product, i));
  Value result = vector::FromElementsOp::create(
      b, loc, cast<VectorType>(mma.getRes().getType()), d);
  mma.getRes().replaceAllUsesWith(result);
  mma.erase();
  return success();
}

struct MoEGPUPrepareMMAPass
    : moe::impl::MoEGPUPrepareMMABase<MoEGPUPrepareMMAPass> {
  using Base::Base;

  /// Folds, sinks and (with `convert`) lowers the warp contracts of one
  /// kernel.
  LogicalResult runOnKernel(Operation *kernel) {
    FailureOr<bool> bf16 = foldExtensions(kernel);
    if (failed(bf16))
      return failure();
    if (*bf16)
      kernel->setAttr(kMMABF16AttrName, UnitAttr::get(&getContext()));
    kernel->walk([](scf::ForOp loop) {
      if (carriesVectors(loop))
        sinkScalars(loop);
    });
    if (!convert)
      return success();
    hideIndexArithmetic(kernel);
    RewritePatternSet patterns(&getContext());
    populatePrepareVectorToMMAPatterns(patterns, /*useNvGpu=*/true);
    if (failed(applyPatternsGreedily(kernel, std::move(patterns))))
      return failure();
    SmallVector<Epilogue> epilogues = findEpilogues(kernel);
    // The probes and guards are memref and scf ops (loaded wherever the
    // kernels come from bufferised loops; not dependent dialects of this
    // pass).
    if (!epilogues.empty() &&
        (!getContext().getLoadedDialect<memref::MemRefDialect>() ||
         !getContext().getLoadedDialect<scf::SCFDialect>()))
      return kernel->emitError()
             << "moe-gpu-prepare-mma: element-wise epilogues need the memref "
                "and scf dialects";
    llvm::MapVector<Value, CutAccumulator> cut = cutEpilogues(epilogues);
    IRRewriter rewriter(&getContext());
    if (failed(convertVectorToNVVMCompatibleMMASync(rewriter, kernel)))
      return failure();
    // A contract still in use was left by upstream (an op in its chain it
    // does not take): it would become scalar code, or fail much later.
    WalkResult unconverted = kernel->walk([](vector::ContractionOp contract) {
      if (contract->use_empty())
        return WalkResult::advance();
      contract.emitError() << "moe-gpu-prepare-mma: a warp contract did not "
                              "become an mma.sync (an op in its chain that "
                              "vector-to-gpu does not take)";
      return WalkResult::interrupt();
    });
    if (unconverted.wasInterrupted())
      return failure();
    if (failed(findFragments(cut)))
      return failure();
    for (const Epilogue &epilogue : epilogues)
      if (failed(distributeEpilogue(epilogue, cut)))
        return failure();
    for (auto &entry : cut)
      if (Operation *placeholder = entry.second.placeholder.getDefiningOp();
          placeholder->use_empty())
        placeholder->erase();
    if (!*bf16)
      return success();
    SmallVector<nvgpu::MmaSyncOp> mmas;
    kernel->walk([&](nvgpu::MmaSyncOp mma) { mmas.push_back(mma); });
    for (nvgpu::MmaSyncOp mma : mmas)
      if (failed(lowerBF16(mma)))
        return failure();
    return success();
  }

  void runOnOperation() override {
    // Only kernels with warp contracts: upstream's conversion trips over
    // ordinary scalar loops elsewhere.
    SmallVector<Operation *> kernels;
    getOperation()->walk([&](Operation *op) {
      if (op == getOperation() ||
          !op->hasTrait<OpTrait::IsIsolatedFromAbove>() ||
          isa<ModuleOp, gpu::GPUModuleOp>(op))
        return;
      if (op->walk([](vector::ContractionOp) {
              return WalkResult::interrupt();
            }).wasInterrupted())
        kernels.push_back(op);
    });
    for (Operation *kernel : kernels)
      if (failed(runOnKernel(kernel)))
        return signalPassFailure();
  }
};

} // namespace
