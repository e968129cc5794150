// RUN: not moe-opt %s --moe-gpu-name-kernels 2>&1 | FileCheck %s

// A marked name must be a PTX identifier (letters, digits, underscores).

// CHECK: error: {{.*}}moe-gpu-name-kernels: 'moe-topk' is not a valid kernel name


func.func @bad_name(%n: index, %out: memref<?xf32>) {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %out[%bx] : memref<?xf32>
    gpu.terminator
  } loc("moe.kernel:moe-topk")
  return
}
