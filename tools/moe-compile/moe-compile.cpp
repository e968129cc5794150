//===- moe-compile.cpp - ONNX model to a shared library in one step -------===//
//
//   moe-compile model.onnx -o model.so [--target=cpu|cuda] [--mcpu=<cpu>]
//               [--cuda-arch=sm_80|sm_90a] [--emit=mlir|llvm|obj|lib]
//               [--external-weights [--external-weights-min-bytes=N]]
//
// import (ONNX -> MLIR) -> lowering (-> LLVM dialect) -> LLVM IR -> host
// object -> model description + runtime -> model.so. Every failure prints
// a message naming the step and exits with 1.
//
//===----------------------------------------------------------------------===//

#include "ABIThunk.h"
#include "CUDAModules.h"
#include "CompilePipeline.h"
#include "Linking.h"
#include "ModelSignature.h"
#include "ObjectEmission.h"

#include "moe/InitAll.h"
#include "moe/Target/ONNX/ONNXImport.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

#include <optional>

using namespace mlir;
using namespace mlir::moe::compile;

namespace {
enum class Emit { MLIR, LLVMIR, Object, Library };
enum class TargetKind { CPU, CUDA };

llvm::cl::OptionCategory category("moe-compile options");

llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                     llvm::cl::desc("<model.onnx>"),
                                     llvm::cl::Required,
                                     llvm::cl::cat(category));
llvm::cl::opt<std::string> outputFile(
    "o",
    llvm::cl::desc("Output file (default: the input with .so/.o for lib/obj, "
                   "stdout for mlir/llvm)"),
    llvm::cl::value_desc("filename"), llvm::cl::cat(category));
llvm::cl::opt<TargetKind>
    target("target", llvm::cl::desc("Target to compile for"),
           llvm::cl::values(clEnumValN(TargetKind::CPU, "cpu", "the host CPU"),
                            clEnumValN(TargetKind::CUDA, "cuda",
                                       "NVIDIA GPUs (kernels for --cuda-arch)")),
           llvm::cl::init(TargetKind::CPU), llvm::cl::cat(category));
llvm::cl::opt<std::string> cudaArch(
    "cuda-arch",
    llvm::cl::desc("GPU architecture of the kernels with --target=cuda "
                   "(sm_80, sm_90a, ...; default sm_90a)"),
    llvm::cl::value_desc("sm_XX"), llvm::cl::init("sm_90a"),
    llvm::cl::cat(category));
llvm::cl::opt<Emit> emit(
    "emit", llvm::cl::desc("What to produce"),
    llvm::cl::values(clEnumValN(Emit::MLIR, "mlir",
                                "the MLIR after lowering (LLVM dialect)"),
                     clEnumValN(Emit::LLVMIR, "llvm",
                                "the LLVM IR, before LLVM's optimisations"),
                     clEnumValN(Emit::Object, "obj", "the model's object file"),
                     clEnumValN(Emit::Library, "lib",
                                "the shared library exporting MoERuntime.h")),
    llvm::cl::init(Emit::Library), llvm::cl::cat(category));
llvm::cl::opt<std::string>
    mcpu("mcpu",
         llvm::cl::desc("CPU to generate code for (default: host, the CPU "
                        "this runs on)"),
         llvm::cl::value_desc("cpu"), llvm::cl::init("host"),
         llvm::cl::cat(category));
llvm::cl::opt<bool> externalWeights(
    "external-weights",
    llvm::cl::desc("Embed no data of the initializers of at least "
                   "--external-weights-min-bytes: the library records their "
                   "names, dtypes and shapes, and they are bound by name "
                   "before a run (moe_set_weight, moe-run --weights)"),
    llvm::cl::init(false), llvm::cl::cat(category));
llvm::cl::opt<int64_t> externalWeightsMinBytes(
    "external-weights-min-bytes",
    llvm::cl::desc("With --external-weights: smaller initializers (shapes, "
                   "axes, small biases) stay embedded (default 1024)"),
    llvm::cl::value_desc("bytes"), llvm::cl::init(1024),
    llvm::cl::cat(category));
llvm::cl::opt<bool> keepTemps(
    "keep-temps",
    llvm::cl::desc("Keep the temporary directory of --emit=lib and print "
                   "its path"),
    llvm::cl::init(false), llvm::cl::cat(category));

