//===- MoERuntime.cpp - the C API of a compiled model ----------------------===//
//
// Implements include/moe/Runtime/MoERuntime.h on top of the per-model
// `moe_model_description_v1` (ModelABI.h). This file is linked into every
// model.so: plain C++17, no MLIR/LLVM, and no exception ever leaves it.
//
//===----------------------------------------------------------------------===//

#include "moe/Runtime/MoERuntime.h"
#include "moe/Runtime/DataTypes.h"
#include "moe/Runtime/ModelABI.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

static_assert(sizeof(void *) == sizeof(int64_t),
              "memref descriptors assume 64-bit pointers");

// Provided by an OpenMP runtime when the model links one; null otherwise.
extern "C" void omp_set_num_threads(int) __attribute__((weak));
// Provided by libMoECudaRuntime.a in CUDA models (CudaRuntime.h); hidden, so
// a CPU model never binds them from another library at load time.
extern "C" int moe_cuda_set_device(int32_t)
    __attribute__((weak, visibility("hidden")));
extern "C" int32_t moe_cuda_get_device(void)
    __attribute__((weak, visibility("hidden")));

struct moe_tensor {
  void *data = nullptr;
  bool owned = false; // the runtime frees `data` on destroy
  int32_t dtype = 0;
  std::vector<int64_t> shape;
};

namespace {

thread_local std::string lastError;

/// The status `code` after recording `message` for moe_last_error().
int fail(int code, std::string message) {
  try {
    lastError = std::move(message);
  } catch (...) {
    // Out of memory while reporting: keep whatever was there.
  }
  return code;
}

const moe_model_description &model() { return moe_model_description_v1; }

const char *deviceKind() {
  const char *device = model().device;
  return device && *device ? device : "cpu";
}

bool isCudaModel() { return std::strcmp(deviceKind(), "cuda") == 0; }

/// Bytes per element of an ONNX dtype; 0 for an unsupported code.
int64_t elementSize(int32_t dtype) { return moe_dtype_size(dtype); }

const char *dtypeName(int32_t dtype) {
  switch (dtype) {
  case 1:
    return "float32";
  case 2:
    return "uint8";
  case 3:
    return "int8";
  case 5:
    return "int16";
  case 6:
    return "int32";
  case 7:
    return "int64";
  case 9:
    return "bool";
  case 10:
    return "float16";
  case 11:
    return "float64";
  case 16:
    return "bfloat16";
  default:
    return nullptr;
  }
}

std::string dtypeString(int32_t dtype) {
  if (const char *name = dtypeName(dtype))
    return name;
  return "unknown dtype " + std::to_string(dtype);
}

/// Product of `shape`, or -1 on a negative dimension or overflow.
int64_t numElements(const int64_t *shape, int64_t rank) {
  int64_t count = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (shape[i] < 0)
      return -1;
    if (shape[i] != 0 && count > INT64_MAX / shape[i])
      return -1;
    count *= shape[i];
  }
  return count;
}

const char *dimParam(const moe_tensor_info &info, int64_t dim) {
  if (!info.dim_params || !info.dim_params[dim])
    return "";
  return info.dim_params[dim];
}

/// "[T, 4]" for a signature entry.
std::string signatureShape(const moe_tensor_info &info) {
  std::string s = "[";
  for (int64_t d = 0; d < info.rank; ++d) {
    if (d)
      s += ", ";
    if (info.dims[d] >= 0)
      s += std::to_string(info.dims[d]);
    else if (*dimParam(info, d))
      s += dimParam(info, d);
    else
      s += "?";
  }
  return s + "]";
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d)
      s += ", ";
    s += std::to_string(shape[d]);
  }
  return s + "]";
}

//===--- Signature queries -----------------------------------------------===//

const moe_tensor_info *inputInfo(int64_t index, const char *fn) {
  if (index < 0 || index >= model().num_inputs) {
    fail(MOE_ERROR_INVALID_ARGUMENT,
         std::string(fn) + ": input index " + std::to_string(index) +
             " is out of range (the model has " +
             std::to_string(model().num_inputs) + " inputs)");
    return nullptr;
  }
  return &model().inputs[index];
}

