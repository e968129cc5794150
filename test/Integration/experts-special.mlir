// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.special_experts: null, copy and constant experts after one FFN
// expert; FFN rows and padding are zero. Expected values: numpy.

func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefF64(memref<*xf64>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @special(%rows: tensor<8x3xf32>, %off: tensor<7xi32>, %c: tensor<2x3xf32>)
    -> tensor<8x3xf32> {
  %y = moe.special_experts %rows, %off constants(%c : tensor<2x3xf32>)
         {first_expert = 1 : i64, num_null = 1 : i64, num_copy = 2 : i64,
          num_constant = 2 : i64}
         : tensor<8x3xf32>, tensor<7xi32> -> tensor<8x3xf32>
  return %y : tensor<8x3xf32>
}

func.func @main() {
  %rows = arith.constant dense<[[0.0, 0.625, 0.875], [-0.375, -1.0, -0.75], [-1.0, -0.125, -1.0], [-0.5, -0.5, 0.5], [-0.5, 1.0, -0.625], [1.0, 0.125, -0.5], [-1.0, -0.375, 0.25], [-0.875, -0.75, -0.875]]> : tensor<8x3xf32>
  %off = arith.constant dense<[0, 1, 2, 3, 5, 6, 7]> : tensor<7xi32>
  %c = arith.constant dense<[[0.375, -0.875, -1.0], [-0.125, -0.375, 0.125]]> : tensor<2x3xf32>
  %y = call @special(%rows, %off, %c)
      : (tensor<8x3xf32>, tensor<7xi32>, tensor<2x3xf32>) -> tensor<8x3xf32>
  %buf1 = bufferization.to_buffer %y : tensor<8x3xf32> to memref<8x3xf32>
  %ubuf1 = memref.cast %buf1 : memref<8x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf1) : (memref<*xf32>) -> ()
  return
}

// CHECK: rank = 2 offset = 0 sizes = [8, 3]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [-1, -0.125, -1]
// CHECK-NEXT: [-0.5, -0.5, 0.5]
// CHECK-NEXT: [-0.5, 1, -0.625]
// CHECK-NEXT: [0.375, -0.875, -1]
// CHECK-NEXT: [-0.125, -0.375, 0.125]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
