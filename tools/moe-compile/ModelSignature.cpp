//===- ModelSignature.cpp - the ONNX signature of main_graph --------------===//

#include "ModelSignature.h"

#include "moe/Conversion/MoEToGPU/MoEToGPU.h"
#include "moe/Runtime/DataTypes.h"
#include "moe/Target/ONNX/ONNXImport.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::moe::compile;

int32_t mlir::moe::compile::onnxDataType(Type type) {
  if (type.isF32())
    return 1;
  if (type.isUnsignedInteger(8))
    return 2;
  if (type.isSignlessInteger(8) || type.isSignedInteger(8))
    return 3;
  if (type.isSignlessInteger(16) || type.isSignedInteger(16))
    return 5;
  if (type.isSignlessInteger(32) || type.isSignedInteger(32))
    return 6;
  if (type.isSignlessInteger(64) || type.isSignedInteger(64))
    return 7;
  if (type.isInteger(1))
    return 9;
  if (type.isF16())
    return 10;
  if (type.isF64())
    return 11;
  if (type.isBF16())
    return 16;
  return 0;
}

/// Fills `tensor` from a value of `type` with the ONNX attributes `attrs`;
/// `what` ("input 0") names it in errors.
static LogicalResult readTensor(func::FuncOp func, Type type,
                                DictionaryAttr attrs, const Twine &what,
                                TensorSignature &tensor) {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return func.emitError() << what << " has type " << type
                            << "; only ranked tensors can be compiled";
  auto name = attrs ? attrs.getAs<StringAttr>("onnx.name") : StringAttr();
  tensor.name = name ? name.getValue().str() : what.str();
  tensor.dtype = onnxDataType(tensorType.getElementType());
  if (tensor.dtype == 0)
    return func.emitError()
           << what << " ('" << tensor.name << "') has element type "
           << tensorType.getElementType()
           << ", which the runtime does not support";
  for (int64_t dim : tensorType.getShape())
    tensor.dims.push_back(ShapedType::isDynamic(dim) ? -1 : dim);
  tensor.dimParams.assign(tensor.dims.size(), "");
  auto params = attrs ? attrs.getAs<ArrayAttr>("onnx.dim_params") : ArrayAttr();
  if (!params)
    return success();
  if (params.size() != tensor.dims.size())
    return func.emitError()
           << what << " ('" << tensor.name << "'): onnx.dim_params has "
           << params.size() << " entries for rank " << tensor.dims.size();
  for (auto [i, param] : llvm::enumerate(params)) {
    auto str = dyn_cast<StringAttr>(param);
    if (!str)
      return func.emitError() << what << ": onnx.dim_params must hold strings";
    // A name on a static dimension carries no information for the runtime.
    if (tensor.dims[i] < 0)
      tensor.dimParams[i] = str.getValue().str();
  }
  return success();
}

FailureOr<ModelSignature>
mlir::moe::compile::readModelSignature(func::FuncOp func) {
  ModelSignature signature;
  FunctionType type = func.getFunctionType();
  for (unsigned i = 0, e = type.getNumInputs(); i < e; ++i) {
    DictionaryAttr attrs = func.getArgAttrDict(i);
    bool weight = attrs && attrs.get(kWeightArgAttrName);
    if (!weight && !signature.weights.empty())
      return func.emitError() << "input " << i << " follows an external weight";
    auto &tensors = weight ? signature.weights : signature.inputs;
    tensors.emplace_back();
    if (failed(readTensor(func, type.getInput(i), attrs,
                          (weight ? "weight " : "input ") + Twine(i),
                          tensors.back())))
      return failure();
    if (weight && llvm::is_contained(tensors.back().dims, -1))
      return func.emitError() << "external weight '" << tensors.back().name
                              << "' has a dynamic shape";
  }
  for (unsigned i = 0, e = type.getNumResults(); i < e; ++i) {
    signature.outputs.emplace_back();
    if (failed(readTensor(func, type.getResult(i), func.getResultAttrDict(i),
                          "output " + Twine(i), signature.outputs.back())))
      return failure();
  }
  if (signature.outputs.empty())
    return func.emitError() << "the graph has no outputs";
  return signature;
}

int64_t mlir::moe::compile::onnxElementBytes(int32_t dtype) {
  return moe_dtype_size(dtype);
}

LogicalResult
mlir::moe::compile::readHoistedConstants(ModuleOp module,
                                         ModelSignature &signature) {
  auto types = module->getAttrOfType<ArrayAttr>(kGPUConstantsAttrName);
  if (!types)
    return module.emitError() << "the lowered module has no "
                              << kGPUConstantsAttrName << " attribute";
  for (Attribute attr : types) {
    auto type = dyn_cast<MemRefType>(cast<TypeAttr>(attr).getValue());
    int64_t bytes = type ? onnxElementBytes(onnxDataType(type.getElementType()))
                         : 0;
    if (bytes == 0)
      return module.emitError() << "constant of unsupported type " << attr;
    signature.constants.push_back({type.getRank(), bytes});
  }
  return success();
}
