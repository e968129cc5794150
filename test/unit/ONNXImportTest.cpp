//===- ONNXImportTest.cpp - the importer's model, tensor and type helpers -===//

#include "ImportState.h"
#include "ModelReader.h"
#include "OpConverters.h"
#include "TypeImport.h"

#include "moe/Target/ONNX/ONNXImport.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::onnx_import;

namespace {

class ONNXImportTest : public ::testing::Test {
protected:
  ONNXImportTest() : state(&context, "/tmp/model.onnx") {
    DialectRegistry registry;
    registerONNXImportDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    state.model = std::make_shared<onnx::ModelProto>();
  }

  /// Imports `tensor`, returning the attribute or null with the error text.
  ElementsAttr import(const onnx::TensorProto &tensor,
                      std::shared_ptr<const void> owner = nullptr) {
    lastError.clear();
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      lastError = d.str();
      return success();
    });
    FailureOr<ElementsAttr> attr = importTensor(
        tensor, state, [&] { return state.emitModelError(); },
        std::move(owner));
    return succeeded(attr) ? *attr : nullptr;
  }

  /// Fresh random floats: every run checks other values.
  std::vector<float> randomFloats(size_t n) {
    std::vector<float> values(n);
    std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
    for (float &v : values)
      v = dist(rng);
    return values;
  }

  MLIRContext context;
  ImportState state;
  std::string lastError;
  std::mt19937 rng{std::random_device{}()};
};

onnx::TensorProto floatTensor(llvm::StringRef name,
                              llvm::ArrayRef<int64_t> dims,
                              llvm::ArrayRef<float> values, bool raw) {
  onnx::TensorProto tensor;
  tensor.set_name(name.str());
  tensor.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims)
    tensor.add_dims(d);
  if (raw)
    tensor.set_raw_data(values.data(), values.size() * sizeof(float));
  else
    for (float v : values)
      tensor.add_float_data(v);
  return tensor;
}

TEST(ModelReaderTest, TellsTextFromBinary) {
  EXPECT_TRUE(looksLikeTextualModel("<\n ir_version: 8>"));
  EXPECT_TRUE(looksLikeTextualModel("  # a comment\n# another\n  <"));
  EXPECT_FALSE(looksLikeTextualModel(llvm::StringRef("\x08\x08", 2)));
  EXPECT_FALSE(looksLikeTextualModel(""));
}

TEST(ModelReaderTest, RefusesBadBytesWithAMessage) {
  auto expectError = [](llvm::StringRef bytes, llvm::StringRef message) {
    auto model = parseModel(bytes);
    ASSERT_FALSE(static_cast<bool>(model));
    std::string text = llvm::toString(model.takeError());
    EXPECT_NE(text.find(message.str()), std::string::npos) << text;
  };
  expectError("", "the file is empty");
  expectError(llvm::StringRef("\x0a\xff\xff\xff\xff\x0f", 6),
              "not a valid ONNX protobuf");
  expectError(llvm::StringRef("\x08\x08", 2), "it has no graph");
  expectError("<ir_version: 8, opset_import: [\"\" : 17]>\ng (float[2] x) "
              "=> (float[2] y) { y = Relu(x }",
              "textual ONNX syntax error");
}

TEST(ModelReaderTest, ParsesBinaryAndTextOfTheSameModel) {
  const char *text = R"(<ir_version: 10, opset_import: ["" : 21]>
      g (float[N, 4] x) => (float[N, 4] y) { y = Relu(x) })";
  auto fromText = parseModel(text);
  ASSERT_TRUE(static_cast<bool>(fromText))
      << llvm::toString(fromText.takeError());
  std::string bytes = (*fromText)->SerializeAsString();
  auto fromBinary = parseModel(bytes);
  ASSERT_TRUE(static_cast<bool>(fromBinary));
  EXPECT_EQ((*fromBinary)->ir_version(), 10);
  EXPECT_EQ((*fromBinary)->graph().node(0).op_type(), "Relu");
  EXPECT_EQ((*fromBinary)->opset_import(0).version(), 21);
}

TEST(ModelReaderTest, ShapeInferenceSkipsOpsetsTheLibraryDoesNotKnow) {
  auto model = parseModel(R"(<ir_version: 10, opset_import: ["" : 21]>
      g (float[N, 4] x) => (float[N, 4] y) { y = Relu(x) })");
  ASSERT_TRUE(static_cast<bool>(model));
  EXPECT_GE(maxKnownOpset(), 17);
  if (maxKnownOpset() < 21) {
    EXPECT_NE(inferShapes(**model).find("skipped"), std::string::npos);
  }
}

