// RUN: moe-opt %s --moe-gpu-prepare-mma --split-input-file --verify-diagnostics | FileCheck %s --enable-var-scope

// (The kernels come from bufferised loops: the memref dialect is loaded,
// here by the memref.dim in each function.)

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>

// An element-wise epilogue of the accumulator (bias broadcast over the rows,
// activation, conversion to f16): upstream's conversion takes the contract
// and the K loop; the epilogue is rebuilt on the lane's four fragment
// elements (scalar ops; the bias read at the element's column), then
// stored one fragment row (two consecutive columns) at a time.

// CHECK-LABEL: func.func @activation(
// CHECK-SAME: %[[BIAS:[a-z0-9]+]]: memref<2x8xf32>, %[[Y:[a-z0-9]+]]: memref<?x8xf16>
// CHECK-NOT:     memref.alloca
// CHECK:         %[[FRAG:[0-9]+]]:2 = scf.for {{.*}} -> (vector<16x8xf32>, vector<2x2xf32>)
// CHECK:           nvgpu.mma.sync
// CHECK:         %[[LANE:.*]] = gpu.lane_id
// CHECK:         vector.extract %[[FRAG]]#1[0, 0] : f32 from vector<2x2xf32>
// CHECK:         memref.load %[[BIAS]]
// CHECK:         arith.addf {{.*}} : f32
// CHECK:         math.exp {{.*}} : f32
// CHECK:         arith.truncf {{.*}} : f32 to f16
// CHECK:         vector.extract %[[FRAG]]#1[0, 1] : f32 from vector<2x2xf32>
// CHECK:         %[[ROW0:.*]] = vector.from_elements {{.*}} : vector<2xf16>
// CHECK:         vector.extract %[[FRAG]]#1[1, 0] : f32 from vector<2x2xf32>
// CHECK:         %[[ROW1:.*]] = vector.from_elements {{.*}} : vector<2xf16>
// CHECK:         vector.store %[[ROW0]], %[[Y]]
// CHECK:         vector.store %[[ROW1]], %[[Y]]
// CHECK-NOT:     vector.transfer_write
// CHECK:         return
func.func @activation(%a: memref<?x32xf16>, %w: memref<8x32xf16>, %bias: memref<2x8xf32>, %y: memref<?x8xf16>, %row: index, %e: index) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %pad = arith.constant 0.0 : f16
  %padf = arith.constant 0.0 : f32
  %n = memref.dim %a, %c0 : memref<?x32xf16>
  %zero = arith.constant dense<0.0> : vector<16x8xf32>
  %acc = scf.for %k = %c0 to %c32 step %c16 iter_args(%c = %zero) -> vector<16x8xf32> {
    %ra = vector.transfer_read %a[%row, %k], %pad {in_bounds = [true, true]} : memref<?x32xf16>, vector<16x16xf16>
    %rb = vector.transfer_read %w[%c0, %k], %pad {in_bounds = [true, true]} : memref<8x32xf16>, vector<8x16xf16>
    %xa = arith.extf %ra : vector<16x16xf16> to vector<16x16xf32>
    %xb = arith.extf %rb : vector<8x16xf16> to vector<8x16xf32>
    %d = vector.contract {indexing_maps = [#mA, #mB, #mC], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %xa, %xb, %c : vector<16x16xf32>, vector<8x16xf32> into vector<16x8xf32>
    scf.yield %d : vector<16x8xf32>
  }
  %br = vector.transfer_read %bias[%e, %c0], %padf {in_bounds = [true]} : memref<2x8xf32>, vector<8xf32>
  %bb = vector.broadcast %br : vector<8xf32> to vector<16x8xf32>
  %s = arith.addf %acc, %bb : vector<16x8xf32>
  %x = math.exp %s : vector<16x8xf32>
  %h = arith.truncf %x : vector<16x8xf32> to vector<16x8xf16>
  vector.transfer_write %h, %y[%row, %c0] {in_bounds = [true, true]} : vector<16x8xf16>, memref<?x8xf16>
  return
}

// -----

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>

// Rows that may lie past the destination (a ragged tile): each fragment
// row's store is guarded by its row index.

// CHECK-LABEL: func.func @ragged_rows(
// CHECK-SAME: %[[Y:[a-z0-9]+]]: memref<?x8xf32>
// CHECK:         gpu.lane_id
// CHECK:         %[[ROWS:.*]] = memref.dim %[[Y]], %c0
// CHECK:         %[[IN:.*]] = arith.cmpi ult, %{{.*}}, %[[ROWS]] : index
// CHECK:         scf.if %[[IN]] {
// CHECK-NEXT:      vector.store %{{.*}}, %[[Y]][{{.*}}] : memref<?x8xf32>, vector<2xf32>
// CHECK:         scf.if
// CHECK-NOT:     vector.transfer_write
// CHECK:         return
func.func @ragged_rows(%a: memref<?x32xf16>, %w: memref<8x32xf16>, %y: memref<?x8xf32>, %row: index) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?x32xf16>
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %pad = arith.constant 0.0 : f16
  %zero = arith.constant dense<0.0> : vector<16x8xf32>
  %acc = scf.for %k = %c0 to %c32 step %c16 iter_args(%c = %zero) -> vector<16x8xf32> {
    %ra = vector.transfer_read %a[%row, %k], %pad {in_bounds = [true, true]} : memref<?x32xf16>, vector<16x16xf16>
    %rb = vector.transfer_read %w[%c0, %k], %pad {in_bounds = [true, true]} : memref<8x32xf16>, vector<8x16xf16>
    %xa = arith.extf %ra : vector<16x16xf16> to vector<16x16xf32>
    %xb = arith.extf %rb : vector<8x16xf16> to vector<8x16xf32>
    %d = vector.contract {indexing_maps = [#mA, #mB, #mC], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %xa, %xb, %c : vector<16x16xf32>, vector<8x16xf32> into vector<16x8xf32>
    scf.yield %d : vector<16x8xf32>
  }
  vector.transfer_write %acc, %y[%c0, %c0] {in_bounds = [false, true]} : vector<16x8xf32>, memref<?x8xf32>
  return
}

// -----

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>

// An accumulator used by something that is no epilogue (here returned):
// upstream leaves the whole chain, which is an error rather than scalar code.

func.func @not_an_epilogue(%a: memref<?x32xf16>, %w: memref<8x32xf16>, %row: index) -> vector<16x8xf32> {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %n = memref.dim %a, %c0 : memref<?x32xf16>
  %pad = arith.constant 0.0 : f16
  %zero = arith.constant dense<0.0> : vector<16x8xf32>
  %acc = scf.for %k = %c0 to %c32 step %c16 iter_args(%c = %zero) -> vector<16x8xf32> {
    %ra = vector.transfer_read %a[%row, %k], %pad {in_bounds = [true, true]} : memref<?x32xf16>, vector<16x16xf16>
    %rb = vector.transfer_read %w[%c0, %k], %pad {in_bounds = [true, true]} : memref<8x32xf16>, vector<8x16xf16>
    %xa = arith.extf %ra : vector<16x16xf16> to vector<16x16xf32>
    %xb = arith.extf %rb : vector<8x16xf16> to vector<8x16xf32>
    // expected-error @below {{moe-gpu-prepare-mma: a warp contract did not become an mma.sync}}
    %d = vector.contract {indexing_maps = [#mA, #mB, #mC], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %xa, %xb, %c : vector<16x16xf32>, vector<8x16xf32> into vector<16x8xf32>
    scf.yield %d : vector<16x8xf32>
  }
  %x = math.exp %acc : vector<16x8xf32>
  return %x : vector<16x8xf32>
}
