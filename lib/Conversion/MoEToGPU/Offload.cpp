//===- Offload.cpp - bufferised host code onto the GPU -------------------===//
//
// In a CUDA artifact every buffer lives in device memory, so the host
// function keeps only what touches no memory contents: address arithmetic,
// views, allocations and launches. Top-level parallel loops become grid-wide
// kernels (upstream's parallel-loop mapping, run after this pass); every
// other run of memory-touching operations becomes a single-thread kernel.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToGPU/MoEToGPU.h"

#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEGPUOFFLOAD
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// Marks the host buffers of round trips (a scalar the host needs, copied
/// back from the device): they stay on the host, and so do their accesses.
constexpr llvm::StringLiteral kHostBufferAttr = "moe.host_buffer";

bool isHostBuffer(Value memref) {
  Operation *def = memref.getDefiningOp();
  return def && def->hasAttr(kHostBufferAttr);
}

/// Whether `op` can run on the host: it reads and writes no memory contents
/// but those of host buffers (descriptor metadata, allocation, copies and
/// launching are fine).
bool isHostOp(Operation *op) {
  if (isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp, gpu::AllocOp,
          gpu::DeallocOp, gpu::MemcpyOp, gpu::MemsetOp, gpu::WaitOp,
          gpu::LaunchOp, gpu::LaunchFuncOp, func::ReturnOp, scf::YieldOp>(op))
    return true;
  if (auto load = dyn_cast<memref::LoadOp>(op))
    return isHostBuffer(load.getMemref());
  if (isa<scf::IfOp, scf::ForOp>(op))
    return llvm::all_of(op->getRegions(), [](Region &region) {
      return llvm::all_of(region.getOps(),
                          [](Operation &nested) { return isHostOp(&nested); });
    });
  return op->getNumRegions() == 0 && isMemoryEffectFree(op);
}

/// A side-effect-free, region-free operation that may move (not a
/// terminator).
bool isPureScalarOp(Operation *op) {
  return op->getNumRegions() == 0 && isMemoryEffectFree(op) &&
         !op->hasTrait<OpTrait::IsTerminator>();
}

/// `memref.copy` as a parallel loop of loads and stores (a rank-0 copy is a
/// load and a store), so that it runs where its buffers are.
void rewriteCopy(memref::CopyOp copy) {
  OpBuilder b(copy);
  Location loc = copy.getLoc();
  Value source = copy.getSource(), target = copy.getTarget();
  auto type = cast<MemRefType>(source.getType());
  if (type.getRank() == 0) {
    Value value = memref::LoadOp::create(b, loc, source);
    memref::StoreOp::create(b, loc, value, target);
    copy.erase();
    return;
  }
  SmallVector<Value> lowerBounds, upperBounds, steps;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t dim = 0; dim < type.getRank(); ++dim) {
    lowerBounds.push_back(zero);
    upperBounds.push_back(memref::DimOp::create(b, loc, source, dim));
    steps.push_back(one);
  }
  scf::ParallelOp::create(
      b, loc, lowerBounds, upperBounds, steps,
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        Value value = memref::LoadOp::create(b, loc, source, indices);
        memref::StoreOp::create(b, loc, value, target, indices);
      });
  copy.erase();
}

/// An `scf.parallel` without reductions inside a single-thread kernel as a
/// nest of `scf.for` loops.
LogicalResult sequentialize(scf::ParallelOp loop) {
  if (loop.getNumReductions() != 0)
    return loop.emitError()
           << "moe-gpu-offload: parallel loops with reductions are not "
              "supported inside sequential kernels";
  OpBuilder b(loop);
  IRMapping mapping;
  for (auto [lb, ub, step, iv] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep(),
                 loop.getInductionVars())) {
    auto forOp = scf::ForOp::create(b, loop.getLoc(), lb, ub, step);
    mapping.map(iv, forOp.getInductionVar());
    b.setInsertionPoint(forOp.getBody()->getTerminator());
  }
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, mapping);
  loop.erase();
  return success();
}

