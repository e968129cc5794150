//===- ModelSignature.h - the ONNX signature of main_graph ------*- C++ -*-===//
//
// The graph's input/output names, ONNX data types and (possibly symbolic)
// shapes, read from the imported `main_graph` before lowering drops the
// `onnx.name` / `onnx.dim_params` attributes. The ABI thunk is generated from
// it.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_TOOLS_MOE_COMPILE_MODELSIGNATURE_H
#define MOE_TOOLS_MOE_COMPILE_MODELSIGNATURE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::moe::compile {

/// One graph input or output.
struct TensorSignature {
  std::string name;
  /// ONNX TensorProto data type code (1 FLOAT, 7 INT64, ...).
  int32_t dtype = 0;
  /// -1 for a dynamic dimension.
  std::vector<int64_t> dims;
  /// One entry per dimension; "" when static or unnamed.
  std::vector<std::string> dimParams;
};

/// A constant the entry function takes as a trailing argument (CUDA
/// artifacts, moe-gpu-hoist-constants): its getter returns the host copy.
struct ConstantSignature {
  int64_t rank = 0;
  int64_t elementBytes = 0;
};

struct ModelSignature {
  std::vector<TensorSignature> inputs;
  std::vector<TensorSignature> outputs;
  /// External weights (--external-weights): initializers the entry takes
  /// after the inputs (static shapes), bound at run time by name.
  std::vector<TensorSignature> weights;
  /// Empty for CPU artifacts.
  std::vector<ConstantSignature> constants;
};

/// Bytes per element of an ONNX data type code the runtime supports.
int64_t onnxElementBytes(int32_t dtype);

/// Reads the hoisted constants of a lowered CUDA module (the
/// moe.gpu.constants attribute) into `signature`.
LogicalResult readHoistedConstants(ModuleOp module, ModelSignature &signature);

/// The ONNX data type code of `type`, or 0 when ONNX has none the runtime
/// supports.
int32_t onnxDataType(Type type);

/// Reads the signature of `func`, whose arguments and results must be ranked
/// tensors. Emits an error on `func` and fails otherwise.
FailureOr<ModelSignature> readModelSignature(func::FuncOp func);

} // namespace mlir::moe::compile

#endif // MOE_TOOLS_MOE_COMPILE_MODELSIGNATURE_H
