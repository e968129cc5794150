//===- PrepareMMA.cpp - warp contracts to tensor-core MMAs ---------------===//
//
// The warp GEMMs are written so that the CPU can run them too: f32
// contracts of extended 16-bit vectors, index arithmetic where it is
// natural. Upstream's convert-vector-to-gpu{use-nvgpu} wants mixed-precision
// contracts and reduction loops that capture nothing but constants, and its
// nvgpu.mma.sync has no bf16: this pass prepares the kernels, runs
// upstream's conversion on those with contracts only, and lowers bf16 MMAs
// itself.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToGPU/MoEToGPU.h"

#include "mlir/Conversion/VectorToGPU/VectorToGPU.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/Index/IR/IndexOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

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
    IRRewriter rewriter(&getContext());
    if (failed(convertVectorToNVVMCompatibleMMASync(rewriter, kernel)))
      return failure();
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
