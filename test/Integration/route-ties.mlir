// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.route tie-breaking and NaN handling: equal keys go to the lower
// expert index; NaN keys count as -inf. Also f16 logits (computed in
// f32).
// Expected values come from an independent numpy model of the op
// semantics (float64), not from the lowering.

#id = affine_map<(d0, d1) -> (d0, d1)>

func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @print(%w: tensor<*xf32>, %ids: tensor<*xi32>) {
  %mw = bufferization.to_buffer %w : tensor<*xf32> to memref<*xf32>
  call @printMemrefF32(%mw) : (memref<*xf32>) -> ()
  %mi = bufferization.to_buffer %ids : tensor<*xi32> to memref<*xi32>
  call @printMemrefI32(%mi) : (memref<*xi32>) -> ()
  return
}

// Equal logits: the lower expert index wins.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.25, 0.25],
// CHECK-NEXT:  [0.440{{[0-9]*}}, 0.440{{[0-9]*}}],
// CHECK-NEXT:  [0.3189{{[0-9]*}}, 0.3189{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[0, 1],
// CHECK-NEXT:  [1, 2],
// CHECK-NEXT:  [0, 2]]
func.func @softmax_ties() {
  %logits = arith.constant dense<[[1.0, 1.0, 1.0, 1.0], [0.0, 2.0, 2.0, 0.0], [3.0, 1.0, 3.0, 3.0]]> : tensor<3x4xf32>
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 2>}
      : tensor<3x4xf32> -> tensor<3x2xf32>, tensor<3x2xi32>
  %uw = tensor.cast %w : tensor<3x2xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<3x2xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// A NaN logit is never selected ahead of a real one (sigmoid keeps the
// other scores finite).
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.8807{{[0-9]*}}, 0.7310{{[0-9]*}}],
// CHECK-NEXT:  [0.6224{{[0-9]*}}, 0.3775{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[3, 1],
// CHECK-NEXT:  [0, 3]]
func.func @sigmoid_nan() {
  %logits = arith.constant dense<[[0x7FC00000, 1.0, 0.0, 2.0], [0.5, 0x7FC00000, 0x7FC00000, -0.5]]> : tensor<2x4xf32>
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 2, score = sigmoid>}
      : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<2x2xi32>
  %uw = tensor.cast %w : tensor<2x2xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x2xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// f16 logits with a tie between experts 1 and 3; renormalised weights.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.404541, 0.404541, 0.19104],
// CHECK-NEXT:  [0.68457, 0.196167, 0.119019]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[1, 3, 0],
// CHECK-NEXT:  [0, 2, 3]]
func.func @f16_ties() {
  %logits = arith.constant dense<[[0.5, 1.25, -1.0, 1.25], [2.0, 0.0, 0.75, 0.25]]> : tensor<2x4xf16>
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 3, renormalize = true>}
      : tensor<2x4xf16> -> tensor<2x3xf16>, tensor<2x3xi32>
  %init = tensor.empty() : tensor<2x3xf32>
  %wf = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<2x3xf16>) outs(%init : tensor<2x3xf32>) {
  ^bb0(%in: f16, %out: f32):
    %ext = arith.extf %in : f16 to f32
    linalg.yield %ext : f32
  } -> tensor<2x3xf32>
  %uw = tensor.cast %wf : tensor<2x3xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x3xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

func.func @main() {
  call @softmax_ties() : () -> ()
  call @sigmoid_nan() : () -> ()
  call @f16_ties() : () -> ()
  return
}
