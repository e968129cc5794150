// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.route with sigmoid scores (DeepSeek-V3 style): the correction
// bias changes the selection but never the weights.
// Expected values come from an independent numpy model of the op
// semantics (float64), not from the lowering.

func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @print(%w: tensor<*xf32>, %ids: tensor<*xi32>) {
  %mw = bufferization.to_buffer %w : tensor<*xf32> to memref<*xf32>
  call @printMemrefF32(%mw) : (memref<*xf32>) -> ()
  %mi = bufferization.to_buffer %ids : tensor<*xi32> to memref<*xi32>
  call @printMemrefI32(%mi) : (memref<*xi32>) -> ()
  return
}

// Sigmoid top-2 without renormalisation: weights are sigmoid(logit).
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.8175{{[0-9]*}}, 0.7685{{[0-9]*}}],
// CHECK-NEXT:  [0.8807{{[0-9]*}}, 0.5986{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[1, 3],
// CHECK-NEXT:  [0, 3]]
func.func @sigmoid_plain() {
  %logits = arith.constant dense<[[0.5, 1.5, -0.30000001192092896, 1.2000000476837158], [2.0, -1.0, 0.10000000149011612, 0.4000000059604645]]> : tensor<2x4xf32>
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 2, score = sigmoid>}
      : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<2x2xi32>
  %uw = tensor.cast %w : tensor<2x2xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x2xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// The bias moves expert 2 ahead of expert 1 (row 0) and of expert 3
// (row 1); the weights are still the unbiased sigmoid scores.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.4255{{[0-9]*}}, 0.7685{{[0-9]*}}],
// CHECK-NEXT:  [0.5249{{[0-9]*}}, 0.8807{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[2, 3],
// CHECK-NEXT:  [2, 0]]
func.func @sigmoid_bias() {
  %logits = arith.constant dense<[[0.5, 1.5, -0.30000001192092896, 1.2000000476837158], [2.0, -1.0, 0.10000000149011612, 0.4000000059604645]]> : tensor<2x4xf32>
  %bias = arith.constant dense<[0.0, -1.0, 0.5, 0.0]> : tensor<4xf32>
  %w, %ids = moe.route %logits bias(%bias : tensor<4xf32>)
      {routing = #moe.routing<k = 2, score = sigmoid>}
      : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<2x2xi32>
  %uw = tensor.cast %w : tensor<2x2xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x2xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// DeepSeek-V3: bias for selection, renormalised unbiased weights, scale.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.8909{{[0-9]*}}, 1.609{{[0-9]*}}],
// CHECK-NEXT:  [0.9336{{[0-9]*}}, 1.566{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[2, 3],
// CHECK-NEXT:  [2, 0]]
func.func @sigmoid_bias_renormalize_scale() {
  %logits = arith.constant dense<[[0.5, 1.5, -0.30000001192092896, 1.2000000476837158], [2.0, -1.0, 0.10000000149011612, 0.4000000059604645]]> : tensor<2x4xf32>
  %bias = arith.constant dense<[0.0, -1.0, 0.5, 0.0]> : tensor<4xf32>
  %w, %ids = moe.route %logits bias(%bias : tensor<4xf32>)
      {routing = #moe.routing<k = 2, score = sigmoid, renormalize = true, scale = 2.5>}
      : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<2x2xi32>
  %uw = tensor.cast %w : tensor<2x2xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x2xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

func.func @main() {
  call @sigmoid_plain() : () -> ()
  call @sigmoid_bias() : () -> ()
  call @sigmoid_bias_renormalize_scale() : () -> ()
  return
}