/// GPU architectures the kernels may be built for: what CUDA 13's ptxas
/// supports at PTX ISA 8.0.
constexpr llvm::StringLiteral kCudaArchs[] = {"sm_75", "sm_80", "sm_86",
                                              "sm_89", "sm_90", "sm_90a"};

/// LLVM optimisation level of the generated code.
constexpr unsigned kOptLevel = 3;

/// Short progress lines, only for a person watching a terminal.
void progress(llvm::StringRef what) {
  if (llvm::sys::Process::StandardErrIsDisplayed())
    llvm::errs() << "moe-compile: " << what << "...\n";
}

int fail(const llvm::Twine &message) {
  llvm::errs() << "moe-compile: error: " << message << "\n";
  return 1;
}

int fail(llvm::StringRef step, llvm::Error error) {
  return fail(step + ": " + llvm::toString(std::move(error)));
}

/// The output path: -o, else the input with `extension` (or "-").
std::string outputPath(llvm::StringRef extension) {
  if (!outputFile.empty())
    return outputFile;
  if (extension.empty())
    return "-";
  llvm::SmallString<128> path(inputFile.getValue());
  llvm::sys::path::replace_extension(path, extension);
  return path.str().str();
}

/// Writes `bytes` to `path` ("-": stdout).
llvm::Error writeFile(llvm::StringRef path, llvm::StringRef bytes) {
  std::string message;
  std::unique_ptr<llvm::ToolOutputFile> file = openOutputFile(path, &message);
  if (!file)
    return llvm::createStringError(message);
  file->os() << bytes;
  file->keep();
  return llvm::Error::success();
}

/// A temporary directory, removed on destruction unless --keep-temps.
class TempDir {
public:
  llvm::Error create() {
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("moe-compile", path))
      return llvm::createStringError("cannot create a temporary directory: " +
                                     ec.message());
    return llvm::Error::success();
  }
  std::string file(llvm::StringRef name) const {
    llvm::SmallString<128> result(path);
    llvm::sys::path::append(result, name);
    return result.str().str();
  }
  ~TempDir() {
    if (path.empty())
      return;
    if (keepTemps)
      llvm::errs() << "moe-compile: temporary files kept in " << path << "\n";
    else
      llvm::sys::fs::remove_directories(path);
  }

private:
  llvm::SmallString<128> path;
};

/// --emit=lib: description source + object -> shared library at `output`.
int buildLibrary(const ModelSignature &signature, llvm::StringRef object,
                 bool withCRunnerUtils, bool cuda, llvm::StringRef output) {
  progress("linking");
  TempDir temp;
  if (llvm::Error error = temp.create())
    return fail("linking", std::move(error));
  std::string source = temp.file("model_description.cpp");
  std::string descriptionObject = temp.file("model_description.o");
  std::string modelObject = temp.file("model.o");
  if (llvm::Error error = writeFile(
          source,
          generateModelDescription(
              signature, llvm::sys::path::filename(inputFile),
              cuda ? ArtifactTarget::CUDA : ArtifactTarget::CPU)))
    return fail("writing the model description", std::move(error));
  if (llvm::Error error = writeFile(modelObject, object))
    return fail("writing the object file", std::move(error));
  if (llvm::Error error = compileModelDescription(source, descriptionObject))
    return fail(llvm::toString(std::move(error)));

  // Link beside `output` and rename: a process that has the old library
  // loaded keeps a consistent file.
  llvm::SmallString<128> staging;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(output + ".tmp-%%%%%%", fd, staging))
    return fail("writing " + output + ": " + ec.message());
  llvm::sys::Process::SafelyCloseFileDescriptor(fd);
  if (llvm::Error error = linkSharedLibrary(
          descriptionObject, modelObject, withCRunnerUtils, cuda, staging)) {
    llvm::sys::fs::remove(staging);
    return fail(llvm::toString(std::move(error)));
  }
  if (std::error_code ec = llvm::sys::fs::rename(staging, output)) {
    llvm::sys::fs::remove(staging);
    return fail("writing " + output + ": " + ec.message());
  }
  return 0;
}