const moe_tensor_info *outputInfo(int64_t index, const char *fn) {
  if (index < 0 || index >= model().num_outputs) {
    fail(MOE_ERROR_INVALID_ARGUMENT,
         std::string(fn) + ": output index " + std::to_string(index) +
             " is out of range (the model has " +
             std::to_string(model().num_outputs) + " outputs)");
    return nullptr;
  }
  return &model().outputs[index];
}

bool dimInRange(const moe_tensor_info &info, int64_t dim, const char *fn) {
  if (dim >= 0 && dim < info.rank)
    return true;
  fail(MOE_ERROR_INVALID_ARGUMENT,
       std::string(fn) + ": dimension " + std::to_string(dim) +
           " is out of range for '" + info.name + "' of rank " +
           std::to_string(info.rank));
  return false;
}

//===--- JSON -------------------------------------------------------------===//

void appendJsonString(std::string &out, const char *s) {
  out += '"';
  for (const char *p = s; *p; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20) {
        static const char hex[] = "0123456789abcdef";
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  out += '"';
}

void appendJsonInfos(std::string &out, const moe_tensor_info *infos,
                     int64_t count) {
  out += '[';
  for (int64_t i = 0; i < count; ++i) {
    const moe_tensor_info &info = infos[i];
    if (i)
      out += ',';
    out += "{\"name\":";
    appendJsonString(out, info.name ? info.name : "");
    out += ",\"dtype\":" + std::to_string(info.dtype) + ",\"shape\":[";
    for (int64_t d = 0; d < info.rank; ++d) {
      if (d)
        out += ',';
      if (info.dims[d] >= 0)
        out += std::to_string(info.dims[d]);
      else if (*dimParam(info, d))
        appendJsonString(out, dimParam(info, d));
      else
        out += "null";
    }
    out += "]}";
  }
  out += ']';
}

//===--- Memref descriptors ----------------------------------------------===//

/// A StridedMemRefType<T, rank> laid out in 64-bit words:
/// [allocated, aligned, offset, sizes[rank], strides[rank]].
struct Descriptor {
  std::vector<int64_t> words;

  explicit Descriptor(int64_t rank) : words(3 + 2 * rank, 0) {}
  int64_t rank() const { return (int64_t(words.size()) - 3) / 2; }
  void *allocated() const { return ptr(0); }
  void *aligned() const { return ptr(1); }
  int64_t offset() const { return words[2]; }
  int64_t size(int64_t d) const { return words[3 + d]; }
  int64_t stride(int64_t d) const { return words[3 + rank() + d]; }
  void setPtr(int i, void *p) { std::memcpy(&words[i], &p, sizeof(p)); }

private:
  void *ptr(int i) const {
    void *p;
    std::memcpy(&p, &words[i], sizeof(p));
    return p;
  }
};

Descriptor inputDescriptor(const moe_tensor &t) {
  int64_t rank = int64_t(t.shape.size());
  Descriptor desc(rank);
  desc.setPtr(0, t.data);
  desc.setPtr(1, t.data);
  desc.words[2] = 0;
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    desc.words[3 + d] = t.shape[d];
    desc.words[3 + rank + d] = stride;
    stride *= std::max<int64_t>(t.shape[d], 1);
  }
  return desc;
}

/// Whether the strides of `desc` describe a dense row-major layout (ignoring
/// dimensions of size 1, whose stride does not matter).
bool isContiguous(const Descriptor &desc) {
  int64_t expected = 1;
  for (int64_t d = desc.rank() - 1; d >= 0; --d) {
    if (desc.size(d) != 1 && desc.stride(d) != expected)
      return false;
    expected *= desc.size(d);
  }
  return true;
}

/// Copies the (possibly strided) memref `desc` into the dense `dst`.
void copyStrided(const Descriptor &desc, int64_t elemSize, char *dst) {
  int64_t rank = desc.rank();
  const char *base = static_cast<const char *>(desc.aligned());
  std::vector<int64_t> index(rank, 0);
  int64_t total = 1;
  for (int64_t d = 0; d < rank; ++d)
    total *= desc.size(d);
  for (int64_t n = 0; n < total; ++n) {
    int64_t offset = desc.offset();
    for (int64_t d = 0; d < rank; ++d)
      offset += index[d] * desc.stride(d);
    std::memcpy(dst + n * elemSize, base + offset * elemSize, elemSize);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < desc.size(d))
        break;
      index[d] = 0;
    }
  }
}

