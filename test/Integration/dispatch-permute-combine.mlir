// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.dispatch -> moe.permute -> moe.combine round trip, and combine with
// row weights of another float type. Expected values: numpy.

func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefF64(memref<*xf64>)
func.func private @printMemrefI32(memref<*xi32>)

// init is a constant of the function rather than an argument: a function
// returning its own updated argument needs bufferization.clone, which
// moe-reference-to-llvm does not lower yet.
func.func @layer(%x: tensor<4x3xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>)
    -> (tensor<8x3xf32>, tensor<4x3xf32>) {
  %init = arith.constant dense<[[0.875, -1.0, 0.0], [0.625, -0.75, 0.625], [-0.75, -0.125, 0.625], [-0.375, -0.375, -0.5]]> : tensor<4x3xf32>
  %tok, %rw, %off = moe.dispatch %ids, %w {num_experts = 3 : i64}
      : tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<8xi32>, tensor<8xf32>, tensor<4xi32>
  %rows = moe.permute %x, %tok
      : tensor<4x3xf32>, tensor<8xi32> -> tensor<8x3xf32>
  %y = moe.combine %rows, %tok, %rw into %init
      : tensor<8x3xf32>, tensor<8xi32>, tensor<8xf32> into tensor<4x3xf32>
  return %rows, %y : tensor<8x3xf32>, tensor<4x3xf32>
}

// Explicit ragged layout with f16 row weights (cast to f32); row 3 is
// padding, token 1 gets two rows, token 2 none.
func.func @combine_f16(%rows: tensor<5x3xf32>, %tok: tensor<5xi32>,
                       %w: tensor<5xf16>) -> tensor<4x3xf32> {
  %init = arith.constant dense<[[0.875, -1.0, 0.0], [0.625, -0.75, 0.625], [-0.75, -0.125, 0.625], [-0.375, -0.375, -0.5]]> : tensor<4x3xf32>
  %y = moe.combine %rows, %tok, %w into %init
      : tensor<5x3xf32>, tensor<5xi32>, tensor<5xf16> into tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

func.func @main() {
  %x = arith.constant dense<[[1.0, 0.25, 0.375], [0.875, 0.125, 0.625], [0.75, -0.625, -1.0], [-0.375, -0.5, 0.75]]> : tensor<4x3xf32>
  %ids = arith.constant dense<[[2, 0], [0, -1], [1, 0], [2, 1]]> : tensor<4x2xi32>
  %w = arith.constant dense<[[0.5, 0.25], [0.75, 0.0], [0.375, 0.625], [0.125, 0.875]]> : tensor<4x2xf32>
  %rows, %y = call @layer(%x, %ids, %w)
      : (tensor<4x3xf32>, tensor<4x2xi32>, tensor<4x2xf32>)
      -> (tensor<8x3xf32>, tensor<4x3xf32>)
  %buf1 = bufferization.to_buffer %rows : tensor<8x3xf32> to memref<8x3xf32>
  %ubuf1 = memref.cast %buf1 : memref<8x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf1) : (memref<*xf32>) -> ()
  %buf2 = bufferization.to_buffer %y : tensor<4x3xf32> to memref<4x3xf32>
  %ubuf2 = memref.cast %buf2 : memref<4x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf2) : (memref<*xf32>) -> ()
  %rows2 = arith.constant dense<[[0.5, -0.5, 1.0], [-0.125, 0.0, 0.0], [0.125, 0.125, 0.0], [1.0, 0.625, 0.625], [0.375, 0.25, -0.375]]> : tensor<5x3xf32>
  %tok2 = arith.constant dense<[1, 0, 1, -1, 3]> : tensor<5xi32>
  %w2 = arith.constant dense<[0.5, -1.5, 0.25, 4.0, 2.0]> : tensor<5xf16>
  %y2 = call @combine_f16(%rows2, %tok2, %w2)
      : (tensor<5x3xf32>, tensor<5xi32>, tensor<5xf16>) -> tensor<4x3xf32>
  %buf3 = bufferization.to_buffer %y2 : tensor<4x3xf32> to memref<4x3xf32>
  %ubuf3 = memref.cast %buf3 : memref<4x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf3) : (memref<*xf32>) -> ()
  return
}

// Permuted rows: padding rows are zero.
// CHECK: rank = 2 offset = 0 sizes = [8, 3]
// CHECK-NEXT: [1, 0.25, 0.375]
// CHECK-NEXT: [0.875, 0.125, 0.625]
// CHECK-NEXT: [0.75, -0.625, -1]
// CHECK-NEXT: [0.75, -0.625, -1]
// CHECK-NEXT: [-0.375, -0.5, 0.75]
// CHECK-NEXT: [1, 0.25, 0.375]
// CHECK-NEXT: [-0.375, -0.5, 0.75]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// init + sum over the token's slots of weight * x[token].
// CHECK: rank = 2 offset = 0 sizes = [4, 3]
// CHECK-NEXT: [{{(1\.624[0-9]*|1\.625[0-9]*)}}, {{(-0\.8124[0-9]*|-0\.8125[0-9]*)}}, {{0\.2812[0-9]*}}]
// CHECK-NEXT: [{{1\.281[0-9]*}}, {{-0\.6562[0-9]*}}, {{1\.093[0-9]*}}]
// CHECK-NEXT: [{{-?0}}, {{(-0\.7499[0-9]*|-0\.75(00[0-9]*)?)}}, {{(-0\.3749[0-9]*|-0\.375(0[0-9]*)?)}}]
// CHECK-NEXT: [{{(-0\.7499[0-9]*|-0\.75(00[0-9]*)?)}}, {{(-0\.8749[0-9]*|-0\.875(0[0-9]*)?)}}, {{(0\.2499[0-9]*|0\.25(00[0-9]*)?)}}]
// CHECK: rank = 2 offset = 0 sizes = [4, 3]
// CHECK-NEXT: [{{1\.062[0-9]*}}, {{(-0\.9999[0-9]*|-1(\.000[0-9]*)?)}}, {{-?0}}]
// CHECK-NEXT: [{{0\.9062[0-9]*}}, {{-0\.9687[0-9]*}}, {{(1\.124[0-9]*|1\.125[0-9]*)}}]
// CHECK-NEXT: [{{(-0\.7499[0-9]*|-0\.75(00[0-9]*)?)}}, {{(-0\.1249[0-9]*|-0\.125(0[0-9]*)?)}}, {{(0\.6249[0-9]*|0\.625(0[0-9]*)?)}}]
// CHECK-NEXT: [{{(0\.3749[0-9]*|0\.375(0[0-9]*)?)}}, {{(0\.1249[0-9]*|0\.125(0[0-9]*)?)}}, {{(-1\.249[0-9]*|-1\.25(0[0-9]*)?)}}]
