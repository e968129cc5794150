// RUN: moe-opt %s --pass-pipeline='builtin.module(func.func(moe-gpu-offload))' --split-input-file --verify-diagnostics | FileCheck %s --enable-var-scope

// Allocations move to the device; a sequential loop over memory becomes a
// single-thread kernel (with the parallel loop inside it run as scf.for);
// a top-level parallel loop stays for the grid mapping; index arithmetic
// that does not depend on the kernel moves before it, staying on the host.

// CHECK-LABEL: func.func @routing_like(
// CHECK-SAME: %[[IN:.*]]: memref<?x8xf32>
func.func @routing_like(%in: memref<?x8xf32>) -> memref<?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  // CHECK: %[[T:.*]] = memref.dim %[[IN]]
  %t = memref.dim %in, %c0 : memref<?x8xf32>
  // CHECK: %[[OUT:.*]] = gpu.alloc (%[[T]]) : memref<?xf32>
  // CHECK: %[[N:.*]] = arith.muli %[[T]]
  %out = memref.alloc(%t) : memref<?xf32>
  // CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[ONE:.*]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]]) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]])
  // CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %[[T]]
  // CHECK-NOT: scf.parallel
  // CHECK: scf.for
  // CHECK: memref.load %[[IN]]
  // CHECK: memref.store {{.*}}, %[[OUT]][%[[ROW]]]
  // CHECK: gpu.terminator
  scf.for %row = %c0 to %t step %c1 {
    memref.store %zero, %out[%row] : memref<?xf32>
    scf.parallel (%col) = (%c0) to (%c8) step (%c1) {
      %v = memref.load %in[%row, %col] : memref<?x8xf32>
      %s = memref.load %out[%row] : memref<?xf32>
      %sum = arith.addf %s, %v : f32
      memref.store %sum, %out[%row] : memref<?xf32>
      scf.reduce
    }
  }
  %n = arith.muli %t, %c8 : index
  // CHECK: %[[TMP:.*]] = gpu.alloc (%[[N]]) : memref<?xf32>
  %tmp = memref.alloc(%n) : memref<?xf32>
  // CHECK: scf.parallel
  // CHECK-NOT: gpu.launch
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %zero, %tmp[%i] : memref<?xf32>
    scf.reduce
  }
  // CHECK: gpu.dealloc %[[TMP]]
  memref.dealloc %tmp : memref<?xf32>
  // CHECK: return %[[OUT]]
  return %out : memref<?xf32>
}

// -----

// memref.copy becomes a parallel copy loop (then a grid kernel); a rank-0
// copy is a load and a store in a single-thread kernel.
// CHECK-LABEL: func.func @copies(
// CHECK-SAME: %[[A:.*]]: memref<4x?xf32>, %[[B:.*]]: memref<4x?xf32>, %[[S:.*]]: memref<f32>, %[[D:.*]]: memref<f32>
func.func @copies(%a: memref<4x?xf32>, %b: memref<4x?xf32>, %s: memref<f32>, %d: memref<f32>) {
  // CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) =
  // CHECK: %[[V:.*]] = memref.load %[[A]][%[[I]], %[[J]]]
  // CHECK: memref.store %[[V]], %[[B]][%[[I]], %[[J]]]
  memref.copy %a, %b : memref<4x?xf32> to memref<4x?xf32>
  // CHECK: gpu.launch
  // CHECK: memref.load %[[S]][]
  // CHECK: memref.store {{.*}}, %[[D]][]
  memref.copy %s, %d : memref<f32> to memref<f32>
  return
}

// -----

// A size read from memory (ONNX shape arithmetic) reaches the host through a
// one-element device buffer copied back after the kernel.
// CHECK-LABEL: func.func @size_from_memory(
// CHECK-SAME: %[[SIZES:.*]]: memref<1xindex>
func.func @size_from_memory(%sizes: memref<1xindex>) -> memref<?xf32> {
  %c0 = arith.constant 0 : index
  // CHECK: %[[CELL:.*]] = gpu.alloc () : memref<1xindex>
  // CHECK: gpu.launch
  // CHECK: %[[N:.*]] = memref.load %[[SIZES]]
  // CHECK: memref.store %[[N]], %[[CELL]]
  // CHECK: gpu.terminator
  // CHECK: %[[HOST:.*]] = memref.alloca() {moe.host_buffer} : memref<1xindex>
  // CHECK: gpu.memcpy %[[HOST]], %[[CELL]]
  // CHECK: gpu.dealloc %[[CELL]]
  // CHECK: %[[HOSTN:.*]] = memref.load %[[HOST]]
  // CHECK: gpu.alloc (%[[HOSTN]]) : memref<?xf32>
  %n = memref.load %sizes[%c0] : memref<1xindex>
  %out = memref.alloc(%n) : memref<?xf32>
  return %out : memref<?xf32>
}

// -----

// A buffer chosen on the device cannot be used by the host.
func.func @buffer_from_memory(%flag: memref<i1>, %a: memref<4xf32>, %b: memref<4xf32>) -> memref<4xf32> {
  %f = memref.load %flag[] : memref<i1>
  // expected-error @+1 {{moe-gpu-offload: a 'memref<4xf32>' computed from device memory is needed on the host}}
  %r = scf.if %f -> memref<4xf32> {
    %c0 = arith.constant 0 : index
    %v = memref.load %a[%c0] : memref<4xf32>
    scf.yield %a : memref<4xf32>
  } else {
    scf.yield %b : memref<4xf32>
  }
  return %r : memref<4xf32>
}

// -----

// wrap-parallel-loops (the run after the grid mapping): a parallel loop the
// mapping left behind runs in a single-thread kernel, not on the host; the
// round trip's host buffer and its copy stay on the host.
// RUN: moe-opt %s --pass-pipeline='builtin.module(func.func(moe-gpu-offload{wrap-parallel-loops}))' --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=LEFTOVER
// LEFTOVER-LABEL: func.func @leftover(
func.func @leftover(%out: memref<8xi32>, %cell: memref<1xindex>) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0 : i32
  // LEFTOVER: gpu.launch
  // LEFTOVER: scf.for
  // LEFTOVER: memref.store
  // LEFTOVER: gpu.terminator
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %zero, %out[%i] : memref<8xi32>
    scf.reduce
  }
  // LEFTOVER: %[[HOST:.*]] = memref.alloca() {moe.host_buffer}
  // LEFTOVER-NEXT: gpu.memcpy %[[HOST]]
  // LEFTOVER-NEXT: %[[N:.*]] = memref.load %[[HOST]]
  // LEFTOVER-NEXT: return %[[N]]
  %host = memref.alloca() {moe.host_buffer} : memref<1xindex>
  gpu.memcpy %host, %cell : memref<1xindex>, memref<1xindex>
  %n = memref.load %host[%c0] : memref<1xindex>
  return %n : index
}
