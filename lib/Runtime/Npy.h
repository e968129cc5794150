//===- Npy.h - reading and writing NumPy .npy files -------------*- C++ -*-===//
//
// A small reader/writer for the .npy format (versions 1.0, 2.0 and 3.0;
// little-endian, C order) used by moe-run. Data types are ONNX TensorProto
// codes as in MoERuntime.h: <f4 <f8 <f2 <i8 <i4 <i2 |i1 |u1 |b1.
// Plain C++17 without exceptions: failures return false with a message.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_RUNTIME_NPY_H
#define MOE_RUNTIME_NPY_H

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace moe::npy {

/// A dense row-major array; `data` is 64-byte aligned.
struct Array {
  int32_t dtype = 0; // ONNX TensorProto code
  std::vector<int64_t> shape;
  std::unique_ptr<char, decltype(&std::free)> data{nullptr, &std::free};
  int64_t numBytes = 0;

  int64_t numElements() const;
};

/// Bytes per element of an ONNX dtype code, 0 when .npy cannot hold it.
int64_t elementSize(int32_t dtype);
/// numpy's name of an ONNX dtype code ("float32"), or "dtype <code>".
std::string dtypeName(int32_t dtype);

/// Reads `path` into `array`; false with `error` set on any problem.
bool read(const std::string &path, Array &array, std::string &error);
/// Parses an in-memory .npy image (what `read` does after loading the file).
bool parse(const char *bytes, size_t size, Array &array, std::string &error);

/// Writes a dense row-major array to `path`.
bool write(const std::string &path, int32_t dtype, const int64_t *shape,
           int64_t rank, const void *data, std::string &error);

} // namespace moe::npy

#endif // MOE_RUNTIME_NPY_H
