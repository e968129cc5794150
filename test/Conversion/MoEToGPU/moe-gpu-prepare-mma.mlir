// RUN: moe-opt %s --moe-gpu-prepare-mma=convert=false --split-input-file --verify-diagnostics | FileCheck %s --enable-var-scope
// RUN: moe-opt %s --moe-gpu-prepare-mma --split-input-file --verify-diagnostics | FileCheck %s --enable-var-scope --check-prefix=MMA

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>

// f16 operands: the extensions fold into the contract; the tile row and the
// expert (a load of a read-only buffer) move into the reduction loop.

// CHECK-LABEL: func.func @f16_tile(
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<?x32xf16>, %[[W:[a-z0-9]+]]: memref<2x8x32xf16>
// CHECK-NOT: moe.mma_bf16
// CHECK: scf.for
// CHECK-DAG: %[[ROW:.*]] = arith.muli
// CHECK-DAG: %[[EI:.*]] = memref.load
// CHECK-DAG: %[[E:.*]] = arith.index_cast %[[EI]]
// CHECK: %[[VA:.*]] = vector.transfer_read %[[A]][%[[ROW]],
// CHECK: %[[VB:.*]] = vector.transfer_read %[[W]][%[[E]],
// CHECK: vector.contract {{.*}} %[[VA]], %[[VB]], %{{.*}} : vector<16x16xf16>, vector<8x16xf16> into vector<16x8xf32>
// MMA-LABEL: func.func @f16_tile(
// MMA: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
func.func @f16_tile(%a: memref<?x32xf16>, %w: memref<2x8x32xf16>, %experts: memref<?xi32>, %y: memref<?x8xf32>, %t: index) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %pad = arith.constant 0.0 : f16
  %zero = arith.constant dense<0.0> : vector<16x8xf32>
  %row = arith.muli %t, %c16 : index
  %ei = memref.load %experts[%t] : memref<?xi32>
  %e = arith.index_cast %ei : i32 to index
  %acc = scf.for %k = %c0 to %c32 step %c16 iter_args(%c = %zero) -> vector<16x8xf32> {
    %ra = vector.transfer_read %a[%row, %k], %pad {in_bounds = [true, true]} : memref<?x32xf16>, vector<16x16xf16>
    %rb = vector.transfer_read %w[%e, %c0, %k], %pad {in_bounds = [true, true]} : memref<2x8x32xf16>, vector<8x16xf16>
    %xa = arith.extf %ra : vector<16x16xf16> to vector<16x16xf32>
    %xb = arith.extf %rb : vector<8x16xf16> to vector<8x16xf32>
    %d = vector.contract {indexing_maps = [#mA, #mB, #mC], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %xa, %xb, %c : vector<16x16xf32>, vector<8x16xf32> into vector<16x8xf32>
    scf.yield %d : vector<16x8xf32>
  }
  vector.transfer_write %acc, %y[%row, %c0] {in_bounds = [true, true]} : vector<16x8xf32>, memref<?x8xf32>
  return
}

// -----

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>

// bf16 operands stored as f16 bits: the bitcasts fold too, the kernel is
// marked, and its MMAs become bf16 nvvm.mma.sync.

// CHECK-LABEL: func.func @bf16_tile(
// CHECK-SAME: moe.mma_bf16
// CHECK: vector.contract {{.*}} : vector<16x16xf16>, vector<8x16xf16> into vector<16x8xf32>
// MMA-LABEL: func.func @bf16_tile(
// MMA-NOT: nvgpu.mma.sync
// MMA: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
func.func @bf16_tile(%a: memref<?x32xf16>, %w: memref<8x32xf16>, %y: memref<?x8xf32>, %row: index) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %pad = arith.constant 0.0 : f16
  %zero = arith.constant dense<0.0> : vector<16x8xf32>
  %acc = scf.for %k = %c0 to %c32 step %c16 iter_args(%c = %zero) -> vector<16x8xf32> {
    %ra = vector.transfer_read %a[%row, %k], %pad {in_bounds = [true, true]} : memref<?x32xf16>, vector<16x16xf16>
    %rb = vector.transfer_read %w[%c0, %k], %pad {in_bounds = [true, true]} : memref<8x32xf16>, vector<8x16xf16>
    %ba = arith.bitcast %ra : vector<16x16xf16> to vector<16x16xbf16>
    %bb = arith.bitcast %rb : vector<8x16xf16> to vector<8x16xbf16>
    %xa = arith.extf %ba : vector<16x16xbf16> to vector<16x16xf32>
    %xb = arith.extf %bb : vector<8x16xbf16> to vector<8x16xf32>
    %d = vector.contract {indexing_maps = [#mA, #mB, #mC], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %xa, %xb, %c : vector<16x16xf32>, vector<8x16xf32> into vector<16x8xf32>
    scf.yield %d : vector<16x8xf32>
  }
  vector.transfer_write %acc, %y[%row, %c0] {in_bounds = [true, true]} : vector<16x8xf32>, memref<?x8xf32>
  return
}

// -----

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>

// expected-error @below {{moe-gpu-prepare-mma: bf16 and f16 contracts in one kernel}}
func.func @mixed(%a: vector<16x16xf16>, %b: vector<8x16xf16>, %c: vector<16x8xf32>) -> (vector<16x8xf32>, vector<16x8xf32>) {
  %xa = arith.extf %a : vector<16x16xf16> to vector<16x16xf32>
  %xb = arith.extf %b : vector<8x16xf16> to vector<8x16xf32>
  %d = vector.contract {indexing_maps = [#mA, #mB, #mC], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %xa, %xb, %c : vector<16x16xf32>, vector<8x16xf32> into vector<16x8xf32>
  %ba = arith.bitcast %a : vector<16x16xf16> to vector<16x16xbf16>
  %bb = arith.bitcast %b : vector<8x16xf16> to vector<8x16xbf16>
  %ya = arith.extf %ba : vector<16x16xbf16> to vector<16x16xf32>
  %yb = arith.extf %bb : vector<8x16xbf16> to vector<8x16xf32>
  %e = vector.contract {indexing_maps = [#mA, #mB, #mC], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %ya, %yb, %c : vector<16x16xf32>, vector<8x16xf32> into vector<16x8xf32>
  return %d, %e : vector<16x8xf32>, vector<16x8xf32>
}
