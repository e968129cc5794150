// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.grouped_ffn with fc3 gating and all biases, with weights of another
// float type, f64 rows and a dynamic row count. Expected values: numpy.

func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefF64(memref<*xf64>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @gated_silu(%rows: tensor<6x3xf32>,
    %off: tensor<5xi32>,
    %w1: tensor<3x2x3xf32>,
    %b1: tensor<3x2xf32>,
    %w2: tensor<3x3x2xf32>,
    %b2: tensor<3x3xf32>,
    %w3: tensor<3x2x3xf32>,
    %b3: tensor<3x2xf32>) -> tensor<6x3xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2) fc3(%w3, %b3)
         {activation = #moe.activation<kind = silu>}
         : (tensor<6x3xf32>,
            tensor<5xi32>,
            tensor<3x2x3xf32>,
            tensor<3x2xf32>,
            tensor<3x3x2xf32>,
            tensor<3x3xf32>,
            tensor<3x2x3xf32>,
            tensor<3x2xf32>)
         -> tensor<6x3xf32>
  return %y : tensor<6x3xf32>
}

func.func @gated_f16(%rows: tensor<6x3xf32>,
    %off: tensor<5xi32>,
    %w1: tensor<3x2x3xf16>,
    %b1: tensor<3x2xf16>,
    %w2: tensor<3x3x2xf16>,
    %b2: tensor<3x3xf16>,
    %w3: tensor<3x2x3xf16>,
    %b3: tensor<3x2xf16>) -> tensor<6x3xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2) fc3(%w3, %b3)
         {activation = #moe.activation<kind = gelu_erf>}
         : (tensor<6x3xf32>,
            tensor<5xi32>,
            tensor<3x2x3xf16>,
            tensor<3x2xf16>,
            tensor<3x3x2xf16>,
            tensor<3x3xf16>,
            tensor<3x2x3xf16>,
            tensor<3x2xf16>)
         -> tensor<6x3xf32>
  return %y : tensor<6x3xf32>
}

func.func @gated_f64(%rows: tensor<6x3xf64>,
    %off: tensor<5xi32>,
    %w1: tensor<3x2x3xf32>,
    %b1: tensor<3x2xf32>,
    %w2: tensor<3x3x2xf32>,
    %b2: tensor<3x3xf32>,
    %w3: tensor<3x2x3xf32>,
    %b3: tensor<3x2xf32>) -> tensor<6x3xf64> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2) fc3(%w3, %b3)
         {activation = #moe.activation<kind = gelu_tanh>}
         : (tensor<6x3xf64>,
            tensor<5xi32>,
            tensor<3x2x3xf32>,
            tensor<3x2xf32>,
            tensor<3x3x2xf32>,
            tensor<3x3xf32>,
            tensor<3x2x3xf32>,
            tensor<3x2xf32>)
         -> tensor<6x3xf64>
  return %y : tensor<6x3xf64>
}

