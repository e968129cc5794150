//===- moe-translate.cpp - translations in and out of MLIR ----------------===//
//
// MLIR -> LLVM IR (--mlir-to-llvmir) today; ONNX import joins here.
//
//===----------------------------------------------------------------------===//

#include "mlir/InitAllTranslations.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  mlir::registerAllTranslations();
  return mlir::failed(
             mlir::mlirTranslateMain(argc, argv, "moe translation driver\n"))
             ? 1
             : 0;
}
