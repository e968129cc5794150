//===- ONNXImport.h - ONNX model to MLIR ------------------------*- C++ -*-===//
//
// Imports an ONNX model (binary protobuf or the textual syntax of
// onnx::OnnxParser) into one `func.func` over upstream dialects and `moe` ops.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_TARGET_ONNX_ONNXIMPORT_H
#define MOE_TARGET_ONNX_ONNXIMPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace mlir {
class DialectRegistry;
namespace moe {

struct ONNXImportOptions {
  /// Name of the function that holds the graph.
  std::string functionName = "main_graph";
  /// Run ONNX shape inference (only for opsets the ONNX library knows).
  bool runShapeInference = true;
  /// External weights (moe-compile --external-weights): every initializer
  /// of at least this many bytes becomes a trailing argument of the
  /// function, after the graph inputs, with `onnx.name` = the initializer's
  /// name and the unit attribute kWeightArgAttrName; its data is not read.
  /// -1: every initializer is a constant.
  int64_t externalWeightMinBytes = -1;
};

/// Argument attribute of an initializer imported as an argument.
inline constexpr const char *kWeightArgAttrName = "moe.weight";

/// Imports the model held in `bytes`; `path` names it in diagnostics and
/// locates external weight files. Returns null after emitting an error.
OwningOpRef<ModuleOp> importONNXModel(llvm::StringRef bytes,
                                      llvm::StringRef path, MLIRContext *ctx,
                                      const ONNXImportOptions &options = {});

/// Reads and imports the model file at `path`.
OwningOpRef<ModuleOp> importONNXFile(llvm::StringRef path, MLIRContext *ctx,
                                     const ONNXImportOptions &options = {});

/// Every supported operator as `<domain>::<op_type>` ("" is ai.onnx),
/// sorted; docs/ONNXImport.md must list each (a lit test checks).
std::vector<std::string> supportedONNXOperators();

/// Dialects the imported IR uses.
void registerONNXImportDialects(DialectRegistry &registry);

/// Registers `--import-onnx` with mlir-translate style tools.
void registerONNXImportTranslation();

} // namespace moe
} // namespace mlir

#endif // MOE_TARGET_ONNX_ONNXIMPORT_H
