// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.route with softmax scores, score_then_topk (onnxruntime MoE):
// renormalize off/on, scale, dynamic token count.
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

// Plain softmax top-2: weights are the un-renormalised probabilities.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.6094{{[0-9]*}}, 0.2242{{[0-9]*}}],
// CHECK-NEXT:  [0.5141{{[0-9]*}}, 0.2821{{[0-9]*}}],
// CHECK-NEXT:  [0.8082{{[0-9]*}}, 0.08518{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[1, 0],
// CHECK-NEXT:  [2, 3],
// CHECK-NEXT:  [3, 1]]
func.func @softmax_plain() {
  %logits = arith.constant dense<[[1.0, 2.0, 0.5, -1.0], [0.30000001192092896, -0.20000000298023224, 1.7000000476837158, 1.100000023841858], [-0.5, 0.25, 0.0, 2.5]]> : tensor<3x4xf32>
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 2>}
      : tensor<3x4xf32> -> tensor<3x2xf32>, tensor<3x2xi32>
  %uw = tensor.cast %w : tensor<3x2xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<3x2xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// renormalize divides by the sum of the two kept weights, then scale.
// CHECK: data =
// CHECK-NEXT: {{\[}}[1.462{{[0-9]*}}, 0.5378{{[0-9]*}}],
// CHECK-NEXT:  [1.291{{[0-9]*}}, 0.7086{{[0-9]*}}],
// CHECK-NEXT:  [1.809{{[0-9]*}}, 0.190{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[1, 0],
// CHECK-NEXT:  [2, 3],
// CHECK-NEXT:  [3, 1]]
func.func @softmax_renormalize_scale() {
  %logits = arith.constant dense<[[1.0, 2.0, 0.5, -1.0], [0.30000001192092896, -0.20000000298023224, 1.7000000476837158, 1.100000023841858], [-0.5, 0.25, 0.0, 2.5]]> : tensor<3x4xf32>
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 2, renormalize = true, scale = 2.0>}
      : tensor<3x4xf32> -> tensor<3x2xf32>, tensor<3x2xi32>
  %uw = tensor.cast %w : tensor<3x2xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<3x2xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// Same as the first case with a dynamic token count; k = 3, scale only.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.3047{{[0-9]*}}, 0.1121{{[0-9]*}}, 0.06799{{[0-9]*}}],
// CHECK-NEXT:  [0.2570{{[0-9]*}}, 0.1410{{[0-9]*}}, 0.06339{{[0-9]*}}],
// CHECK-NEXT:  [0.4041{{[0-9]*}}, 0.04259{{[0-9]*}}, 0.03317{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[1, 0, 2],
// CHECK-NEXT:  [2, 3, 0],
// CHECK-NEXT:  [3, 1, 2]]
func.func @softmax_dynamic_tokens() {
  %logits = arith.constant dense<[[1.0, 2.0, 0.5, -1.0], [0.30000001192092896, -0.20000000298023224, 1.7000000476837158, 1.100000023841858], [-0.5, 0.25, 0.0, 2.5]]> : tensor<3x4xf32>
  %dyn = tensor.cast %logits : tensor<3x4xf32> to tensor<?x4xf32>
  %w, %ids = moe.route %dyn
      {routing = #moe.routing<k = 3, scale = 0.5>}
      : tensor<?x4xf32> -> tensor<?x3xf32>, tensor<?x3xi32>
  %uw = tensor.cast %w : tensor<?x3xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<?x3xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

func.func @main() {
  call @softmax_plain() : () -> ()
  call @softmax_renormalize_scale() : () -> ()
  call @softmax_dynamic_tokens() : () -> ()
  return
}
