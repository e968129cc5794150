//===- OpConverters.cpp - the table of ONNX node converters ---------------===//

#include "OpConverters.h"

#include "moe/Target/ONNX/ONNXImport.h"

#include "llvm/ADT/STLExtras.h"

namespace mlir::moe::onnx_import {

static std::string key(llvm::StringRef domain, llvm::StringRef opType) {
  return (isDefaultDomain(domain) ? "" : domain.str()) + "::" + opType.str();
}

void ConverterTable::add(llvm::StringRef domain, llvm::StringRef opType,
                         OpConverter fn) {
  converters[key(domain, opType)] = fn;
}

OpConverter ConverterTable::lookup(llvm::StringRef domain,
                                   llvm::StringRef opType) const {
  return converters.lookup(key(domain, opType));
}

llvm::SmallVector<std::string> ConverterTable::keys() const {
  llvm::SmallVector<std::string> result;
  for (const auto &entry : converters)
    result.push_back(entry.getKey().str());
  llvm::sort(result);
  return result;
}

const ConverterTable &ConverterTable::get() {
  static const ConverterTable table = [] {
    ConverterTable t;
    registerContribMoEOps(t);
    registerElementwiseOps(t);
    registerMatMulOps(t);
    registerNormalizationOps(t);
    registerReductionOps(t);
    registerShapeOps(t);
    registerIndexingOps(t);
    return t;
  }();
  return table;
}

} // namespace mlir::moe::onnx_import

std::vector<std::string> mlir::moe::supportedONNXOperators() {
  llvm::SmallVector<std::string> keys =
      onnx_import::ConverterTable::get().keys();
  return std::vector<std::string>(keys.begin(), keys.end());
}
