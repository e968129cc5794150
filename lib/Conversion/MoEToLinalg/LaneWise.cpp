//===- LaneWise.cpp - scalar bodies applied lane-wise to vectors ----------===//

#include "LaneWise.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OpDefinition.h"

using namespace mlir;

Value mlir::moe::applyLaneWise(
    OpBuilder &b, Location loc, ValueRange vectors,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto vectorType = cast<VectorType>(vectors.front().getType());
  // The scalar body, built in a scratch block that is never attached.
  Block scratch;
  for (Value v : vectors)
    scratch.addArgument(cast<VectorType>(v.getType()).getElementType(), loc);
  OpBuilder scalar(b.getContext());
  scalar.setInsertionPointToEnd(&scratch);
  Value result = body(scalar, loc, scratch.getArguments());

  IRMapping mapping;
  mapping.map(scratch.getArguments(), vectors);
  auto lanes = [&](Type scalarType) {
    return VectorType::get(vectorType.getShape(), scalarType);
  };
  for (Operation &op : scratch) {
    Value replayed;
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      replayed = arith::ConstantOp::create(
          b, op.getLoc(),
          DenseElementsAttr::get(lanes(constant.getType()),
                                 Attribute(constant.getValue())));
    } else {
      assert(op.hasTrait<OpTrait::Elementwise>() && op.getNumResults() == 1 &&
             "lane-wise bodies are element-wise ops");
      OperationState state(op.getLoc(), op.getName());
      for (Value operand : op.getOperands())
        state.addOperands(mapping.lookup(operand));
      state.addTypes(lanes(op.getResult(0).getType()));
      state.addAttributes(op.getAttrs());
      replayed = b.create(state)->getResult(0);
    }
    mapping.map(op.getResult(0), replayed);
  }
  Value vectorResult = mapping.lookup(result);
  // Users come after their definitions: erasing backwards leaves no uses.
  while (!scratch.empty())
    scratch.back().erase();
  return vectorResult;
}
