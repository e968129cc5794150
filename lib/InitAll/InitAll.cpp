//===- InitAll.cpp - register everything the moe tools need ---------------===//

#include "moe/InitAll.h"

#include "moe/Conversion/Passes.h"
#include "moe/Dialect/MoE/IR/MoE.h"
#include "moe/Dialect/MoE/Transforms/Passes.h"
#include "moe/Dialect/MoE/Transforms/Pipelines.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

void mlir::moe::registerAllDialects(DialectRegistry &registry) {
  // Upstream dialects are the targets of every moe lowering; registering all
  // of them keeps moe-opt a drop-in mlir-opt.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary (the CUDA pipeline) translates kernels to LLVM IR
  // inside a pass.
  registerAllToLLVMIRTranslations(registry);
  registry.insert<MoEDialect>();
}

void mlir::moe::registerAllPasses() {
  mlir::registerAllPasses();
  registerMoEPasses();
  registerMoEConversionPasses();
  registerMoEPipelines();
}
