// RUN: moe-opt %s -split-input-file --canonicalize | FileCheck %s --enable-var-scope

// Softmax over all experts with k == E already sums to one.
// CHECK-LABEL: func @renormalize_all_experts
// CHECK: moe.route %{{[a-z0-9_]+}} {routing = #moe.routing<k = 4>}
func.func @renormalize_all_experts(%l: tensor<3x4xf32>) -> (tensor<3x4xf32>, tensor<3x4xi32>) {
  %w, %ids = moe.route %l {routing = #moe.routing<k = 4, renormalize = true>}
      : tensor<3x4xf32> -> tensor<3x4xf32>, tensor<3x4xi32>
  return %w, %ids : tensor<3x4xf32>, tensor<3x4xi32>
}

// -----

// k < E: renormalisation matters and stays.
// CHECK-LABEL: func @renormalize_kept
// CHECK: moe.route %{{[a-z0-9_]+}} {routing = #moe.routing<k = 2, renormalize = true>}
func.func @renormalize_kept(%l: tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi32>) {
  %w, %ids = moe.route %l {routing = #moe.routing<k = 2, renormalize = true>}
      : tensor<3x4xf32> -> tensor<3x2xf32>, tensor<3x2xi32>
  return %w, %ids : tensor<3x2xf32>, tensor<3x2xi32>
}

// -----

// Sigmoid scores do not sum to one: renormalisation stays even with k == E.
// CHECK-LABEL: func @renormalize_sigmoid_kept
// CHECK: routing = #moe.routing<k = 4, score = sigmoid, renormalize = true>
func.func @renormalize_sigmoid_kept(%l: tensor<3x4xf32>) -> (tensor<3x4xf32>, tensor<3x4xi32>) {
  %w, %ids = moe.route %l {routing = #moe.routing<k = 4, score = sigmoid, renormalize = true>}
      : tensor<3x4xf32> -> tensor<3x4xf32>, tensor<3x4xi32>
  return %w, %ids : tensor<3x4xf32>, tensor<3x4xi32>
}

// -----

// Sigmoid is monotonic: without a bias the order does not matter.
// CHECK-LABEL: func @sigmoid_order
// CHECK: routing = #moe.routing<k = 2, score = sigmoid>
func.func @sigmoid_order(%l: tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi32>) {
  %w, %ids = moe.route %l {routing = #moe.routing<k = 2, score = sigmoid, order = topk_then_score>}
      : tensor<3x4xf32> -> tensor<3x2xf32>, tensor<3x2xi32>
  return %w, %ids : tensor<3x2xf32>, tensor<3x2xi32>
}

// -----

// With a correction bias the order changes which experts are selected.
// CHECK-LABEL: func @sigmoid_order_with_bias
// CHECK: routing = #moe.routing<k = 2, score = sigmoid, order = topk_then_score>
func.func @sigmoid_order_with_bias(%l: tensor<3x4xf32>, %b: tensor<4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi32>) {
  %w, %ids = moe.route %l bias(%b : tensor<4xf32>) {routing = #moe.routing<k = 2, score = sigmoid, order = topk_then_score>}
      : tensor<3x4xf32> -> tensor<3x2xf32>, tensor<3x2xi32>
  return %w, %ids : tensor<3x2xf32>, tensor<3x2xi32>
}

// -----

// A single softmax-routed expert is a dense FFN scaled by the routing scale.
// CHECK-LABEL: func @single_expert
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: tensor<5x8xf32>, %{{[a-z0-9_]+}}: tensor<5x1xf32>, %[[W1:[a-z0-9_]+]]: tensor<1x16x8xf32>, %[[W2:[a-z0-9_]+]]: tensor<1x8x16xf32>)
// CHECK-DAG: %[[S1:.*]] = tensor.extract_slice %[[W1]][0, 0, 0] [1, 16, 8] [1, 1, 1] : tensor<1x16x8xf32> to tensor<16x8xf32>
// CHECK-DAG: %[[S2:.*]] = tensor.extract_slice %[[W2]][0, 0, 0] [1, 8, 16] [1, 1, 1] : tensor<1x8x16xf32> to tensor<8x16xf32>
// CHECK-DAG: %[[SCALE:.*]] = arith.constant dense<2.500000e+00> : tensor<5x8xf32>
// CHECK: %[[Y:.*]] = moe.shared_ffn %[[X]] fc1(%[[S1]]) fc2(%[[S2]]) {activation = #moe.activation<kind = relu>}
// CHECK: %[[R:.*]] = arith.mulf %[[Y]], %[[SCALE]]
// CHECK: return %[[R]]
// CHECK-NOT: moe.layer
func.func @single_expert(%x: tensor<5x8xf32>, %l: tensor<5x1xf32>, %w1: tensor<1x16x8xf32>, %w2: tensor<1x8x16xf32>) -> tensor<5x8xf32> {
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2)
         {routing = #moe.routing<k = 1, renormalize = true, scale = 2.5>,
          activation = #moe.activation<kind = relu>}
         : (tensor<5x8xf32>, tensor<5x1xf32>, tensor<1x16x8xf32>, tensor<1x8x16xf32>) -> tensor<5x8xf32>
  return %y : tensor<5x8xf32>
}

// -----

// A single sigmoid-routed expert still weights tokens by their score.
// CHECK-LABEL: func @single_expert_sigmoid
// CHECK: moe.layer
func.func @single_expert_sigmoid(%x: tensor<5x8xf32>, %l: tensor<5x1xf32>, %w1: tensor<1x16x8xf32>, %w2: tensor<1x8x16xf32>) -> tensor<5x8xf32> {
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2)
         {routing = #moe.routing<k = 1, score = sigmoid>,
          activation = #moe.activation<kind = relu>}
         : (tensor<5x8xf32>, tensor<5x1xf32>, tensor<1x16x8xf32>, tensor<1x8x16xf32>) -> tensor<5x8xf32>
  return %y : tensor<5x8xf32>
}

// -----

// capacity_factor * k >= E: an expert can never be over capacity.
// CHECK-LABEL: func @capacity_unreachable
// CHECK: moe.dispatch %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} {num_experts = 4 : i64}
func.func @capacity_unreachable(%ids: tensor<6x2xi32>, %w: tensor<6x2xf32>) -> (tensor<12xi32>, tensor<12xf32>, tensor<5xi32>) {
  %t, %rw, %o = moe.dispatch %ids, %w {num_experts = 4 : i64, capacity_factor = 2.0 : f64}
      : tensor<6x2xi32>, tensor<6x2xf32> -> tensor<12xi32>, tensor<12xf32>, tensor<5xi32>
  return %t, %rw, %o : tensor<12xi32>, tensor<12xf32>, tensor<5xi32>
}

// -----

// CHECK-LABEL: func @capacity_kept
// CHECK: capacity_factor = 1.500000e+00 : f64
func.func @capacity_kept(%ids: tensor<6x2xi32>, %w: tensor<6x2xf32>) -> (tensor<12xi32>, tensor<12xf32>, tensor<5xi32>) {
  %t, %rw, %o = moe.dispatch %ids, %w {num_experts = 4 : i64, capacity_factor = 1.5 : f64}
      : tensor<6x2xi32>, tensor<6x2xf32> -> tensor<12xi32>, tensor<12xf32>, tensor<5xi32>
  return %t, %rw, %o : tensor<12xi32>, tensor<12xf32>, tensor<5xi32>
}

// -----

// Null experts compute nothing: their rows fold to zeros.
// CHECK-LABEL: func @null_experts
// CHECK: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<8x4xf32>
// CHECK-NOT: moe.special_experts
// CHECK: return %[[Z]]
func.func @null_experts(%r: tensor<8x4xf32>, %o: tensor<6xi32>) -> tensor<8x4xf32> {
  %y = moe.special_experts %r, %o {first_expert = 3 : i64, num_null = 2 : i64}
      : tensor<8x4xf32>, tensor<6xi32> -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}

// -----

// CHECK-LABEL: func @copy_experts_kept
// CHECK: moe.special_experts
func.func @copy_experts_kept(%r: tensor<8x4xf32>, %o: tensor<6xi32>) -> tensor<8x4xf32> {
  %y = moe.special_experts %r, %o {first_expert = 3 : i64, num_null = 1 : i64, num_copy = 1 : i64}
      : tensor<8x4xf32>, tensor<6xi32> -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}
