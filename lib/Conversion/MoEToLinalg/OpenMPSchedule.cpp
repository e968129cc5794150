//===- OpenMPSchedule.cpp - schedules of the OpenMP worksharing loops -----===//
//
// The tile loops of the CPU pipeline become omp.wsloop without a schedule
// clause, which libomp runs statically. This pass sets one (guided with a
// minimum chunk by default) so that the threads balance their shares at run
// time without asking libomp for many small chunks.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToLinalg/GroupedFFNToTiled.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOESETOMPSCHEDULE
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

namespace {
struct MoESetOMPSchedulePass
    : moe::impl::MoESetOMPScheduleBase<MoESetOMPSchedulePass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<omp::ClauseScheduleKind> schedule =
        llvm::StringSwitch<std::optional<omp::ClauseScheduleKind>>(kind)
            .Case("static", omp::ClauseScheduleKind::Static)
            .Case("dynamic", omp::ClauseScheduleKind::Dynamic)
            .Case("guided", omp::ClauseScheduleKind::Guided)
            .Default(std::nullopt);
    if (!schedule) {
      getOperation()->emitError() << "moe-set-omp-schedule: unknown kind '"
                                  << kind << "' (static, dynamic or guided)";
      return signalPassFailure();
    }
    if (chunk < 0) {
      getOperation()->emitError() << "moe-set-omp-schedule: negative chunk";
      return signalPassFailure();
    }
    getOperation()->walk([&](omp::WsloopOp loop) {
      if (loop.getScheduleKind())
        return;
      loop.setScheduleKind(schedule);
      if (chunk == 0)
        return;
      OpBuilder b(loop);
      loop.getScheduleChunkMutable().assign(arith::ConstantOp::create(
          b, loop.getLoc(), b.getI64IntegerAttr(chunk)));
    });
  }
};
} // namespace
