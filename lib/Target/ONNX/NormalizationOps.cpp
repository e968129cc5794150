//===- NormalizationOps.cpp - (being written) -----------------------------------===//

#include "OpConverters.h"

namespace mlir::moe::onnx_import {

void registerNormalizationOps(ConverterTable &table) {}

} // namespace mlir::moe::onnx_import
