// RUN: moe-opt %s -split-input-file -verify-diagnostics --pass-pipeline="builtin.module(func.func(moe-gpu-wgmma-gemm))" | FileCheck %s --enable-var-scope
// RUN: moe-opt %s -split-input-file -verify-diagnostics --pass-pipeline="builtin.module(func.func(moe-gpu-wgmma-gemm,moe-gpu-tma-descriptors))" | FileCheck %s --enable-var-scope --check-prefix=DESC

// A bufferised warpgroup GEMM of convert-moe-grouped-ffn-to-wgmma: A [P, 128]
// (bf16 bits in f16), weights [2, 128, 128], 64-row tiles. It becomes a
// launch of (P / 64) x (128 / 128) blocks of 128 threads with 2 stages of
// [64, 64] + [128, 64] bf16 in dynamic shared memory (+ 1 KiB to align
// them): the TMA descriptors are host placeholders over A and the [256,
// 128] view of the weights; the kernel skips surplus tiles, loads with TMA
// on mbarriers, runs four m64n128k16 warpgroup MMAs per K step of 64 (the
// previous step's stay in flight until the stage it read is refilled), and
// stores the accumulators into its tile of the output.

// CHECK-LABEL: func.func @gemm
// CHECK-SAME:    (%[[A:.*]]: memref<?x128xf16>, %[[W:.*]]: memref<2x128x128xf16>, %[[EXPERTS:.*]]: memref<?xi32>, %[[OUT:.*]]: memref<?x128xf32>)
// CHECK-NOT:     linalg.generic
// CHECK:         %[[FLAT:.*]] = memref.collapse_shape %[[W]] {{\[\[}}0, 1], [2]] : memref<2x128x128xf16> into memref<256x128xf16>
// CHECK:         %[[DA:.*]] = builtin.unrealized_conversion_cast %[[A]] : memref<?x128xf16> to i64 {moe.tma_descriptor = !nvgpu.tensormap.descriptor<tensor = memref<64x64xbf16, #gpu.address_space<workgroup>>, swizzle = swizzle_128b, l2promo = none, oob = zero, interleave = none>}
// CHECK:         %[[DB:.*]] = builtin.unrealized_conversion_cast %[[FLAT]] : memref<256x128xf16> to i64 {moe.tma_descriptor = !nvgpu.tensormap.descriptor<tensor = memref<128x64xbf16, #gpu.address_space<workgroup>>, swizzle = swizzle_128b, l2promo = none, oob = zero, interleave = none>}
// CHECK:         %[[ROWS:.*]] = memref.dim %[[A]], %{{.*}} : memref<?x128xf16>
// CHECK:         %[[TILES:.*]] = arith.divui %[[ROWS]], %{{.*}} : index
// CHECK:         %[[SMEM:.*]] = arith.constant 50176 : i32
// CHECK:         gpu.launch blocks(%[[T:.*]], %[[NB:.*]], %{{.*}}) in (%{{.*}} = %[[TILES]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) threads(%[[TID:.*]], %{{.*}}, %{{.*}}) in ({{.*}}) dynamic_shared_memory_size %[[SMEM]]
// CHECK:           %[[EXPERT:.*]] = memref.load %[[EXPERTS]][%[[T]]] : memref<?xi32>
// CHECK:           %[[FFN:.*]] = arith.cmpi slt, %[[EXPERT]], %{{.*}} : i32
// CHECK:           scf.if %[[FFN]] {
// CHECK:             %[[PA:.*]] = llvm.inttoptr %[[DA]] : i64 to !llvm.ptr
// CHECK:             builtin.unrealized_conversion_cast %[[PA]] : !llvm.ptr to !nvgpu.tensormap.descriptor<tensor = memref<64x64xbf16
// CHECK:             %[[BAR:.*]] = nvgpu.mbarrier.create -> <memorySpace = #gpu.address_space<workgroup>, num_barriers = 2>
// CHECK:             nvgpu.mbarrier.init %[[BAR]][%{{.*}}], %{{.*}}
// CHECK:             nvvm.fence.mbarrier.init
// CHECK:             nvgpu.tma.prefetch.descriptor
// CHECK:             gpu.barrier
// CHECK:             gpu.dynamic_shared_memory
// CHECK:             nvgpu.mbarrier.arrive.expect_tx %[[BAR]][%{{.*}}], %{{.*}}
// CHECK:             nvgpu.tma.async.load %{{.*}}[%{{.*}}, %{{.*}}], %[[BAR]][%{{.*}}] to %{{.*}} : {{.*}} -> memref<64x64xbf16, #gpu.address_space<workgroup>>
// CHECK:             nvgpu.tma.async.load %{{.*}}[%{{.*}}, %{{.*}}], %[[BAR]][%{{.*}}] to %{{.*}} : {{.*}} -> memref<128x64xbf16, #gpu.address_space<workgroup>>
// CHECK:             nvgpu.warpgroup.mma.init.accumulator -> <fragmented = vector<64x128xf32>>
// CHECK:             scf.for
// CHECK:               nvgpu.mbarrier.try_wait.parity %[[BAR]][%{{.*}}], %{{.*}}, %{{.*}}
// CHECK-COUNT-4:       nvgpu.warpgroup.mma %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9a-z_]+}} {waitGroup = 7 : i64} : <tensor = memref<64x16xbf16, #gpu.address_space<workgroup>>>, <tensor = memref<16x128xbf16, #gpu.address_space<workgroup>>>, <fragmented = vector<64x128xf32>> -> <fragmented = vector<64x128xf32>>
// CHECK:               nvvm.wgmma.wait.group.sync.aligned 4
// CHECK:               gpu.barrier
// CHECK:               nvgpu.tma.async.load
// CHECK:             nvvm.wgmma.wait.group.sync.aligned 0
// CHECK:             %[[TILE:.*]] = memref.subview %[[OUT]]
// CHECK:             nvgpu.warpgroup.mma.store %{{.*}}, %[[TILE]] : <fragmented = vector<64x128xf32>> to memref<64x128xf32, strided<[128, 1], offset: ?>>
// CHECK:           gpu.terminator

