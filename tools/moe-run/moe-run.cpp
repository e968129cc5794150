//===- moe-run.cpp - run a compiled model on .npy tensors
//------------------===//
//
//   moe-run model.so --input NAME=file.npy ... [--output NAME=file.npy ...]
//                    [--bench=N] [--threads=N] [--device=N]
//                    [--weights model.onnx] [--weight NAME=file.npy ...]
//
// Loads the model with dlopen, binds the MoERuntime.h API with dlsym, feeds
// the inputs by ONNX name and prints (or saves) the outputs. --bench=N runs
// once to warm up, then N timed runs, and prints one line
// `median_ms=<f> min_ms=<f> max_ms=<f>`. --device picks the device of a
// CUDA model. --weights / --weight bind the external weights of a model
// compiled with --external-weights (from the initializers of an ONNX file,
// or .npy files by initializer name). Exit code 1 on any user error, and on any
// failed run (a CUDA model on a machine without a GPU says why).
//
//===----------------------------------------------------------------------===//

#include "Npy.h"
#include "ONNXWeights.h"
#include "moe/Runtime/MoERuntime.h"

#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

const char *const kUsage =
    "usage: moe-run model.so --input NAME=file.npy ... "
    "[--output NAME=file.npy ...] [--bench=N] [--threads=N] [--device=N]\n"
    "       [--weights model.onnx] [--weight NAME=file.npy ...]\n"
    "\n"
    "Runs a model compiled by moe-compile on .npy tensors. Every graph input\n"
    "must be given by its ONNX name. Without --output, prints each output's\n"
    "name, dtype, shape and first values.\n"
    "\n"
    "  --input NAME=FILE   an input tensor (.npy, little-endian, C order)\n"
    "  --output NAME=FILE  save an output to a .npy file\n"
    "  --bench=N           one warm-up run, then N timed runs; prints\n"
    "                      median_ms=<f> min_ms=<f> max_ms=<f>\n"
    "  --threads=N         threads used by the model (<= 0: one per core)\n"
    "  --device=N          the device to run on: a CUDA device ordinal for\n"
    "                      CUDA models (default $MOE_CUDA_DEVICE, else 0),\n"
    "                      0 for CPU models\n"
    "  --weights FILE      bind the external weights of a model compiled with\n"
    "                      --external-weights from the initializers of an\n"
    "                      ONNX model (external data files beside it)\n"
    "  --weight NAME=FILE  bind external weight NAME from a .npy file (before\n"
    "                      --weights, which supplies the others)\n";

/// The MoERuntime.h functions of the loaded model.
struct Api {
#define MOE_RUNTIME_FUNCTION(name) decltype(&::name) name = nullptr;
#include "moe/Runtime/MoERuntimeAPI.def"
};

int error(const std::string &message) {
  std::fprintf(stderr, "moe-run: error: %s\n", message.c_str());
  return 1;
}

template <typename Fn>
bool bind(void *handle, const char *name, Fn &fn, std::string &missing) {
  fn = reinterpret_cast<Fn>(dlsym(handle, name));
  if (!fn) {
    missing += missing.empty() ? "" : ", ";
    missing += name;
  }
  return fn != nullptr;
}

bool parseInt(const std::string &text, long long &value) {
  if (text.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  value = std::strtoll(text.c_str(), &end, 10);
  return errno == 0 && end && *end == '\0';
}

std::string shapeString(const int64_t *shape, int64_t rank) {
  std::string s = "[";
  for (int64_t d = 0; d < rank; ++d) {
    if (d)
      s += ", ";
    s += std::to_string(shape[d]);
  }
  return s + "]";
}

std::string signatureShape(const Api &api, int64_t index) {
  int64_t rank = api.moe_input_rank(index);
  std::string s = "[";
  for (int64_t d = 0; d < rank; ++d) {
    if (d)
      s += ", ";
    int64_t dim = api.moe_input_dim(index, d);
    const char *param = api.moe_input_dim_param(index, d);
    if (dim >= 0)
      s += std::to_string(dim);
    else
      s += (param && *param) ? param : "?";
  }
  return s + "]";
}

float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  int exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal: renormalise
      exp = 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | uint32_t(exp + 112) << 23 | mant << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | uint32_t(exp + 112) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

std::string formatValue(const void *data, int64_t i, int32_t dtype) {
  char buf[64];
  switch (dtype) {
  case 1:
    std::snprintf(buf, sizeof(buf), "%g", double(((const float *)data)[i]));
    break;
  case 11:
    std::snprintf(buf, sizeof(buf), "%g", ((const double *)data)[i]);
    break;
  case 10:
    std::snprintf(buf, sizeof(buf), "%g",
                  double(halfToFloat(((const uint16_t *)data)[i])));
    break;
  case 16: {
    uint32_t bits = uint32_t(((const uint16_t *)data)[i]) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof(f));
    std::snprintf(buf, sizeof(buf), "%g", double(f));
    break;
  }
  case 2:
    std::snprintf(buf, sizeof(buf), "%u", unsigned(((const uint8_t *)data)[i]));
    break;
  case 3:
    std::snprintf(buf, sizeof(buf), "%d", int(((const int8_t *)data)[i]));
    break;
  case 5:
    std::snprintf(buf, sizeof(buf), "%d", int(((const int16_t *)data)[i]));
    break;
  case 6:
    std::snprintf(buf, sizeof(buf), "%d", int(((const int32_t *)data)[i]));
    break;
  case 7:
    std::snprintf(buf, sizeof(buf), "%" PRId64, ((const int64_t *)data)[i]);
    break;
  case 9:
    std::snprintf(buf, sizeof(buf), "%s",
                  ((const uint8_t *)data)[i] ? "true" : "false");
    break;
  default:
    std::snprintf(buf, sizeof(buf), "?");
  }
  return buf;
}

