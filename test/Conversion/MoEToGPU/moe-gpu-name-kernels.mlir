// RUN: moe-opt %s -split-input-file --moe-gpu-name-kernels | FileCheck %s --enable-var-scope
// RUN: moe-opt %s -split-input-file --moe-gpu-name-kernels --gpu-kernel-outlining | FileCheck %s --check-prefix=OUTLINED

// A marked location names the kernel; a 1x1x1 launch is moe_serial (even
// when marked: a loop meant to be parallel that ended up serial shows), an
// unmarked grid launch moe_parallel; repeated names get _1, _2.

// CHECK-LABEL: func.func @names
// CHECK: gpu.launch {{.*}} module(@moe_topk) function(@moe_topk)
// CHECK: gpu.launch {{.*}} module(@moe_topk_1) function(@moe_topk_1)
// CHECK: gpu.launch {{.*}} module(@moe_serial) function(@moe_serial)
// CHECK: gpu.launch {{.*}} module(@moe_parallel) function(@moe_parallel)
// CHECK: gpu.launch {{.*}} module(@moe_parallel_1) function(@moe_parallel_1)
// CHECK: gpu.launch {{.*}} module(@moe_serial_1) function(@moe_serial_1)

// OUTLINED-LABEL: func.func @names
// OUTLINED: gpu.launch_func @moe_topk::@moe_topk
// OUTLINED: gpu.launch_func @moe_topk_1::@moe_topk_1
// OUTLINED: gpu.launch_func @moe_serial::@moe_serial
// OUTLINED: gpu.launch_func @moe_parallel::@moe_parallel
// OUTLINED: gpu.launch_func @moe_parallel_1::@moe_parallel_1
// OUTLINED: gpu.launch_func @moe_serial_1::@moe_serial_1
// OUTLINED-DAG: gpu.module @moe_topk {
// OUTLINED-DAG: gpu.func @moe_topk(
// OUTLINED-DAG: gpu.module @moe_serial_1 {
// OUTLINED-DAG: gpu.func @moe_serial_1(
func.func @names(%n: index, %out: memref<?xf32>) {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %out[%bx] : memref<?xf32>
    gpu.terminator
  } loc(fused["moe.kernel:moe_topk"("node"), "x.onnx":1:1])
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %out[%bx] : memref<?xf32>
    gpu.terminator
  } loc("moe.kernel:moe_topk"("node"))
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %out[%bx] : memref<?xf32>
    gpu.terminator
  } loc("moe.kernel:moe_histogram")
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %out[%bx] : memref<?xf32>
    gpu.terminator
  } loc("onnx_node")
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %out[%bx] : memref<?xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %out[%bx] : memref<?xf32>
    gpu.terminator
  }
  return
}

// -----

// A launch that already names its kernel keeps the name; a generated name
// never takes a symbol of the module.

// CHECK-LABEL: func.func @moe_parallel
// CHECK: gpu.launch {{.*}} module(@mine) function(@k)
// CHECK: gpu.launch {{.*}} module(@moe_parallel_1) function(@moe_parallel_1)
func.func @moe_parallel(%n: index, %out: memref<?xf32>) {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             module(@mine) function(@k) {
    memref.store %zero, %out[%bx] : memref<?xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %out[%bx] : memref<?xf32>
    gpu.terminator
  }
  return
}