/// Moves `ops` (consecutive in one block) into a new 1x1x1 `gpu.launch`.
/// A scalar one of them computes and the host needs (a size read from a
/// shape tensor, as in ONNX shape arithmetic) goes back through a one-element
/// buffer; any other value used outside of them is an error.
LogicalResult wrapInKernel(ArrayRef<Operation *> ops) {
  llvm::SmallPtrSet<Operation *, 16> inRun(ops.begin(), ops.end());
  SmallVector<Value> escaping;
  for (Operation *op : ops)
    for (OpResult result : op->getResults()) {
      bool usedOutside = llvm::any_of(result.getUsers(), [&](Operation *user) {
        return !inRun.contains(op->getBlock()->findAncestorOpInBlock(*user));
      });
      if (!usedOutside)
        continue;
      if (!result.getType().isIntOrIndexOrFloat())
        return op->emitError()
               << "moe-gpu-offload: a " << result.getType()
               << " computed from device memory is needed on the host";
      escaping.push_back(result);
    }

  OpBuilder b(ops.front());
  Location loc = ops.front()->getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> deviceCells;
  for (Value value : escaping)
    deviceCells.push_back(memref::AllocOp::create(
        b, loc, MemRefType::get({1}, value.getType())));
  auto launch = gpu::LaunchOp::create(b, loc, one, one, one, one, one, one);
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(b, loc);
  for (Operation *op : ops)
    op->moveBefore(body.getTerminator());

  b.setInsertionPoint(body.getTerminator());
  for (auto [value, cell] : llvm::zip(escaping, deviceCells))
    memref::StoreOp::create(b, loc, value, cell, ValueRange{zero});
  b.setInsertionPointAfter(launch);
  for (auto [value, cell] : llvm::zip(escaping, deviceCells)) {
    auto hostCell = memref::AllocaOp::create(
        b, loc, cast<MemRefType>(cell.getType()));
    hostCell->setAttr(kHostBufferAttr, b.getUnitAttr());
    gpu::MemcpyOp::create(b, loc, TypeRange(), ValueRange(), hostCell, cell);
    memref::DeallocOp::create(b, loc, cell);
    Value onHost = memref::LoadOp::create(b, loc, hostCell, ValueRange{zero});
    value.replaceUsesWithIf(onHost, [&](OpOperand &use) {
      return !launch->isProperAncestor(use.getOwner());
    });
  }

  SmallVector<scf::ParallelOp> nested;
  launch.walk([&](scf::ParallelOp loop) { nested.push_back(loop); });
  // Post-order: inner loops first, so each clone copies sequential code.
  for (scf::ParallelOp loop : nested)
    if (failed(sequentialize(loop)))
      return failure();
  return success();
}

/// Host allocations become device allocations. A host `alloca` lives until
/// the end of its block: it is freed before the block's terminator.
void allocateOnDevice(func::FuncOp function) {
  SmallVector<Operation *> allocations;
  function.walk([&](Operation *op) {
    if (isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp>(op) &&
        !op->getParentOfType<gpu::LaunchOp>() && !op->hasAttr(kHostBufferAttr))
      allocations.push_back(op);
  });
  for (Operation *op : allocations) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
      gpu::DeallocOp::create(b, loc, Type(), ValueRange(),
                             dealloc.getMemref());
      op->erase();
      continue;
    }
    auto type = cast<MemRefType>(op->getResult(0).getType());
    ValueRange sizes, symbols;
    if (auto heap = dyn_cast<memref::AllocOp>(op)) {
      sizes = heap.getDynamicSizes();
      symbols = heap.getSymbolOperands();
    } else {
      auto stack = cast<memref::AllocaOp>(op);
      sizes = stack.getDynamicSizes();
      symbols = stack.getSymbolOperands();
    }
    auto alloc =
        gpu::AllocOp::create(b, loc, type, Type(), ValueRange(), sizes, symbols);
    if (isa<memref::AllocaOp>(op)) {
      b.setInsertionPoint(op->getBlock()->getTerminator());
      gpu::DeallocOp::create(b, loc, Type(), ValueRange(), alloc.getMemref());
    }
    op->replaceAllUsesWith(alloc);
    op->erase();
  }
}

struct MoEGPUOffloadPass : moe::impl::MoEGPUOffloadBase<MoEGPUOffloadPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (function.isExternal())
      return;
    SmallVector<memref::CopyOp> copies;
    function.walk([&](memref::CopyOp copy) {
      if (!copy->getParentOfType<gpu::LaunchOp>())
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies)
      rewriteCopy(copy);

    for (Block &block : function.getBody())
      if (failed(offloadBlock(block)))
        return signalPassFailure();
    allocateOnDevice(function);
  }

  /// Groups the block's memory-touching operations into kernels; pure
  /// operations that do not depend on them move before the kernel.
  LogicalResult offloadBlock(Block &block) {
    SmallVector<Operation *> run;
    llvm::SmallPtrSet<Value, 16> runValues;
    auto flush = [&]() -> LogicalResult {
      if (run.empty())
        return success();
      LogicalResult result = wrapInKernel(run);
      run.clear();
      runValues.clear();
      return result;
    };
    auto usesRun = [&](Operation *op) {
      bool uses = false;
      op->walk([&](Operation *nested) {
        for (Value operand : nested->getOperands())
          uses |= runValues.contains(operand);
      });
      return uses;
    };

    for (Operation &op : llvm::make_early_inc_range(block)) {
      bool dependsOnRun = usesRun(&op);
      bool pure = isPureScalarOp(&op);
      // Scalars the run computes and the host needs reach the host through
      // one-element buffers when the run is flushed.
      bool gridLoop = isa<scf::ParallelOp>(op) && !wrapParallelLoops;
      if (gridLoop || (isHostOp(&op) && !pure)) {
        if (failed(flush()))
          return failure();
        continue; // a grid-wide kernel (mapped later) or host code
      }
      if (pure && !dependsOnRun) {
        if (!run.empty())
          op.moveBefore(run.front());
        continue;
      }
      run.push_back(&op);
      for (Value result : op.getResults())
        runValues.insert(result);
    }
    return flush();
  }
};

} // namespace
