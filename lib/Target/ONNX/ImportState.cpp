//===- ImportState.cpp - what a converter sees of one node ----------------===//

#include "ImportState.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace mlir::moe::onnx_import {

Location ImportState::fileLoc() const {
  return FileLineColLoc::get(ctx, modelPath, 0, 0);
}

InFlightDiagnostic ImportState::emitModelError() const {
  return mlir::emitError(fileLoc());
}

NodeContext::NodeContext(ImportState &state, const onnx::NodeProto &node,
                         llvm::StringRef displayName)
    : state(state), proto(node), displayName(displayName.str()),
      location(NameLoc::get(StringAttr::get(state.ctx, displayName),
                            state.fileLoc())) {}

int64_t NodeContext::opset() const {
  std::string domain = proto.domain() == "ai.onnx" ? "" : proto.domain();
  auto it = state.opsets.find(domain);
  return it == state.opsets.end() ? 0 : it->second;
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

InFlightDiagnostic NodeContext::emitError() const {
  InFlightDiagnostic diag = mlir::emitError(state.fileLoc());
  diag << "node '" << displayName << "' (";
  if (!proto.domain().empty() && proto.domain() != "ai.onnx")
    diag << proto.domain() << ".";
  diag << proto.op_type() << "): ";
  return diag;
}

LogicalResult NodeContext::error(const llvm::Twine &message) const {
  return emitError() << message;
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

bool NodeContext::hasInput(size_t i) const {
  return i < numInputs() && !proto.input(i).empty();
}

Value NodeContext::input(size_t i) const {
  if (!hasInput(i))
    return nullptr;
  return state.values.lookup(proto.input(i));
}

FailureOr<Value> NodeContext::requiredInput(size_t i,
                                            llvm::StringRef what) const {
  if (!hasInput(i))
    return emitError() << "missing required input " << i << " (" << what << ")";
  return input(i);
}

LogicalResult NodeContext::checkInputCount(size_t min, size_t max) const {
  if (numInputs() < min || numInputs() > max) {
    InFlightDiagnostic diag = emitError() << "expected ";
    if (min == max)
      diag << min;
    else
      diag << min << " to " << max;
    return diag << " inputs, got " << numInputs();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *NodeContext::attribute(llvm::StringRef name) const {
  for (const onnx::AttributeProto &attr : proto.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

FailureOr<int64_t>
NodeContext::intAttr(llvm::StringRef name,
                     std::optional<int64_t> defaultValue) const {
  const onnx::AttributeProto *attr = attribute(name);
  if (!attr) {
    if (defaultValue)
      return *defaultValue;
    return emitError() << "missing required attribute '" << name << "'";
  }
  if (attr->type() != onnx::AttributeProto::INT)
    return emitError() << "attribute '" << name << "' must be an int";
  return attr->i();
}

FailureOr<float>
NodeContext::floatAttr(llvm::StringRef name,
                       std::optional<float> defaultValue) const {
  const onnx::AttributeProto *attr = attribute(name);
  if (!attr) {
    if (defaultValue)
      return *defaultValue;
    return emitError() << "missing required attribute '" << name << "'";
  }
  if (attr->type() == onnx::AttributeProto::INT)
    return static_cast<float>(attr->i()); // Writers often emit 1 for 1.0.
  if (attr->type() != onnx::AttributeProto::FLOAT)
    return emitError() << "attribute '" << name << "' must be a float";
  return attr->f();
}

FailureOr<std::string>
NodeContext::stringAttr(llvm::StringRef name,
                        std::optional<std::string> defaultValue) const {
  const onnx::AttributeProto *attr = attribute(name);
  if (!attr) {
    if (defaultValue)
      return *defaultValue;
    return emitError() << "missing required attribute '" << name << "'";
  }
  if (attr->type() != onnx::AttributeProto::STRING)
    return emitError() << "attribute '" << name << "' must be a string";
  return attr->s();
}

FailureOr<std::optional<llvm::SmallVector<int64_t>>>
NodeContext::intsAttr(llvm::StringRef name) const {
  const onnx::AttributeProto *attr = attribute(name);
  if (!attr)
    return std::optional<llvm::SmallVector<int64_t>>();
  if (attr->type() != onnx::AttributeProto::INTS)
    return emitError() << "attribute '" << name << "' must be a list of ints";
  return std::optional<llvm::SmallVector<int64_t>>(
      llvm::SmallVector<int64_t>(attr->ints().begin(), attr->ints().end()));
}

LogicalResult
NodeContext::checkAttributes(llvm::ArrayRef<llvm::StringRef> known) const {
  for (const onnx::AttributeProto &attr : proto.attribute())
    if (!llvm::is_contained(known, attr.name()))
      return emitError() << "unsupported attribute '" << attr.name() << "'";
  return success();
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

static ElementsAttr constantAttr(Value value) {
  if (!value)
    return nullptr;
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  return constant ? dyn_cast<ElementsAttr>(constant.getValue()) : nullptr;
}

std::optional<llvm::SmallVector<int64_t>>
NodeContext::constantInts(Value value) {
  ElementsAttr attr = constantAttr(value);
  if (!attr || !attr.getElementType().isIntOrIndex())
    return std::nullopt;
  llvm::SmallVector<int64_t> result;
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    bool isUnsigned = attr.getElementType().isUnsignedInteger();
    for (const llvm::APInt &v : dense.getValues<llvm::APInt>())
      result.push_back(isUnsigned ? static_cast<int64_t>(v.getZExtValue())
                                  : v.getSExtValue());
    return result;
  }
  if (auto blob = dyn_cast<DenseI64ResourceElementsAttr>(attr)) {
    if (auto values = blob.tryGetAsArrayRef())
      return llvm::SmallVector<int64_t>(values->begin(), values->end());
  }
  if (auto blob = dyn_cast<DenseI32ResourceElementsAttr>(attr)) {
    if (auto values = blob.tryGetAsArrayRef())
      return llvm::SmallVector<int64_t>(values->begin(), values->end());
  }
  return std::nullopt;
}

std::optional<llvm::SmallVector<double>>
NodeContext::constantFloats(Value value) {
  ElementsAttr attr = constantAttr(value);
  auto dense = dyn_cast_or_null<DenseFPElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  llvm::SmallVector<double> result;
  for (const llvm::APFloat &v : dense.getValues<llvm::APFloat>())
    result.push_back(v.convertToDouble());
  return result;
}

//===----------------------------------------------------------------------===//
// Outputs
//===----------------------------------------------------------------------===//

bool NodeContext::hasOutput(size_t i) const {
  return i < numOutputs() && !proto.output(i).empty();
}

RankedTensorType NodeContext::inferredOutputType(size_t i) const {
  if (!hasOutput(i))
    return nullptr;
  return state.inferredTypes.lookup(proto.output(i));
}

/// `inferred` when it has the same rank and element type as `type`, agrees
/// on every static dimension and knows at least one more; else null.
static RankedTensorType refinedType(RankedTensorType type,
                                    RankedTensorType inferred) {
  if (!inferred || inferred.getRank() != type.getRank() ||
      inferred.getElementType() != type.getElementType() || type == inferred)
    return nullptr;
  for (auto [ours, theirs] : llvm::zip(type.getShape(), inferred.getShape()))
    if (!ShapedType::isDynamic(ours) && ours != theirs)
      return nullptr;
  return inferred;
}

void NodeContext::setResult(size_t i, Value value) {
  if (!hasOutput(i))
    return; // Outputs with empty names are unused.
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (type) {
    if (RankedTensorType refined = refinedType(type, inferredOutputType(i)))
      value = tensor::CastOp::create(state.builder, location, refined, value);
  }
  state.values[proto.output(i)] = value;
}

bool NodeContext::allResultsSet() const {
  for (size_t i = 0; i < numOutputs(); ++i)
    if (hasOutput(i) && !state.values.count(proto.output(i)))
      return false;
  return true;
}

} // namespace mlir::moe::onnx_import
