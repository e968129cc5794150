// RUN: moe-opt %s --convert-scf-to-openmp --moe-set-omp-schedule | FileCheck %s
// RUN: moe-opt %s --convert-scf-to-openmp --moe-set-omp-schedule="kind=dynamic chunk=0" | FileCheck %s --check-prefix=DYNAMIC
// RUN: not moe-opt %s --moe-set-omp-schedule=kind=fastest 2>&1 | FileCheck %s --check-prefix=BAD

// The worksharing loop scf-to-openmp makes of a parallel loop has no
// schedule; the pass gives it guided with chunks of at least 16 iterations
// (by default) or the kind and chunk asked for.

// CHECK-LABEL: func.func @tiles
// CHECK:         %[[CHUNK:.+]] = arith.constant 16 : i64
// CHECK:         omp.wsloop schedule(guided = %[[CHUNK]] : i64)
// DYNAMIC-LABEL: func.func @tiles
// DYNAMIC:         omp.wsloop schedule(dynamic) {
// BAD: moe-set-omp-schedule: unknown kind 'fastest' (static, dynamic or guided)
func.func @tiles(%n: index, %buf: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %one, %buf[%i] : memref<?xf32>
  }
  return
}
