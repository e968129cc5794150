//===- HoistConstants.cpp - constant globals as entry arguments ----------===//
//
// Kernels cannot read the host's constant globals (the model's weights), and
// copying them to the device on every call would cost more than the model
// itself. The entry function takes them as trailing arguments instead; the
// artifact's host code uploads each one once and passes the device copy.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToGPU/MoEToGPU.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEGPUHOISTCONSTANTS
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct MoEGPUHoistConstantsPass
    : moe::impl::MoEGPUHoistConstantsBase<MoEGPUHoistConstantsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto function = module.lookupSymbol<func::FuncOp>(entry);
    if (!function || function.isExternal()) {
      module.emitError() << "moe-gpu-hoist-constants: no function '" << entry
                         << "' with a body";
      return signalPassFailure();
    }

    // Distinct globals in order of first use; every use becomes the argument.
    llvm::MapVector<StringAttr, SmallVector<memref::GetGlobalOp>> uses;
    function.walk([&](memref::GetGlobalOp op) {
      uses[op.getNameAttr().getAttr()].push_back(op);
    });

    OpBuilder builder(module.getContext());
    SmallVector<Attribute> types;
    for (auto [name, getters] : uses) {
      auto type = cast<MemRefType>(getters.front().getType());
      for (memref::GetGlobalOp getter : getters)
        if (getter.getType() != type) {
          getter.emitError() << "moe-gpu-hoist-constants: global " << name
                             << " is read with two types";
          return signalPassFailure();
        }
      unsigned index = function.getNumArguments();
      if (failed(function.insertArgument(
              index, type,
              builder.getDictionaryAttr(builder.getNamedAttr(
                  "moe.constant", FlatSymbolRefAttr::get(name))),
              getters.front().getLoc())))
        return signalPassFailure();
      for (memref::GetGlobalOp getter : getters) {
        getter.replaceAllUsesWith(function.getArgument(index));
        getter.erase();
      }
      addGetter(builder, module, name, type, types.size());
      types.push_back(TypeAttr::get(type));
    }
    module->setAttr(kGPUConstantsAttrName, builder.getArrayAttr(types));
  }

  /// `func.func @_moe_constant_<index>() -> type` returning the host global,
  /// with a C interface for the artifact's host code.
  static void addGetter(OpBuilder &builder, ModuleOp module, StringAttr global,
                        MemRefType type, size_t index) {
    builder.setInsertionPointToEnd(module.getBody());
    Location loc = module.getLoc();
    auto getter = func::FuncOp::create(
        builder, loc, (kGPUConstantGetterPrefix + Twine(index)).str(),
        builder.getFunctionType({}, {type}));
    getter->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    builder.getUnitAttr());
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(getter.addEntryBlock());
    Value value = memref::GetGlobalOp::create(builder, loc, type, global);
    func::ReturnOp::create(builder, loc, value);
  }
};

} // namespace
