// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.grouped_ffn with gpt-oss's fused swiglu: interleaved and
// concatenated halves with a clamp limit that is reached, and the
// unclamped default. Expected values: numpy.

func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefF64(memref<*xf64>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @interleaved_limit(%rows: tensor<6x3xf32>,
    %off: tensor<5xi32>,
    %w1: tensor<3x4x3xf32>,
    %b1: tensor<3x4xf32>,
    %w2: tensor<3x3x2xf32>,
    %b2: tensor<3x3xf32>) -> tensor<6x3xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2)
         {activation = #moe.activation<kind = swiglu, alpha = 1.702, beta = 1.0, limit = 0.75>}
         : (tensor<6x3xf32>,
            tensor<5xi32>,
            tensor<3x4x3xf32>,
            tensor<3x4xf32>,
            tensor<3x3x2xf32>,
            tensor<3x3xf32>)
         -> tensor<6x3xf32>
  return %y : tensor<6x3xf32>
}

func.func @concatenated_limit(%rows: tensor<6x3xf32>,
    %off: tensor<5xi32>,
    %w1: tensor<3x4x3xf32>,
    %b1: tensor<3x4xf32>,
    %w2: tensor<3x3x2xf32>,
    %b2: tensor<3x3xf32>) -> tensor<6x3xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2)
         {activation = #moe.activation<kind = swiglu, layout = concatenated, alpha = 1.702, beta = 1.0, limit = 0.75>}
         : (tensor<6x3xf32>,
            tensor<5xi32>,
            tensor<3x4x3xf32>,
            tensor<3x4xf32>,
            tensor<3x3x2xf32>,
            tensor<3x3xf32>)
         -> tensor<6x3xf32>
  return %y : tensor<6x3xf32>
}

func.func @interleaved_nolimit(%rows: tensor<6x3xf32>,
    %off: tensor<5xi32>,
    %w1: tensor<3x4x3xf32>,
    %b1: tensor<3x4xf32>,
    %w2: tensor<3x3x2xf32>,
    %b2: tensor<3x3xf32>) -> tensor<6x3xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2)
         {activation = #moe.activation<kind = swiglu>}
         : (tensor<6x3xf32>,
            tensor<5xi32>,
            tensor<3x4x3xf32>,
            tensor<3x4xf32>,
            tensor<3x3x2xf32>,
            tensor<3x3xf32>)
         -> tensor<6x3xf32>
  return %y : tensor<6x3xf32>
}

