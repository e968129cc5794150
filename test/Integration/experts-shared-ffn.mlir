// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.shared_ffn: a sigmoid-gated SwiGLU shared expert (Qwen2-MoE) and an
// ungated one with biases. Expected values: numpy.

func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefF64(memref<*xf64>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @shared_gated(%x: tensor<3x3xf32>, %w1: tensor<2x3xf32>, %w2: tensor<3x2xf32>,
                        %w3: tensor<2x3xf32>, %g: tensor<3xf32>) -> tensor<3x3xf32> {
  %y = moe.shared_ffn %x fc1(%w1) fc2(%w2) fc3(%w3) gate(%g)
         {activation = #moe.activation<kind = silu>}
         : (tensor<3x3xf32>, tensor<2x3xf32>, tensor<3x2xf32>, tensor<2x3xf32>,
            tensor<3xf32>) -> tensor<3x3xf32>
  return %y : tensor<3x3xf32>
}

func.func @shared_bias(%x: tensor<3x3xf32>, %w1: tensor<2x3xf32>, %b1: tensor<2xf32>,
                       %w2: tensor<3x2xf32>, %b2: tensor<3xf32>, %w3: tensor<2x3xf32>,
                       %b3: tensor<2xf32>) -> tensor<3x3xf32> {
  %y = moe.shared_ffn %x fc1(%w1, %b1) fc2(%w2, %b2) fc3(%w3, %b3)
         {activation = #moe.activation<kind = gelu_tanh>}
         : (tensor<3x3xf32>, tensor<2x3xf32>, tensor<2xf32>, tensor<3x2xf32>,
            tensor<3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<3x3xf32>
  return %y : tensor<3x3xf32>
}

func.func @main() {
  %x = arith.constant dense<[[0.875, 0.0, -0.75], [0.25, -0.125, 0.375], [-0.25, -0.375, -0.75]]> : tensor<3x3xf32>
  %w1 = arith.constant dense<[[1.0, 0.5, -0.125], [-0.625, 0.25, -0.125]]> : tensor<2x3xf32>
  %b1 = arith.constant dense<[0.25, -0.875]> : tensor<2xf32>
  %w2 = arith.constant dense<[[-0.625, 0.5], [-0.875, 0.375], [-0.25, -1.0]]> : tensor<3x2xf32>
  %b2 = arith.constant dense<[0.5, 0.375, 0.625]> : tensor<3xf32>
  %w3 = arith.constant dense<[[0.875, 0.5, 0.75], [-0.875, 0.875, 0.875]]> : tensor<2x3xf32>
  %b3 = arith.constant dense<[0.375, 0.625]> : tensor<2xf32>
  %g = arith.constant dense<[0.5, 0.75, 0.875]> : tensor<3xf32>
  %y1 = call @shared_gated(%x, %w1, %w2, %w3, %g)
      : (tensor<3x3xf32>, tensor<2x3xf32>, tensor<3x2xf32>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x3xf32>
  %buf1 = bufferization.to_buffer %y1 : tensor<3x3xf32> to memref<3x3xf32>
  %ubuf1 = memref.cast %buf1 : memref<3x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf1) : (memref<*xf32>) -> ()
  %y2 = call @shared_bias(%x, %w1, %b1, %w2, %b2, %w3, %b3)
      : (tensor<3x3xf32>, tensor<2x3xf32>, tensor<2xf32>, tensor<3x2xf32>, tensor<3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<3x3xf32>
  %buf2 = bufferization.to_buffer %y2 : tensor<3x3xf32> to memref<3x3xf32>
  %ubuf2 = memref.cast %buf2 : memref<3x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf2) : (memref<*xf32>) -> ()
  return
}

// FFN(x[t]) * sigmoid(dot(x[t], gate))
// CHECK: rank = 2 offset = 0 sizes = [3, 3]
// CHECK-NEXT: [{{0\.01605[0-9]*}}, {{-0\.01377[0-9]*}}, {{-0\.1274[0-9]*}}]
// CHECK-NEXT: [{{-0\.01211[0-9]*}}, {{-0\.01696[0-9]*}}, {{-0\.004846[0-9]*}}]
// CHECK-NEXT: [{{-0\.03045[0-9]*}}, {{(-0\.03725[0-9]*|-0\.03726[0-9]*)}}, {{0\.007688[0-9]*}}]
// ungated, with biases
// CHECK: rank = 2 offset = 0 sizes = [3, 3]
// CHECK-NEXT: [{{0\.1576[0-9]*}}, {{-0\.136(0[0-9]*)?}}, {{(0\.3708[0-9]*|0\.3709[0-9]*)}}]
// CHECK-NEXT: [{{0\.3242[0-9]*}}, {{0\.1591[0-9]*}}, {{0\.666(0[0-9]*)?}}]
// CHECK-NEXT: [{{0\.4958[0-9]*}}, {{0\.3614[0-9]*}}, {{0\.5946[0-9]*}}]
