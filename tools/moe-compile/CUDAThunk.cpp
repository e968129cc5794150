//===- CUDAThunk.cpp - `invoke` of a CUDA artifact ------------------------===//
//
// The compiled entry of a CUDA artifact takes and returns device memrefs:
// the model's inputs, then its hoisted constants (moe-gpu-hoist-constants).
// The generated `invoke` is the bridge to the host-memory ABI of ModelABI.h:
//   1. moe_cuda_init(), then the kernel modules load once (the
//      moe_cuda_load_modules() that CUDAModules.cpp made of MLIR's global
//      constructors);
//   2. each input is uploaded; each constant's host copy (from its getter
//      `_mlir_ciface_moe_constant_<i>`) and each external weight (bound by
//      the caller, after the inputs in `inputs`) is uploaded once, cached by
//      the runtime (moe_cuda_constant; moe_cuda_release_constant drops a
//      weight's copy when it is bound again);
//   3. the entry runs; the device is synchronised;
//   4. each output is downloaded into a malloc'ed host buffer (the runtime
//      frees it with free()), and the device buffers of this call are freed
//      — an output that aliases an input or a constant is not freed twice.
// A failure leaves its message for the description's take_error; the
// runtime then discards the outputs.
//
//===----------------------------------------------------------------------===//

#include "ABIThunk.h"

#include "CompilePipeline.h"

#include "moe/Conversion/MoEToGPU/MoEToGPU.h"

using namespace mlir::moe::compile;

/// Helpers of the generated source, independent of the model.
static constexpr const char *kHelpers = R"cpp(namespace moe_generated {

template <int Rank> int64_t numElements(const MemRef<Rank> &m) {
  int64_t count = 1;
  for (int i = 0; i < Rank; ++i)
    count *= m.sizes[i];
  return count;
}
inline int64_t numElements(const MemRef<0> &) { return 1; }

template <int Rank> void setContiguous(MemRef<Rank> &m, void *data) {
  m.allocated = m.aligned = data;
  m.offset = 0;
  int64_t stride = 1;
  for (int i = Rank - 1; i >= 0; --i) {
    m.strides[i] = stride;
    stride *= m.sizes[i];
  }
}
inline void setContiguous(MemRef<0> &m, void *data) {
  m.allocated = m.aligned = data;
  m.offset = 0;
}

template <class Desc> char *firstElement(const Desc &m, int64_t elementBytes) {
  return static_cast<char *>(m.aligned) + m.offset * elementBytes;
}

/// Replaces `m`'s data by a device copy (uploaded once when `constant`).
/// False when the copy failed.
template <class Desc> bool toDevice(Desc &m, int64_t elementBytes,
                                    bool constant) {
  size_t bytes = size_t(numElements(m) * elementBytes);
  void *device = nullptr;
  if (bytes > 0) {
    const char *host = firstElement(m, elementBytes);
    device = constant ? moe_cuda_constant(host, bytes)
                      : moe_cuda_upload(host, bytes);
    if (!device)
      return false;
  }
  setContiguous(m, device);
  return true;
}

/// Downloads device result `m` into a new host buffer and points `m` at it.
template <class Desc> bool toHost(Desc &m, int64_t elementBytes, bool copy) {
  size_t bytes = size_t(numElements(m) * elementBytes);
  void *host = malloc(bytes > 0 ? bytes : 1);
  if (host && copy && bytes > 0 &&
      moe_cuda_download(host, firstElement(m, elementBytes), bytes) != 0) {
    free(host);
    host = nullptr;
  }
  if (!host) {
    m = Desc{}; // the runtime frees what it gets: never a device pointer
    return false;
  }
  setContiguous(m, host);
  return true;
}

struct KernelModules {
  std::mutex mutex;
  bool loaded = false;
  std::string error;
  ~KernelModules() {
    if (loaded)
      moe_cuda_unload_modules();
  }
  /// Loads the model's kernels once; NULL, or the (sticky) failure.
  const char *load() {
    std::lock_guard<std::mutex> lock(mutex);
    if (!loaded && error.empty()) {
      moe_cuda_load_modules();
      if (const char *message = moe_cuda_take_error())
        error = std::string("loading the model's kernels: ") + message;
      else
        loaded = true;
    }
    return error.empty() ? nullptr : error.c_str();
  }
};
KernelModules modules;

thread_local const char *invokeError = nullptr;

/// The description's take_error: this thunk's own failure first.
const char *takeError() {
  const char *message = invokeError;
  invokeError = nullptr;
  const char *runtime = moe_cuda_take_error();
  return message ? message : runtime;
}

} // namespace moe_generated

)cpp";

/// `results` or `results.r<i>`.
static std::string resultField(const ModelSignature &signature, size_t i) {
  return signature.outputs.size() == 1 ? "results"
                                       : "results.r" + std::to_string(i);
}

