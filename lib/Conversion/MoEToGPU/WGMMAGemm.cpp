//===- WGMMAGemm.cpp - warpgroup GEMMs as TMA + wgmma kernels -------------===//
//
// The marked generics of convert-moe-grouped-ffn-to-wgmma, after
// bufferisation, as kernels of one warpgroup per 64 x BN output tile:
//
//   block (t, nb), 128 threads; e = tileExperts[t] (surplus tiles exit)
//   thread 0: init one mbarrier per stage; issue the first stages' loads
//   for kb in 0 .. K/64:
//     s = kb % S; wait on mbarrier s (parity (kb / S) % 2)
//     4 x wgmma m64nBNk16: A = stage s's [64, 64] rows t*64.., columns kb*64..
//                          B = stage s's [BN, 64] weight rows e*M + nb*BN..
//     wait for block kb - 1's wgmmas (kb's stay in flight); barrier;
//     thread 0 refills block kb - 1's stage with block kb - 1 + S
//   wait for all wgmmas; accumulators -> out[t*64 .., nb*BN ..]
//
// Both operands are K-contiguous in global and shared memory (wgmma's
// K-major A and B), 128-byte swizzled by TMA: one 64-wide K step of 16-bit
// values is one swizzle row, and a k16 slice starts 32 bytes further into
// it. Upstream's nvgpu.warpgroup.mma steps B's descriptor for an MN-major
// B, so each k16 slice is one nvgpu.warpgroup.mma with descriptors of its
// own (generated from subviews at the slice's address).
//
// The TMA descriptors must be made on the host from the device buffers,
// which exist only after moe-gpu-offload: this pass leaves placeholders
// (pure casts, which the offload keeps on the host) and
// moe-gpu-tma-descriptors replaces them. The kernel gets each descriptor's
// device address as an i64.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToGPU/WGMMA.h"

#include "moe/Conversion/MoEToLinalg/GroupedFFNToWGMMA.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEGPUWGMMAGEMM
#define GEN_PASS_DEF_MOEGPUTMADESCRIPTORS
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

constexpr int64_t kWarpgroupThreads = 128;
constexpr int64_t kWGMMAK = 16;         // K of one wgmma (16-bit operands)
constexpr int64_t kSlicesPerBlock = 4;  // wgmmas per 64-wide K block
constexpr int64_t kMaxStages = 4;       // shared-memory ring depth
constexpr int64_t kSwizzleAlign = 1024; // a 128-byte swizzle pattern repeats
/// Try-wait hint of mbarrier.try_wait.parity (the op loops until done).
constexpr int64_t kWaitTicks = 10000000;

/// The operands of one marked generic.
struct WGMMAGemmOperands {
  Value a;           // [P, K] storage type (f16)
  Value w;           // [E, M, K] storage type
  Value tileExperts; // [P / tileRows] i32
  Value out;         // [P, M] f32
  int64_t tileRows = 0;
  Type operandType; // bf16 or f16
};

FailureOr<WGMMAGemmOperands> matchGemm(linalg::GenericOp generic) {
  auto attr = generic->getAttrOfType<DictionaryAttr>(kWGMMAGemmAttrName);
  auto tileRows = attr ? attr.getAs<IntegerAttr>("tile_rows") : IntegerAttr();
  auto operandType = attr ? attr.getAs<TypeAttr>("operand_type") : TypeAttr();
  if (!tileRows || !operandType || !generic.hasPureBufferSemantics() ||
      generic.getNumDpsInputs() != 1 || generic.getNumDpsInits() != 1)
    return generic.emitError()
           << "moe-gpu-wgmma-gemm: expected a bufferised generic with one "
              "input, one output and tile_rows/operand_type";
  WGMMAGemmOperands operands;
  operands.a = generic.getDpsInputOperand(0)->get();
  operands.out = generic.getDpsInitOperand(0)->get();
  operands.tileRows = tileRows.getInt();
  operands.operandType = operandType.getValue();
  // The weights and the tile experts are read inside the body.
  generic.getBody()->walk([&](memref::LoadOp load) {
    Value source = load.getMemref();
    if (generic->isAncestor(source.getParentRegion()->getParentOp()))
      return;
    int64_t rank = load.getMemRefType().getRank();
    if (rank == 3)
      operands.w = source;
    else if (rank == 1)
      operands.tileExperts = source;
  });
  if (!operands.w || !operands.tileExperts)
    return generic.emitError()
           << "moe-gpu-wgmma-gemm: the body reads no [E, M, K] weight or "
              "no tile schedule";
  auto aType = cast<MemRefType>(operands.a.getType());
  auto wType = cast<MemRefType>(operands.w.getType());
  if (!aType.getLayout().isIdentity() || !wType.getLayout().isIdentity() ||
      !wType.hasStaticShape() || aType.getRank() != 2 ||
      aType.isDynamicDim(1) || aType.getDimSize(1) != wType.getDimSize(2))
    return generic.emitError()
           << "moe-gpu-wgmma-gemm: operands must be contiguous, A [P, K] "
              "and W [E, M, K] with a static K";
  int64_t m = wType.getDimSize(1), k = wType.getDimSize(2);
  if (m % kWGMMAMinCols != 0 || k % kWGMMADepth != 0 || operands.tileRows != 64)
    return generic.emitError()
           << "moe-gpu-wgmma-gemm: M and K must be multiples of 64 and the "
              "tiles 64 rows";
  return operands;
}

