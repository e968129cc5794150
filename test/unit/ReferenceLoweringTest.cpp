//===- ReferenceLoweringTest.cpp - execute the reference lowering ---------===//
//
// Compiles a small moe.layer with the moe-reference-to-llvm pipeline, runs it
// with the ExecutionEngine and compares the output with an independent
// float64 implementation of the layer written here, for several routing
// configurations.
//
//===----------------------------------------------------------------------===//

#include "moe/Dialect/MoE/Transforms/Pipelines.h"
#include "moe/InitAll.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

using namespace mlir;

namespace {

constexpr int64_t kTokens = 5, kHidden = 6, kInter = 4;

/// One routing configuration under test.
struct RoutingCase {
  const char *name;
  int64_t experts, k;
  bool sigmoid, topkFirst, renormalize;
  double scale;
  /// Forces logits of experts 1 and 2 equal for every token.
  bool tie;
};

/// Row-major float tensor with a strided-memref view for the JIT.
template <int Rank>
struct Tensor {
  std::vector<float> data;
  StridedMemRefType<float, Rank> view;

  explicit Tensor(std::array<int64_t, Rank> shape) {
    int64_t size = 1;
    for (int64_t d : shape)
      size *= d;
    data.resize(size);
    view.basePtr = view.data = data.data();
    view.offset = 0;
    int64_t stride = 1;
    for (int d = Rank - 1; d >= 0; --d) {
      view.sizes[d] = shape[d];
      view.strides[d] = stride;
      stride *= shape[d];
    }
  }
};

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

/// float64 reference of the routing of one token: (expert, weight) pairs.
std::vector<std::pair<int64_t, double>> routeToken(const RoutingCase &c,
                                                   const float *logits) {
  std::vector<double> l(logits, logits + c.experts), p(c.experts);
  auto softmaxOf = [](std::vector<double> v) {
    double m = *std::max_element(v.begin(), v.end()), sum = 0;
    for (double &x : v)
      sum += (x = std::exp(x - m));
    for (double &x : v)
      x /= sum;
    return v;
  };
  if (c.sigmoid)
    std::transform(l.begin(), l.end(), p.begin(), sigmoid);
  else
    p = softmaxOf(l);
  const std::vector<double> &key = c.topkFirst ? l : p;
  std::vector<int64_t> order(c.experts);
  std::iota(order.begin(), order.end(), 0);
  // Descending key, ties to the lower expert index.
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return key[a] > key[b]; });
  order.resize(c.k);
  std::vector<double> w(c.k);
  for (int64_t j = 0; j < c.k; ++j)
    w[j] = p[order[j]];
  if (c.topkFirst && !c.sigmoid) {
    std::vector<double> selected(c.k);
    for (int64_t j = 0; j < c.k; ++j)
      selected[j] = l[order[j]];
    w = softmaxOf(selected);
  }
  if (c.renormalize) {
    double sum = std::accumulate(w.begin(), w.end(), 0.0);
    for (double &x : w)
      x /= sum;
  }
  std::vector<std::pair<int64_t, double>> result;
  for (int64_t j = 0; j < c.k; ++j)
    result.push_back({order[j], w[j] * c.scale});
  return result;
}

class ReferenceLoweringTest : public ::testing::TestWithParam<RoutingCase> {
protected:
  static void SetUpTestSuite() {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  }
};