int compile(MLIRContext &context) {
  const bool cuda = target == TargetKind::CUDA;
  if (cuda && !llvm::is_contained(kCudaArchs, cudaArch.getValue()))
    return fail("unsupported --cuda-arch '" + cudaArch +
                "' (expected one of sm_75, sm_80, sm_86, sm_89, sm_90, "
                "sm_90a)");
  if (emit == Emit::Library && outputPath(".so") == "-")
    return fail("cannot write a shared library to stdout; use -o");

  progress("importing " + inputFile);
  if (externalWeightsMinBytes < 0)
    return fail("--external-weights-min-bytes must not be negative");
  moe::ONNXImportOptions importOptions;
  if (externalWeights)
    importOptions.externalWeightMinBytes = externalWeightsMinBytes;
  OwningOpRef<ModuleOp> module =
      moe::importONNXFile(inputFile, &context, importOptions);
  if (!module)
    return fail("importing " + inputFile + " failed");

  // Lowering drops the ONNX names and symbolic dimensions: read them first.
  std::optional<ModelSignature> signature;
  if (emit == Emit::Library) {
    auto entry = module->lookupSymbol<func::FuncOp>(kEntryFunction);
    if (!entry)
      return fail(llvm::Twine("the imported module has no '") + kEntryFunction +
                  "'");
    FailureOr<ModelSignature> read = readModelSignature(entry);
    if (failed(read))
      return fail("reading the model signature failed");
    signature = std::move(*read);
  }

  progress("lowering");
  if (failed(lowerToLLVMDialect(*module, CompileTarget{cuda, cudaArch})))
    return fail("lowering failed");
  if (cuda && signature && failed(readHoistedConstants(*module, *signature)))
    return fail("reading the model's constants failed");
  if (emit == Emit::MLIR) {
    std::string text;
    llvm::raw_string_ostream os(text);
    OpPrintingFlags flags;
    // Weights printed as hex would flood a terminal.
    if (outputPath("") == "-" && llvm::sys::Process::StandardOutIsDisplayed())
      flags.elideLargeElementsAttrs(64).elideLargeResourceString(64);
    module->print(os, flags);
    if (llvm::Error error = writeFile(outputPath(""), text))
      return fail("writing the MLIR", std::move(error));
    return 0;
  }

  auto machine = createHostTargetMachine(mcpu, kOptLevel);
  if (!machine)
    return fail("creating the target machine", machine.takeError());
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateToLLVMIR(*module, llvmContext, **machine);
  if (!llvmModule)
    return fail("translating to LLVM IR failed");
  if (cuda)
    if (llvm::Error error = prepareCUDAModuleLoading(*llvmModule))
      return fail("preparing the kernel modules", std::move(error));
  if (emit == Emit::LLVMIR) {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvmModule->print(os, nullptr);
    if (llvm::Error error = writeFile(outputPath(""), text))
      return fail("writing the LLVM IR", std::move(error));
    return 0;
  }

  progress("emitting object");
  if (llvm::Error error = optimizeLLVMModule(*llvmModule, **machine, kOptLevel))
    return fail("optimising the LLVM IR", std::move(error));
  llvm::SmallVector<char, 0> object;
  if (llvm::Error error = emitObjectFile(*llvmModule, **machine, object))
    return fail("emitting the object file", std::move(error));
  llvm::StringRef objectBytes(object.data(), object.size());
  if (emit == Emit::Object) {
    if (llvm::Error error = writeFile(outputPath(".o"), objectBytes))
      return fail("writing the object file", std::move(error));
    return 0;
  }
  llvm::Expected<bool> withCRunnerUtils = needsCRunnerUtils(*llvmModule);
  if (!withCRunnerUtils)
    return fail("checking the runtime dependencies",
                withCRunnerUtils.takeError());
  return buildLibrary(*signature, objectBytes, *withCRunnerUtils, cuda,
                      outputPath(".so"));
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerAsmPrinterCLOptions();
  llvm::cl::HideUnrelatedOptions(category);
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "moe-compile: compiles an ONNX model into a shared library that "
      "exports the MoERuntime.h C API\n");

  DialectRegistry registry;
  moe::registerAllDialects(registry);
  moe::registerONNXImportDialects(registry);
  registerLLVMTranslations(registry);
  MLIRContext context(registry);
  return compile(context);
}
