//===- DialectTest.cpp - moe attributes, verifiers and folds --------------===//

#include "moe/Dialect/MoE/IR/MoE.h"
#include "moe/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::moe;

namespace {

class MoEDialectTest : public ::testing::Test {
protected:
  MoEDialectTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  /// Parses an attribute, collecting diagnostics instead of printing them.
  Attribute parse(StringRef text) {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      lastError = d.str();
      return success();
    });
    return parseAttribute(text, &context);
  }

  /// Parses and verifies a module; returns the first diagnostic, or "".
  std::string verifyModule(StringRef text) {
    std::string error;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      if (error.empty())
        error = d.str();
      return success();
    });
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
    return module ? "" : (error.empty() ? "parse failed" : error);
  }

  std::string print(Attribute attr) {
    std::string text;
    llvm::raw_string_ostream os(text);
    attr.print(os);
    return text;
  }

  MLIRContext context;
  std::string lastError;
};

TEST_F(MoEDialectTest, RoutingDefaults) {
  auto routing = dyn_cast_or_null<RoutingAttr>(parse("#moe.routing<k = 2>"));
  ASSERT_TRUE(routing);
  EXPECT_EQ(routing.getK(), 2u);
  EXPECT_EQ(routing.getScore(), ScoreFunction::softmax);
  EXPECT_EQ(routing.getOrder(), RoutingOrder::score_then_topk);
  EXPECT_FALSE(routing.getRenormalize());
  EXPECT_EQ(routing.scaleValue(), 1.0);
  EXPECT_EQ(routing.getNGroups(), 1u);
  EXPECT_EQ(routing.getGroupScore(), GroupScore::max);
  EXPECT_FALSE(routing.isDynamicK());
  // Defaults are elided when printing.
  EXPECT_EQ(print(routing), "#moe.routing<k = 2>");
}

TEST_F(MoEDialectTest, RoutingDeepSeekFields) {
  auto routing = dyn_cast_or_null<RoutingAttr>(
      parse("#moe.routing<k = 8, score = sigmoid, renormalize = true, "
            "scale = 2.5, n_groups = 8, top_groups = 4, "
            "group_score = top2_sum>"));
  ASSERT_TRUE(routing);
  EXPECT_EQ(routing.getScore(), ScoreFunction::sigmoid);
  EXPECT_TRUE(routing.getRenormalize());
  EXPECT_EQ(routing.scaleValue(), 2.5);
  EXPECT_EQ(routing.getTopGroups(), 4u);
  EXPECT_EQ(routing.getGroupScore(), GroupScore::top2_sum);
}

TEST_F(MoEDialectTest, DoublesPrintShortestAndRoundTrip) {
  for (double value : {0.9, 1.702, 1e-7, 0.1234567891234, 7.0, 2.5e10}) {
    auto act = ActivationConfigAttr::get(
        &context, Activation::swiglu, SwigluLayout::interleaved,
        llvm::APFloat(value), llvm::APFloat(0.0),
        llvm::APFloat(std::numeric_limits<double>::infinity()));
    std::string text = print(act);
    auto reparsed = dyn_cast_or_null<ActivationConfigAttr>(parse(text));
    ASSERT_TRUE(reparsed) << text;
    EXPECT_EQ(reparsed.alphaValue(), value) << text;
  }
  EXPECT_EQ(print(parse("#moe.routing<k = 1, threshold = 0.9>")),
            "#moe.routing<k = 1, threshold = 0.9>");
}

TEST_F(MoEDialectTest, SwigluLimitDefaultsToNoClamp) {
  auto act = dyn_cast_or_null<ActivationConfigAttr>(
      parse("#moe.activation<kind = swiglu>"));
  ASSERT_TRUE(act);
  EXPECT_TRUE(std::isinf(act.limitValue()));
  EXPECT_EQ(act.fc1RowsPerUnit(), 2);
  auto silu = dyn_cast_or_null<ActivationConfigAttr>(
      parse("#moe.activation<kind = silu>"));
  ASSERT_TRUE(silu);
  EXPECT_EQ(silu.fc1RowsPerUnit(), 1);
}

TEST_F(MoEDialectTest, AttributeVerifiersReject) {
  EXPECT_FALSE(parse("#moe.routing<k = 0>"));
  EXPECT_NE(lastError.find("routing k must be at least 1"), std::string::npos);
  EXPECT_FALSE(parse("#moe.routing<k = 2, threshold = 2.0>"));
  EXPECT_NE(lastError.find("threshold"), std::string::npos);
  EXPECT_FALSE(parse("#moe.activation<kind = relu, beta = 1.0>"));
  EXPECT_NE(lastError.find("only apply to the swiglu"), std::string::npos);
}

TEST_F(MoEDialectTest, LayerVerifierChecksKAgainstExperts) {
  const char *layer = R"mlir(
    func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>,
                 %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf32>)
        -> tensor<4x8xf32> {
      %y = moe.layer %x, %l fc1(%w1) fc2(%w2)
             {routing = #moe.routing<k = K>,
              activation = #moe.activation<kind = relu>}
             : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>,
                tensor<3x8x16xf32>) -> tensor<4x8xf32>
      return %y : tensor<4x8xf32>
    })mlir";
  std::string ok = layer, bad = layer;
  ok.replace(ok.find("K>"), 1, "3");
  bad.replace(bad.find("K>"), 1, "4");
  EXPECT_EQ(verifyModule(ok), "");
  EXPECT_NE(verifyModule(bad).find("must not exceed the number of experts"),
            std::string::npos);
}

TEST_F(MoEDialectTest, DequantizeVerifierChecksPackedInt4) {
  // Packed int4: K = 8 values take 4 bytes per row.
  auto module = [](StringRef storage) {
    return (R"mlir(
      func.func @f(%q: )mlir" + storage + R"mlir(, %s: tensor<2xf32>) {
        %w = moe.dequantize %q, %s {bits = 4 : i64}
            : )mlir" + storage + R"mlir(, tensor<2xf32> -> tensor<2x8xf32>
        return
      })mlir").str();
  };
  EXPECT_EQ(verifyModule(module("tensor<2x4xui8>")), "");
  EXPECT_NE(verifyModule(module("tensor<2x8xui8>"))
                .find("ceil(K / 2) bytes for packed int4"),
            std::string::npos);
}

TEST_F(MoEDialectTest, SpecialExpertsWithOnlyNullsFoldToZeros) {
  const char *text = R"mlir(
    func.func @f(%r: tensor<4x2xf32>, %o: tensor<4xi32>) -> tensor<4x2xf32> {
      %y = moe.special_experts %r, %o {first_expert = 1 : i64, num_null = 2 : i64}
          : tensor<4x2xf32>, tensor<4xi32> -> tensor<4x2xf32>
      return %y : tensor<4x2xf32>
    })mlir";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
  ASSERT_TRUE(module);
  SpecialExpertsOp op;
  module->walk([&](SpecialExpertsOp found) { op = found; });
  ASSERT_TRUE(op);
  SmallVector<OpFoldResult> folded;
  ASSERT_TRUE(succeeded(op->fold(folded)));
  ASSERT_EQ(folded.size(), 1u);
  auto zeros = dyn_cast_or_null<DenseElementsAttr>(
      dyn_cast<Attribute>(folded.front()));
  ASSERT_TRUE(zeros && zeros.isSplat());
  EXPECT_EQ(zeros.getSplatValue<APFloat>().convertToDouble(), 0.0);
}

} // namespace