std::string dtypeName(int32_t dtype) {
  switch (dtype) {
  case 16:
    return "bfloat16";
  default:
    return moe::npy::dtypeName(dtype);
  }
}

struct Options {
  std::string model;
  std::vector<std::pair<std::string, std::string>> inputs, outputs, weights;
  std::vector<std::string> weightFiles;
  long long bench = 0;
  bool threadsGiven = false;
  long long threads = 0;
  bool deviceGiven = false;
  long long device = 0;
};

/// Parses argv; returns -1 to go on, else the exit code.
int parseArgs(int argc, char **argv, Options &opts) {
  auto splitPair =
      [](const std::string &flag, const std::string &value,
         std::vector<std::pair<std::string, std::string>> &into) -> bool {
    size_t eq = value.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
      error(flag + " expects NAME=FILE, got '" + value + "'");
      return false;
    }
    into.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    return true;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string flag = arg, value;
    bool hasValue = false;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        flag = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        hasValue = true;
      }
    }
    auto takeValue = [&]() -> bool {
      if (hasValue)
        return true;
      if (i + 1 >= argc) {
        error(flag + " expects a value");
        return false;
      }
      value = argv[++i];
      return true;
    };
    if (flag == "-h" || flag == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (flag == "--input" || flag == "-i") {
      if (!takeValue() || !splitPair("--input", value, opts.inputs))
        return 1;
    } else if (flag == "--output" || flag == "-o") {
      if (!takeValue() || !splitPair("--output", value, opts.outputs))
        return 1;
    } else if (flag == "--weight") {
      if (!takeValue() || !splitPair("--weight", value, opts.weights))
        return 1;
    } else if (flag == "--weights") {
      if (!takeValue())
        return 1;
      opts.weightFiles.push_back(value);
    } else if (flag == "--bench") {
      if (!takeValue())
        return 1;
      if (!parseInt(value, opts.bench) || opts.bench < 1 ||
          opts.bench > 1000000)
        return error("--bench expects a positive number of runs, got '" +
                     value + "'");
    } else if (flag == "--threads") {
      if (!takeValue())
        return 1;
      if (!parseInt(value, opts.threads) || opts.threads > 4096 ||
          opts.threads < -1)
        return error("--threads expects a number of threads, got '" + value +
                     "'");
      opts.threadsGiven = true;
    } else if (flag == "--device") {
      if (!takeValue())
        return 1;
      if (!parseInt(value, opts.device) || opts.device < 0 ||
          opts.device > INT32_MAX)
        return error("--device expects a device ordinal, got '" + value + "'");
      opts.deviceGiven = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return error("unknown option '" + arg + "'\n" + kUsage);
    } else if (opts.model.empty()) {
      opts.model = arg;
    } else {
      return error("more than one model given ('" + opts.model + "' and '" +
                   arg + "')");
    }
  }
  if (opts.model.empty())
    return error(std::string("no model given\n") + kUsage);
  return -1;
}

/// Owns the tensors of one run.
struct Tensors {
  const Api &api;
  std::vector<moe_tensor *> list;
  explicit Tensors(const Api &api, size_t n = 0) : api(api), list(n, nullptr) {}
  ~Tensors() { clear(); }
  void clear() {
    for (moe_tensor *&t : list) {
      api.moe_tensor_destroy(t);
      t = nullptr;
    }
  }
};