/// `!nvgpu.tensormap.descriptor` of [rows, 64] boxes of `element` in shared
/// memory, 128-byte swizzle, zero fill.
nvgpu::TensorMapDescriptorType tensorMapType(MLIRContext *context, int64_t rows,
                                             Type element) {
  auto workgroup = gpu::AddressSpaceAttr::get(
      context, gpu::GPUDialect::getWorkgroupAddressSpace());
  auto box = MemRefType::get({rows, kWGMMADepth}, element,
                             MemRefLayoutAttrInterface(), workgroup);
  return nvgpu::TensorMapDescriptorType::get(
      context, box, nvgpu::TensorMapSwizzleKind::SWIZZLE_128B,
      nvgpu::TensorMapL2PromoKind::L2PROMO_NONE,
      nvgpu::TensorMapOOBKind::OOB_ZERO,
      nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
}

/// A placeholder of the TMA descriptor of `buffer` (made on the host by
/// moe-gpu-tma-descriptors): the descriptor's device address as an i64, the
/// kernel argument. (Not the descriptor type: the outlined kernel's
/// signature is converted before nvgpu's types are, and not a pointer
/// behind an unrealized cast: the canonicaliser would fold the kernel's
/// cast back to the host's descriptor.)
Value descriptorPlaceholder(OpBuilder &b, Location loc, Value buffer,
                            nvgpu::TensorMapDescriptorType type) {
  auto cast = UnrealizedConversionCastOp::create(
      b, loc, TypeRange{b.getI64Type()}, ValueRange{buffer});
  cast->setAttr(kTMADescriptorAttrName, TypeAttr::get(type));
  return cast.getResult(0);
}

Value index(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// The kernel of one marked generic, replacing it.
LogicalResult rewriteGemm(linalg::GenericOp generic) {
  FailureOr<WGMMAGemmOperands> matched = matchGemm(generic);
  if (failed(matched))
    return failure();
  WGMMAGemmOperands ops = *matched;
  MLIRContext *context = generic.getContext();
  OpBuilder b(generic);
  Location loc = generic.getLoc();

  auto wType = cast<MemRefType>(ops.w.getType());
  int64_t experts = wType.getDimSize(0), m = wType.getDimSize(1),
          depth = wType.getDimSize(2);
  int64_t blockCols = m % 128 == 0 ? 128 : 64;
  int64_t kBlocks = depth / kWGMMADepth;
  int64_t stages = std::min(kMaxStages, kBlocks);
  int64_t aBytes = ops.tileRows * kWGMMADepth * 2;
  int64_t bBytes = blockCols * kWGMMADepth * 2;
  int64_t stageBytes = aBytes + bBytes;
  // The ring plus room to align it to the swizzle pattern.
  int64_t sharedBytes = stages * stageBytes + kSwizzleAlign;

  Type element = ops.operandType;
  auto mapA = tensorMapType(context, ops.tileRows, element);
  auto mapB = tensorMapType(context, blockCols, element);

  // Host: the weights as a 2-D [E*M, K] view, the descriptor placeholders,
  // the grid.
  Value wFlat = memref::CollapseShapeOp::create(
      b, loc, ops.w, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
  Value descA = descriptorPlaceholder(b, loc, ops.a, mapA);
  Value descB = descriptorPlaceholder(b, loc, wFlat, mapB);
  Value paddedRows = memref::DimOp::create(b, loc, ops.a, 0);
  Value tiles =
      arith::DivUIOp::create(b, loc, paddedRows, index(b, loc, ops.tileRows));
  Value one = index(b, loc, 1);
  Value sharedSize = arith::ConstantIntOp::create(b, loc, sharedBytes, 32);
  auto launch =
      gpu::LaunchOp::create(b, loc, tiles, index(b, loc, m / blockCols), one,
                            index(b, loc, kWarpgroupThreads), one, one,
                            /*dynamicSharedMemorySize=*/sharedSize);
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(&body);

  Value c0 = index(b, loc, 0);
  Value tid = launch.getThreadIds().x;
  Value tile = launch.getBlockIds().x;
  Value columnBlock = launch.getBlockIds().y;
  Value expert = memref::LoadOp::create(b, loc, ops.tileExperts, tile);
  Value ffnTile =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, expert,
                            arith::ConstantIntOp::create(b, loc, experts, 32));
  auto ifTile = scf::IfOp::create(b, loc, ffnTile, /*withElse=*/false);
  b.setInsertionPointToStart(&ifTile.getThenRegion().front());

  Value e = arith::IndexCastOp::create(b, loc, b.getIndexType(), expert);
  auto descriptorOf = [&](Value address, Type type) -> Value {
    Value pointer = LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(context), address);
    return UnrealizedConversionCastOp::create(b, loc, TypeRange{type}, pointer)
        .getResult(0);
  };
  Value mapAValue = descriptorOf(descA, mapA);
  Value mapBValue = descriptorOf(descB, mapB);
  auto workgroup = gpu::AddressSpaceAttr::get(
      context, gpu::GPUDialect::getWorkgroupAddressSpace());
  auto barrierType =
      nvgpu::MBarrierGroupType::get(context, workgroup, unsigned(stages));
  Value barriers = nvgpu::MBarrierCreateOp::create(b, loc, barrierType);
  Value leader =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, c0);
  {
    auto init = scf::IfOp::create(b, loc, leader, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&init.getThenRegion().front());
    for (int64_t s = 0; s < stages; ++s)
      nvgpu::MBarrierInitOp::create(b, loc, barriers, one, index(b, loc, s),
                                    Value());
    // The initialised barriers visible to the TMA unit (async proxy).
    NVVM::FenceMbarrierInitOp::create(b, loc);
    nvgpu::TmaPrefetchOp::create(b, loc, mapAValue, Value());
    nvgpu::TmaPrefetchOp::create(b, loc, mapBValue, Value());
  }
  gpu::BarrierOp::create(b, loc);

  // The stages, 1024-byte aligned in the dynamic shared memory.
  auto bytesType = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                                   MemRefLayoutAttrInterface(), workgroup);
  Value shared = gpu::DynamicSharedMemoryOp::create(b, loc, bytesType);
  Value address =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, shared);
  Value align = index(b, loc, kSwizzleAlign);
  Value misalign = arith::RemUIOp::create(b, loc, address, align);
  Value shift = arith::RemUIOp::create(
      b, loc, arith::SubIOp::create(b, loc, align, misalign), align);
  auto aTileType = MemRefType::get({ops.tileRows, kWGMMADepth}, element,
                                   MemRefLayoutAttrInterface(), workgroup);
  auto bTileType = MemRefType::get({blockCols, kWGMMADepth}, element,
                                   MemRefLayoutAttrInterface(), workgroup);
  auto stageView = [&](OpBuilder &b, Value stage, int64_t offset,
                       MemRefType type) -> Value {
    Value byte = arith::AddIOp::create(
        b, loc, shift,
        arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(b, loc, stage, index(b, loc, stageBytes)),
            index(b, loc, offset)));
    return memref::ViewOp::create(b, loc, type, shared, byte, ValueRange{});
  };

  Value rowA = arith::MulIOp::create(b, loc, tile, index(b, loc, ops.tileRows));
  Value rowB = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, e, index(b, loc, m)),
      arith::MulIOp::create(b, loc, columnBlock, index(b, loc, blockCols)));
  Value txBytes = index(b, loc, stageBytes);
  // Thread 0 loads K block `kb` into stage `stage` (coordinates are
  // innermost first: column, then row).
  auto issue = [&](OpBuilder &b, Value kb, Value stage) {
    Value column =
        arith::MulIOp::create(b, loc, kb, index(b, loc, kWGMMADepth));
    nvgpu::MBarrierArriveExpectTxOp::create(b, loc, barriers, txBytes, stage,
                                            Value());
    nvgpu::TmaAsyncLoadOp::create(b, loc, stageView(b, stage, 0, aTileType),
                                  barriers, mapAValue, ValueRange{column, rowA},
                                  stage, Value(), Value());
    nvgpu::TmaAsyncLoadOp::create(
        b, loc, stageView(b, stage, aBytes, bTileType), barriers, mapBValue,
        ValueRange{column, rowB}, stage, Value(), Value());
  };
  {
    auto prologue = scf::IfOp::create(b, loc, leader, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&prologue.getThenRegion().front());
    for (int64_t s = 0; s < stages; ++s)
      issue(b, index(b, loc, s), index(b, loc, s));
  }

  auto accType = nvgpu::WarpgroupAccumulatorType::get(
      context, VectorType::get({ops.tileRows, blockCols}, b.getF32Type()));
  auto descTypeA = nvgpu::WarpgroupMatrixDescriptorType::get(
      context, MemRefType::get({ops.tileRows, kWGMMAK}, element,
                               MemRefLayoutAttrInterface(), workgroup));
  auto descTypeB = nvgpu::WarpgroupMatrixDescriptorType::get(
      context, MemRefType::get({kWGMMAK, blockCols}, element,
                               MemRefLayoutAttrInterface(), workgroup));
  Value acc0 = nvgpu::WarpgroupMmaInitAccumulatorOp::create(b, loc, accType);
  auto kLoop = scf::ForOp::create(
      b, loc, c0, index(b, loc, kBlocks), one, ValueRange{acc0},
      [&](OpBuilder &b, Location loc, Value kb, ValueRange args) {
        Value s = arith::RemUIOp::create(b, loc, kb, index(b, loc, stages));
        Value round = arith::DivUIOp::create(b, loc, kb, index(b, loc, stages));
        Value parity = arith::IndexCastOp::create(
            b, loc, b.getI1Type(),
            arith::RemUIOp::create(b, loc, round, index(b, loc, 2)));
        nvgpu::MBarrierTryWaitParityOp::create(b, loc, barriers, parity,
                                               index(b, loc, kWaitTicks), s);
        Value aTile = stageView(b, s, 0, aTileType);
        Value bTile = stageView(b, s, aBytes, bTileType);
        Value acc = args[0];
        for (int64_t j = 0; j < kSlicesPerBlock; ++j) {
          SmallVector<OpFoldResult> unit(2, b.getIndexAttr(1));
          Value aSlice = memref::SubViewOp::create(
              b, loc, aTile,
              ArrayRef<OpFoldResult>{b.getIndexAttr(0),
                                     b.getIndexAttr(j * kWGMMAK)},
              ArrayRef<OpFoldResult>{b.getIndexAttr(ops.tileRows),
                                     b.getIndexAttr(kWGMMAK)},
              unit);
          Value bSlice = memref::SubViewOp::create(
              b, loc, bTile,
              ArrayRef<OpFoldResult>{b.getIndexAttr(0),
                                     b.getIndexAttr(j * kWGMMAK)},
              ArrayRef<OpFoldResult>{b.getIndexAttr(blockCols),
                                     b.getIndexAttr(kWGMMAK)},
              unit);
          Value dA = nvgpu::WarpgroupGenerateDescriptorOp::create(
              b, loc, descTypeA, aSlice, mapAValue);
          Value dB = nvgpu::WarpgroupGenerateDescriptorOp::create(
              b, loc, descTypeB, bSlice, mapBValue);
          // Each op commits its own group; none waits here (at most two
          // K blocks' groups are pending).
          acc = nvgpu::WarpgroupMmaOp::create(
              b, loc, accType, dA, dB,
              b.getI64IntegerAttr(2 * kSlicesPerBlock - 1), UnitAttr(),
              UnitAttr(), acc);
        }
        // Block kb's MMAs stay in flight; block kb - 1's are done once
        // at most its kSlicesPerBlock groups are pending. Then every warp
        // is past them (barrier) and thread 0 refills that stage with
        // block kb - 1 + S.
        NVVM::WgmmaWaitGroupSyncOp::create(b, loc, uint64_t(kSlicesPerBlock));
        gpu::BarrierOp::create(b, loc);
        Value next =
            arith::AddIOp::create(b, loc, kb, index(b, loc, stages - 1));
        Value refill = arith::AndIOp::create(
            b, loc,
            arith::AndIOp::create(
                b, loc, leader,
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, kb,
                                      c0)),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, next,
                                  index(b, loc, kBlocks)));
        auto ifRefill = scf::IfOp::create(b, loc, refill, /*withElse=*/false);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(&ifRefill.getThenRegion().front());
          issue(b, next,
                arith::RemUIOp::create(b, loc, next, index(b, loc, stages)));
        }
        scf::YieldOp::create(b, loc, acc);
      });
  // Every MMA done before the accumulators are read.
  NVVM::WgmmaWaitGroupSyncOp::create(b, loc, uint64_t(0));

  // Epilogue: the accumulators to the tile of the f32 output.
  Value column =
      arith::MulIOp::create(b, loc, columnBlock, index(b, loc, blockCols));
  SmallVector<OpFoldResult> unit(2, b.getIndexAttr(1));
  Value outTile = memref::SubViewOp::create(
      b, loc, ops.out, ArrayRef<OpFoldResult>{rowA, column},
      ArrayRef<OpFoldResult>{b.getIndexAttr(ops.tileRows),
                             b.getIndexAttr(blockCols)},
      unit);
  nvgpu::WarpgroupMmaStoreOp::create(b, loc, kLoop.getResult(0), outTile);

  generic.erase();
  return success();
}

