//===- ImportState.h - state shared while importing one ONNX graph -*- C++
//-*-===//
//
// Internal to the importer. `ImportState` owns the value map of the graph
// being imported; `NodeContext` is what an op converter sees of one node:
// its inputs as MLIR values, its attributes with type checks, its outputs,
// and an error helper that names the node.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_TARGET_ONNX_IMPORTSTATE_H
#define MOE_LIB_TARGET_ONNX_IMPORTSTATE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "onnx/onnx_pb.h"

namespace mlir::moe::onnx_import {

/// Everything the importer knows about the graph being imported.
struct ImportState {
  ImportState(MLIRContext *ctx, std::string modelPath)
      : ctx(ctx), builder(ctx), modelPath(std::move(modelPath)) {}

  MLIRContext *ctx;
  OpBuilder builder;
  /// The model file, as named in diagnostics.
  std::string modelPath;
  /// ONNX value name -> MLIR value.
  llvm::StringMap<Value> values;
  /// ONNX value name -> type found by ONNX shape inference (may be absent).
  llvm::StringMap<RankedTensorType> inferredTypes;
  /// Opset version per domain ("" is the default domain ai.onnx).
  std::map<std::string, int64_t> opsets;
  /// Keeps the protobuf (and so weight bytes that blobs point into) alive.
  std::shared_ptr<const onnx::ModelProto> model;

  /// Location used for diagnostics about the model file itself.
  Location fileLoc() const;
  /// Error at the model file: `<path>: <message>`.
  InFlightDiagnostic emitModelError() const;
};

/// One node being converted. Converters read inputs and attributes through
/// it, build ops with `builder()`, and register every output with
/// `setResult`. Each accessor that can fail reports the node and returns
/// failure, so a converter just propagates it.
class NodeContext {
public:
  NodeContext(ImportState &state, const onnx::NodeProto &node,
              llvm::StringRef displayName);

  const onnx::NodeProto &node() const { return proto; }
  llvm::StringRef name() const { return displayName; }
  llvm::StringRef opType() const { return proto.op_type(); }
  /// Opset version of the node's domain (0 when the model imports none).
  int64_t opset() const;

  OpBuilder &builder() { return state.builder; }
  Location loc() const { return location; }
  MLIRContext *context() const { return state.ctx; }
  ImportState &importState() { return state; }

  //===--- Errors
  //----------------------------------------------------------===//

  /// `<file>: node '<name>' (<op>): ...` — append the message with <<.
  InFlightDiagnostic emitError() const;
  /// Shorthand: emits `message` and returns failure.
  LogicalResult error(const llvm::Twine &message) const;

  //===--- Inputs
  //----------------------------------------------------------===//

  /// Number of inputs listed (including empty names for skipped optionals).
  size_t numInputs() const { return proto.input_size(); }
  /// Whether input `i` is listed with a non-empty name.
  bool hasInput(size_t i) const;
  /// Input `i`, or null when it is absent (optional input skipped).
  Value input(size_t i) const;
  /// Input `i`; reports "missing required input <i> (<what>)" when absent.
  FailureOr<Value> requiredInput(size_t i, llvm::StringRef what) const;
  /// Requires between `min` and `max` listed inputs.
  LogicalResult checkInputCount(size_t min, size_t max) const;

  //===--- Attributes
  //------------------------------------------------------===//

  const onnx::AttributeProto *attribute(llvm::StringRef name) const;
  bool hasAttribute(llvm::StringRef name) const {
    return attribute(name) != nullptr;
  }
  /// Integer attribute; `defaultValue` when absent (error when absent and
  /// no default, or when it has another type).
  FailureOr<int64_t>
  intAttr(llvm::StringRef name,
          std::optional<int64_t> defaultValue = std::nullopt) const;
  FailureOr<float>
  floatAttr(llvm::StringRef name,
            std::optional<float> defaultValue = std::nullopt) const;
  FailureOr<std::string>
  stringAttr(llvm::StringRef name,
             std::optional<std::string> defaultValue = std::nullopt) const;
  /// List-of-ints attribute; nullopt when absent.
  FailureOr<std::optional<llvm::SmallVector<int64_t>>>
  intsAttr(llvm::StringRef name) const;
  /// Refuses attributes not in `known`: "unsupported attribute '<a>'".
  LogicalResult checkAttributes(llvm::ArrayRef<llvm::StringRef> known) const;

  //===--- Values known at import time
  //-------------------------------------===//

  /// Integer contents of `value` when it is a constant (initializer or
  /// Constant node), e.g. axes, shapes, split sizes.
  static std::optional<llvm::SmallVector<int64_t>> constantInts(Value value);
  /// Floating-point contents of a constant.
  static std::optional<llvm::SmallVector<double>> constantFloats(Value value);

  //===--- Outputs
  //---------------------------------------------------------===//

  size_t numOutputs() const { return proto.output_size(); }
  bool hasOutput(size_t i) const;
  /// Type ONNX shape inference found for output `i` (null if none).
  RankedTensorType inferredOutputType(size_t i) const;
  /// Binds output `i` to `value`. Where shape inference knows more static
  /// dimensions than the converter's type, a `tensor.cast` refines it.
  void setResult(size_t i, Value value);
  /// Whether every listed output has been bound.
  bool allResultsSet() const;

private:
  ImportState &state;
  const onnx::NodeProto &proto;
  std::string displayName;
  Location location;
};

} // namespace mlir::moe::onnx_import

#endif // MOE_LIB_TARGET_ONNX_IMPORTSTATE_H