/// "float32 [4, 8]" for external weight `index`.
std::string weightType(const Api &api, int64_t index) {
  std::string s = dtypeName(api.moe_weight_dtype(index)) + " [";
  for (int64_t d = 0, rank = api.moe_weight_rank(index); d < rank; ++d)
    s += (d ? ", " : "") + std::to_string(api.moe_weight_dim(index, d));
  return s + "]";
}

/// Binds the external weights from --weight and --weights (the arrays stay
/// in `arrays`: the runtime borrows them). 0, or the exit code.
int bindWeights(const Api &api, const Options &opts,
                std::vector<moe::npy::Array> &arrays) {
  int64_t numWeights = api.moe_num_weights();
  std::set<std::string> names;
  for (int64_t i = 0; i < numWeights; ++i)
    names.insert(api.moe_weight_name(i));
  if (numWeights == 0 && (!opts.weights.empty() || !opts.weightFiles.empty()))
    return error("'" + opts.model +
                 "' has no external weights (it was "
                 "compiled without --external-weights)");
  std::map<std::string, moe::npy::Array> byName;
  for (auto &[name, file] : opts.weights) {
    if (!names.count(name)) {
      std::string list;
      for (const std::string &n : names)
        list += (list.empty() ? "'" : ", '") + n + "'";
      return error("unknown weight '" + name +
                   "'; the model's external "
                   "weights are " +
                   list);
    }
    if (byName.count(name))
      return error("weight '" + name + "' is given more than once");
    std::string message;
    if (!moe::npy::read(file, byName[name], message))
      return error("weight '" + name + "': " + message);
  }
  for (const std::string &file : opts.weightFiles) {
    std::map<std::string, moe::npy::Array> read;
    std::string message;
    if (!moe::run::readONNXInitializers(
            file,
            [&](const std::string &name) {
              return names.count(name) && !byName.count(name);
            },
            read, message))
      return error("--weights: " + message);
    for (auto &[name, array] : read)
      byName.emplace(name, std::move(array));
  }
  for (int64_t i = 0; i < numWeights; ++i) {
    std::string name = api.moe_weight_name(i);
    auto it = byName.find(name);
    if (it == byName.end())
      return error("external weight '" + name + "' (" + weightType(api, i) +
                   ") is not given; use --weights MODEL.onnx or --weight " +
                   name + "=FILE.npy");
    moe::npy::Array &array = it->second;
    moe_tensor *tensor =
        api.moe_tensor_create(array.data.get(), array.shape.data(),
                              int64_t(array.shape.size()), array.dtype);
    int status =
        tensor ? api.moe_set_weight(name.c_str(), tensor, MOE_WEIGHT_BORROW)
               : MOE_ERROR_INVALID_ARGUMENT;
    api.moe_tensor_destroy(tensor);
    if (status != MOE_OK)
      return error(api.moe_last_error());
    arrays.push_back(std::move(array));
  }
  return 0;
}

