//===- WarpTiles.cpp - warp-tile foralls as one-warp-per-tile kernels -----===//
//
// The warp GEMMs' tile loops are written for a whole warp per iteration
// (their vector ops are warp-level MMAs), which upstream's parallel-loop
// mapping (one thread per iteration) cannot express: each becomes a kernel
// with one block of 32 threads per tile, the forall's dimensions mapped to
// #gpu.warp<x|y|z> becoming the grid's x, y and z.
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

/// The grid dimension (0: x, 1: y, 2: z) of each of `forall`'s dimensions
/// when all are mapped to distinct warp ids; nullopt otherwise.
std::optional<SmallVector<int64_t>> warpGridDims(scf::ForallOp forall) {
  std::optional<ArrayAttr> mapping = forall.getMapping();
  if (!mapping || mapping->size() != size_t(forall.getRank()) ||
      !forall.getOutputs().empty())
    return std::nullopt;
  SmallVector<int64_t> dims;
  for (Attribute attr : *mapping) {
    auto warp = dyn_cast<gpu::GPUWarpMappingAttr>(attr);
    if (!warp || warp.getWarp() > gpu::MappingId::DimZ)
      return std::nullopt;
    int64_t dim = int64_t(warp.getWarp()) - int64_t(gpu::MappingId::DimX);
    if (llvm::is_contained(dims, dim))
      return std::nullopt;
    dims.push_back(dim);
  }
  return dims;
}

LogicalResult mapToKernel(scf::ForallOp forall) {
  if (!forall.isNormalized())
    return forall.emitError()
           << "moe-gpu-map-warp-tiles: expected a normalized scf.forall";
  OpBuilder b(forall);
  Location loc = forall.getLoc();
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value warp = arith::ConstantIndexOp::create(b, loc, kWarpSize);
  SmallVector<int64_t> dims = *warpGridDims(forall);
  SmallVector<Value> grid(3, one);
  for (auto [i, bound] : llvm::enumerate(forall.getMixedUpperBound()))
    grid[dims[i]] = getValueOrCreateConstantIndexOp(b, loc, bound);
  auto launch = gpu::LaunchOp::create(b, loc, grid[0], grid[1], grid[2], warp,
                                      one, one);
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  Value blockId[3] = {blockIds.x, blockIds.y, blockIds.z};
  IRMapping mapping;
  for (auto [i, dim] : llvm::enumerate(dims))
    mapping.map(forall.getInductionVar(i), blockId[dim]);
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
      if (warpGridDims(forall) && !forall->getParentOfType<gpu::LaunchOp>())
        loops.push_back(forall);
    });
    for (scf::ForallOp forall : loops)
      if (failed(mapToKernel(forall)))
        return signalPassFailure();
  }
};

} // namespace
