//===- RoutingToDevicePass.cpp - the convert-moe-routing-to-device pass ---===//
//
// Applies the device lowerings of RoutingToDevice.cpp and
// DispatchToDevice.cpp. Dispatch is rewritten together with its combines
// (they need its histogram), so the pass walks the ops itself instead of
// running independent patterns.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToLinalg/RoutingToDevice.h"

namespace mlir::moe {
#define GEN_PASS_DEF_CONVERTMOEROUTINGTODEVICE
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct ConvertMoERoutingToDevicePass
    : moe::impl::ConvertMoERoutingToDeviceBase<ConvertMoERoutingToDevicePass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<RouteOp> routes;
    SmallVector<DispatchOp> dispatches;
    SmallVector<PermuteOp> permutes;
    getOperation()->walk([&](Operation *op) {
      if (auto route = dyn_cast<RouteOp>(op))
        routes.push_back(route);
      else if (auto dispatch = dyn_cast<DispatchOp>(op))
        dispatches.push_back(dispatch);
      else if (auto permute = dyn_cast<PermuteOp>(op))
        permutes.push_back(permute);
    });
    // A form a lowering does not take stays for the reference lowering.
    for (RouteOp route : routes) {
      rewriter.setInsertionPoint(route);
      FailureOr<SmallVector<Value>> results =
          lowerRouteToDevice(rewriter, route);
      if (succeeded(results))
        rewriter.replaceOp(route, *results);
    }
    for (DispatchOp dispatch : dispatches)
      (void)lowerDispatchToDevice(rewriter, dispatch);
    for (PermuteOp permute : permutes)
      (void)lowerPermuteToDevice(rewriter, permute);
  }
};

} // namespace