func.func @main() {
  %rows = arith.constant dense<[[-0.875, -0.75, 0.5], [-0.375, 1.0, -1.25], [-1.375, -1.875, -0.125], [-1.125, -0.875, 1.75], [1.25, 1.375, 0.375], [-1.625, 1.0, 0.375]]> : tensor<6x3xf32>
  %off = arith.constant dense<[0, 2, 2, 4, 5]> : tensor<5xi32>
  %w1 = arith.constant dense<[[[1.875, 0.125, 1.625], [1.625, 1.125, 1.0], [0.375, 0.375, 1.375], [-0.25, 1.875, 1.5]], [[-0.5, -0.375, 0.875], [1.75, -1.625, -1.75], [-1.0, -0.25, -1.375], [0.125, 0.125, 1.875]], [[1.0, -1.0, 1.125], [1.25, 0.75, 0.75], [-0.75, 0.875, -1.5], [0.5, 1.75, 2.0]]]> : tensor<3x4x3xf32>
  %b1 = arith.constant dense<[[-0.125, 0.75, 0.625, 1.0], [-1.0, 0.75, 0.25, 0.0], [0.625, 1.0, 0.0, -0.875]]> : tensor<3x4xf32>
  %w2 = arith.constant dense<[[[0.5, -0.625], [-0.625, -0.625], [-0.625, 0.875]], [[-0.25, -0.875], [-0.625, -0.25], [-0.375, -0.375]], [[1.0, 0.75], [0.125, 1.0], [-0.375, -0.75]]]> : tensor<3x3x2xf32>
  %b2 = arith.constant dense<[[-0.5, -0.875, 1.0], [-0.625, -0.125, -0.625], [1.0, -0.75, 0.0]]> : tensor<3x3xf32>
  %y_interleaved_limit = call @interleaved_limit(%rows, %off, %w1, %b1, %w2, %b2)
      : (tensor<6x3xf32>, tensor<5xi32>, tensor<3x4x3xf32>, tensor<3x4xf32>, tensor<3x3x2xf32>, tensor<3x3xf32>) -> tensor<6x3xf32>
  %buf1 = bufferization.to_buffer %y_interleaved_limit : tensor<6x3xf32> to memref<6x3xf32>
  %ubuf1 = memref.cast %buf1 : memref<6x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf1) : (memref<*xf32>) -> ()
  %y_concatenated_limit = call @concatenated_limit(%rows, %off, %w1, %b1, %w2, %b2)
      : (tensor<6x3xf32>, tensor<5xi32>, tensor<3x4x3xf32>, tensor<3x4xf32>, tensor<3x3x2xf32>, tensor<3x3xf32>) -> tensor<6x3xf32>
  %buf2 = bufferization.to_buffer %y_concatenated_limit : tensor<6x3xf32> to memref<6x3xf32>
  %ubuf2 = memref.cast %buf2 : memref<6x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf2) : (memref<*xf32>) -> ()
  %y_interleaved_nolimit = call @interleaved_nolimit(%rows, %off, %w1, %b1, %w2, %b2)
      : (tensor<6x3xf32>, tensor<5xi32>, tensor<3x4x3xf32>, tensor<3x4xf32>, tensor<3x3x2xf32>, tensor<3x3xf32>) -> tensor<6x3xf32>
  %buf3 = bufferization.to_buffer %y_interleaved_nolimit : tensor<6x3xf32> to memref<6x3xf32>
  %ubuf3 = memref.cast %buf3 : memref<6x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf3) : (memref<*xf32>) -> ()
  return
}

// interleaved_limit
// CHECK: rank = 2 offset = 0 sizes = [6, 3]
// CHECK-NEXT: [{{-1\.046[0-9]*}}, {{-1\.378[0-9]*}}, {{1\.761[0-9]*}}]
// CHECK-NEXT: [{{-0\.3363[0-9]*}}, {{-0\.6818[0-9]*}}, {{(0\.7688[0-9]*|0\.7689[0-9]*)}}]
// CHECK-NEXT: [{{1\.12(0[0-9]*)?}}, {{-0\.7662[0-9]*}}, {{-0\.02904[0-9]*}}]
// CHECK-NEXT: [{{1\.695[0-9]*}}, {{-0\.7088[0-9]*}}, {{-0\.237(0[0-9]*)?}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// concatenated_limit
// CHECK: rank = 2 offset = 0 sizes = [6, 3]
// CHECK-NEXT: [{{-0\.4789[0-9]*}}, {{(-0\.5648[0-9]*|-0\.5649[0-9]*)}}, {{(0\.9511[0-9]*|0\.9512[0-9]*)}}]
// CHECK-NEXT: [{{-0\.5118[0-9]*}}, {{-0\.8796[0-9]*}}, {{1\.016[0-9]*}}]
// CHECK-NEXT: [{{1\.329[0-9]*}}, {{-0\.72(00[0-9]*)?}}, {{-0\.1178[0-9]*}}]
// CHECK-NEXT: [{{1\.32(0[0-9]*)?}}, {{-0\.5001[0-9]*}}, {{-0\.2286[0-9]*}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// interleaved_nolimit
// CHECK: rank = 2 offset = 0 sizes = [6, 3]
// CHECK-NEXT: [{{-0\.5272[0-9]*}}, {{(-1\.212[0-9]*|-1\.213[0-9]*)}}, {{1\.058[0-9]*}}]
// CHECK-NEXT: [{{-0\.3265[0-9]*}}, {{-0\.6986[0-9]*}}, {{0\.7569[0-9]*}}]
// CHECK-NEXT: [{{0\.04838[0-9]*}}, {{-0\.09762[0-9]*}}, {{-0\.0421(0[0-9]*)?}}]
// CHECK-NEXT: [{{1\.46(0[0-9]*)?}}, {{-0\.7814[0-9]*}}, {{-0\.1267[0-9]*}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
