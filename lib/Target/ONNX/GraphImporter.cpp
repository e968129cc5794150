//===- GraphImporter.cpp - an ONNX graph as one func.func -----------------===//
//
// Checks the graph's structure (unique producers, no dangling inputs, no
// cycles), imports initializers as constants, converts the nodes in
// topological order through the converter table, and returns the graph
// outputs. Graph input and output names become `onnx.name` argument and
// result attributes; symbolic dimensions are recorded as `onnx.dim_params`.
//
//===----------------------------------------------------------------------===//

#include "moe/Target/ONNX/ONNXImport.h"

#include "ImportState.h"
#include "ModelReader.h"
#include "OpConverters.h"
#include "TypeImport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Verifier.h"
#include "moe/Dialect/MoE/IR/MoE.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"

#include <deque>

namespace mlir::moe {

using namespace onnx_import;

void registerONNXImportDialects(DialectRegistry &registry) {
  registry.insert<arith::ArithDialect, bufferization::BufferizationDialect,
                  func::FuncDialect, linalg::LinalgDialect, math::MathDialect,
                  scf::SCFDialect, tensor::TensorDialect, MoEDialect>();
}

namespace {

class GraphImporter {
public:
  GraphImporter(MLIRContext *ctx, llvm::StringRef path,
                std::shared_ptr<onnx::ModelProto> model,
                const ONNXImportOptions &options)
      : state(ctx, path.str()), model(*model), mutableModel(model.get()),
        options(options) {
    state.model = std::move(model);
  }

  OwningOpRef<ModuleOp> run();

private:
  const onnx::GraphProto &graph() const { return model.graph(); }
  std::string displayName(int nodeIndex) const;
  LogicalResult readOpsets();
  void readInferredTypes();
  LogicalResult importInitializers(func::FuncOp func);
  LogicalResult importWeightArgument(func::FuncOp func,
                                     const onnx::TensorProto &tensor,
                                     bool &isWeight);
  FailureOr<llvm::SmallVector<int>> topologicalOrder();
  LogicalResult convertNode(int nodeIndex);
  LogicalResult buildReturn(func::FuncOp func);

