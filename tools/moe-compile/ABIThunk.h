//===- ABIThunk.h - the per-model C++ source of ModelABI.h ------*- C++ -*-===//
//
// Generates the C++ source that defines `moe_model_description_v1`
// (include/moe/Runtime/ModelABI.h): the model's signature and `invoke`, which
// calls the compiled `_mlir_ciface_main_graph` on memref descriptors.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_TOOLS_MOE_COMPILE_ABITHUNK_H
#define MOE_TOOLS_MOE_COMPILE_ABITHUNK_H

#include "ModelSignature.h"

#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::moe::compile {

/// The C++ source of the model description of `signature`; `modelName`
/// appears in its banner only. The source includes "moe/Runtime/ModelABI.h"
/// and nothing from MLIR.
std::string generateModelDescription(const ModelSignature &signature,
                                     llvm::StringRef modelName);

} // namespace mlir::moe::compile

#endif // MOE_TOOLS_MOE_COMPILE_ABITHUNK_H
