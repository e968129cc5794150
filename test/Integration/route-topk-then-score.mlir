// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.route with order = topk_then_score (Mixtral): select on the
// logits (+ bias), then score only the k selected logits.
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

// Softmax over the two selected logits: weights sum to 1.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.7310{{[0-9]*}}, 0.2689{{[0-9]*}}],
// CHECK-NEXT:  [0.6456{{[0-9]*}}, 0.3543{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[1, 0],
// CHECK-NEXT:  [2, 3]]
func.func @topk_then_softmax() {
  %logits = arith.constant dense<[[1.0, 2.0, 0.5, -1.0], [0.30000001192092896, -0.20000000298023224, 1.7000000476837158, 1.100000023841858]]> : tensor<2x4xf32>
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 2, order = topk_then_score>}
      : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<2x2xi32>
  %uw = tensor.cast %w : tensor<2x2xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x2xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// k = 3 with a bias on the logits: expert 3 beats expert 2 in row 0;
// the softmax is over the unbiased selected logits, then scaled.
// CHECK: data =
// CHECK-NEXT: {{\[}}[2.116{{[0-9]*}}, 0.7784{{[0-9]*}}, 0.1053{{[0-9]*}}],
// CHECK-NEXT:  [0.9170{{[0-9]*}}, 1.670{{[0-9]*}}, 0.4120{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[1, 0, 3],
// CHECK-NEXT:  [3, 2, 0]]
func.func @topk_then_softmax_bias_k3() {
  %logits = arith.constant dense<[[1.0, 2.0, 0.5, -1.0], [0.30000001192092896, -0.20000000298023224, 1.7000000476837158, 1.100000023841858]]> : tensor<2x4xf32>
  %bias = arith.constant dense<[0.0, 0.0, 0.0, 1.899999976158142]> : tensor<4xf32>
  %w, %ids = moe.route %logits bias(%bias : tensor<4xf32>)
      {routing = #moe.routing<k = 3, order = topk_then_score, scale = 3.0>}
      : tensor<2x4xf32> -> tensor<2x3xf32>, tensor<2x3xi32>
  %uw = tensor.cast %w : tensor<2x3xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x3xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// Sigmoid of each selected logit; the bias only steers selection.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.5401{{[0-9]*}}, 0.4598{{[0-9]*}}],
// CHECK-NEXT:  [0.5298{{[0-9]*}}, 0.4701{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[0, 2],
// CHECK-NEXT:  [2, 3]]
func.func @topk_then_sigmoid_bias() {
  %logits = arith.constant dense<[[1.0, 2.0, 0.5, -1.0], [0.30000001192092896, -0.20000000298023224, 1.7000000476837158, 1.100000023841858]]> : tensor<2x4xf32>
  %bias = arith.constant dense<[0.0, -2.0, 0.0, 0.0]> : tensor<4xf32>
  %w, %ids = moe.route %logits bias(%bias : tensor<4xf32>)
      {routing = #moe.routing<k = 2, score = sigmoid, order = topk_then_score, renormalize = true>}
      : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<2x2xi32>
  %uw = tensor.cast %w : tensor<2x2xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x2xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

func.func @main() {
  call @topk_then_softmax() : () -> ()
  call @topk_then_softmax_bias_k3() : () -> ()
  call @topk_then_sigmoid_bias() : () -> ()
  return
}
