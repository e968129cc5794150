//===- ModelReader.cpp - bytes to onnx::ModelProto ------------------------===//
//
// Compiled with exceptions: the ONNX library reports errors by throwing, and
// this file is where they are caught and turned into messages.
//
//===----------------------------------------------------------------------===//

#include "ModelReader.h"

#include "llvm/ADT/StringExtras.h"

#include <exception>
#include <map>

#include "onnx/defs/parser.h"
#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"

namespace mlir::moe::onnx_import {

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool looksLikeTextualModel(llvm::StringRef bytes) {
  // Skip leading whitespace and `#` comments, as the textual parser does.
  llvm::StringRef rest = bytes;
  while (true) {
    rest = rest.ltrim();
    if (!rest.starts_with("#"))
      break;
    rest = rest.drop_until([](char c) { return c == '\n'; });
  }
  return rest.starts_with("<");
}

static llvm::Error checkModel(const onnx::ModelProto &model) {
  if (!model.has_graph())
    return makeError("not an ONNX model: it has no graph");
  if (model.ir_version() <= 0)
    return makeError("not an ONNX model: ir_version is missing");
  return llvm::Error::success();
}

static llvm::Expected<std::shared_ptr<onnx::ModelProto>>
parseTextualModel(llvm::StringRef bytes) {
  auto model = std::make_shared<onnx::ModelProto>();
  std::string text = bytes.str(); // The parser wants a NUL-terminated string.
  try {
    onnx::Common::Status status = onnx::OnnxParser::Parse(*model, text.c_str());
    if (!status.IsOK())
      return makeError("textual ONNX syntax error: " + status.ErrorMessage());
  } catch (const std::exception &e) {
    return makeError(llvm::Twine("textual ONNX syntax error: ") + e.what());
  }
  if (llvm::Error err = checkModel(*model))
    return std::move(err);
  return model;
}

llvm::Expected<std::shared_ptr<onnx::ModelProto>>
parseModel(llvm::StringRef bytes) {
  if (bytes.empty())
    return makeError("the file is empty");
  if (looksLikeTextualModel(bytes))
    return parseTextualModel(bytes);
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    return makeError("the model is larger than 2 GiB; store its weights as "
                     "ONNX external data");
  auto model = std::make_shared<onnx::ModelProto>();
  if (!model->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return makeError("not a valid ONNX protobuf (truncated or not a model "
                     "file)");
  if (llvm::Error err = checkModel(*model))
    return std::move(err);
  return model;
}

int64_t maxKnownOpset() {
  const auto &ranges =
      onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = ranges.find("");
  return it == ranges.end() ? 0 : it->second.second;
}

std::string inferShapes(onnx::ModelProto &model) {
  for (const onnx::OperatorSetIdProto &opset : model.opset_import()) {
    bool isDefault = opset.domain().empty() || opset.domain() == "ai.onnx";
    if (isDefault && opset.version() > maxKnownOpset())
      return "ONNX shape inference skipped: the model uses opset " +
             std::to_string(opset.version()) + ", the ONNX library knows " +
             std::to_string(maxKnownOpset());
  }
  // ONNX 1.12's inference functions trust their inputs: data propagation
  // dereferenced missing schemas and missing types on damaged models (our
  // fuzzing crashed it twice), and nodes that break their schema (a Cast
  // without `to`) are read unchecked. So data propagation stays off, and
  // inference only runs when every node with a known schema satisfies it;
  // the importer's own typing reports the bad node.
  std::map<std::string, int> versions;
  for (const onnx::OperatorSetIdProto &opset : model.opset_import())
    versions[opset.domain() == "ai.onnx" ? "" : opset.domain()] =
        static_cast<int>(opset.version());
  for (const onnx::NodeProto &node : model.graph().node()) {
    std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    auto version = versions.find(domain);
    if (version == versions.end())
      continue;
    const onnx::OpSchema *schema = onnx::OpSchemaRegistry::Schema(
        node.op_type(), version->second, domain);
    if (!schema)
      continue;
    try {
      schema->Verify(node);
    } catch (const std::exception &e) {
      return "ONNX shape inference skipped: node '" + node.name() +
             "' does not match its schema: " + e.what();
    }
  }
  try {
    onnx::ShapeInferenceOptions options(/*check_type_val=*/false,
                                        /*strict_mode_val=*/0,
                                        /*data_prop_val=*/false);
    onnx::shape_inference::InferShapes(
        model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception &e) {
    return std::string("ONNX shape inference failed: ") + e.what();
  }
  return "";
}

} // namespace mlir::moe::onnx_import
