//===- ModelReader.h - bytes to onnx::ModelProto ----------------*- C++ -*-===//
//
// The only place that calls into the ONNX library's throwing code (the
// textual parser and shape inference); every exception stops here.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_TARGET_ONNX_MODELREADER_H
#define MOE_LIB_TARGET_ONNX_MODELREADER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>

#include "onnx/onnx_pb.h"

namespace mlir::moe::onnx_import {

/// Whether `bytes` look like the textual ONNX syntax (a model starts with
/// `<`) rather than a binary protobuf (which never starts with `<`).
bool looksLikeTextualModel(llvm::StringRef bytes);

/// Parses a binary or textual model. Errors say what is wrong with the
/// bytes: empty, not a protobuf, truncated, textual syntax error, no graph.
llvm::Expected<std::shared_ptr<onnx::ModelProto>>
parseModel(llvm::StringRef bytes);

/// Runs ONNX shape inference in place, tolerant of node-level failures.
/// Returns a warning message when inference was skipped or failed (the
/// importer then relies on its own typing), empty otherwise.
std::string inferShapes(onnx::ModelProto &model);

/// Highest default-domain opset the linked ONNX library has schemas for.
int64_t maxKnownOpset();

} // namespace mlir::moe::onnx_import

#endif // MOE_LIB_TARGET_ONNX_MODELREADER_H
