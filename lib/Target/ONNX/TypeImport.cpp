//===- TypeImport.cpp - ONNX types and tensors to MLIR --------------------===//

#include "TypeImport.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

namespace mlir::moe::onnx_import {

using onnx::TensorProto;

Type elementTypeFromONNX(int32_t dataType, MLIRContext *ctx) {
  Builder b(ctx);
  switch (dataType) {
  case TensorProto::FLOAT:
    return b.getF32Type();
  case TensorProto::FLOAT16:
    return b.getF16Type();
  case TensorProto::BFLOAT16:
    return b.getBF16Type();
  case TensorProto::DOUBLE:
    return b.getF64Type();
  case TensorProto::BOOL:
    return b.getI1Type();
  case TensorProto::INT8:
    return b.getI8Type();
  case TensorProto::INT16:
    return b.getI16Type();
  case TensorProto::INT32:
    return b.getI32Type();
  case TensorProto::INT64:
    return b.getI64Type();
  case TensorProto::UINT8:
    return IntegerType::get(ctx, 8, IntegerType::Unsigned);
  case TensorProto::UINT16:
    return IntegerType::get(ctx, 16, IntegerType::Unsigned);
  case TensorProto::UINT32:
    return IntegerType::get(ctx, 32, IntegerType::Unsigned);
  case TensorProto::UINT64:
    return IntegerType::get(ctx, 64, IntegerType::Unsigned);
  default:
    return nullptr;
  }
}

std::string onnxDataTypeName(int32_t dataType) {
  if (TensorProto::DataType_IsValid(dataType))
    return TensorProto::DataType_Name(
        static_cast<TensorProto::DataType>(dataType));
  return "data type " + std::to_string(dataType);
}

FailureOr<RankedTensorType>
tensorTypeFromProto(const onnx::TypeProto &type, MLIRContext *ctx,
                    llvm::StringRef what,
                    llvm::function_ref<InFlightDiagnostic()> emitError,
                    llvm::SmallVectorImpl<std::string> *dimParams) {
  if (!type.has_tensor_type())
    return emitError() << what << " is not a tensor (sequences, maps and "
                       << "optionals are not supported)";
  const onnx::TypeProto::Tensor &tensor = type.tensor_type();
  Type elementType = elementTypeFromONNX(tensor.elem_type(), ctx);
  if (!elementType)
    return emitError() << what << " has unsupported element type "
                       << onnxDataTypeName(tensor.elem_type());
  if (!tensor.has_shape())
    return emitError() << what
                       << " has no shape; the importer needs at least its rank";
  llvm::SmallVector<int64_t> shape;
  for (const onnx::TensorShapeProto::Dimension &dim : tensor.shape().dim()) {
    if (dim.has_dim_value() && dim.dim_value() < 0)
      return emitError() << what << " has a negative dimension "
                         << dim.dim_value();
    shape.push_back(dim.has_dim_value() ? dim.dim_value()
                                        : ShapedType::kDynamic);
    if (dimParams)
      dimParams->push_back(dim.has_dim_param() ? dim.dim_param() : "");
  }
  return RankedTensorType::get(shape, elementType);
}

/// Byte size of one element in ONNX raw_data.
static int64_t rawElementBytes(Type elementType) {
  if (elementType.isInteger(1))
    return 1; // ONNX stores one byte per bool.
  return elementType.getIntOrFloatBitWidth() / 8;
}

/// Blob names are printed as keys; keep them to identifier characters.
static std::string blobName(llvm::StringRef tensorName) {
  std::string name = tensorName.empty() ? "tensor" : tensorName.str();
  for (char &c : name)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  return name;
}

namespace {
/// Where a tensor's bytes live, and what keeps them alive.
struct TensorBytes {
  llvm::ArrayRef<char> bytes;
  std::shared_ptr<const void> owner; // Null when `storage` holds the bytes.
  std::vector<char> storage;
};
} // namespace

/// Copies ONNX's typed repeated fields into little-endian raw bytes.
template <typename Field>
static std::vector<char> packTypedField(const Field &field, int64_t elemBytes) {
  std::vector<char> out(field.size() * elemBytes);
  for (int i = 0; i < field.size(); ++i) {
    auto value = field.Get(i);
    // Narrowing to the element width keeps the low bytes (little endian).
    std::memcpy(out.data() + i * elemBytes, &value, elemBytes);
  }
  return out;
}

static FailureOr<TensorBytes>
readExternalData(const TensorProto &tensor, ImportState &state,
                 llvm::function_ref<InFlightDiagnostic()> emitError) {
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
    uint64_t number = 0;
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset" || entry.key() == "length") {
      if (llvm::StringRef(entry.value()).getAsInteger(10, number))
        return emitError() << "initializer '" << tensor.name()
                           << "': external data " << entry.key() << " '"
                           << entry.value() << "' is not a number";
      if (entry.key() == "offset")
        offset = number;
      else
        length = number;
    }
  }
  if (location.empty())
    return emitError() << "initializer '" << tensor.name()
                       << "' has external data without a location";
  llvm::SmallString<256> path(llvm::sys::path::parent_path(state.modelPath));
  llvm::sys::path::append(path, location);
  uint64_t fileSize = 0;
  if (llvm::sys::fs::file_size(path, fileSize))
    return emitError() << "initializer '" << tensor.name()
                       << "': cannot open external data file '" << path << "'";
  if (!length)
    length = offset <= fileSize ? fileSize - offset : 0;
  if (offset > fileSize || *length > fileSize - offset)
    return emitError() << "initializer '" << tensor.name()
                       << "': external data [" << offset << ", "
                       << offset + *length << ") lies beyond the end of '"
                       << path << "' (" << fileSize << " bytes)";
  auto buffer = llvm::MemoryBuffer::getFileSlice(path, *length, offset,
                                                 /*IsVolatile=*/false);
  if (!buffer)
    return emitError() << "initializer '" << tensor.name()
                       << "': cannot read external data file '" << path
                       << "': " << buffer.getError().message();
  std::shared_ptr<llvm::MemoryBuffer> owner = std::move(*buffer);
  TensorBytes result;
  result.bytes = {owner->getBufferStart(), owner->getBufferSize()};
  result.owner = owner;
  return result;
}