func.func @gated_dynamic(%rows: tensor<?x3xf32>,
    %off: tensor<5xi32>,
    %w1: tensor<3x2x3xf32>,
    %b1: tensor<3x2xf32>,
    %w2: tensor<3x3x2xf32>,
    %b2: tensor<3x3xf32>,
    %w3: tensor<3x2x3xf32>,
    %b3: tensor<3x2xf32>) -> tensor<?x3xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2) fc3(%w3, %b3)
         {activation = #moe.activation<kind = relu>}
         : (tensor<?x3xf32>,
            tensor<5xi32>,
            tensor<3x2x3xf32>,
            tensor<3x2xf32>,
            tensor<3x3x2xf32>,
            tensor<3x3xf32>,
            tensor<3x2x3xf32>,
            tensor<3x2xf32>)
         -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

func.func @main() {
  %rows = arith.constant dense<[[0.75, 0.125, -0.125], [0.5, 0.125, 0.0], [-0.375, -0.125, 0.5], [-1.0, -1.0, 0.5], [-0.25, 0.625, -1.0], [0.875, -0.75, -0.125]]> : tensor<6x3xf32>
  %off = arith.constant dense<[0, 2, 2, 4, 5]> : tensor<5xi32>
  %w1 = arith.constant dense<[[[0.25, -0.375, -0.625], [-0.75, -0.25, 0.625]], [[-0.25, -0.25, 0.125], [1.0, -0.25, 0.25]], [[-0.125, 0.25, -0.125], [0.25, 0.125, 0.375]]]> : tensor<3x2x3xf32>
  %b1 = arith.constant dense<[[1.0, -0.75], [0.125, -0.125], [-0.25, -0.5]]> : tensor<3x2xf32>
  %w2 = arith.constant dense<[[[-1.0, -0.25], [0.75, -0.875], [-0.25, 1.0]], [[1.0, -0.625], [-1.0, 0.375], [-1.0, -0.375]], [[0.0, 0.75], [-0.875, 0.375], [0.125, -0.75]]]> : tensor<3x3x2xf32>
  %b2 = arith.constant dense<[[0.75, 0.75, 0.0], [1.0, 0.25, 0.875], [1.0, 0.125, -0.5]]> : tensor<3x3xf32>
  %w3 = arith.constant dense<[[[-0.75, 0.125, -0.625], [0.5, 0.875, -0.5]], [[0.125, -1.0, -0.625], [-0.25, 0.875, 1.0]], [[0.25, 0.125, 0.125], [-0.875, -0.25, 1.0]]]> : tensor<3x2x3xf32>
  %b3 = arith.constant dense<[[-0.25, -0.625], [-0.5, 0.5], [-1.0, 1.0]]> : tensor<3x2xf32>
  %w1_h = arith.constant dense<[[[0.25, -0.375, -0.625], [-0.75, -0.25, 0.625]], [[-0.25, -0.25, 0.125], [1.0, -0.25, 0.25]], [[-0.125, 0.25, -0.125], [0.25, 0.125, 0.375]]]> : tensor<3x2x3xf16>
  %b1_h = arith.constant dense<[[1.0, -0.75], [0.125, -0.125], [-0.25, -0.5]]> : tensor<3x2xf16>
  %w2_h = arith.constant dense<[[[-1.0, -0.25], [0.75, -0.875], [-0.25, 1.0]], [[1.0, -0.625], [-1.0, 0.375], [-1.0, -0.375]], [[0.0, 0.75], [-0.875, 0.375], [0.125, -0.75]]]> : tensor<3x3x2xf16>
  %b2_h = arith.constant dense<[[0.75, 0.75, 0.0], [1.0, 0.25, 0.875], [1.0, 0.125, -0.5]]> : tensor<3x3xf16>
  %w3_h = arith.constant dense<[[[-0.75, 0.125, -0.625], [0.5, 0.875, -0.5]], [[0.125, -1.0, -0.625], [-0.25, 0.875, 1.0]], [[0.25, 0.125, 0.125], [-0.875, -0.25, 1.0]]]> : tensor<3x2x3xf16>
  %b3_h = arith.constant dense<[[-0.25, -0.625], [-0.5, 0.5], [-1.0, 1.0]]> : tensor<3x2xf16>
  %y1 = call @gated_silu(%rows, %off, %w1, %b1, %w2, %b2, %w3, %b3)
      : (tensor<6x3xf32>, tensor<5xi32>, tensor<3x2x3xf32>, tensor<3x2xf32>, tensor<3x3x2xf32>, tensor<3x3xf32>, tensor<3x2x3xf32>, tensor<3x2xf32>) -> tensor<6x3xf32>
  %buf1 = bufferization.to_buffer %y1 : tensor<6x3xf32> to memref<6x3xf32>
  %ubuf1 = memref.cast %buf1 : memref<6x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf1) : (memref<*xf32>) -> ()
  %y2 = call @gated_f16(%rows, %off, %w1_h, %b1_h, %w2_h, %b2_h, %w3_h, %b3_h)
      : (tensor<6x3xf32>, tensor<5xi32>, tensor<3x2x3xf16>, tensor<3x2xf16>, tensor<3x3x2xf16>, tensor<3x3xf16>, tensor<3x2x3xf16>, tensor<3x2xf16>) -> tensor<6x3xf32>
  %buf2 = bufferization.to_buffer %y2 : tensor<6x3xf32> to memref<6x3xf32>
  %ubuf2 = memref.cast %buf2 : memref<6x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf2) : (memref<*xf32>) -> ()
  %rows64 = arith.constant dense<[[0.75, 0.125, -0.125], [0.5, 0.125, 0.0], [-0.375, -0.125, 0.5], [-1.0, -1.0, 0.5], [-0.25, 0.625, -1.0], [0.875, -0.75, -0.125]]> : tensor<6x3xf64>
  %y3 = call @gated_f64(%rows64, %off, %w1, %b1, %w2, %b2, %w3, %b3)
      : (tensor<6x3xf64>, tensor<5xi32>, tensor<3x2x3xf32>, tensor<3x2xf32>, tensor<3x3x2xf32>, tensor<3x3xf32>, tensor<3x2x3xf32>, tensor<3x2xf32>) -> tensor<6x3xf64>
  %buf3 = bufferization.to_buffer %y3 : tensor<6x3xf64> to memref<6x3xf64>
  %ubuf3 = memref.cast %buf3 : memref<6x3xf64> to memref<*xf64>
  call @printMemrefF64(%ubuf3) : (memref<*xf64>) -> ()
  %drows = tensor.cast %rows : tensor<6x3xf32> to tensor<?x3xf32>
  %y4d = call @gated_dynamic(%drows, %off, %w1, %b1, %w2, %b2, %w3, %b3)
      : (tensor<?x3xf32>, tensor<5xi32>, tensor<3x2x3xf32>, tensor<3x2xf32>, tensor<3x3x2xf32>, tensor<3x3xf32>, tensor<3x2x3xf32>, tensor<3x2xf32>) -> tensor<?x3xf32>
  %y4 = tensor.cast %y4d : tensor<?x3xf32> to tensor<6x3xf32>
  %buf4 = bufferization.to_buffer %y4 : tensor<6x3xf32> to memref<6x3xf32>
  %ubuf4 = memref.cast %buf4 : memref<6x3xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf4) : (memref<*xf32>) -> ()
  return
}