void mlir::moe::compile::emitCUDAInvoke(llvm::raw_ostream &os,
                                        const ModelSignature &signature,
                                        llvm::StringRef entry,
                                        llvm::StringRef resultType) {
  os << "#include <string>\n\n"
        "extern \"C\" void moe_cuda_load_modules(void);\n"
        "extern \"C\" void moe_cuda_unload_modules(void);\n\n"
     << kHelpers << "using namespace moe_generated;\n\n";
  for (auto [i, constant] : llvm::enumerate(signature.constants))
    os << "extern \"C\" void _mlir_ciface_" << kGPUConstantGetterPrefix << i << "("
       << descriptorType(constant.rank) << " *);\n";
  os << "extern \"C\" void " << entry << "(" << resultType << " *results";
  for (auto [i, tensor] : llvm::enumerate(signature.inputs))
    os << ", " << descriptorType(tensor.dims.size()) << " *a" << i;
  for (auto [i, tensor] : llvm::enumerate(signature.weights))
    os << ", " << descriptorType(tensor.dims.size()) << " *w" << i;
  for (auto [i, constant] : llvm::enumerate(signature.constants))
    os << ", " << descriptorType(constant.rank) << " *c" << i;
  os << ");\n\n";

  os << "static void invoke(void *const *inputs, void *const *outputs) {\n"
        "  (void)inputs;\n";
  for (auto [i, tensor] : llvm::enumerate(signature.outputs))
    os << "  *static_cast<" << descriptorType(tensor.dims.size())
       << " *>(outputs[" << i << "]) = {};\n";
  os << "  if (moe_cuda_init() != 0)\n    return;\n"
        "  if ((invokeError = modules.load()))\n    return;\n"
        "  bool ok = true;\n";
  for (auto [i, tensor] : llvm::enumerate(signature.inputs)) {
    std::string type = descriptorType(tensor.dims.size());
    os << "  " << type << " a" << i << " = *static_cast<" << type
       << " *>(inputs[" << i << "]);\n"
       << "  ok = ok && toDevice(a" << i << ", "
       << onnxElementBytes(tensor.dtype) << ", false);\n";
  }
  for (auto [i, tensor] : llvm::enumerate(signature.weights)) {
    std::string type = descriptorType(tensor.dims.size());
    os << "  " << type << " w" << i << " = *static_cast<" << type
       << " *>(inputs[" << signature.inputs.size() + i << "]);\n"
       << "  ok = ok && toDevice(w" << i << ", "
       << onnxElementBytes(tensor.dtype) << ", true);\n";
  }
  for (auto [i, constant] : llvm::enumerate(signature.constants))
    os << "  " << descriptorType(constant.rank) << " c" << i << ";\n"
       << "  _mlir_ciface_" << kGPUConstantGetterPrefix << i << "(&c" << i << ");\n"
       << "  ok = ok && toDevice(c" << i << ", " << constant.elementBytes
       << ", true);\n";
  os << "  " << resultType << " results = {};\n"
     << "  if (ok)\n    " << entry << "(&results";
  for (size_t i = 0; i < signature.inputs.size(); ++i)
    os << ", &a" << i;
  for (size_t i = 0; i < signature.weights.size(); ++i)
    os << ", &w" << i;
  for (size_t i = 0; i < signature.constants.size(); ++i)
    os << ", &c" << i;
  os << ");\n"
        "  ok = ok && moe_cuda_synchronize() == 0;\n";

  // Device buffers this call owns: the uploads, then each output unless it
  // aliases an input, a constant or an earlier output.
  os << "  void *kept[] = {nullptr";
  for (size_t i = 0; i < signature.inputs.size(); ++i)
    os << ", a" << i << ".allocated";
  for (size_t i = 0; i < signature.weights.size(); ++i)
    os << ", w" << i << ".allocated";
  for (size_t i = 0; i < signature.constants.size(); ++i)
    os << ", c" << i << ".allocated";
  os << "};\n"
        "  auto isKept = [&](void *p, size_t n) {\n"
        "    for (size_t k = 0; k < n; ++k)\n"
        "      if (kept[k] == p)\n        return true;\n"
        "    return false;\n  };\n"
        "  const size_t numUploads = "
     << signature.inputs.size() << ";\n"
     << "  const size_t numKept = sizeof(kept) / sizeof(kept[0]);\n"
     << "  void *freed[" << signature.outputs.size() + 1 << "] = {};\n";
  for (auto [i, tensor] : llvm::enumerate(signature.outputs)) {
    std::string field = resultField(signature, i);
    std::string type = descriptorType(tensor.dims.size());
    os << "  {\n    void *device = " << field << ".allocated;\n"
       << "    if (!toHost(" << field << ", " << onnxElementBytes(tensor.dtype)
       << ", ok)) {\n      ok = false;\n"
       << "      invokeError = \"cannot copy output " << i
       << " to host memory\";\n    }\n"
       << "    bool seen = isKept(device, numKept);\n"
       << "    for (size_t k = 0; k < " << i << "; ++k)\n"
       << "      seen = seen || freed[k] == device;\n"
       << "    if (!seen)\n      moe_cuda_free(device);\n"
       << "    freed[" << i << "] = device;\n"
       << "    *static_cast<" << type << " *>(outputs[" << i << "]) = " << field
       << ";\n  }\n";
  }
  os << "  for (size_t k = 1; k <= numUploads; ++k)\n"
        "    moe_cuda_free(kept[k]);\n"
        "  (void)isKept;\n}\n\n";
}
