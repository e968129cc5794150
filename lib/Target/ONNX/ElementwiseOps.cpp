//===- ElementwiseOps.cpp - (being written) -----------------------------------===//

#include "OpConverters.h"

namespace mlir::moe::onnx_import {

void registerElementwiseOps(ConverterTable &table) {}

} // namespace mlir::moe::onnx_import