// moe-gpu-tma-descriptors: the placeholders become descriptors of the
// buffers, boxes [64, 64] and [128, 64].
// DESC-LABEL: func.func @gemm
// DESC-NOT:     moe.tma_descriptor
// DESC:         %[[UA:.*]] = memref.cast %{{.*}} : memref<?x128xf16> to memref<*xf16>
// DESC:         %[[MA:.*]] = nvgpu.tma.create.descriptor %[[UA]] box[%{{.*}}, %{{.*}}] : memref<*xf16> -> <tensor = memref<64x64xbf16, #gpu.address_space<workgroup>>, swizzle = swizzle_128b, l2promo = none, oob = zero, interleave = none>
// DESC:         %[[PA:.*]] = builtin.unrealized_conversion_cast %[[MA]] : !nvgpu.tensormap.descriptor<{{.*}}> to !llvm.ptr
// DESC:         llvm.ptrtoint %[[PA]] : !llvm.ptr to i64
// DESC:         %[[UB:.*]] = memref.cast %{{.*}} : memref<256x128xf16> to memref<*xf16>
// DESC:         nvgpu.tma.create.descriptor %[[UB]] box[%{{.*}}, %{{.*}}] : memref<*xf16> -> <tensor = memref<128x64xbf16
// DESC:         gpu.launch
#lhs = affine_map<(p, n, k) -> (p, k)>
#out = affine_map<(p, n, k) -> (p, n)>
func.func @gemm(%a: memref<?x128xf16>, %w: memref<2x128x128xf16>,
                %experts: memref<?xi32>, %out: memref<?x128xf32>) {
  linalg.generic {indexing_maps = [#lhs, #out],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a : memref<?x128xf16>) outs(%out : memref<?x128xf32>)
      attrs = {moe.wgmma_gemm = {operand_type = bf16, tile_rows = 64 : i64}} {
  ^bb0(%x: f16, %acc: f32):
    %p = linalg.index 0 : index
    %n = linalg.index 1 : index
    %k = linalg.index 2 : index
    %c64 = arith.constant 64 : index
    %t = arith.divui %p, %c64 : index
    %e32 = memref.load %experts[%t] : memref<?xi32>
    %e = arith.index_cast %e32 : i32 to index
    %wv = memref.load %w[%e, %n, %k] : memref<2x128x128xf16>
    %xb = arith.bitcast %x : f16 to bf16
    %wb = arith.bitcast %wv : f16 to bf16
    %xf = arith.extf %xb : bf16 to f32
    %wf = arith.extf %wb : bf16 to f32
    %prod = arith.mulf %xf, %wf : f32
    %sum = arith.addf %acc, %prod : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// M = 64 (fc2 of H = 64): 64-column blocks; K = 64: one stage.

// CHECK-LABEL: func.func @narrow
// CHECK:         arith.constant 17408 : i32
// CHECK:         nvgpu.mbarrier.create -> <memorySpace = #gpu.address_space<workgroup>>
// CHECK-COUNT-4: nvgpu.warpgroup.mma {{.*}} : <tensor = memref<64x16xf16, #gpu.address_space<workgroup>>>, <tensor = memref<16x64xf16, #gpu.address_space<workgroup>>>, <fragmented = vector<64x64xf32>>
#lhs2 = affine_map<(p, n, k) -> (p, k)>
#out2 = affine_map<(p, n, k) -> (p, n)>
func.func @narrow(%a: memref<?x64xf16>, %w: memref<4x64x64xf16>,
                  %experts: memref<?xi32>, %out: memref<?x64xf32>) {
  linalg.generic {indexing_maps = [#lhs2, #out2],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a : memref<?x64xf16>) outs(%out : memref<?x64xf32>)
      attrs = {moe.wgmma_gemm = {operand_type = f16, tile_rows = 64 : i64}} {
  ^bb0(%x: f16, %acc: f32):
    %n = linalg.index 1 : index
    %k = linalg.index 2 : index
    %p = linalg.index 0 : index
    %c64 = arith.constant 64 : index
    %t = arith.divui %p, %c64 : index
    %e32 = memref.load %experts[%t] : memref<?xi32>
    %e = arith.index_cast %e32 : i32 to index
    %wv = memref.load %w[%e, %n, %k] : memref<4x64x64xf16>
    %xf = arith.extf %x : f16 to f32
    %wf = arith.extf %wv : f16 to f32
    %prod = arith.mulf %xf, %wf : f32
    %sum = arith.addf %acc, %prod : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// A weight whose M is not a multiple of 64 cannot be tiled.

#lhs3 = affine_map<(p, n, k) -> (p, k)>
#out3 = affine_map<(p, n, k) -> (p, n)>
func.func @bad_shape(%a: memref<?x64xf16>, %w: memref<4x32x64xf16>,
                     %experts: memref<?xi32>, %out: memref<?x32xf32>) {
  // expected-error @+1 {{moe-gpu-wgmma-gemm: M and K must be multiples of 64 and the tiles 64 rows}}
  linalg.generic {indexing_maps = [#lhs3, #out3],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a : memref<?x64xf16>) outs(%out : memref<?x32xf32>)
      attrs = {moe.wgmma_gemm = {operand_type = f16, tile_rows = 64 : i64}} {
  ^bb0(%x: f16, %acc: f32):
    %n = linalg.index 1 : index
    %k = linalg.index 2 : index
    %p = linalg.index 0 : index
    %c64 = arith.constant 64 : index
    %t = arith.divui %p, %c64 : index
    %e32 = memref.load %experts[%t] : memref<?xi32>
    %e = arith.index_cast %e32 : i32 to index
    %wv = memref.load %w[%e, %n, %k] : memref<4x32x64xf16>
    %xf = arith.extf %x : f16 to f32
    %wf = arith.extf %wv : f16 to f32
    %prod = arith.mulf %xf, %wf : f32
    %sum = arith.addf %acc, %prod : f32
    linalg.yield %sum : f32
  }
  return
}