//===--- External weights ------------------------------------------------===//

/// The data bound to each external weight (moe_set_weight).
struct WeightTable {
  /// Runs hold it shared, binding holds it exclusively: a run never sees a
  /// weight change or its memory freed under it.
  std::shared_mutex mutex;
  struct Slot {
    const void *data = nullptr; // NULL: unbound
    void *owned = nullptr;      // MOE_WEIGHT_COPY: our copy (== data)
  };
  std::vector<Slot> slots;

  WeightTable() : slots(size_t(std::max<int64_t>(model().num_weights, 0))) {}
  /// At exit the model's caches may be gone already (static destructors):
  /// they free their own copies.
  ~WeightTable() {
    for (Slot &slot : slots)
      std::free(slot.owned);
  }
  /// Drops `slot`'s binding and the model's cached copies of it.
  static void release(Slot &slot) {
    if (slot.data && model().release_weight)
      model().release_weight(slot.data);
    std::free(slot.owned);
    slot = Slot();
  }
};

WeightTable &weights() {
  static WeightTable table;
  return table;
}

int64_t numWeights() { return std::max<int64_t>(model().num_weights, 0); }

const moe_tensor_info *weightInfo(int64_t index, const char *fn) {
  if (index < 0 || index >= numWeights()) {
    fail(MOE_ERROR_INVALID_ARGUMENT,
         std::string(fn) + ": weight index " + std::to_string(index) +
             " is out of range (the model has " + std::to_string(numWeights()) +
             " external weights)");
    return nullptr;
  }
  return &model().weights[index];
}

/// "'w' (float32 [4, 8])".
std::string describeWeight(const moe_tensor_info &info) {
  return std::string("'") + info.name + "' (" + dtypeString(info.dtype) + " " +
         signatureShape(info) + ")";
}

/// The names of the model's weights, quoted, for "unknown weight" errors.
std::string weightNames() {
  std::string names;
  const int64_t kShown = 8;
  for (int64_t i = 0; i < std::min(numWeights(), kShown); ++i)
    names += std::string(i ? ", '" : "'") + model().weights[i].name + "'";
  if (numWeights() > kShown)
    names += ", ... (" + std::to_string(numWeights()) + " in all)";
  return names.empty() ? "(none)" : names;
}

int setWeightImpl(const char *name, const moe_tensor *value, int32_t flags) {
  if (!name)
    return fail(MOE_ERROR_INVALID_ARGUMENT, "moe_set_weight: name is NULL");
  if (flags != MOE_WEIGHT_COPY && flags != MOE_WEIGHT_BORROW)
    return fail(MOE_ERROR_INVALID_ARGUMENT,
                "moe_set_weight: flags must be MOE_WEIGHT_COPY (0) or "
                "MOE_WEIGHT_BORROW (1), got " +
                    std::to_string(flags));
  int64_t index = 0;
  while (index < numWeights() &&
         std::strcmp(model().weights[index].name, name) != 0)
    ++index;
  if (index == numWeights())
    return fail(
        MOE_ERROR_INVALID_ARGUMENT,
        std::string("moe_set_weight: the model has no external weight '") +
            name + "'; its weights are " + weightNames());
  const moe_tensor_info &info = model().weights[index];
  std::string prefix = "moe_set_weight: weight " + describeWeight(info);
  if (!value)
    return fail(MOE_ERROR_INVALID_ARGUMENT, prefix + ": the tensor is NULL");
  if (value->dtype != info.dtype)
    return fail(MOE_ERROR_INVALID_ARGUMENT,
                prefix + ": got dtype " + dtypeString(value->dtype));
  bool sameShape = int64_t(value->shape.size()) == info.rank;
  for (int64_t d = 0; sameShape && d < info.rank; ++d)
    sameShape = value->shape[d] == info.dims[d];
  if (!sameShape)
    return fail(MOE_ERROR_INVALID_ARGUMENT,
                prefix + ": got shape " + shapeString(value->shape));
  int64_t bytes =
      numElements(value->shape.data(), info.rank) * elementSize(info.dtype);
  if (bytes > 0 && !value->data)
    return fail(MOE_ERROR_INVALID_ARGUMENT, prefix + ": the data is NULL");

  WeightTable::Slot slot;
  if (flags == MOE_WEIGHT_COPY) {
    // 64-byte aligned, as MLIR allocates (and for the vector loads).
    size_t size = (size_t(std::max<int64_t>(bytes, 1)) + 63) / 64 * 64;
    slot.owned = std::aligned_alloc(64, size);
    if (!slot.owned)
      return fail(MOE_ERROR_OUT_OF_MEMORY, prefix + ": out of memory copying " +
                                               std::to_string(bytes) +
                                               " bytes");
    if (bytes > 0)
      std::memcpy(slot.owned, value->data, size_t(bytes));
    slot.data = slot.owned;
  } else {
    // A zero-byte weight still needs a non-NULL marker of "bound".
    static const int64_t kEmpty = 0;
    slot.data = bytes > 0 ? value->data : &kEmpty;
  }
  WeightTable &table = weights();
  std::unique_lock<std::shared_mutex> lock(table.mutex);
  WeightTable::release(table.slots[index]);
  table.slots[index] = slot;
  return MOE_OK;
}