TEST_F(ONNXImportTest, SmallTensorsAreInlineAndExact) {
  std::vector<float> values = randomFloats(6);
  for (bool raw : {true, false}) {
    ElementsAttr attr = import(floatTensor("w", {2, 3}, values, raw));
    ASSERT_TRUE(attr) << lastError;
    auto dense = dyn_cast<DenseFPElementsAttr>(attr);
    ASSERT_TRUE(dense);
    EXPECT_EQ(dense.getType().getShape(), llvm::ArrayRef<int64_t>({2, 3}));
    int i = 0;
    for (float v : dense.getValues<float>())
      EXPECT_EQ(v, values[i++]);
  }
}

TEST_F(ONNXImportTest, LargeTensorsBecomeResourceBlobsWithTheSameBytes) {
  std::vector<float> values = randomFloats(4 * kMaxInlineElements);
  for (bool raw : {true, false}) {
    // Shared ownership lets the blob point into the tensor's own bytes.
    auto tensor = std::make_shared<onnx::TensorProto>(
        floatTensor("expert.w1", {4, kMaxInlineElements}, values, raw));
    ElementsAttr attr = import(*tensor, raw ? tensor : nullptr);
    tensor.reset(); // The blob keeps the bytes alive.
    ASSERT_TRUE(attr) << lastError;
    auto blob = dyn_cast<DenseF32ResourceElementsAttr>(attr);
    ASSERT_TRUE(blob) << "expected dense_resource";
    auto data = blob.tryGetAsArrayRef();
    ASSERT_TRUE(data.has_value());
    EXPECT_EQ(std::vector<float>(data->begin(), data->end()), values);
  }
}

TEST_F(ONNXImportTest, DataShorterOrLongerThanTheShapeIsRefused) {
  std::vector<float> values = randomFloats(5);
  EXPECT_FALSE(import(floatTensor("w", {2, 3}, values, /*raw=*/true)));
  EXPECT_NE(lastError.find("'w' has 20 bytes of data, but shape [2x3] of "
                           "FLOAT needs 24"),
            std::string::npos)
      << lastError;
  values = randomFloats(7);
  EXPECT_FALSE(import(floatTensor("w", {2, 3}, values, /*raw=*/false)));
  EXPECT_NE(lastError.find("needs 24"), std::string::npos) << lastError;
}

TEST_F(ONNXImportTest, TypedFieldsOfOtherElementTypes) {
  onnx::TensorProto ints;
  ints.set_data_type(onnx::TensorProto::INT64);
  ints.add_dims(3);
  for (int64_t v : {int64_t(-7), int64_t(0), int64_t(1) << 40})
    ints.add_int64_data(v);
  ElementsAttr attr = import(ints);
  ASSERT_TRUE(attr) << lastError;
  EXPECT_EQ(NodeContext::constantInts(Value()), std::nullopt);
  auto dense = cast<DenseIntElementsAttr>(attr);
  EXPECT_EQ(dense.getValues<int64_t>()[2], int64_t(1) << 40);

  onnx::TensorProto bools;
  bools.set_data_type(onnx::TensorProto::BOOL);
  bools.add_dims(3);
  for (int v : {1, 0, 1})
    bools.add_int32_data(v);
  attr = import(bools);
  ASSERT_TRUE(attr) << lastError;
  EXPECT_TRUE(attr.getElementType().isInteger(1));
  EXPECT_EQ(cast<DenseIntElementsAttr>(attr).getValues<bool>()[1], false);

  onnx::TensorProto bytes;
  bytes.set_data_type(onnx::TensorProto::UINT8);
  bytes.add_dims(2);
  bytes.set_raw_data(std::string("\xff\x01", 2));
  attr = import(bytes);
  ASSERT_TRUE(attr) << lastError;
  EXPECT_TRUE(attr.getElementType().isUnsignedInteger(8));
  EXPECT_EQ(cast<DenseIntElementsAttr>(attr).getValues<uint8_t>()[0], 255);

  onnx::TensorProto strings;
  strings.set_name("s");
  strings.set_data_type(onnx::TensorProto::STRING);
  EXPECT_FALSE(import(strings));
  EXPECT_NE(lastError.find("unsupported data type STRING"), std::string::npos);
}

