//===- moe-translate.cpp - translations in and out of MLIR ----------------===//
//
// `--import-onnx` (ONNX -> MLIR) plus upstream's translations such as
// `--mlir-to-llvmir`.
//
//===----------------------------------------------------------------------===//

#include "moe/Target/ONNX/ONNXImport.h"

#include "mlir/InitAllTranslations.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

/// Whether the output goes to the terminal: no `-o`, or `-o -`.
static bool writesToTerminal(llvm::ArrayRef<char *> args) {
  for (size_t i = 1; i < args.size(); ++i) {
    llvm::StringRef arg = args[i];
    if (arg == "-o" || arg == "--o")
      return i + 1 < args.size() && llvm::StringRef(args[i + 1]) == "-" &&
             llvm::sys::Process::StandardOutIsDisplayed();
    if (arg.starts_with("-o=") || arg.starts_with("--o="))
      return arg.ends_with("=-") &&
             llvm::sys::Process::StandardOutIsDisplayed();
  }
  return llvm::sys::Process::StandardOutIsDisplayed();
}

int main(int argc, char **argv) {
  // `--list-onnx-operators`: what the importer supports, one per line.
  if (argc == 2 && llvm::StringRef(argv[1]) == "--list-onnx-operators") {
    for (const std::string &op : mlir::moe::supportedONNXOperators())
      llvm::outs() << op << "\n";
    return 0;
  }
  mlir::registerAllTranslations();
  mlir::moe::registerONNXImportTranslation();

  // Weights printed as hex would flood a terminal: elide large blobs there
  // unless the user chose otherwise.
  std::vector<char *> args(argv, argv + argc);
  bool userChose = llvm::any_of(args, [](char *arg) {
    return llvm::StringRef(arg).contains("mlir-elide-");
  });
  static char elideResources[] = "--mlir-elide-resource-strings-if-larger=64";
  static char elideElements[] = "--mlir-elide-elementsattrs-if-larger=64";
  if (!userChose && writesToTerminal(args)) {
    args.push_back(elideResources);
    args.push_back(elideElements);
  }
  return mlir::failed(mlir::mlirTranslateMain(static_cast<int>(args.size()),
                                              args.data(),
                                              "moe translation driver\n"))
             ? 1
             : 0;
}
