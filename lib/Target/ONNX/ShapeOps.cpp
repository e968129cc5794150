//===- ShapeOps.cpp - (being written) -----------------------------------===//

#include "OpConverters.h"

namespace mlir::moe::onnx_import {

void registerShapeOps(ConverterTable &table) {}

} // namespace mlir::moe::onnx_import