  ImportState state;
  const onnx::ModelProto &model;
  /// Shape inference adds value_info to the model.
  onnx::ModelProto *mutableModel;
  const ONNXImportOptions &options;
  /// Names of graph inputs and initializers: values that exist up front.
  llvm::StringSet<> available;
};

} // namespace

std::string GraphImporter::displayName(int nodeIndex) const {
  const onnx::NodeProto &node = graph().node(nodeIndex);
  if (!node.name().empty())
    return node.name();
  // Unnamed nodes: their position and first output identify them.
  std::string name = "#" + std::to_string(nodeIndex);
  if (node.output_size() > 0)
    name += ":" + node.output(0);
  return name;
}

LogicalResult GraphImporter::readOpsets() {
  for (const onnx::OperatorSetIdProto &opset : model.opset_import()) {
    std::string domain = opset.domain() == "ai.onnx" ? "" : opset.domain();
    state.opsets[domain] = opset.version();
  }
  if (state.opsets.count(""))
    return success();
  for (const onnx::NodeProto &node : graph().node())
    if (isDefaultDomain(node.domain()))
      return state.emitModelError()
             << "the model imports no ai.onnx opset, but node '" << node.name()
             << "' (" << node.op_type() << ") needs one";
  return success();
}

void GraphImporter::readInferredTypes() {
  auto record = [&](const onnx::ValueInfoProto &info) {
    const onnx::TypeProto &type = info.type();
    if (!type.has_tensor_type() || !type.tensor_type().has_shape())
      return;
    Type elementType =
        elementTypeFromONNX(type.tensor_type().elem_type(), state.ctx);
    if (!elementType)
      return;
    llvm::SmallVector<int64_t> shape;
    for (const auto &dim : type.tensor_type().shape().dim())
      shape.push_back(dim.has_dim_value() && dim.dim_value() >= 0
                          ? dim.dim_value()
                          : ShapedType::kDynamic);
    state.inferredTypes[info.name()] =
        RankedTensorType::get(shape, elementType);
  };
  for (const onnx::ValueInfoProto &info : graph().value_info())
    record(info);
  for (const onnx::ValueInfoProto &info : graph().output())
    record(info);
}

/// An initializer of at least options.externalWeightMinBytes becomes a
/// trailing argument of `func` (`isWeight`): its data is never read, so the
/// compiled model neither embeds it nor needs the file that holds it.
LogicalResult GraphImporter::importWeightArgument(
    func::FuncOp func, const onnx::TensorProto &tensor, bool &isWeight) {
  isWeight = false;
  if (options.externalWeightMinBytes < 0)
    return success();
  Type elementType = elementTypeFromONNX(tensor.data_type(), state.ctx);
  if (!elementType)
    return state.emitModelError()
           << "initializer '" << tensor.name() << "' has unsupported data type "
           << onnxDataTypeName(tensor.data_type());
  llvm::SmallVector<int64_t> shape;
  uint64_t bytes = std::max(1u, elementType.getIntOrFloatBitWidth() / 8);
  for (int64_t dim : tensor.dims()) {
    if (dim < 0 || (dim != 0 && bytes > UINT64_MAX / uint64_t(dim)))
      return state.emitModelError()
             << "initializer '" << tensor.name() << "' has an invalid shape";
    bytes *= uint64_t(dim);
    shape.push_back(dim);
  }
  if (bytes < uint64_t(options.externalWeightMinBytes))
    return success();
  Location loc =
      NameLoc::get(StringAttr::get(state.ctx, tensor.name()), state.fileLoc());
  unsigned index = func.getNumArguments();
  Builder b(state.ctx);
  if (failed(func.insertArgument(
          index, RankedTensorType::get(shape, elementType),
          b.getDictionaryAttr(
              {b.getNamedAttr("onnx.name", b.getStringAttr(tensor.name())),
               b.getNamedAttr(kWeightArgAttrName, b.getUnitAttr())}),
          loc)))
    return failure();
  state.values[tensor.name()] = func.getArgument(index);
  isWeight = true;
  return success();
}

LogicalResult GraphImporter::importInitializers(func::FuncOp func) {
  if (graph().sparse_initializer_size() > 0)
    return state.emitModelError()
           << "sparse initializers are not supported (first: '"
           << graph().sparse_initializer(0).values().name() << "')";
  for (const onnx::TensorProto &tensor : graph().initializer()) {
    if (state.values.count(tensor.name()))
      return state.emitModelError()
             << "two initializers are named '" << tensor.name() << "'";
    bool isWeight;
    if (failed(importWeightArgument(func, tensor, isWeight)))
      return failure();
    if (isWeight) {
      available.insert(tensor.name());
      continue;
    }
    FailureOr<ElementsAttr> value = importTensor(
        tensor, state, [&] { return state.emitModelError() << "initializer "; },
        /*bytesOwner=*/state.model);
    if (failed(value))
      return failure();
    Location loc = NameLoc::get(StringAttr::get(state.ctx, tensor.name()),
                                state.fileLoc());
    state.values[tensor.name()] =
        arith::ConstantOp::create(state.builder, loc, *value);
    available.insert(tensor.name());
  }
  return success();
}

FailureOr<llvm::SmallVector<int>> GraphImporter::topologicalOrder() {
  int numNodes = graph().node_size();
  llvm::StringMap<int> producer;
  for (int i = 0; i < numNodes; ++i) {
    for (const std::string &output : graph().node(i).output()) {
      if (output.empty())
        continue;
      if (available.contains(output))
        return state.emitModelError()
               << "node '" << displayName(i) << "' ("
               << graph().node(i).op_type() << ") writes '" << output
               << "', which is already a graph input or initializer";
      auto [it, inserted] = producer.try_emplace(output, i);
      if (!inserted)
        return state.emitModelError()
               << "value '" << output << "' is produced by both node '"
               << displayName(it->second) << "' and node '" << displayName(i)
               << "'";
    }
  }

  // Kahn's algorithm, keeping the file's order among ready nodes.
  std::vector<llvm::SmallVector<int>> users(numNodes);
  std::vector<int> pending(numNodes, 0);
  for (int i = 0; i < numNodes; ++i) {
    const onnx::NodeProto &node = graph().node(i);
    for (const onnx::AttributeProto &attr : node.attribute())
      if (attr.has_g() || attr.graphs_size() > 0)
        return state.emitModelError()
               << "node '" << displayName(i) << "' (" << node.op_type()
               << ") has a subgraph attribute '" << attr.name()
               << "'; control flow is not supported";
    for (const std::string &input : node.input()) {
      if (input.empty() || available.contains(input))
        continue;
      auto it = producer.find(input);
      if (it == producer.end())
        return state.emitModelError()
               << "node '" << displayName(i) << "' (" << node.op_type()
               << "): input '" << input
               << "' is not a graph input, an initializer or the output of "
                  "any node (dangling input)";
      users[it->second].push_back(i);
      ++pending[i];
    }
  }
  std::deque<int> ready;
  for (int i = 0; i < numNodes; ++i)
    if (pending[i] == 0)
      ready.push_back(i);
  llvm::SmallVector<int> order;
  while (!ready.empty()) {
    int next = ready.front();
    ready.pop_front();
    order.push_back(next);
    for (int user : users[next])
      if (--pending[user] == 0)
        ready.push_back(user);
  }
  if (static_cast<int>(order.size()) == numNodes)
    return order;

  // Walk back along unfinished producers until a node repeats: it lies on a
  // cycle (every unfinished node waits on another unfinished node).
  int node =
      llvm::find_if(pending, [](int p) { return p > 0; }) - pending.begin();
  llvm::DenseSet<int> seen;
  while (seen.insert(node).second) {
    for (const std::string &input : graph().node(node).input()) {
      auto it = producer.find(input);
      if (it != producer.end() && pending[it->second] > 0) {
        node = it->second;
        break;
      }
    }
  }
  return state.emitModelError()
         << "the graph has a cycle through node '" << displayName(node) << "' ("
         << graph().node(node).op_type() << ")";
}

LogicalResult GraphImporter::convertNode(int nodeIndex) {
  const onnx::NodeProto &node = graph().node(nodeIndex);
  NodeContext ctx(state, node, displayName(nodeIndex));
  OpConverter convert =
      ConverterTable::get().lookup(node.domain(), node.op_type());
  if (!convert)
    return ctx.emitError() << "unsupported operator (opset " << ctx.opset()
                           << "); docs/ONNXImport.md lists what is supported";
  if (failed(convert(ctx)))
    return failure();
  if (!ctx.allResultsSet())
    return ctx.error("internal error: the converter bound no value to an "
                     "output");
  return success();
}

static void setNameAttrs(func::FuncOp func, bool isResult, unsigned index,
                         llvm::StringRef name,
                         llvm::ArrayRef<std::string> dimParams) {
  Builder b(func.getContext());
  auto set = [&](llvm::StringRef attr, Attribute value) {
    if (isResult)
      func.setResultAttr(index, attr, value);
    else
      func.setArgAttr(index, attr, value);
  };
  set("onnx.name", b.getStringAttr(name));
  if (llvm::any_of(dimParams, [](const std::string &p) { return !p.empty(); }))
    set("onnx.dim_params", b.getStrArrayAttr(llvm::SmallVector<llvm::StringRef>(
                               dimParams.begin(), dimParams.end())));
}

LogicalResult GraphImporter::buildReturn(func::FuncOp func) {
  llvm::SmallVector<Value> results;
  llvm::SmallVector<llvm::SmallVector<std::string>> dimParams;
  for (const onnx::ValueInfoProto &output : graph().output()) {
    Value value = state.values.lookup(output.name());
    if (!value)
      return state.emitModelError()
             << "graph output '" << output.name()
             << "' is not produced by any node, input or initializer";
    auto type = cast<RankedTensorType>(value.getType());
    dimParams.emplace_back();
    const onnx::TypeProto &declared = output.type();
    if (declared.has_tensor_type() && declared.tensor_type().elem_type() != 0) {
      Type elementType =
          elementTypeFromONNX(declared.tensor_type().elem_type(), state.ctx);
      if (elementType != type.getElementType())
        return state.emitModelError()
               << "graph output '" << output.name() << "' is declared as "
               << onnxDataTypeName(declared.tensor_type().elem_type())
               << " but computes " << type;
      if (declared.tensor_type().has_shape()) {
        for (const auto &dim : declared.tensor_type().shape().dim())
          dimParams.back().push_back(dim.dim_param());
        if (static_cast<int64_t>(dimParams.back().size()) != type.getRank())
          return state.emitModelError()
                 << "graph output '" << output.name() << "' is declared with "
                 << "rank " << dimParams.back().size() << " but computes "
                 << type;
      }
    }
    results.push_back(value);
  }
  Location loc = state.fileLoc();
  func::ReturnOp::create(state.builder, loc, results);
  func.setFunctionType(state.builder.getFunctionType(
      func.getArgumentTypes(), ValueRange(results).getTypes()));
  for (auto [index, output] : llvm::enumerate(graph().output()))
    setNameAttrs(func, /*isResult=*/true, index, output.name(),
                 dimParams[index]);
  return success();
}

OwningOpRef<ModuleOp> GraphImporter::run() {
  MLIRContext *ctx = state.ctx;
  OpBuilder &b = state.builder;
  Location loc = state.fileLoc();
  if (failed(readOpsets()))
    return nullptr;

  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  module->getOperation()->setAttr("onnx.ir_version",
                                  b.getI64IntegerAttr(model.ir_version()));
  if (!model.producer_name().empty())
    module->getOperation()->setAttr(
        "onnx.producer", b.getStringAttr(model.producer_name() + " " +
                                         model.producer_version()));
  llvm::SmallVector<NamedAttribute> opsets;
  for (auto &[domain, version] : state.opsets)
    opsets.emplace_back(b.getStringAttr(domain.empty() ? "ai.onnx" : domain),
                        b.getI64IntegerAttr(version));
  module->getOperation()->setAttr("onnx.opset_import",
                                  b.getDictionaryAttr(opsets));

  // Graph inputs that are also initializers (IR < 4 style) are constants.
  llvm::StringSet<> initializerNames;
  for (const onnx::TensorProto &tensor : graph().initializer())
    initializerNames.insert(tensor.name());
  llvm::SmallVector<Type> argTypes;
  llvm::SmallVector<const onnx::ValueInfoProto *> args;
  llvm::SmallVector<llvm::SmallVector<std::string>> argDimParams;
  for (const onnx::ValueInfoProto &input : graph().input()) {
    if (initializerNames.contains(input.name()))
      continue;
    argDimParams.emplace_back();
    FailureOr<RankedTensorType> type = tensorTypeFromProto(
        input.type(), ctx, "graph input '" + input.name() + "'",
        [&] { return state.emitModelError(); }, &argDimParams.back());
    if (failed(type))
      return nullptr;
    argTypes.push_back(*type);
    args.push_back(&input);
  }

  b.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(b, loc, options.functionName,
                                   b.getFunctionType(argTypes, {}));
  Block *body = func.addEntryBlock();
  for (auto [index, input] : llvm::enumerate(args)) {
    if (!state.values.try_emplace(input->name(), body->getArgument(index))
             .second) {
      state.emitModelError()
          << "two graph inputs are named '" << input->name() << "'";
      return nullptr;
    }
    available.insert(input->name());
    setNameAttrs(func, /*isResult=*/false, index, input->name(),
                 argDimParams[index]);
  }

  b.setInsertionPointToStart(body);
  if (failed(importInitializers(func)))
    return nullptr;
  FailureOr<llvm::SmallVector<int>> order = topologicalOrder();
  if (failed(order))
    return nullptr;
  // Shape inference only on a structurally sound graph; its types are hints
  // (NodeContext::setResult), our own typing decides.
  if (options.runShapeInference) {
    (void)inferShapes(*mutableModel);
    readInferredTypes();
  }
  for (int nodeIndex : *order)
    if (failed(convertNode(nodeIndex)))
      return nullptr;
  if (failed(buildReturn(func)))
    return nullptr;
  if (failed(verify(*module))) {
    state.emitModelError() << "internal error: the imported IR does not "
                              "verify (see the diagnostics above)";
    return nullptr;
  }
  return module;
}

OwningOpRef<ModuleOp> importONNXModel(llvm::StringRef bytes,
                                      llvm::StringRef path, MLIRContext *ctx,
                                      const ONNXImportOptions &options) {
  DialectRegistry registry;
  registerONNXImportDialects(registry);
  ctx->appendDialectRegistry(registry);
  ctx->loadAllAvailableDialects();

  llvm::Expected<std::shared_ptr<onnx::ModelProto>> model = parseModel(bytes);
  if (!model) {
    emitError(FileLineColLoc::get(ctx, path, 0, 0))
        << llvm::toString(model.takeError());
    return nullptr;
  }
  return GraphImporter(ctx, path, std::move(*model), options).run();
}

OwningOpRef<ModuleOp> importONNXFile(llvm::StringRef path, MLIRContext *ctx,
                                     const ONNXImportOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(FileLineColLoc::get(ctx, path, 0, 0))
        << "cannot read the file: " << buffer.getError().message();
    return nullptr;
  }
  return importONNXModel((*buffer)->getBuffer(), path, ctx, options);
}

} // namespace mlir::moe
