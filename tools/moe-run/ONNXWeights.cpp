//===- ONNXWeights.cpp - initializers of an ONNX file as arrays ----------===//
//
// Protobuf may throw (built with exceptions): this file catches everything.
//
//===----------------------------------------------------------------------===//

#include "ONNXWeights.h"

#include "onnx/onnx_pb.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

using moe::npy::Array;

namespace {

/// Bytes per element of the ONNX data types moe-run reads (those of
/// MoERuntime.h); 0 for the others.
int64_t elementBytes(int32_t dtype) {
  switch (dtype) {
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
    return 4;
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::BOOL:
    return 1;
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
    return 2;
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::DOUBLE:
    return 8;
  default:
    return 0;
  }
}

bool allocate(Array &array, int64_t bytes) {
  size_t size = (size_t(bytes > 0 ? bytes : 1) + 63) / 64 * 64;
  array.data.reset(static_cast<char *>(std::aligned_alloc(64, size)));
  array.numBytes = bytes;
  return array.data != nullptr;
}

/// Copies a typed repeated field, narrowing each value to `bytes` bytes
/// (ONNX keeps int8..int32, bool and the 16-bit floats in int32_data).
template <typename Field>
void packField(const Field &field, int64_t bytes, char *out) {
  for (int i = 0; i < field.size(); ++i) {
    auto value = field.Get(i);
    std::memcpy(out + i * bytes, &value, size_t(bytes)); // little-endian
  }
}

bool readExternal(const onnx::TensorProto &tensor, const std::string &dir,
                  Array &array, std::string &error) {
  std::string location;
  long long offset = 0, length = -1;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset")
      offset = std::atoll(entry.value().c_str());
    else if (entry.key() == "length")
      length = std::atoll(entry.value().c_str());
  }
  if (location.empty()) {
    error = "external data without a location";
    return false;
  }
  std::string file = location[0] == '/' ? location : dir + location;
  if (length >= 0 && length != array.numBytes) {
    error = "external data of " + std::to_string(length) +
            " bytes, the shape "
            "needs " +
            std::to_string(array.numBytes);
    return false;
  }
  FILE *f = std::fopen(file.c_str(), "rb");
  if (!f) {
    error = "cannot open external data file '" + file +
            "': " + std::strerror(errno);
    return false;
  }
  bool ok = std::fseek(f, long(offset), SEEK_SET) == 0 &&
            std::fread(array.data.get(), 1, size_t(array.numBytes), f) ==
                size_t(array.numBytes);
  std::fclose(f);
  if (!ok)
    error = "cannot read " + std::to_string(array.numBytes) +
            " bytes at offset " + std::to_string(offset) + " of '" + file + "'";
  return ok;
}

bool readTensor(const onnx::TensorProto &tensor, const std::string &dir,
                Array &array, std::string &error) {
  int64_t bytes = elementBytes(tensor.data_type());
  if (bytes == 0) {
    error = "unsupported data type " + std::to_string(tensor.data_type());
    return false;
  }
  array.dtype = tensor.data_type();
  array.shape.assign(tensor.dims().begin(), tensor.dims().end());
  int64_t count = 1;
  for (int64_t d : array.shape) {
    if (d < 0 || (d != 0 && count > INT64_MAX / bytes / d)) {
      error = "invalid shape";
      return false;
    }
    count *= d;
  }
  if (!allocate(array, count * bytes)) {
    error = "out of memory";
    return false;
  }
  char *out = array.data.get();
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL)
    return readExternal(tensor, dir, array, error);
  int64_t have = -1;
  if (tensor.has_raw_data()) {
    have = int64_t(tensor.raw_data().size());
    if (have == array.numBytes)
      std::memcpy(out, tensor.raw_data().data(), size_t(have));
  } else {
    switch (tensor.data_type()) {
    case onnx::TensorProto::FLOAT:
      have = tensor.float_data_size() * bytes;
      if (have == array.numBytes)
        packField(tensor.float_data(), bytes, out);
      break;
    case onnx::TensorProto::DOUBLE:
      have = tensor.double_data_size() * bytes;
      if (have == array.numBytes)
        packField(tensor.double_data(), bytes, out);
      break;
    case onnx::TensorProto::INT64:
      have = tensor.int64_data_size() * bytes;
      if (have == array.numBytes)
        packField(tensor.int64_data(), bytes, out);
      break;
    default:
      have = tensor.int32_data_size() * bytes;
      if (have == array.numBytes)
        packField(tensor.int32_data(), bytes, out);
      break;
    }
  }
  if (have != array.numBytes) {
    error = "has " + std::to_string(have) + " bytes of data, its shape needs " +
            std::to_string(array.numBytes);
    return false;
  }
  return true;
}

} // namespace

bool moe::run::readONNXInitializers(
    const std::string &path,
    const std::function<bool(const std::string &)> &wanted,
    std::map<std::string, Array> &arrays, std::string &error) {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = "cannot open '" + path + "': " + std::strerror(errno);
      return false;
    }
    onnx::ModelProto model;
    if (!model.ParseFromIstream(&in)) {
      error = "'" + path + "' is not a binary ONNX model";
      return false;
    }
    size_t slash = path.rfind('/');
    std::string dir =
        slash == std::string::npos ? "" : path.substr(0, slash + 1);
    for (const onnx::TensorProto &tensor : model.graph().initializer()) {
      if (!wanted(tensor.name()))
        continue;
      Array array;
      if (!readTensor(tensor, dir, array, error)) {
        error = "'" + path + "': initializer '" + tensor.name() + "': " + error;
        return false;
      }
      arrays[tensor.name()] = std::move(array);
    }
    return true;
  } catch (const std::exception &e) {
    error = "reading '" + path + "': " + e.what();
    return false;
  }
}
