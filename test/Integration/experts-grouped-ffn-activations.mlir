// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.grouped_ffn with biases for every element-wise activation. Expert 1
// has no rows; row 4 (a later expert's) and row 5 (padding) stay zero.
// Expected values: numpy.

func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefF64(memref<*xf64>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @relu(%rows: tensor<6x3xf32>,
    %off: tensor<5xi32>,
    %w1: tensor<3x2x3xf32>,
    %b1: tensor<3x2xf32>,
    %w2: tensor<3x3x2xf32>,
    %b2: tensor<3x3xf32>) -> tensor<6x3xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2)
         {activation = #moe.activation<kind = relu>}
         : (tensor<6x3xf32>,
            tensor<5xi32>,
            tensor<3x2x3xf32>,
            tensor<3x2xf32>,
            tensor<3x3x2xf32>,
            tensor<3x3xf32>)
         -> tensor<6x3xf32>
  return %y : tensor<6x3xf32>
}

func.func @gelu_tanh(%rows: tensor<6x3xf32>,
    %off: tensor<5xi32>,
    %w1: tensor<3x2x3xf32>,
    %b1: tensor<3x2xf32>,
    %w2: tensor<3x3x2xf32>,
    %b2: tensor<3x3xf32>) -> tensor<6x3xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2)
         {activation = #moe.activation<kind = gelu_tanh>}
         : (tensor<6x3xf32>,
            tensor<5xi32>,
            tensor<3x2x3xf32>,
            tensor<3x2xf32>,
            tensor<3x3x2xf32>,
            tensor<3x3xf32>)
         -> tensor<6x3xf32>
  return %y : tensor<6x3xf32>
}

func.func @gelu_erf(%rows: tensor<6x3xf32>,
    %off: tensor<5xi32>,
    %w1: tensor<3x2x3xf32>,
    %b1: tensor<3x2xf32>,
    %w2: tensor<3x3x2xf32>,
    %b2: tensor<3x3xf32>) -> tensor<6x3xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2)
         {activation = #moe.activation<kind = gelu_erf>}
         : (tensor<6x3xf32>,
            tensor<5xi32>,
            tensor<3x2x3xf32>,
            tensor<3x2xf32>,
            tensor<3x3x2xf32>,
            tensor<3x3xf32>)
         -> tensor<6x3xf32>
  return %y : tensor<6x3xf32>
}

func.func @silu(%rows: tensor<6x3xf32>,
    %off: tensor<5xi32>,
    %w1: tensor<3x2x3xf32>,
    %b1: tensor<3x2xf32>,
    %w2: tensor<3x3x2xf32>,
    %b2: tensor<3x3xf32>) -> tensor<6x3xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2)
         {activation = #moe.activation<kind = silu>}
         : (tensor<6x3xf32>,
            tensor<5xi32>,
            tensor<3x2x3xf32>,
            tensor<3x2xf32>,
            tensor<3x3x2xf32>,
            tensor<3x3xf32>)
         -> tensor<6x3xf32>
  return %y : tensor<6x3xf32>
}

func.func @identity(%rows: tensor<6x3xf32>,
    %off: tensor<5xi32>,
    %w1: tensor<3x2x3xf32>,
    %b1: tensor<3x2xf32>,
    %w2: tensor<3x3x2xf32>,
    %b2: tensor<3x3xf32>) -> tensor<6x3xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2)
         {activation = #moe.activation<kind = identity>}
         : (tensor<6x3xf32>,
            tensor<5xi32>,
            tensor<3x2x3xf32>,
            tensor<3x2xf32>,
            tensor<3x3x2xf32>,
            tensor<3x3xf32>)
         -> tensor<6x3xf32>
  return %y : tensor<6x3xf32>
}

