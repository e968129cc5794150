//===- NameKernels.cpp - readable kernel names before outlining -----------===//
//
// Outlining calls every kernel `<function>_kernel`, so ptxas reports and
// cuobjdump listings say nothing about which loop is which. Each gpu.launch
// gets `module`/`function` names instead: the name a lowering marked in its
// location (KernelName.h), else a generic one by shape.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/KernelName.h"
#include "moe/Conversion/MoEToGPU/MoEToGPU.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEGPUNAMEKERNELS
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// A 1x1x1 grid of 1x1x1 blocks: the single-thread kernels of moe-gpu-offload.
bool isSingleThread(gpu::LaunchOp launch) {
  gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  return llvm::all_of(
      ArrayRef<Value>{grid.x, grid.y, grid.z, block.x, block.y, block.z},
      [](Value size) { return isConstantIntValue(size, 1); });
}

/// Letters, digits and underscores (PTX and C identifiers), not a digit first.
bool isIdentifier(StringRef name) {
  return !name.empty() && !llvm::isDigit(name.front()) &&
         llvm::all_of(name, [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

struct MoEGPUNameKernelsPass
    : moe::impl::MoEGPUNameKernelsBase<MoEGPUNameKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Names already taken: symbols of the module and earlier kernels.
    llvm::StringSet<> taken;
    for (Operation &op : module.getBody()->getOperations())
      if (auto symbol = SymbolTable::getSymbolName(&op))
        taken.insert(symbol.getValue());
    auto unique = [&](StringRef base) {
      std::string name = base.str();
      for (int i = 1; taken.contains(name); ++i)
        name = (base + "_" + Twine(i)).str();
      taken.insert(name);
      return name;
    };

    WalkResult result = module.walk([&](gpu::LaunchOp launch) {
      if (launch.getFunctionAttr() || launch.getModuleAttr())
        return WalkResult::advance();
      StringRef base;
      std::optional<StringRef> marked = markedKernelName(launch.getLoc());
      if (isSingleThread(launch))
        base = "moe_serial";
      else if (marked)
        base = *marked;
      else
        base = "moe_parallel";
      if (!isIdentifier(base)) {
        launch.emitError() << "moe-gpu-name-kernels: '" << base
                           << "' is not a valid kernel name";
        return WalkResult::interrupt();
      }
      auto name = FlatSymbolRefAttr::get(&getContext(), unique(base));
      launch.setFunctionAttr(name);
      launch.setModuleAttr(name);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
