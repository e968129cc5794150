//===- CUDAModules.cpp - when and where a CUDA artifact's kernels load ----===//
//
// MLIR's translation of gpu.binary loads every kernel module from a global
// constructor (`<module>_load`, calling mgpuModuleLoad) and unloads it from a
// destructor. In a model.so that would touch the GPU at dlopen time, before
// the user could pick a device, and fail on a machine without one. These
// constructors and destructors become two functions the artifact's host
// code calls instead, once the runtime has a context:
//   void moe_cuda_load_modules(void);  void moe_cuda_unload_modules(void);
// The embedded fatbins go into the `.nv_fatbin` section, where the CUDA tools
// (cuobjdump --list-elf model.so) look for them.
//
//===----------------------------------------------------------------------===//

#include "CUDAModules.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

using namespace mlir::moe::compile;

/// Moves the entries of `arrayName` (llvm.global_ctors/dtors) whose function
/// name ends in `suffix` into a new function `wrapperName` that calls them
/// in order; the other entries stay.
static llvm::Error moveStructors(llvm::Module &module,
                                 llvm::StringRef arrayName,
                                 llvm::StringRef suffix,
                                 llvm::StringRef wrapperName) {
  llvm::LLVMContext &context = module.getContext();
  auto *wrapper = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(context), false),
      llvm::GlobalValue::ExternalLinkage, wrapperName, module);
  wrapper->setVisibility(llvm::GlobalValue::HiddenVisibility);
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(context, "", wrapper));

  llvm::GlobalVariable *array = module.getGlobalVariable(arrayName);
  if (array && array->hasInitializer() &&
      !array->getInitializer()->isNullValue()) {
    auto *entries = llvm::dyn_cast<llvm::ConstantArray>(array->getInitializer());
    if (!entries)
      return llvm::createStringError("unexpected initializer of %s",
                                     arrayName.str().c_str());
    llvm::SmallVector<llvm::Constant *> kept;
    for (llvm::Use &use : entries->operands()) {
      auto *entry = llvm::cast<llvm::ConstantStruct>(use.get());
      auto *function = llvm::dyn_cast<llvm::Function>(entry->getOperand(1));
      if (function && function->getName().ends_with(suffix))
        builder.CreateCall(function);
      else
        kept.push_back(entry);
    }
    auto *arrayType = llvm::ArrayType::get(entries->getType()->getElementType(),
                                           kept.size());
    llvm::Constant *initializer = llvm::ConstantArray::get(arrayType, kept);
    array->eraseFromParent();
    if (!kept.empty())
      new llvm::GlobalVariable(module, arrayType, /*isConstant=*/false,
                               llvm::GlobalValue::AppendingLinkage,
                               initializer, arrayName);
  }
  builder.CreateRetVoid();
  return llvm::Error::success();
}

llvm::Error mlir::moe::compile::prepareCUDAModuleLoading(llvm::Module &module) {
  if (llvm::Error error = moveStructors(module, "llvm.global_ctors", "_load",
                                        "moe_cuda_load_modules"))
    return error;
  if (llvm::Error error = moveStructors(module, "llvm.global_dtors", "_unload",
                                        "moe_cuda_unload_modules"))
    return error;
  for (llvm::GlobalVariable &global : module.globals())
    if (global.getName().ends_with("_binary") && global.isConstant()) {
      global.setSection(".nv_fatbin");
      global.setAlignment(llvm::Align(8));
    }
  return llvm::Error::success();
}