// silu(fc1 x + b1) * (fc3 x + b3)
// CHECK: rank = 2 offset = 0 sizes = [6, 3]
// CHECK-NEXT: [{{1\.42(0[0-9]*)?}}, {{0\.224(0[0-9]*)?}}, {{0\.1906[0-9]*}}]
// CHECK-NEXT: [{{1\.221[0-9]*}}, {{0\.318(0[0-9]*)?}}, {{0\.196(0[0-9]*)?}}]
// CHECK-NEXT: [{{(0\.7669[0-9]*|0\.767(0[0-9]*)?)}}, {{-0\.1074[0-9]*}}, {{-0\.2504[0-9]*}}]
// CHECK-NEXT: [{{0\.5471[0-9]*}}, {{-0\.2985[0-9]*}}, {{-0\.01896[0-9]*}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// f16 weights, gelu_erf
// CHECK: rank = 2 offset = 0 sizes = [6, 3]
// CHECK-NEXT: [{{1\.526[0-9]*}}, {{0\.1587[0-9]*}}, {{(0\.2031[0-9]*|0\.2032[0-9]*)}}]
// CHECK-NEXT: [{{1\.305[0-9]*}}, {{0\.2932[0-9]*}}, {{0\.1791[0-9]*}}]
// CHECK-NEXT: [{{(0\.8019[0-9]*|0\.802(0[0-9]*)?)}}, {{-0\.07823[0-9]*}}, {{-0\.2871[0-9]*}}]
// CHECK-NEXT: [{{(0\.6671[0-9]*|0\.6672[0-9]*)}}, {{-0\.2076[0-9]*}}, {{-0\.1434[0-9]*}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// f64 rows, gelu_tanh
// CHECK: rank = 2 offset = 0 sizes = [6, 3]
// CHECK-NEXT: [{{(1\.525[0-9]*|1\.526[0-9]*)}}, {{0\.1588[0-9]*}}, {{0\.2031[0-9]*}}]
// CHECK-NEXT: [{{1\.305[0-9]*}}, {{0\.2932[0-9]*}}, {{0\.1792[0-9]*}}]
// CHECK-NEXT: [{{(0\.8019[0-9]*|0\.802(0[0-9]*)?)}}, {{(-0\.07823[0-9]*|-0\.07824[0-9]*)}}, {{-0\.287(0[0-9]*)?}}]
// CHECK-NEXT: [{{(0\.667(0[0-9]*)?|0\.6671[0-9]*)}}, {{-0\.2077[0-9]*}}, {{-0\.1433[0-9]*}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// dynamic rows, relu
// CHECK: rank = 2 offset = 0 sizes = [6, 3]
// CHECK-NEXT: [{{(1\.625[0-9]*|1\.626[0-9]*)}}, {{0\.09301[0-9]*}}, {{0\.2189[0-9]*}}]
// CHECK-NEXT: [{{(1\.406[0-9]*|1\.407[0-9]*)}}, {{0\.2572[0-9]*}}, {{0\.1642[0-9]*}}]
// CHECK-NEXT: [{{(0\.9999[0-9]*|1(\.000[0-9]*)?)}}, {{(0\.1249[0-9]*|0\.125(0[0-9]*)?)}}, {{(-0\.4999[0-9]*|-0\.5(000[0-9]*)?)}}]
// CHECK-NEXT: [{{(0\.9999[0-9]*|1(\.000[0-9]*)?)}}, {{(0\.1249[0-9]*|0\.125(0[0-9]*)?)}}, {{(-0\.4999[0-9]*|-0\.5(000[0-9]*)?)}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
// CHECK-NEXT: [{{-?0}}, {{-?0}}, {{-?0}}]
