//===- ContribMoEOps.cpp - (being written) -----------------------------------===//

#include "OpConverters.h"

namespace mlir::moe::onnx_import {

void registerContribMoEOps(ConverterTable &table) {}

} // namespace mlir::moe::onnx_import