struct MoEGPUWGMMAGemmPass
    : moe::impl::MoEGPUWGMMAGemmBase<MoEGPUWGMMAGemmPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> gemms;
    getOperation().walk([&](linalg::GenericOp generic) {
      if (generic->hasAttr(kWGMMAGemmAttrName))
        gemms.push_back(generic);
    });
    for (linalg::GenericOp generic : gemms)
      if (failed(rewriteGemm(generic)))
        return signalPassFailure();
  }
};

struct MoEGPUTMADescriptorsPass
    : moe::impl::MoEGPUTMADescriptorsBase<MoEGPUTMADescriptorsPass> {
  void runOnOperation() override {
    SmallVector<UnrealizedConversionCastOp> placeholders;
    getOperation().walk([&](UnrealizedConversionCastOp cast) {
      if (cast->hasAttr(kTMADescriptorAttrName))
        placeholders.push_back(cast);
    });
    for (UnrealizedConversionCastOp cast : placeholders) {
      auto type = dyn_cast<nvgpu::TensorMapDescriptorType>(
          cast->getAttrOfType<TypeAttr>(kTMADescriptorAttrName).getValue());
      Value buffer =
          cast.getInputs().size() == 1 ? cast.getInputs()[0] : Value();
      auto bufferType =
          buffer ? dyn_cast<MemRefType>(buffer.getType()) : MemRefType();
      if (!type || !bufferType || cast.getNumResults() != 1) {
        cast.emitError() << "moe-gpu-tma-descriptors: malformed placeholder";
        return signalPassFailure();
      }
      OpBuilder b(cast);
      Location loc = cast.getLoc();
      Value unranked = memref::CastOp::create(
          b, loc,
          UnrankedMemRefType::get(bufferType.getElementType(),
                                  bufferType.getMemorySpace()),
          buffer);
      SmallVector<Value> box;
      for (int64_t size : type.getTensor().getShape())
        box.push_back(arith::ConstantIndexOp::create(b, loc, size));
      Value descriptor =
          nvgpu::TmaCreateDescriptorOp::create(b, loc, type, unranked, box);
      Value pointer =
          UnrealizedConversionCastOp::create(
              b, loc, TypeRange{LLVM::LLVMPointerType::get(b.getContext())},
              ValueRange{descriptor})
              .getResult(0);
      Value address = LLVM::PtrToIntOp::create(b, loc, b.getI64Type(), pointer);
      cast.getResult(0).replaceAllUsesWith(address);
      cast.erase();
    }
  }
};

} // namespace
