//===- ABIThunk.cpp - the per-model C++ source of ModelABI.h --------------===//
//
// The calling convention of `_mlir_ciface_main_graph` that func-to-llvm
// produces for `llvm.emit_c_interface` (checked by
// test/tools/moe-compile/emit-llvm.onnxtxt):
//   - every memref argument is passed as a pointer to its descriptor
//     { T *allocated, T *aligned, i64 offset, i64 sizes[R], i64 strides[R] };
//   - the result(s) come first, through a pointer: with one result, to its
//     descriptor; with several, to a struct of all result descriptors in
//     order (natural alignment, no padding: every field is 8 bytes);
//   - the function returns void.
//
//===----------------------------------------------------------------------===//

#include "ABIThunk.h"

#include "CompilePipeline.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::moe::compile;

/// `text` as a C string literal.
static std::string cString(llvm::StringRef text) {
  std::string result = "\"";
  llvm::raw_string_ostream os(result);
  for (unsigned char c : text) {
    if (c == '\\' || c == '"')
      os << '\\' << c;
    else if (llvm::isPrint(c) && c != '?') // '?' avoids trigraphs
      os << c;
    else
      os << llvm::format("\\%03o", c);
  }
  os << '"';
  return result;
}

std::string mlir::moe::compile::descriptorType(int64_t rank) {
  return "MemRef<" + std::to_string(rank) + ">";
}

static std::string tensorDescriptorType(const TensorSignature &tensor) {
  return mlir::moe::compile::descriptorType(tensor.dims.size());
}

/// The dims/dim_params arrays of one tensor and its moe_tensor_info
/// initialiser (returned).
static std::string emitTensorInfo(llvm::raw_ostream &os,
                                  const TensorSignature &tensor,
                                  llvm::StringRef prefix) {
  std::string dims = "nullptr", params = "nullptr";
  if (!tensor.dims.empty()) {
    dims = (prefix + "_dims").str();
    params = (prefix + "_dim_params").str();
    os << "static const int64_t " << dims << "[] = {";
    llvm::interleaveComma(tensor.dims, os);
    os << "};\nstatic const char *const " << params << "[] = {";
    llvm::interleaveComma(tensor.dimParams, os,
                          [&](const std::string &p) { os << cString(p); });
    os << "};\n";
  }
  return "{" + cString(tensor.name) + ", " + std::to_string(tensor.dtype) +
         ", " + std::to_string(tensor.dims.size()) + ", " + dims + ", " +
         params + "}";
}

/// The moe_tensor_info array `name` (or nullptr when `tensors` is empty).
static std::string emitTensorInfos(llvm::raw_ostream &os,
                                   llvm::ArrayRef<TensorSignature> tensors,
                                   llvm::StringRef name) {
  if (tensors.empty())
    return "nullptr";
  std::vector<std::string> infos;
  for (auto [i, tensor] : llvm::enumerate(tensors))
    infos.push_back(
        emitTensorInfo(os, tensor, (name + "_" + std::to_string(i)).str()));
  os << "static const moe_tensor_info " << name << "[] = {\n";
  for (const std::string &info : infos)
    os << "    " << info << ",\n";
  os << "};\n\n";
  return name.str();
}

