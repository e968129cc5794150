//===- ReductionOps.cpp - (being written) -----------------------------------===//

#include "OpConverters.h"

namespace mlir::moe::onnx_import {

void registerReductionOps(ConverterTable &table) {}

} // namespace mlir::moe::onnx_import
