// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// Dropless moe.dispatch: -1 and out-of-range ids are skipped, an expert
// without assignments gets an empty range, the tail rows are padding
// (token -1, weight 0). Expected values: numpy.

func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefF64(memref<*xf64>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @dispatch(%ids: tensor<4x2xi32>, %w: tensor<4x2xf32>)
    -> (tensor<8xi32>, tensor<8xf32>, tensor<4xi32>) {
  %tok, %rw, %off = moe.dispatch %ids, %w {num_experts = 3 : i64}
      : tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<8xi32>, tensor<8xf32>, tensor<4xi32>
  return %tok, %rw, %off : tensor<8xi32>, tensor<8xf32>, tensor<4xi32>
}

func.func @main() {
  %ids = arith.constant dense<[[2, 0], [0, -1], [2, 0], [5, 2]]> : tensor<4x2xi32>
  %w = arith.constant dense<[[0.5, 0.25], [0.75, 0.0], [0.375, 0.625], [0.125, 0.875]]> : tensor<4x2xf32>
  %tok, %rw, %off = call @dispatch(%ids, %w)
      : (tensor<4x2xi32>, tensor<4x2xf32>) -> (tensor<8xi32>, tensor<8xf32>, tensor<4xi32>)
  %buf1 = bufferization.to_buffer %tok : tensor<8xi32> to memref<8xi32>
  %ubuf1 = memref.cast %buf1 : memref<8xi32> to memref<*xi32>
  call @printMemrefI32(%ubuf1) : (memref<*xi32>) -> ()
  %buf2 = bufferization.to_buffer %rw : tensor<8xf32> to memref<8xf32>
  %ubuf2 = memref.cast %buf2 : memref<8xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf2) : (memref<*xf32>) -> ()
  %buf3 = bufferization.to_buffer %off : tensor<4xi32> to memref<4xi32>
  %ubuf3 = memref.cast %buf3 : memref<4xi32> to memref<*xi32>
  call @printMemrefI32(%ubuf3) : (memref<*xi32>) -> ()
  return
}

// CHECK: rank = 1 offset = 0 sizes = [8]
// CHECK-NEXT: [0, 1, 2, 0, 2, 3, -1, -1]
// CHECK: rank = 1 offset = 0 sizes = [8]
// CHECK-NEXT: [0.25, 0.75, 0.625, 0.5, 0.375, 0.875, {{-?0}}, {{-?0}}]
// CHECK: rank = 1 offset = 0 sizes = [4]
// CHECK-NEXT: [0, 3, 3, 6]