/// memref.get_global lowers `allocated` to this marker: never free it.
void *const kDeadBeef = reinterpret_cast<void *>(uintptr_t(0xdeadbeef));

int runImpl(moe_tensor *const *inputs, int64_t numInputs, moe_tensor **outputs,
            int64_t numOutputs) {
  const moe_model_description &m = model();
  if (numOutputs > 0 && !outputs)
    return fail(MOE_ERROR_INVALID_ARGUMENT, "moe_run: outputs is NULL");
  for (int64_t i = 0; i < numOutputs; ++i)
    outputs[i] = nullptr;
  if (numInputs != m.num_inputs)
    return fail(MOE_ERROR_INVALID_ARGUMENT,
                "moe_run: got " + std::to_string(numInputs) +
                    " inputs, the model expects " +
                    std::to_string(m.num_inputs));
  if (numOutputs != m.num_outputs)
    return fail(MOE_ERROR_INVALID_ARGUMENT,
                "moe_run: got " + std::to_string(numOutputs) +
                    " output slots, the model has " +
                    std::to_string(m.num_outputs) + " outputs");
  if (numInputs > 0 && !inputs)
    return fail(MOE_ERROR_INVALID_ARGUMENT, "moe_run: inputs is NULL");

  // Validate every input against the signature.
  struct Binding {
    int64_t value;
    const char *input;
    int64_t dim;
  };
  std::map<std::string, Binding> symbols;
  for (int64_t i = 0; i < numInputs; ++i) {
    const moe_tensor_info &info = m.inputs[i];
    const moe_tensor *t = inputs[i];
    std::string prefix = std::string("input '") + info.name + "'";
    if (!t)
      return fail(MOE_ERROR_INVALID_ARGUMENT, prefix + ": tensor is NULL");
    if (t->dtype != info.dtype)
      return fail(MOE_ERROR_INVALID_ARGUMENT,
                  prefix + ": dtype is " + dtypeString(t->dtype) +
                      ", the model expects " + dtypeString(info.dtype));
    if (int64_t(t->shape.size()) != info.rank)
      return fail(MOE_ERROR_INVALID_ARGUMENT,
                  prefix + ": rank is " + std::to_string(t->shape.size()) +
                      " (shape " + shapeString(t->shape) +
                      "), the model expects " + std::to_string(info.rank) +
                      " (shape " + signatureShape(info) + ")");
    for (int64_t d = 0; d < info.rank; ++d) {
      int64_t size = t->shape[d];
      if (info.dims[d] >= 0) {
        if (size != info.dims[d])
          return fail(MOE_ERROR_INVALID_ARGUMENT,
                      prefix + ": dimension " + std::to_string(d) + " is " +
                          std::to_string(size) + ", the model expects " +
                          std::to_string(info.dims[d]) + " (shape " +
                          signatureShape(info) + ")");
        continue;
      }
      const char *param = dimParam(info, d);
      if (!*param)
        continue;
      auto [it, inserted] = symbols.emplace(param, Binding{size, info.name, d});
      if (!inserted && it->second.value != size)
        return fail(MOE_ERROR_INVALID_ARGUMENT,
                    prefix + ": dimension " + std::to_string(d) + " ('" +
                        param + "') is " + std::to_string(size) +
                        ", but '" + param + "' is " +
                        std::to_string(it->second.value) + " in input '" +
                        it->second.input + "' (dimension " +
                        std::to_string(it->second.dim) + ")");
    }
  }

  // External weights: all bound, and not rebound until the run is over.
  std::shared_lock<std::shared_mutex> weightLock;
  std::vector<moe_tensor> weightTensors;
  if (numWeights() > 0) {
    WeightTable &table = weights();
    weightLock = std::shared_lock<std::shared_mutex>(table.mutex);
    int64_t unbound = 0, first = -1;
    for (int64_t i = 0; i < numWeights(); ++i)
      if (!table.slots[i].data && unbound++ == 0)
        first = i;
    if (unbound > 0)
      return fail(MOE_ERROR_INVALID_ARGUMENT,
                  "moe_run: weight " + describeWeight(m.weights[first]) +
                      " is not bound (" + std::to_string(unbound) + " of " +
                      std::to_string(numWeights()) +
                      " external weights are unbound; bind them with "
                      "moe_set_weight)");
    weightTensors.resize(numWeights());
    for (int64_t i = 0; i < numWeights(); ++i) {
      weightTensors[i].data = const_cast<void *>(table.slots[i].data);
      weightTensors[i].dtype = m.weights[i].dtype;
      weightTensors[i].shape.assign(m.weights[i].dims,
                                    m.weights[i].dims + m.weights[i].rank);
    }
  }

  // Descriptors: inputs over caller memory (then the weights), outputs to be
  // filled.
  std::vector<Descriptor> inDescs, outDescs;
  inDescs.reserve(numInputs + numWeights());
  outDescs.reserve(numOutputs);
  std::vector<void *> inPtrs, outPtrs;
  for (int64_t i = 0; i < numInputs; ++i) {
    inDescs.push_back(inputDescriptor(*inputs[i]));
    inPtrs.push_back(inDescs.back().words.data());
  }
  for (const moe_tensor &weight : weightTensors) {
    inDescs.push_back(inputDescriptor(weight));
    inPtrs.push_back(inDescs.back().words.data());
  }
  for (int64_t i = 0; i < numOutputs; ++i) {
    outDescs.emplace_back(m.outputs[i].rank);
    outPtrs.push_back(outDescs.back().words.data());
  }

  m.invoke(inPtrs.data(), outPtrs.data());

  // Which returned buffers the runtime may take over: never caller memory,
  // never a global, and each buffer only once.
  std::vector<void *> taken;
  auto ownable = [&](void *allocated) {
    if (!allocated || allocated == kDeadBeef)
      return false;
    for (int64_t i = 0; i < numInputs; ++i)
      if (allocated == inputs[i]->data)
        return false;
    for (const moe_tensor &weight : weightTensors)
      if (allocated == weight.data)
        return false;
    return std::find(taken.begin(), taken.end(), allocated) == taken.end();
  };
  // Buffers to free once every output has been wrapped (or on failure).
  std::vector<void *> toFree;
  auto freeLater = [&](void *allocated) {
    if (ownable(allocated)) {
      taken.push_back(allocated);
      toFree.push_back(allocated);
    }
  };
  auto cleanup = [&](int code, std::string message) {
    for (int64_t i = 0; i < numOutputs; ++i) {
      moe_tensor_destroy(outputs[i]);
      outputs[i] = nullptr;
    }
    for (void *p : toFree)
      std::free(p);
    return fail(code, std::move(message));
  };

  // A device error (CUDA models): whatever the thunk returned is not a
  // result.
  if (const char *deviceError = m.take_error ? m.take_error() : nullptr) {
    std::string message = deviceError;
    for (int64_t i = 0; i < numOutputs; ++i)
      freeLater(outDescs[i].allocated());
    return cleanup(MOE_ERROR_INTERNAL, std::move(message));
  }

  for (int64_t i = 0; i < numOutputs; ++i) {
    const moe_tensor_info &info = m.outputs[i];
    const Descriptor &desc = outDescs[i];
    int64_t elemSize = elementSize(info.dtype);
    std::vector<int64_t> shape(info.rank);
    for (int64_t d = 0; d < info.rank; ++d)
      shape[d] = desc.size(d);
    std::string prefix = std::string("output '") + info.name + "'";
    int64_t count = numElements(shape.data(), info.rank);
    if (count < 0 || elemSize == 0 || count > INT64_MAX / elemSize) {
      freeLater(desc.allocated());
      for (int64_t j = i + 1; j < numOutputs; ++j)
        freeLater(outDescs[j].allocated());
      return cleanup(MOE_ERROR_INTERNAL,
                     prefix + ": the compiled model returned shape " +
                         shapeString(shape) + " of " +
                         dtypeString(info.dtype));
    }
    for (int64_t d = 0; d < info.rank; ++d) {
      if (info.dims[d] >= 0 && info.dims[d] != shape[d]) {
        for (int64_t j = i; j < numOutputs; ++j)
          freeLater(outDescs[j].allocated());
        return cleanup(MOE_ERROR_INTERNAL,
                       prefix + ": the compiled model returned shape " +
                           shapeString(shape) + ", the signature says " +
                           signatureShape(info));
      }
    }

    auto *tensor = new (std::nothrow) moe_tensor();
    if (!tensor) {
      for (int64_t j = i; j < numOutputs; ++j)
        freeLater(outDescs[j].allocated());
      return cleanup(MOE_ERROR_OUT_OF_MEMORY, "moe_run: out of memory");
    }
    tensor->dtype = info.dtype;
    tensor->shape = std::move(shape);
    tensor->owned = true;
    outputs[i] = tensor;

    void *allocated = desc.allocated();
    bool canTake = ownable(allocated) && desc.offset() == 0 &&
                   desc.aligned() == allocated && isContiguous(desc) &&
                   count > 0;
    if (canTake) {
      tensor->data = allocated;
      taken.push_back(allocated);
      continue;
    }
    // Copy into a buffer of our own; the original is freed at the end if it
    // is ours to free.
    tensor->data = std::malloc(std::max<int64_t>(count * elemSize, 1));
    if (!tensor->data) {
      for (int64_t j = i; j < numOutputs; ++j)
        freeLater(outDescs[j].allocated());
      return cleanup(MOE_ERROR_OUT_OF_MEMORY,
                     prefix + ": out of memory copying the result");
    }
    if (count > 0)
      copyStrided(desc, elemSize, static_cast<char *>(tensor->data));
    freeLater(allocated);
  }
  for (void *p : toFree)
    std::free(p);
  return MOE_OK;
}

