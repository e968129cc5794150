//===- DialectTest.cpp - moe attribute and op unit tests ------------------===//

#include "moe/Dialect/MoE/IR/MoE.h"
#include "moe/InitAll.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::moe;

TEST(MoEDialect, RoutingAttrDefaults) {
  MLIRContext context;
  context.loadDialect<MoEDialect>();
  Attribute attr = parseAttribute("#moe.routing<k = 2>", &context);
  auto routing = dyn_cast_or_null<RoutingAttr>(attr);
  ASSERT_TRUE(routing);
  EXPECT_EQ(routing.getK(), 2u);
  EXPECT_EQ(routing.getScore(), ScoreFunction::softmax);
  EXPECT_FALSE(routing.getRenormalize());
  EXPECT_EQ(routing.getScale(), 1.0);
  EXPECT_FALSE(routing.isDynamicK());
}