func.func @main() {
  %rows = arith.constant dense<[[-1.0, 0.5, 0.0], [-0.875, -0.5, 0.125], [0.5, 0.0, 0.25], [0.75, 0.375, -0.25], [0.25, 0.25, -0.875], [-0.875, 0.375, -0.25]]> : tensor<6x3xf32>
  %off = arith.constant dense<[0, 2, 2, 4, 5]> : tensor<5xi32>
  %w1 = arith.constant dense<[[[1.0, -0.125, -0.625], [0.75, -0.75, 0.75]], [[0.25, -0.875, -1.0], [-0.125, -1.0, -0.75]], [[0.0, 1.0, -0.125], [0.625, 0.875, 0.625]]]> : tensor<3x2x3xf32>
  %b1 = arith.constant dense<[[0.25, -0.125], [0.0, -0.5], [0.0, -0.25]]> : tensor<3x2xf32>
  %w2 = arith.constant dense<[[[-0.5, 1.0], [-1.0, -0.875], [-0.625, 1.0]], [[0.375, 0.75], [-0.625, 0.5], [-0.25, 0.0]], [[-1.0, 0.25], [0.75, 0.375], [-0.75, 0.125]]]> : tensor<3x3x2xf32>
  %b2 = arith.constant dense<[[-0.5, 1.0, 0.75], [-0.625, 0.0, 0.875], [0.75, 0.5, 0.25]]> : tensor<3x3xf32>
  %y_relu = call @relu(%rows, %off, %w1, %b1, %w2, %b2)
      : (tensor<6x3xf32>, tensor<5xi32>, tensor<3x2x3xf32>, tensor<3x2xf32>, tensor<3x3x2xf32>, tensor<3x3xf32>) -> tensor<6x3xf32>
  %buf1 = bufferization.to_buffer %y_relu : tensor<6x3xf32> to memref<6x3xf32>
  %ubuf1 = memref.cast %buf1 : memref<6x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf1) : (memref<*xf32>) -> ()
  %y_gelu_tanh = call @gelu_tanh(%rows, %off, %w1, %b1, %w2, %b2)
      : (tensor<6x3xf32>, tensor<5xi32>, tensor<3x2x3xf32>, tensor<3x2xf32>, tensor<3x3x2xf32>, tensor<3x3xf32>) -> tensor<6x3xf32>
  %buf2 = bufferization.to_buffer %y_gelu_tanh : tensor<6x3xf32> to memref<6x3xf32>
  %ubuf2 = memref.cast %buf2 : memref<6x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf2) : (memref<*xf32>) -> ()
  %y_gelu_erf = call @gelu_erf(%rows, %off, %w1, %b1, %w2, %b2)
      : (tensor<6x3xf32>, tensor<5xi32>, tensor<3x2x3xf32>, tensor<3x2xf32>, tensor<3x3x2xf32>, tensor<3x3xf32>) -> tensor<6x3xf32>
  %buf3 = bufferization.to_buffer %y_gelu_erf : tensor<6x3xf32> to memref<6x3xf32>
  %ubuf3 = memref.cast %buf3 : memref<6x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf3) : (memref<*xf32>) -> ()
  %y_silu = call @silu(%rows, %off, %w1, %b1, %w2, %b2)
      : (tensor<6x3xf32>, tensor<5xi32>, tensor<3x2x3xf32>, tensor<3x2xf32>, tensor<3x3x2xf32>, tensor<3x3xf32>) -> tensor<6x3xf32>
  %buf4 = bufferization.to_buffer %y_silu : tensor<6x3xf32> to memref<6x3xf32>
  %ubuf4 = memref.cast %buf4 : memref<6x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf4) : (memref<*xf32>) -> ()
  %y_identity = call @identity(%rows, %off, %w1, %b1, %w2, %b2)
      : (tensor<6x3xf32>, tensor<5xi32>, tensor<3x2x3xf32>, tensor<3x2xf32>, tensor<3x3x2xf32>, tensor<3x3xf32>) -> tensor<6x3xf32>
  %buf5 = bufferization.to_buffer %y_identity : tensor<6x3xf32> to memref<6x3xf32>
  %ubuf5 = memref.cast %buf5 : memref<6x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf5) : (memref<*xf32>) -> ()
  return
}

