//===- TypeImport.h - ONNX types and tensors to MLIR ------------*- C++ -*-===//

#ifndef MOE_LIB_TARGET_ONNX_TYPEIMPORT_H
#define MOE_LIB_TARGET_ONNX_TYPEIMPORT_H

#include "ImportState.h"

#include "mlir/IR/BuiltinAttributeInterfaces.h"

namespace mlir::moe::onnx_import {

/// MLIR element type for an ONNX `TensorProto::DataType`, or null when the
/// importer does not support it. Integers are signless except uint8, which
/// stays `ui8` so that casts and QMoE weights keep their meaning.
Type elementTypeFromONNX(int32_t dataType, MLIRContext *ctx);

/// Human-readable ONNX data type name ("FLOAT", "INT64", ...).
std::string onnxDataTypeName(int32_t dataType);

/// Tensor type of a value's `TypeProto`. Unknown and symbolic dimensions are
/// dynamic; `dimParams` (when given) receives each dimension's symbolic
/// name ("" for static or unnamed). Fails with a message naming `what` when
/// the type is not a ranked tensor of a supported element type.
FailureOr<RankedTensorType>
tensorTypeFromProto(const onnx::TypeProto &type, MLIRContext *ctx,
                    llvm::StringRef what,
                    llvm::function_ref<InFlightDiagnostic()> emitError,
                    llvm::SmallVectorImpl<std::string> *dimParams = nullptr);

/// The contents of a TensorProto (initializer or attribute) as an elements
/// attribute: small tensors inline (`dense<...>`, so shapes and axes stay
/// readable and foldable), large ones as `dense_resource` blobs. Checks that
/// the data matches the declared shape. When `bytesOwner` keeps `tensor`
/// alive (the tensor is part of that ModelProto), blobs point into its bytes
/// instead of copying them; memory-mapped external data is never copied.
FailureOr<ElementsAttr>
importTensor(const onnx::TensorProto &tensor, ImportState &state,
             llvm::function_ref<InFlightDiagnostic()> emitError,
             std::shared_ptr<const void> bytesOwner = nullptr);

/// Tensors with at most this many elements are printed inline.
constexpr int64_t kMaxInlineElements = 64;

} // namespace mlir::moe::onnx_import

#endif // MOE_LIB_TARGET_ONNX_TYPEIMPORT_H
