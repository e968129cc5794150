//===- ONNXTranslation.cpp - `--import-onnx` for moe-translate ------------===//

#include "moe/Target/ONNX/ONNXImport.h"

#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/SourceMgr.h"

namespace mlir::moe {

void registerONNXImportTranslation() {
  TranslateToMLIRRegistration registration(
      "import-onnx", "import an ONNX model (binary or textual)",
      [](const std::shared_ptr<llvm::SourceMgr> &sourceMgr,
         MLIRContext *ctx) -> OwningOpRef<Operation *> {
        const llvm::MemoryBuffer *buffer =
            sourceMgr->getMemoryBuffer(sourceMgr->getMainFileID());
        OwningOpRef<ModuleOp> module = importONNXModel(
            buffer->getBuffer(), buffer->getBufferIdentifier(), ctx);
        return OwningOpRef<Operation *>(module.release());
      },
      registerONNXImportDialects);
}

} // namespace mlir::moe
