// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.dequantize: int8 row-wise (ui8 offset binary, i8 two's complement),
// packed int4 block-wise (ui8, si8 with odd K), and explicit integer and
// float zero points. Scales are powers of two, so every value is exact.
// Expected values: numpy.

func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefF64(memref<*xf64>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @deq_a(%q: tensor<2x4xui8>, %s: tensor<2xf32>) -> tensor<2x4xf32> {
  %w = moe.dequantize %q, %s {bits = 8 : i64}
      : tensor<2x4xui8>, tensor<2xf32> -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

func.func @deq_b(%q: tensor<2x2x3xi8>, %s: tensor<2x2xf32>) -> tensor<2x2x3xf32> {
  %w = moe.dequantize %q, %s {bits = 8 : i64}
      : tensor<2x2x3xi8>, tensor<2x2xf32> -> tensor<2x2x3xf32>
  return %w : tensor<2x2x3xf32>
}

func.func @deq_c(%q: tensor<2x16xui8>, %s: tensor<2x2xf32>) -> tensor<2x32xf32> {
  %w = moe.dequantize %q, %s {bits = 4 : i64, block_size = 16 : i64}
      : tensor<2x16xui8>, tensor<2x2xf32> -> tensor<2x32xf32>
  return %w : tensor<2x32xf32>
}

func.func @deq_d(%q: tensor<2x16xsi8>, %s: tensor<2x2xf32>) -> tensor<2x31xf32> {
  %w = moe.dequantize %q, %s {bits = 4 : i64, block_size = 16 : i64}
      : tensor<2x16xsi8>, tensor<2x2xf32> -> tensor<2x31xf32>
  return %w : tensor<2x31xf32>
}

func.func @deq_e(%q: tensor<2x16xui8>, %s: tensor<2x2xf32>, %z: tensor<2x2xui8>)
    -> tensor<2x32xf32> {
  %w = moe.dequantize %q, %s zero_points(%z : tensor<2x2xui8>)
      {bits = 4 : i64, block_size = 16 : i64}
      : tensor<2x16xui8>, tensor<2x2xf32> -> tensor<2x32xf32>
  return %w : tensor<2x32xf32>
}

func.func @deq_f(%q: tensor<2x4xi8>, %s: tensor<2xf32>, %z: tensor<2xf32>)
    -> tensor<2x4xf32> {
  %w = moe.dequantize %q, %s zero_points(%z : tensor<2xf32>) {bits = 8 : i64}
      : tensor<2x4xi8>, tensor<2xf32> -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

func.func @main() {
  %qa = arith.constant dense<[[0, 128, 255, 164], [207, 111, 168, 55]]> : tensor<2x4xui8>
  %sa = arith.constant dense<[1.0, 0.25]> : tensor<2xf32>
  %wa = call @deq_a(%qa, %sa) : (tensor<2x4xui8>, tensor<2xf32>) -> tensor<2x4xf32>
  %buf1 = bufferization.to_buffer %wa : tensor<2x4xf32> to memref<2x4xf32>
  %ubuf1 = memref.cast %buf1 : memref<2x4xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf1) : (memref<*xf32>) -> ()
  %qb = arith.constant dense<[[[-128, 127, -1], [-32, -118, -68]], [[77, -9, 117], [102, 90, -124]]]> : tensor<2x2x3xi8>
  %sb = arith.constant dense<[[0.125, 0.5], [0.25, 2.0]]> : tensor<2x2xf32>
  %wb = call @deq_b(%qb, %sb) : (tensor<2x2x3xi8>, tensor<2x2xf32>) -> tensor<2x2x3xf32>
  %buf2 = bufferization.to_buffer %wb : tensor<2x2x3xf32> to memref<2x2x3xf32>
  %ubuf2 = memref.cast %buf2 : memref<2x2x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf2) : (memref<*xf32>) -> ()
  %qc = arith.constant dense<[[31, 39, 28, 77, 160, 32, 204, 77, 80, 169, 220, 111, 204, 78, 33, 212], [196, 192, 225, 127, 50, 149, 146, 98, 163, 67, 155, 203, 24, 116, 169, 13]]> : tensor<2x16xui8>
  %sc = arith.constant dense<[[1.0, 2.0], [2.0, 1.0]]> : tensor<2x2xf32>
  %wc = call @deq_c(%qc, %sc) : (tensor<2x16xui8>, tensor<2x2xf32>) -> tensor<2x32xf32>
  %buf3 = bufferization.to_buffer %wc : tensor<2x32xf32> to memref<2x32xf32>
  %ubuf3 = memref.cast %buf3 : memref<2x32xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf3) : (memref<*xf32>) -> ()
  %qd = arith.constant dense<[[-113, -36, -45, -107, 56, -48, 94, -9, 100, -93, -87, -40, -122, -3, 38, 41], [-74, -86, 16, 34, 113, 101, -31, -87, -64, 97, -12, 126, 40, 24, -103, 23]]> : tensor<2x16xsi8>
  %sd = arith.constant dense<[[0.25, 2.0], [0.125, 0.125]]> : tensor<2x2xf32>
  %wd = call @deq_d(%qd, %sd) : (tensor<2x16xsi8>, tensor<2x2xf32>) -> tensor<2x31xf32>
  %buf4 = bufferization.to_buffer %wd : tensor<2x31xf32> to memref<2x31xf32>
  %ubuf4 = memref.cast %buf4 : memref<2x31xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf4) : (memref<*xf32>) -> ()
  %ze = arith.constant dense<[[10, 10], [13, 8]]> : tensor<2x2xui8>
  %we = call @deq_e(%qc, %sc, %ze) : (tensor<2x16xui8>, tensor<2x2xf32>, tensor<2x2xui8>) -> tensor<2x32xf32>
  %buf5 = bufferization.to_buffer %we : tensor<2x32xf32> to memref<2x32xf32>
  %ubuf5 = memref.cast %buf5 : memref<2x32xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf5) : (memref<*xf32>) -> ()
  %qf = arith.constant dense<[[-32, -50, -33, 41], [10, -53, -73, 53]]> : tensor<2x4xi8>
  %zf = arith.constant dense<[-2.0, -2.5]> : tensor<2xf32>
  %wf = call @deq_f(%qf, %sa, %zf) : (tensor<2x4xi8>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x4xf32>
  %buf6 = bufferization.to_buffer %wf : tensor<2x4xf32> to memref<2x4xf32>
  %ubuf6 = memref.cast %buf6 : memref<2x4xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf6) : (memref<*xf32>) -> ()
  return
}