/// `invoke` of a CPU artifact: the descriptors go straight to the entry.
static void emitCPUInvoke(llvm::raw_ostream &os,
                          const ModelSignature &signature,
                          llvm::StringRef entry, llvm::StringRef resultType) {
  const bool oneResult = signature.outputs.size() == 1;
  os << "extern \"C\" void " << entry << "(";
  os << resultType << " *results";
  // The external weights' descriptors follow the inputs' (ModelABI.h).
  std::vector<TensorSignature> arguments = signature.inputs;
  llvm::append_range(arguments, signature.weights);
  for (auto [i, tensor] : llvm::enumerate(arguments))
    os << ", " << tensorDescriptorType(tensor) << " *a" << i;
  os << ");\n\n";

  os << "static void invoke(void *const *inputs, void *const *outputs) {\n";
  if (arguments.empty())
    os << "  (void)inputs;\n";
  os << "  " << resultType << " results;\n"
     << "  " << entry << "(&results";
  for (auto [i, tensor] : llvm::enumerate(arguments))
    os << ",\n      static_cast<" << tensorDescriptorType(tensor) << " *>(inputs["
       << i << "])";
  os << ");\n";
  for (auto [i, tensor] : llvm::enumerate(signature.outputs))
    os << "  *static_cast<" << tensorDescriptorType(tensor) << " *>(outputs[" << i
       << "]) = results" << (oneResult ? "" : ".r" + std::to_string(i))
       << ";\n";
  os << "}\n\n";
}

std::string
mlir::moe::compile::generateModelDescription(const ModelSignature &signature,
                                             llvm::StringRef modelName,
                                             ArtifactTarget target) {
  std::string source;
  llvm::raw_string_ostream os(source);
  const std::string entry = std::string("_mlir_ciface_") + kEntryFunction;
  const bool oneResult = signature.outputs.size() == 1;

  os << "// Generated by moe-compile for " << modelName
     << ": the model description\n"
        "// of include/moe/Runtime/ModelABI.h. Do not edit.\n\n"
        "#include \"moe/Runtime/ModelABI.h\"\n"
     << (target == ArtifactTarget::CUDA
             ? "#include \"moe/Runtime/CudaRuntime.h\"\n\n"
               "#include <mutex>\n#include <stdlib.h>\n"
             : "\n")
     << "#include <stdint.h>\n\n"
        "namespace moe_generated {\n\n"
        "// The layout of MLIR's StridedMemRefType<T, Rank>.\n"
        "template <int Rank> struct MemRef {\n"
        "  void *allocated;\n"
        "  void *aligned;\n"
        "  int64_t offset;\n"
        "  int64_t sizes[Rank];\n"
        "  int64_t strides[Rank];\n"
        "};\n"
        "template <> struct MemRef<0> {\n"
        "  void *allocated;\n"
        "  void *aligned;\n"
        "  int64_t offset;\n"
        "};\n"
        "static_assert(sizeof(MemRef<0>) == 24 && sizeof(MemRef<2>) == 56,\n"
        "              \"memref descriptors are 8-byte fields\");\n\n";

  // With several results, the wrapper writes all descriptors into one struct.
  if (!oneResult) {
    os << "struct Results {\n";
    for (auto [i, tensor] : llvm::enumerate(signature.outputs))
      os << "  " << tensorDescriptorType(tensor) << " r" << i << ";\n";
    os << "};\n\n";
  }
  os << "} // namespace moe_generated\n\n"
        "using namespace moe_generated;\n\n";

  const std::string resultType =
      oneResult ? tensorDescriptorType(signature.outputs[0]) : "Results";
  if (target == ArtifactTarget::CPU)
    emitCPUInvoke(os, signature, entry, resultType);
  else
    emitCUDAInvoke(os, signature, entry, resultType);

  std::string inputs = emitTensorInfos(os, signature.inputs, "input_info");
  std::string outputs = emitTensorInfos(os, signature.outputs, "output_info");
  std::string weights = emitTensorInfos(os, signature.weights, "weight_info");
  const bool cuda = target == ArtifactTarget::CUDA;
  os << "const moe_model_description moe_model_description_v1 = {\n"
     << "    " << signature.inputs.size() << ", " << signature.outputs.size()
     << ", " << inputs << ", " << outputs << ", invoke";
  if (cuda || !signature.weights.empty())
    os << (cuda ? ", \"cuda\", moe_cuda_take_error" : ", nullptr, nullptr");
  if (!signature.weights.empty())
    os << ",\n    " << signature.weights.size() << ", " << weights << ", "
       << (cuda ? "moe_cuda_release_constant" : "nullptr");
  os << "};\n";
  return source;
}
