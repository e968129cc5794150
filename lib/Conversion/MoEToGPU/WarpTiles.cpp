//===- WarpTiles.cpp - warp-tile foralls as one-warp-per-tile kernels -----===//
//
// The warp GEMMs' tile loops are written for a whole warp per iteration
// (their vector ops are warp-level MMAs), which upstream's parallel-loop
// mapping (one thread per iteration) cannot express: each becomes a kernel
// with one block of 32 threads per tile.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToGPU/MoEToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEGPUMAPWARPTILES
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

constexpr int64_t kWarpSize = 32;

bool isWarpTileLoop(scf::ForallOp forall) {
  std::optional<ArrayAttr> mapping = forall.getMapping();
  return mapping && mapping->size() == 1 &&
         isa<gpu::GPUWarpMappingAttr>((*mapping)[0]) &&
         forall.getRank() == 1 && forall.getOutputs().empty();
}

LogicalResult mapToKernel(scf::ForallOp forall) {
  if (!forall.isNormalized())
    return forall.emitError()
           << "moe-gpu-map-warp-tiles: expected a normalized scf.forall";
  OpBuilder b(forall);
  Location loc = forall.getLoc();
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value warp = arith::ConstantIndexOp::create(b, loc, kWarpSize);
  Value tiles = getValueOrCreateConstantIndexOp(
      b, loc, forall.getMixedUpperBound()[0]);
  auto launch =
      gpu::LaunchOp::create(b, loc, tiles, one, one, warp, one, one);
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  IRMapping mapping;
  mapping.map(forall.getInductionVar(0), launch.getBlockIds().x);
  for (Operation &op : forall.getBody()->without_terminator())
    b.clone(op, mapping);
  gpu::TerminatorOp::create(b, loc);
  forall.erase();
  return success();
}

struct MoEGPUMapWarpTilesPass
    : moe::impl::MoEGPUMapWarpTilesBase<MoEGPUMapWarpTilesPass> {
  void runOnOperation() override {
    SmallVector<scf::ForallOp> loops;
    getOperation().walk([&](scf::ForallOp forall) {
      if (isWarpTileLoop(forall) && !forall->getParentOfType<gpu::LaunchOp>())
        loops.push_back(forall);
    });
    for (scf::ForallOp forall : loops)
      if (failed(mapToKernel(forall)))
        return signalPassFailure();
  }
};

} // namespace
