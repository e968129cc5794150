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
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mlir::moe::compile {

enum class ArtifactTarget { CPU, CUDA };

/// The C++ source of the model description of `signature`; `modelName`
/// appears in its banner only. The source includes "moe/Runtime/ModelABI.h"
/// (and "moe/Runtime/CudaRuntime.h" for CUDA) and nothing from MLIR.
std::string generateModelDescription(const ModelSignature &signature,
                                     llvm::StringRef modelName,
                                     ArtifactTarget target);

/// The generated source's name of a rank-`rank` memref descriptor type.
std::string descriptorType(int64_t rank);

/// `invoke` of a CUDA artifact (CUDAThunk.cpp): inputs and the hoisted
/// constants to the device, the entry, outputs back to host memory.
void emitCUDAInvoke(llvm::raw_ostream &os, const ModelSignature &signature,
                    llvm::StringRef entry, llvm::StringRef resultType);

} // namespace mlir::moe::compile

#endif // MOE_TOOLS_MOE_COMPILE_ABITHUNK_H
