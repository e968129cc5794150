//===- OpConverters.h - ONNX node converters, one table -------*- C++ -*-===//
//
// Each file of op converters registers its ops in the table; the graph
// importer looks nodes up by domain and op type.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_TARGET_ONNX_OPCONVERTERS_H
#define MOE_LIB_TARGET_ONNX_OPCONVERTERS_H

#include "ImportState.h"

#include "llvm/ADT/StringMap.h"

namespace mlir::moe::onnx_import {

/// Converts one node: builds its ops and calls `setResult` for every output,
/// or reports the problem through `NodeContext::error` and fails.
using OpConverter = LogicalResult (*)(NodeContext &);

/// Converters keyed by `<domain>::<op_type>` ("" is ai.onnx).
class ConverterTable {
public:
  void add(llvm::StringRef domain, llvm::StringRef opType, OpConverter fn);
  /// The converter for a node, or null when the op is unsupported.
  OpConverter lookup(llvm::StringRef domain, llvm::StringRef opType) const;
  /// Every registered `<domain>::<op_type>`, sorted (for docs and tests).
  llvm::SmallVector<std::string> keys() const;

  /// The table of every converter family below.
  static const ConverterTable &get();

private:
  llvm::StringMap<OpConverter> converters;
};

/// The default domain under both of its spellings.
inline bool isDefaultDomain(llvm::StringRef domain) {
  return domain.empty() || domain == "ai.onnx";
}

// One registration function per file of converters.
void registerContribMoEOps(ConverterTable &table);    // ContribMoEOps.cpp
void registerElementwiseOps(ConverterTable &table);   // ElementwiseOps.cpp
void registerMatMulOps(ConverterTable &table);        // MatMulOps.cpp
void registerNormalizationOps(ConverterTable &table); // NormalizationOps.cpp
void registerReductionOps(ConverterTable &table);     // ReductionOps.cpp
void registerShapeOps(ConverterTable &table);         // ShapeOps.cpp
void registerIndexingOps(ConverterTable &table);      // IndexingOps.cpp

} // namespace mlir::moe::onnx_import

#endif // MOE_LIB_TARGET_ONNX_OPCONVERTERS_H
