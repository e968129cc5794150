// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.route with group-limited routing: 8 experts in 4 groups of 2,
// selection limited to the best 2 groups (group_score max / top2_sum).
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

// Without the group limit, for comparison.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.9525{{[0-9]*}}, 0.8807{{[0-9]*}}, 0.8175{{[0-9]*}}],
// CHECK-NEXT:  [0.7310{{[0-9]*}}, 0.7211{{[0-9]*}}, 0.7109{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[0, 4, 2],
// CHECK-NEXT:  [2, 5, 4]]
func.func @no_group_limit() {
  %logits = arith.constant dense<[[3.0, -3.0, 1.5, 1.399999976158142, 2.0, 1.0, -1.0, -2.0], [0.10000000149011612, 0.20000000298023224, 1.0, -3.0, 0.8999999761581421, 0.949999988079071, 0.30000001192092896, 0.3499999940395355]]> : tensor<2x8xf32>
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 3, score = sigmoid>}
      : tensor<2x8xf32> -> tensor<2x3xf32>, tensor<2x3xi32>
  %uw = tensor.cast %w : tensor<2x3xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x3xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// group_score = max (DeepSeek-V2): row 0 keeps groups 0 and 2, so expert
// 2 is skipped for expert 5.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.9525{{[0-9]*}}, 0.8807{{[0-9]*}}, 0.7310{{[0-9]*}}],
// CHECK-NEXT:  [0.7310{{[0-9]*}}, 0.7211{{[0-9]*}}, 0.7109{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[0, 4, 5],
// CHECK-NEXT:  [2, 5, 4]]
func.func @groups_max() {
  %logits = arith.constant dense<[[3.0, -3.0, 1.5, 1.399999976158142, 2.0, 1.0, -1.0, -2.0], [0.10000000149011612, 0.20000000298023224, 1.0, -3.0, 0.8999999761581421, 0.949999988079071, 0.30000001192092896, 0.3499999940395355]]> : tensor<2x8xf32>
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 3, score = sigmoid, n_groups = 4, top_groups = 2, group_score = max>}
      : tensor<2x8xf32> -> tensor<2x3xf32>, tensor<2x3xi32>
  %uw = tensor.cast %w : tensor<2x3xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x3xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// group_score = top2_sum (DeepSeek-V3): row 0 keeps groups 1 and 2, so
// expert 0 (the best single expert) is dropped;
// with bias and renormalisation.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.3522{{[0-9]*}}, 0.3269{{[0-9]*}}, 0.3208{{[0-9]*}}],
// CHECK-NEXT:  [0.3572{{[0-9]*}}, 0.3521{{[0-9]*}}, 0.2905{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[4, 2, 3],
// CHECK-NEXT:  [5, 4, 7]]
func.func @groups_top2_sum() {
  %logits = arith.constant dense<[[3.0, -3.0, 1.5, 1.399999976158142, 2.0, 1.0, -1.0, -2.0], [0.10000000149011612, 0.20000000298023224, 1.0, -3.0, 0.8999999761581421, 0.949999988079071, 0.30000001192092896, 0.3499999940395355]]> : tensor<2x8xf32>
  %bias = arith.constant dense<[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.10000000149011612, 0.10000000149011612]> : tensor<8xf32>
  %w, %ids = moe.route %logits bias(%bias : tensor<8xf32>)
      {routing = #moe.routing<k = 3, score = sigmoid, renormalize = true, n_groups = 4, top_groups = 2, group_score = top2_sum>}
      : tensor<2x8xf32> -> tensor<2x3xf32>, tensor<2x3xi32>
  %uw = tensor.cast %w : tensor<2x3xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x3xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// Groups 1 and 3 tie on their max; the lower group (1) is kept.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.2709{{[0-9]*}}, 0.09966{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[2, 3]]
func.func @groups_tie() {
  %logits = arith.constant dense<[[0.0, 0.5, 2.0, 1.0, 0.0, 0.5, 2.0, 1.5]]> : tensor<1x8xf32>
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 2, n_groups = 4, top_groups = 1>}
      : tensor<1x8xf32> -> tensor<1x2xf32>, tensor<1x2xi32>
  %uw = tensor.cast %w : tensor<1x2xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<1x2xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

func.func @main() {
  call @no_group_limit() : () -> ()
  call @groups_max() : () -> ()
  call @groups_top2_sum() : () -> ()
  call @groups_tie() : () -> ()
  return
}
