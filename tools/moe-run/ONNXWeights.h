//===- ONNXWeights.h - initializers of an ONNX file as arrays ---*- C++ -*-===//
//
// moe-run --weights model.onnx: the initializers of an ONNX model (inline
// data or external data files beside it), to bind the external weights of a
// model compiled with `moe-compile --external-weights`.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_TOOLS_MOE_RUN_ONNXWEIGHTS_H
#define MOE_TOOLS_MOE_RUN_ONNXWEIGHTS_H

#include "Npy.h"

#include <functional>
#include <map>
#include <string>

namespace moe::run {

/// Reads the initializers of the ONNX model at `path` whose names `wanted`
/// accepts into `arrays` (by name); the data of the others is not read.
/// False with `error` set on any problem (unreadable file, unsupported data
/// type, data that does not match the shape).
bool readONNXInitializers(
    const std::string &path,
    const std::function<bool(const std::string &)> &wanted,
    std::map<std::string, npy::Array> &arrays, std::string &error);

} // namespace moe::run

#endif // MOE_TOOLS_MOE_RUN_ONNXWEIGHTS_H