/// The layer under test: silu experts with fc1 bias, gated by fc3.
std::string layerSource(const RoutingCase &c) {
  std::string routing = llvm::formatv(
      "#moe.routing<k = {0}, score = {1}, order = {2}, renormalize = {3}, "
      "scale = {4}>",
      c.k, c.sigmoid ? "sigmoid" : "softmax",
      c.topkFirst ? "topk_then_score" : "score_then_topk",
      c.renormalize ? "true" : "false", llvm::formatv("{0:f2}", c.scale));
  std::string x = llvm::formatv("tensor<{0}x{1}xf32>", kTokens, kHidden);
  std::string l = llvm::formatv("tensor<{0}x{1}xf32>", kTokens, c.experts);
  std::string w1 =
      llvm::formatv("tensor<{0}x{1}x{2}xf32>", c.experts, kInter, kHidden);
  std::string b1 = llvm::formatv("tensor<{0}x{1}xf32>", c.experts, kInter);
  std::string w2 =
      llvm::formatv("tensor<{0}x{1}x{2}xf32>", c.experts, kHidden, kInter);
  return llvm::formatv(R"mlir(
    func.func @layer(%x: {0}, %l: {1}, %w1: {2}, %b1: {3}, %w2: {4}, %w3: {2})
        -> {0} attributes {{llvm.emit_c_interface} {{
      %y = moe.layer %x, %l fc1(%w1, %b1) fc2(%w2) fc3(%w3)
             {{routing = {5}, activation = #moe.activation<kind = silu>}
             : ({0}, {1}, {2}, {3}, {4}, {2}) -> {0}
      return %y : {0}
    })mlir",
                       x, l, w1, b1, w2, routing)
      .str();
}

TEST_P(ReferenceLoweringTest, MatchesFloat64Layer) {
  const RoutingCase &c = GetParam();
  const int64_t e = c.experts;

  // Fresh random data each run; the seed is printed on failure.
  std::random_device device;
  unsigned seed = device();
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Tensor<2> x({kTokens, kHidden}), logits({kTokens, e}), out({kTokens, kHidden});
  Tensor<3> w1({e, kInter, kHidden}), w3({e, kInter, kHidden}),
      w2({e, kHidden, kInter});
  Tensor<2> b1({e, kInter});
  for (auto *data : {&x.data, &logits.data, &w1.data, &w3.data, &w2.data,
                     &b1.data})
    for (float &v : *data)
      v = normal(rng);
  if (c.tie)
    for (int64_t t = 0; t < kTokens; ++t)
      logits.data[t * e + 2] = logits.data[t * e + 1] =
          std::max({logits.data[t * e], logits.data[t * e + 1]}) + 1.0f;

  // Compile and run.
  DialectRegistry registry;
  moe::registerAllDialects(registry);
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(layerSource(c), &context);
  ASSERT_TRUE(module);
  PassManager pm(&context);
  moe::buildMoEReferenceToLLVMPipeline(pm);
  ASSERT_TRUE(succeeded(pm.run(*module)));
  ExecutionEngineOptions options;
  options.transformer = makeOptimizingTransformer(/*optLevel=*/0, 0, nullptr);
  auto engine = ExecutionEngine::create(*module, options);
  ASSERT_TRUE(static_cast<bool>(engine)) << llvm::toString(engine.takeError());
  // The C interface returns the result through a descriptor passed first;
  // the buffer is allocated by the compiled code.
  StridedMemRefType<float, 2> result{};
  void *rp = &result, *xp = &x.view, *lp = &logits.view, *w1p = &w1.view,
       *b1p = &b1.view, *w2p = &w2.view, *w3p = &w3.view;
  SmallVector<void *> args = {&rp, &xp, &lp, &w1p, &b1p, &w2p, &w3p};
  llvm::Error error = (*engine)->invokePacked("_mlir_ciface_layer", args);
  ASSERT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));
  ASSERT_EQ(result.sizes[0], kTokens);
  ASSERT_EQ(result.sizes[1], kHidden);
  for (int64_t t = 0; t < kTokens; ++t)
    for (int64_t j = 0; j < kHidden; ++j)
      out.data[t * kHidden + j] =
          result.data[result.offset + t * result.strides[0] +
                      j * result.strides[1]];
  free(result.basePtr);

  // Independent float64 reference.
  for (int64_t t = 0; t < kTokens; ++t) {
    std::vector<double> expected(kHidden, 0.0);
    for (auto [expert, weight] : routeToken(c, &logits.data[t * e])) {
      std::vector<double> a(kInter);
      for (int64_t i = 0; i < kInter; ++i) {
        double h = b1.data[expert * kInter + i], g = 0;
        for (int64_t j = 0; j < kHidden; ++j) {
          h += double(w1.data[(expert * kInter + i) * kHidden + j]) *
               x.data[t * kHidden + j];
          g += double(w3.data[(expert * kInter + i) * kHidden + j]) *
               x.data[t * kHidden + j];
        }
        a[i] = h * sigmoid(h) * g;
      }
      for (int64_t j = 0; j < kHidden; ++j)
        for (int64_t i = 0; i < kInter; ++i)
          expected[j] +=
              weight * w2.data[(expert * kHidden + j) * kInter + i] * a[i];
    }
    for (int64_t j = 0; j < kHidden; ++j)
      EXPECT_NEAR(out.data[t * kHidden + j], expected[j],
                  1e-4 * (1.0 + std::abs(expected[j])))
          << "token " << t << " column " << j;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Routing, ReferenceLoweringTest,
    ::testing::Values(
        // name, E, k, sigmoid, topk first, renormalize, scale, tie
        RoutingCase{"softmax_k2", 4, 2, false, false, false, 1.0, false},
        RoutingCase{"softmax_k2_renorm", 4, 2, false, false, true, 1.0, false},
        RoutingCase{"softmax_topk_first", 4, 2, false, true, false, 1.0, false},
        RoutingCase{"sigmoid_k2", 4, 2, true, false, false, 1.0, false},
        RoutingCase{"sigmoid_renorm_scaled", 4, 2, true, false, true, 2.5,
                    false},
        RoutingCase{"k1", 4, 1, false, false, false, 1.0, false},
        RoutingCase{"k1_renorm", 4, 1, false, false, true, 1.0, false},
        RoutingCase{"k_equals_e", 4, 4, false, false, false, 1.0, false},
        RoutingCase{"k_equals_e_renorm", 4, 4, false, false, true, 1.0, false},
        RoutingCase{"tie_lower_index_wins", 4, 1, false, false, false, 1.0,
                    true},
        RoutingCase{"tie_topk_first", 4, 1, false, true, false, 1.0, true}),
    [](const testing::TestParamInfo<RoutingCase> &info) {
      return std::string(info.param.name);
    });

} // namespace