static FailureOr<TensorBytes>
tensorBytes(const TensorProto &tensor, Type elementType, ImportState &state,
            llvm::function_ref<InFlightDiagnostic()> emitError,
            std::shared_ptr<const void> bytesOwner) {
  if (tensor.data_location() == TensorProto::EXTERNAL)
    return readExternalData(tensor, state, emitError);
  TensorBytes result;
  if (tensor.has_raw_data()) {
    result.bytes = {tensor.raw_data().data(), tensor.raw_data().size()};
    result.owner = std::move(bytesOwner); // Null: copy the bytes.
    return result;
  }
  int64_t elemBytes = rawElementBytes(elementType);
  switch (tensor.data_type()) {
  case TensorProto::FLOAT:
    result.storage = packTypedField(tensor.float_data(), elemBytes);
    break;
  case TensorProto::DOUBLE:
    result.storage = packTypedField(tensor.double_data(), elemBytes);
    break;
  case TensorProto::INT64:
    result.storage = packTypedField(tensor.int64_data(), elemBytes);
    break;
  case TensorProto::UINT32:
  case TensorProto::UINT64:
    result.storage = packTypedField(tensor.uint64_data(), elemBytes);
    break;
  default: // int8/16/32, uint8/16, bool, float16, bfloat16 use int32_data.
    result.storage = packTypedField(tensor.int32_data(), elemBytes);
    break;
  }
  result.bytes = result.storage;
  return result;
}

FailureOr<ElementsAttr>
importTensor(const TensorProto &tensor, ImportState &state,
             llvm::function_ref<InFlightDiagnostic()> emitError,
             std::shared_ptr<const void> bytesOwner) {
  MLIRContext *ctx = state.ctx;
  Type elementType = elementTypeFromONNX(tensor.data_type(), ctx);
  if (!elementType)
    return emitError() << "tensor '" << tensor.name()
                       << "' has unsupported data type "
                       << onnxDataTypeName(tensor.data_type());
  llvm::SmallVector<int64_t> shape;
  int64_t numElements = 1;
  for (int64_t dim : tensor.dims()) {
    if (dim < 0)
      return emitError() << "tensor '" << tensor.name()
                         << "' has a negative dimension " << dim;
    if (dim != 0 && numElements > INT64_MAX / dim)
      return emitError() << "tensor '" << tensor.name() << "' is too large";
    numElements *= dim;
    shape.push_back(dim);
  }
  auto type = RankedTensorType::get(shape, elementType);

  FailureOr<TensorBytes> data =
      tensorBytes(tensor, elementType, state, emitError, std::move(bytesOwner));
  if (failed(data))
    return failure();
  int64_t elemBytes = rawElementBytes(elementType);
  uint64_t expected = static_cast<uint64_t>(numElements) * elemBytes;
  if (data->bytes.size() != expected) {
    std::string dims;
    for (int64_t d : shape)
      dims += (dims.empty() ? "" : "x") + std::to_string(d);
    return emitError() << "tensor '" << tensor.name() << "' has "
                       << data->bytes.size() << " bytes of data, but shape ["
                       << dims << "] of "
                       << onnxDataTypeName(tensor.data_type()) << " needs "
                       << expected;
  }

  if (elementType.isInteger(1)) {
    // MLIR packs i1 as bits; ONNX stores a byte per bool.
    llvm::SmallVector<bool> bits;
    for (char c : data->bytes)
      bits.push_back(c != 0);
    return ElementsAttr(DenseElementsAttr::get(type, bits));
  }
  if (numElements <= kMaxInlineElements)
    return ElementsAttr(DenseElementsAttr::getFromRawBuffer(type, data->bytes));

  size_t align = static_cast<size_t>(elemBytes);
  AsmResourceBlob blob;
  bool aligned = reinterpret_cast<uintptr_t>(data->bytes.data()) % align == 0;
  if (data->owner && aligned) {
    // Zero copy: the blob points into the protobuf or the mapped file and
    // keeps it alive.
    std::shared_ptr<const void> owner = data->owner;
    blob = UnmanagedAsmResourceBlob::allocateWithAlign(
        data->bytes, align,
        [owner](void *, size_t, size_t) mutable { owner.reset(); });
  } else {
    blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(data->bytes, align,
                                                         false);
  }
  return ElementsAttr(DenseResourceElementsAttr::get(
      type, blobName(tensor.name()), std::move(blob)));
}

} // namespace mlir::moe::onnx_import