int runTool(int argc, char **argv) {
  Options opts;
  int status = parseArgs(argc, argv, opts);
  if (status >= 0)
    return status;

  // dlopen searches the library path for a bare name; we mean a file.
  std::string path = opts.model;
  if (path.find('/') == std::string::npos)
    path = "./" + path;
  if (FILE *f = std::fopen(path.c_str(), "rb"))
    std::fclose(f);
  else
    return error("cannot open model '" + opts.model +
                 "': " + std::strerror(errno));
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return error("cannot load model '" + opts.model + "': " + dlerror());

  Api api;
  std::string missing;
#define MOE_RUNTIME_FUNCTION(name) bind(handle, #name, api.name, missing);
#include "moe/Runtime/MoERuntimeAPI.def"
  if (!missing.empty())
    return error("'" + opts.model +
                 "' is not a model compiled by moe-compile (missing " +
                 missing + ")");

  int64_t numInputs = api.moe_num_inputs(), numOutputs = api.moe_num_outputs();
  std::vector<std::string> inputNames, outputNames;
  for (int64_t i = 0; i < numInputs; ++i)
    inputNames.push_back(api.moe_input_name(i));
  for (int64_t i = 0; i < numOutputs; ++i)
    outputNames.push_back(api.moe_output_name(i));
  auto listNames = [](const std::vector<std::string> &names) {
    std::string s;
    for (const std::string &n : names)
      s += (s.empty() ? "'" : ", '") + n + "'";
    return s.empty() ? std::string("(none)") : s;
  };

  // Inputs by name.
  std::map<std::string, std::string> inputFiles;
  for (auto &[name, file] : opts.inputs) {
    if (std::find(inputNames.begin(), inputNames.end(), name) ==
        inputNames.end())
      return error("unknown input '" + name + "'; the model's inputs are " +
                   listNames(inputNames));
    if (!inputFiles.emplace(name, file).second)
      return error("input '" + name + "' is given more than once");
  }
  std::map<std::string, std::string> outputFiles;
  for (auto &[name, file] : opts.outputs) {
    if (std::find(outputNames.begin(), outputNames.end(), name) ==
        outputNames.end())
      return error("unknown output '" + name + "'; the model's outputs are " +
                   listNames(outputNames));
    if (!outputFiles.emplace(name, file).second)
      return error("output '" + name + "' is given more than once");
  }

  std::vector<moe::npy::Array> arrays(numInputs);
  Tensors inputs(api, numInputs);
  for (int64_t i = 0; i < numInputs; ++i) {
    const std::string &name = inputNames[i];
    auto it = inputFiles.find(name);
    if (it == inputFiles.end())
      return error("missing input '" + name + "' (" +
                   dtypeName(api.moe_input_dtype(i)) + " " +
                   signatureShape(api, i) + "); give it with --input " + name +
                   "=FILE.npy");
    std::string message;
    if (!moe::npy::read(it->second, arrays[i], message))
      return error("input '" + name + "': " + message);
    inputs.list[i] =
        api.moe_tensor_create(arrays[i].data.get(), arrays[i].shape.data(),
                              int64_t(arrays[i].shape.size()), arrays[i].dtype);
    if (!inputs.list[i])
      return error("input '" + name + "': " + api.moe_last_error());
  }

  std::vector<moe::npy::Array> weightArrays;
  if (int status = bindWeights(api, opts, weightArrays); status != 0)
    return status;

  if (opts.threadsGiven)
    api.moe_set_num_threads(int32_t(opts.threads));
  if (opts.deviceGiven && api.moe_set_device(int32_t(opts.device)) != MOE_OK)
    return error(api.moe_last_error());

  Tensors outputs(api, numOutputs);
  auto runOnce = [&]() -> bool {
    outputs.clear();
    return api.moe_run(inputs.list.data(), numInputs, outputs.list.data(),
                       numOutputs) == MOE_OK;
  };
  if (!runOnce())
    return error(api.moe_last_error());

  if (opts.bench > 0) {
    std::vector<double> times;
    for (long long r = 0; r < opts.bench; ++r) {
      auto start = std::chrono::steady_clock::now();
      bool ok = runOnce();
      auto end = std::chrono::steady_clock::now();
      if (!ok)
        return error(api.moe_last_error());
      times.push_back(
          std::chrono::duration<double, std::milli>(end - start).count());
    }
    std::sort(times.begin(), times.end());
    size_t n = times.size();
    double median =
        n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    std::printf("median_ms=%.4f min_ms=%.4f max_ms=%.4f\n", median,
                times.front(), times.back());
  }

  for (int64_t i = 0; i < numOutputs; ++i) {
    moe_tensor *t = outputs.list[i];
    const std::string &name = outputNames[i];
    int32_t dtype = api.moe_tensor_dtype(t);
    int64_t rank = api.moe_tensor_rank(t);
    const int64_t *shape = api.moe_tensor_shape(t);
    auto it = outputFiles.find(name);
    if (it != outputFiles.end()) {
      std::string message;
      if (!moe::npy::write(it->second, dtype, shape, rank,
                           api.moe_tensor_data(t), message))
        return error("output '" + name + "': " + message);
      continue;
    }
    if (opts.bench > 0 || !outputFiles.empty())
      continue;
    int64_t count = api.moe_tensor_num_elements(t);
    std::string line =
        name + ": " + dtypeName(dtype) + " " + shapeString(shape, rank) + " [";
    const int64_t kShown = 8;
    for (int64_t k = 0; k < std::min(count, kShown); ++k) {
      if (k)
        line += ", ";
      line += formatValue(api.moe_tensor_data(t), k, dtype);
    }
    if (count > kShown)
      line += ", ...";
    std::printf("%s]\n", line.c_str());
  }
  // The model stays loaded: its runtime may own thread-local state.
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return runTool(argc, argv);
  } catch (const std::exception &e) {
    return error(e.what());
  } catch (...) {
    return error("unexpected internal error");
  }
}