// relu
// CHECK: rank = 2 offset = 0 sizes = [6, 3]
// CHECK-NEXT: [{{(-0\.4999[0-9]*|-0\.5(000[0-9]*)?)}}, {{(0\.9999[0-9]*|1(\.000[0-9]*)?)}}, {{(0\.7499[0-9]*|0\.75(00[0-9]*)?)}}]
// CHECK-NEXT: [{{(-0\.4999[0-9]*|-0\.5(000[0-9]*)?)}}, {{(0\.9999[0-9]*|1(\.000[0-9]*)?)}}, {{(0\.7499[0-9]*|0\.75(00[0-9]*)?)}}]
// CHECK-NEXT: [{{(0\.8046[0-9]*|0\.8047[0-9]*)}}, {{0\.582(0[0-9]*)?}}, {{0\.2773[0-9]*}}]
// CHECK-NEXT: [{{(0\.4413[0-9]*|0\.4414[0-9]*)}}, {{0\.9511[0-9]*}}, {{-0\.005859[0-9]*}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// gelu_tanh
// CHECK: rank = 2 offset = 0 sizes = [6, 3]
// CHECK-NEXT: [{{-0\.5476[0-9]*}}, {{1\.285[0-9]*}}, {{0\.7235[0-9]*}}]
// CHECK-NEXT: [{{-0\.5343[0-9]*}}, {{1\.27(0[0-9]*)?}}, {{0\.7365[0-9]*}}]
// CHECK-NEXT: [{{(0\.7972[0-9]*|0\.7973[0-9]*)}}, {{(0\.5366[0-9]*|0\.5367[0-9]*)}}, {{0\.2774[0-9]*}}]
// CHECK-NEXT: [{{0\.5464[0-9]*}}, {{(0\.7958[0-9]*|0\.7959[0-9]*)}}, {{(0\.08143[0-9]*|0\.08144[0-9]*)}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// gelu_erf
// CHECK: rank = 2 offset = 0 sizes = [6, 3]
// CHECK-NEXT: [{{-0\.5474[0-9]*}}, {{1\.284[0-9]*}}, {{(0\.7236[0-9]*|0\.7237[0-9]*)}}]
// CHECK-NEXT: [{{-0\.5343[0-9]*}}, {{1\.27(0[0-9]*)?}}, {{0\.7365[0-9]*}}]
// CHECK-NEXT: [{{(0\.7972[0-9]*|0\.7973[0-9]*)}}, {{(0\.5366[0-9]*|0\.5367[0-9]*)}}, {{0\.2774[0-9]*}}]
// CHECK-NEXT: [{{0\.5464[0-9]*}}, {{(0\.7958[0-9]*|0\.7959[0-9]*)}}, {{0\.08143[0-9]*}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// silu
// CHECK: rank = 2 offset = 0 sizes = [6, 3]
// CHECK-NEXT: [{{(-0\.6534[0-9]*|-0\.6535[0-9]*)}}, {{1\.493[0-9]*}}, {{(0\.6276[0-9]*|0\.6277[0-9]*)}}]
// CHECK-NEXT: [{{(-0\.5214[0-9]*|-0\.5215[0-9]*)}}, {{1\.336[0-9]*}}, {{0\.7561[0-9]*}}]
// CHECK-NEXT: [{{(0\.7956[0-9]*|0\.7957[0-9]*)}}, {{0\.5339[0-9]*}}, {{(0\.2766[0-9]*|0\.2767[0-9]*)}}]
// CHECK-NEXT: [{{0\.5644[0-9]*}}, {{0\.7702[0-9]*}}, {{0\.09625[0-9]*}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// identity
// CHECK: rank = 2 offset = 0 sizes = [6, 3]
// CHECK-NEXT: [{{-1\.343[0-9]*}}, {{2\.906[0-9]*}}, {{0\.007812[0-9]*}}]
// CHECK-NEXT: [{{-0\.4921[0-9]*}}, {{1\.914[0-9]*}}, {{(0\.8378[0-9]*|0\.8379[0-9]*)}}]
// CHECK-NEXT: [{{0\.8359[0-9]*}}, {{(0\.5585[0-9]*|0\.5586[0-9]*)}}, {{0\.3007[0-9]*}}]
// CHECK-NEXT: [{{(0\.4413[0-9]*|0\.4414[0-9]*)}}, {{0\.9511[0-9]*}}, {{-0\.005859[0-9]*}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