TEST_F(ONNXImportTest, ExternalDataIsReadAtItsOffset) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("onnx-ext", dir));
  llvm::SmallString<128> weights(dir);
  llvm::sys::path::append(weights, "weights.bin");
  std::vector<float> values = randomFloats(2 * kMaxInlineElements);
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(weights, ec);
    ASSERT_FALSE(ec);
    out << "pad!"; // 4 bytes before the tensor.
    out.write(reinterpret_cast<const char *>(values.data()),
              values.size() * sizeof(float));
  }
  llvm::SmallString<128> modelPath(dir);
  llvm::sys::path::append(modelPath, "model.onnx");
  state.modelPath = modelPath.str().str();

  auto external = [&](llvm::StringRef offset, llvm::StringRef length) {
    onnx::TensorProto tensor;
    tensor.set_name("w");
    tensor.set_data_type(onnx::TensorProto::FLOAT);
    tensor.add_dims(2);
    tensor.add_dims(kMaxInlineElements);
    tensor.set_data_location(onnx::TensorProto::EXTERNAL);
    auto add = [&](llvm::StringRef key, llvm::StringRef value) {
      auto *entry = tensor.add_external_data();
      entry->set_key(key.str());
      entry->set_value(value.str());
    };
    add("location", "weights.bin");
    add("offset", offset);
    if (!length.empty())
      add("length", length);
    return tensor;
  };
  std::string length = std::to_string(values.size() * sizeof(float));
  ElementsAttr attr = import(external("4", length));
  ASSERT_TRUE(attr) << lastError;
  auto data = cast<DenseF32ResourceElementsAttr>(attr).tryGetAsArrayRef();
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(std::vector<float>(data->begin(), data->end()), values);

  // No length: to the end of the file.
  EXPECT_TRUE(import(external("4", "")));
  EXPECT_FALSE(import(external("8", length)));
  EXPECT_NE(lastError.find("lies beyond the end"), std::string::npos)
      << lastError;
  EXPECT_FALSE(import(external("x", length)));
  EXPECT_NE(lastError.find("is not a number"), std::string::npos);
  llvm::sys::fs::remove_directories(dir);
}

TEST_F(ONNXImportTest, SymbolicDimensionsAreDynamicAndNamed) {
  onnx::TypeProto type;
  auto *tensor = type.mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::BFLOAT16);
  tensor->mutable_shape()->add_dim()->set_dim_param("batch");
  tensor->mutable_shape()->add_dim()->set_dim_value(64);
  tensor->mutable_shape()->add_dim(); // Neither value nor name.
  llvm::SmallVector<std::string> params;
  FailureOr<RankedTensorType> result = tensorTypeFromProto(
      type, &context, "x", [&] { return state.emitModelError(); }, &params);
  ASSERT_TRUE(succeeded(result));
  EXPECT_EQ(*result, RankedTensorType::get(
                         {ShapedType::kDynamic, 64, ShapedType::kDynamic},
                         BFloat16Type::get(&context)));
  EXPECT_EQ(params, (llvm::SmallVector<std::string>{"batch", "", ""}));
}

TEST_F(ONNXImportTest, SignatureCarriesONNXNames) {
  OwningOpRef<ModuleOp> module = importONNXModel(
      R"(<ir_version: 8, opset_import: ["" : 17]>
         g (float[T, 4] hidden, int64[3] k) => (float[T, 4] hidden, int64[3] k) {})",
      "sig.onnxtxt", &context);
  ASSERT_TRUE(module);
  auto func = cast<func::FuncOp>(module->getBody()->front());
  EXPECT_EQ(func.getName(), "main_graph");
  EXPECT_EQ(func.getArgAttrOfType<StringAttr>(0, "onnx.name").getValue(),
            "hidden");
  auto params = func.getArgAttrOfType<ArrayAttr>(0, "onnx.dim_params");
  ASSERT_TRUE(params);
  EXPECT_EQ(cast<StringAttr>(params[0]).getValue(), "T");
  EXPECT_FALSE(func.getArgAttr(1, "onnx.dim_params"));
  EXPECT_EQ(func.getResultAttrOfType<StringAttr>(1, "onnx.name").getValue(),
            "k");
}

} // namespace