std::atomic<int32_t> numThreads{0};

} // namespace

//===--- C API --------------------------------------------------------------===//

extern "C" {

int64_t moe_num_inputs(void) { return model().num_inputs; }
int64_t moe_num_outputs(void) { return model().num_outputs; }

const char *moe_input_name(int64_t index) {
  const moe_tensor_info *info = inputInfo(index, "moe_input_name");
  return info ? info->name : nullptr;
}
const char *moe_output_name(int64_t index) {
  const moe_tensor_info *info = outputInfo(index, "moe_output_name");
  return info ? info->name : nullptr;
}

int32_t moe_input_dtype(int64_t index) {
  const moe_tensor_info *info = inputInfo(index, "moe_input_dtype");
  return info ? info->dtype : 0;
}
int32_t moe_output_dtype(int64_t index) {
  const moe_tensor_info *info = outputInfo(index, "moe_output_dtype");
  return info ? info->dtype : 0;
}

int64_t moe_input_rank(int64_t index) {
  const moe_tensor_info *info = inputInfo(index, "moe_input_rank");
  return info ? info->rank : -1;
}
int64_t moe_output_rank(int64_t index) {
  const moe_tensor_info *info = outputInfo(index, "moe_output_rank");
  return info ? info->rank : -1;
}

int64_t moe_input_dim(int64_t index, int64_t dim) {
  const moe_tensor_info *info = inputInfo(index, "moe_input_dim");
  if (!info || !dimInRange(*info, dim, "moe_input_dim"))
    return -2;
  return info->dims[dim] >= 0 ? info->dims[dim] : -1;
}
int64_t moe_output_dim(int64_t index, int64_t dim) {
  const moe_tensor_info *info = outputInfo(index, "moe_output_dim");
  if (!info || !dimInRange(*info, dim, "moe_output_dim"))
    return -2;
  return info->dims[dim] >= 0 ? info->dims[dim] : -1;
}

const char *moe_input_dim_param(int64_t index, int64_t dim) {
  const moe_tensor_info *info = inputInfo(index, "moe_input_dim_param");
  if (!info || !dimInRange(*info, dim, "moe_input_dim_param"))
    return nullptr;
  return dimParam(*info, dim);
}
const char *moe_output_dim_param(int64_t index, int64_t dim) {
  const moe_tensor_info *info = outputInfo(index, "moe_output_dim_param");
  if (!info || !dimInRange(*info, dim, "moe_output_dim_param"))
    return nullptr;
  return dimParam(*info, dim);
}

const char *moe_signature_json(void) {
  static std::once_flag once;
  static std::string json;
  static bool ok = false;
  try {
    std::call_once(once, [] {
      std::string s = "{\"inputs\":";
      appendJsonInfos(s, model().inputs, model().num_inputs);
      s += ",\"outputs\":";
      appendJsonInfos(s, model().outputs, model().num_outputs);
      if (numWeights() > 0) {
        s += ",\"weights\":";
        appendJsonInfos(s, model().weights, numWeights());
      }
      s += '}';
      json = std::move(s);
      ok = true;
    });
  } catch (...) {
    // call_once lets a later call retry.
  }
  if (!ok) {
    fail(MOE_ERROR_OUT_OF_MEMORY, "moe_signature_json: out of memory");
    return nullptr;
  }
  return json.c_str();
}

moe_tensor *moe_tensor_create(void *data, const int64_t *shape, int64_t rank,
                              int32_t dtype) {
  if (rank < 0 || rank > 1024) {
    fail(MOE_ERROR_INVALID_ARGUMENT,
         "moe_tensor_create: rank " + std::to_string(rank) + " is invalid");
    return nullptr;
  }
  if (rank > 0 && !shape) {
    fail(MOE_ERROR_INVALID_ARGUMENT,
         "moe_tensor_create: shape is NULL for rank " + std::to_string(rank));
    return nullptr;
  }
  int64_t elemSize = elementSize(dtype);
  if (!elemSize) {
    fail(MOE_ERROR_INVALID_ARGUMENT, "moe_tensor_create: unsupported dtype " +
                                         std::to_string(dtype));
    return nullptr;
  }
  int64_t count = numElements(shape, rank);
  if (count < 0 || count > INT64_MAX / elemSize) {
    std::vector<int64_t> s(shape, shape + rank);
    fail(MOE_ERROR_INVALID_ARGUMENT,
         "moe_tensor_create: invalid shape " + shapeString(s));
    return nullptr;
  }
  if (!data && count > 0) {
    fail(MOE_ERROR_INVALID_ARGUMENT, "moe_tensor_create: data is NULL");
    return nullptr;
  }
  try {
    auto *t = new moe_tensor();
    t->data = data;
    t->owned = false;
    t->dtype = dtype;
    t->shape.assign(shape, shape + rank);
    return t;
  } catch (...) {
    fail(MOE_ERROR_OUT_OF_MEMORY, "moe_tensor_create: out of memory");
    return nullptr;
  }
}

void moe_tensor_destroy(moe_tensor *tensor) {
  if (!tensor)
    return;
  if (tensor->owned)
    std::free(tensor->data);
  delete tensor;
}

void *moe_tensor_data(const moe_tensor *tensor) {
  return tensor ? tensor->data : nullptr;
}
int64_t moe_tensor_rank(const moe_tensor *tensor) {
  return tensor ? int64_t(tensor->shape.size()) : -1;
}
const int64_t *moe_tensor_shape(const moe_tensor *tensor) {
  return tensor ? tensor->shape.data() : nullptr;
}
int32_t moe_tensor_dtype(const moe_tensor *tensor) {
  return tensor ? tensor->dtype : 0;
}
int64_t moe_tensor_num_elements(const moe_tensor *tensor) {
  if (!tensor)
    return -1;
  return numElements(tensor->shape.data(), int64_t(tensor->shape.size()));
}

int moe_run(moe_tensor *const *inputs, int64_t num_inputs,
            moe_tensor **outputs, int64_t num_outputs) {
  try {
    return runImpl(inputs, num_inputs, outputs, num_outputs);
  } catch (const std::bad_alloc &) {
    return fail(MOE_ERROR_OUT_OF_MEMORY, "moe_run: out of memory");
  } catch (const std::exception &e) {
    return fail(MOE_ERROR_INTERNAL, std::string("moe_run: ") + e.what());
  } catch (...) {
    return fail(MOE_ERROR_INTERNAL, "moe_run: unknown internal error");
  }
}

const char *moe_last_error(void) { return lastError.c_str(); }

int64_t moe_num_weights(void) { return numWeights(); }

const char *moe_weight_name(int64_t index) {
  const moe_tensor_info *info = weightInfo(index, "moe_weight_name");
  return info ? info->name : nullptr;
}
int32_t moe_weight_dtype(int64_t index) {
  const moe_tensor_info *info = weightInfo(index, "moe_weight_dtype");
  return info ? info->dtype : 0;
}
int64_t moe_weight_rank(int64_t index) {
  const moe_tensor_info *info = weightInfo(index, "moe_weight_rank");
  return info ? info->rank : -1;
}
int64_t moe_weight_dim(int64_t index, int64_t dim) {
  const moe_tensor_info *info = weightInfo(index, "moe_weight_dim");
  if (!info || !dimInRange(*info, dim, "moe_weight_dim"))
    return -2;
  return info->dims[dim];
}

int moe_weight_is_bound(int64_t index) {
  if (!weightInfo(index, "moe_weight_is_bound"))
    return -1;
  try {
    WeightTable &table = weights();
    std::shared_lock<std::shared_mutex> lock(table.mutex);
    return table.slots[index].data ? 1 : 0;
  } catch (...) {
    fail(MOE_ERROR_INTERNAL, "moe_weight_is_bound: internal error");
    return -1;
  }
}

int moe_set_weight(const char *name, const moe_tensor *value, int32_t flags) {
  try {
    return setWeightImpl(name, value, flags);
  } catch (const std::bad_alloc &) {
    return fail(MOE_ERROR_OUT_OF_MEMORY, "moe_set_weight: out of memory");
  } catch (const std::exception &e) {
    return fail(MOE_ERROR_INTERNAL, std::string("moe_set_weight: ") + e.what());
  } catch (...) {
    return fail(MOE_ERROR_INTERNAL, "moe_set_weight: unknown internal error");
  }
}

void moe_set_num_threads(int32_t num_threads) {
  numThreads.store(num_threads < 0 ? 0 : num_threads);
  if (omp_set_num_threads)
    omp_set_num_threads(moe_get_num_threads());
}

const char *moe_device_kind(void) { return deviceKind(); }

int moe_set_device(int32_t ordinal) {
  if (!isCudaModel()) {
    if (ordinal == 0)
      return MOE_OK;
    return fail(MOE_ERROR_INVALID_ARGUMENT,
                std::string("moe_set_device: a ") + deviceKind() +
                    " model has only device 0, got " + std::to_string(ordinal));
  }
  if (!moe_cuda_set_device)
    return fail(
        MOE_ERROR_INTERNAL,
        "moe_set_device: the model was linked without its CUDA runtime");
  if (moe_cuda_set_device(ordinal) == 0)
    return MOE_OK;
  const char *why = model().take_error ? model().take_error() : nullptr;
  return fail(MOE_ERROR_INVALID_ARGUMENT,
              std::string("moe_set_device: ") +
                  (why ? why
                       : "CUDA device " + std::to_string(ordinal) +
                             " is not available"));
}

int32_t moe_get_device(void) {
  if (!isCudaModel() || !moe_cuda_get_device)
    return 0;
  return moe_cuda_get_device();
}

int32_t moe_get_num_threads(void) {
  int32_t n = numThreads.load();
  if (n > 0)
    return n;
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? int32_t(hw) : 1;
}

} // extern "C"
