// RUN: moe-opt %s --pass-pipeline='builtin.module(func.func(moe-gpu-map-warp-tiles))' --split-input-file --verify-diagnostics | FileCheck %s --enable-var-scope

// A warp-tile forall becomes a kernel of one 32-thread block per tile whose
// block id is the tile; other foralls stay.

// CHECK-LABEL: func.func @tiles(
// CHECK-SAME: %[[OUT:.*]]: memref<?x8xf32>, %[[N:.*]]: index
func.func @tiles(%out: memref<?x8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant dense<0.0> : vector<16x8xf32>
  // CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : index
  // CHECK-DAG: %[[WARP:.*]] = arith.constant 32 : index
  // CHECK: gpu.launch blocks(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[N]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]]) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[WARP]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]])
  // CHECK: %[[ROW:.*]] = arith.muli %[[T]]
  // CHECK: vector.transfer_write %{{.*}}, %[[OUT]][%[[ROW]], %{{.*}}]
  // CHECK: gpu.terminator
  // CHECK-NOT: scf.forall
  scf.forall (%t) in (%n) {
    %row = arith.muli %t, %c16 : index
    vector.transfer_write %zero, %out[%row, %c0] {in_bounds = [true, true]} : vector<16x8xf32>, memref<?x8xf32>
  } {mapping = [#gpu.warp<x>]}
  return
}

// A 2-D warp-tile forall: each dimension becomes the grid dimension its
// mapping names (tiles on y, column blocks on x).
// CHECK-LABEL: func.func @tiles_by_columns(
// CHECK-SAME: %[[OUT:.*]]: memref<?x32xf32>, %[[N:.*]]: index
func.func @tiles_by_columns(%out: memref<?x32xf32>, %n: index) {
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant dense<0.0> : vector<16x8xf32>
  // CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : index
  // CHECK-DAG: %[[FOUR:.*]] = arith.constant 4 : index
  // CHECK: gpu.launch blocks(%[[BX:.*]], %[[BY:.*]], %{{.*}}) in (%{{.*}} = %[[FOUR]], %{{.*}} = %[[N]], %{{.*}} = %[[ONE]])
  // CHECK: %[[ROW:.*]] = arith.muli %[[BY]]
  // CHECK: %[[COL:.*]] = arith.muli %[[BX]]
  // CHECK: vector.transfer_write %{{.*}}, %[[OUT]][%[[ROW]], %[[COL]]]
  // CHECK-NOT: scf.forall
  scf.forall (%t, %c) in (%n, 4) {
    %row = arith.muli %t, %c16 : index
    %col = arith.muli %c, %c8 : index
    vector.transfer_write %zero, %out[%row, %col] {in_bounds = [true, true]} : vector<16x8xf32>, memref<?x32xf32>
  } {mapping = [#gpu.warp<y>, #gpu.warp<x>]}
  return
}

// Two dimensions on the same warp id are not a grid: left alone.
// CHECK-LABEL: func.func @same_warp_id_twice(
func.func @same_warp_id_twice(%out: memref<?x32xf32>, %n: index) {
  %zero = arith.constant 0.0 : f32
  // CHECK-NOT: gpu.launch
  // CHECK: scf.forall
  scf.forall (%t, %c) in (%n, 4) {
    memref.store %zero, %out[%t, %c] : memref<?x32xf32>
  } {mapping = [#gpu.warp<x>, #gpu.warp<x>]}
  return
}

// CHECK-LABEL: func.func @other_mapping(
func.func @other_mapping(%out: memref<?xf32>, %n: index) {
  %zero = arith.constant 0.0 : f32
  // CHECK-NOT: gpu.launch
  // CHECK: scf.forall
  scf.forall (%i) in (%n) {
    memref.store %zero, %out[%i] : memref<?xf32>
  } {mapping = [#gpu.thread<x>]}
  return
}

// -----

func.func @not_normalized(%out: memref<?xf32>, %n: index) {
  %zero = arith.constant 0.0 : f32
  // expected-error @below {{moe-gpu-map-warp-tiles: expected a normalized scf.forall}}
  scf.forall (%i) = (1) to (%n) step (2) {
    memref.store %zero, %out[%i] : memref<?xf32>
  } {mapping = [#gpu.warp<x>]}
  return
}
