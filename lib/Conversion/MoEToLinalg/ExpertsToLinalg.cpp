//===- ExpertsToLinalg.cpp - reference lowering (to be written) -------------===//

#include "moe/Conversion/MoEToLinalg/MoEToLinalg.h"
#include "moe/Dialect/MoE/IR/MoE.h"

using namespace mlir;
using namespace mlir::moe;

void mlir::moe::populateExpertsToLinalgPatterns(RewritePatternSet &patterns) {}