// int8 row-wise, ui8 (zero point 128)
// CHECK: rank = 2 offset = 0 sizes = [2, 4]
// CHECK-NEXT: [-128, {{-?0}}, 127, 36]
// CHECK-NEXT: [19.75, -4.25, 10, -18.25]
// int8 row-wise, i8 (two's complement), rank 3
// CHECK: rank = 3 offset = 0 sizes = [2, 2, 3]
// CHECK-NEXT: [-16, 15.875, -0.125]
// CHECK-NEXT: [-16, -59, -34]
// CHECK-NEXT: [19.25, -2.25, 29.25]
// CHECK-NEXT: [204, 180, -248]
// int4 block-wise, ui8 (zero point 8), low nibble first
// CHECK: rank = 2 offset = 0 sizes = [2, 32]
// CHECK-NEXT: [7, -7, -1, -6, 4, -7, 5, -4, -8, 2, -8, -6, 4, 4, 5, -4, -16, -6, 2, 4, 8, 10, 14, -4, 8, 8, 12, -8, -14, -12, -8, 10]
// CHECK-NEXT: [-8, 8, -16, 8, -14, 12, 14, -2, -12, -10, -6, 2, -12, 2, -12, -4, -5, 2, -5, -4, 3, 1, 3, 4, {{-?0}}, -7, -4, -1, 1, 2, 5, -8]
// int4 block-wise, si8 (sign-extended nibbles), K = 31
// CHECK: rank = 2 offset = 0 sizes = [2, 31]
// CHECK-NEXT: [-0.25, -2, -1, -0.75, 0.75, -0.75, 1.25, -1.75, -2, 0.75, {{-?0}}, -0.75, -0.5, 1.25, 1.75, -0.25, 8, 12, 6, -12, -14, -12, -16, -6, 12, -16, -6, -2, 12, 4, -14]
// CHECK-NEXT: [0.75, -0.625, -0.75, -0.75, {{-?0}}, 0.125, 0.25, 0.25, 0.125, 0.875, 0.625, 0.75, 0.125, -0.25, -0.875, -0.75, {{-?0}}, -0.5, 0.125, 0.75, 0.5, -0.125, -0.25, 0.875, -1, 0.25, -1, 0.125, -0.875, -0.875, 0.875]
// int4 block-wise, ui8 zero points
// CHECK: rank = 2 offset = 0 sizes = [2, 32]
// CHECK-NEXT: [5, -9, -3, -8, 2, -9, 3, -6, -10, {{-?0}}, -10, -8, 2, 2, 3, -6, -20, -10, -2, {{-?0}}, 4, 6, 10, -8, 4, 4, 8, -12, -18, -16, -12, 6]
// CHECK-NEXT: [-18, -2, -26, -2, -24, 2, 4, -12, -22, -20, -16, -8, -22, -8, -22, -14, -5, 2, -5, -4, 3, 1, 3, 4, {{-?0}}, -7, -4, -1, 1, 2, 5, -8]
// int8 row-wise, i8 with f32 zero points
// CHECK: rank = 2 offset = 0 sizes = [2, 4]
// CHECK-NEXT: [-30, -48, -31, 43]
// CHECK-NEXT: [3.125, -12.625, -17.625, 13.875]
