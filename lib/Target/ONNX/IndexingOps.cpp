//===- IndexingOps.cpp - (being written) -----------------------------------===//

#include "OpConverters.h"

namespace mlir::moe::onnx_import {

void registerIndexingOps(ConverterTable &table) {}

} // namespace mlir::moe::onnx_import
