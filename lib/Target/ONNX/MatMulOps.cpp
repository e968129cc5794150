//===- MatMulOps.cpp - (being written) -----------------------------------===//

#include "OpConverters.h"

namespace mlir::moe::onnx_import {

void registerMatMulOps(ConverterTable &table) {}

} // namespace mlir::moe::onnx_import
