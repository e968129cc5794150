// RUN: moe-opt %s -split-input-file --moe-decompose-layer | FileCheck %s --enable-var-scope

// CHECK-LABEL: func @mixtral
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: tensor<16x64xf32>, %[[L:[a-z0-9_]+]]: tensor<16x8xf32>, %[[W1:[a-z0-9_]+]]: tensor<8x128x64xf32>, %[[W2:[a-z0-9_]+]]: tensor<8x64x128xf32>, %[[W3:[a-z0-9_]+]]: tensor<8x128x64xf32>)
// CHECK: %[[W:.*]], %[[IDS:.*]] = moe.route %[[L]] {routing = #moe.routing<k = 2, order = topk_then_score>} : tensor<16x8xf32> -> tensor<16x2xf32>, tensor<16x2xi32>
// CHECK: %[[TOK:.*]], %[[RW:.*]], %[[OFF:.*]] = moe.dispatch %[[IDS]], %[[W]] {num_experts = 8 : i64} : tensor<16x2xi32>, tensor<16x2xf32> -> tensor<32xi32>, tensor<32xf32>, tensor<9xi32>
// CHECK: %[[ROWS:.*]] = moe.permute %[[X]], %[[TOK]] : tensor<16x64xf32>, tensor<32xi32> -> tensor<32x64xf32>
// CHECK: %[[FFN:.*]] = moe.grouped_ffn %[[ROWS]], %[[OFF]] fc1(%[[W1]]) fc2(%[[W2]]) fc3(%[[W3]]) {activation = #moe.activation<kind = silu>}
// CHECK: %[[ZERO:.*]] = linalg.fill
// CHECK: %[[Y:.*]] = moe.combine %[[FFN]], %[[TOK]], %[[RW]] into %[[ZERO]]
// CHECK: return %[[Y]]
func.func @mixtral(%x: tensor<16x64xf32>, %l: tensor<16x8xf32>,
                   %w1: tensor<8x128x64xf32>, %w2: tensor<8x64x128xf32>,
                   %w3: tensor<8x128x64xf32>) -> tensor<16x64xf32> {
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) fc3(%w3)
         {routing = #moe.routing<k = 2, order = topk_then_score>,
          activation = #moe.activation<kind = silu>}
         : (tensor<16x64xf32>, tensor<16x8xf32>, tensor<8x128x64xf32>,
            tensor<8x64x128xf32>, tensor<8x128x64xf32>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

// -----

// [B, S, H] input with a dynamic sequence: flattened, then restored.
// CHECK-LABEL: func @batched_dynamic
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: tensor<2x?x32xf32>
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x?x32xf32> into tensor<?x32xf32>
// CHECK: moe.route %{{.*}} : tensor<?x4xf32> -> tensor<?x2xf32>, tensor<?x2xi32>
// CHECK: moe.dispatch {{.*}} -> tensor<?xi32>, tensor<?xf32>, tensor<5xi32>
// CHECK: moe.permute %[[FLAT]]
// CHECK: moe.grouped_ffn {{.*}} fc1(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}) fc2(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}})
// CHECK: %[[DIM:.*]] = tensor.dim %[[FLAT]], %{{.*}} : tensor<?x32xf32>
// CHECK: %[[EMPTY:.*]] = tensor.empty(%[[DIM]]) : tensor<?x32xf32>
// CHECK: %[[Y:.*]] = moe.combine
// CHECK: tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2]] output_shape [2, %{{.*}}, 32] : tensor<?x32xf32> into tensor<2x?x32xf32>
func.func @batched_dynamic(%x: tensor<2x?x32xf32>, %l: tensor<?x4xf32>,
                           %w1: tensor<4x64x32xf32>, %b1: tensor<4x64xf32>,
                           %w2: tensor<4x32x32xf32>, %b2: tensor<4x32xf32>)
    -> tensor<2x?x32xf32> {
  %y = moe.layer %x, %l fc1(%w1, %b1) fc2(%w2, %b2)
         {routing = #moe.routing<k = 2>,
          activation = #moe.activation<kind = swiglu, alpha = 1.702, limit = 7.0>}
         : (tensor<2x?x32xf32>, tensor<?x4xf32>, tensor<4x64x32xf32>,
            tensor<4x64xf32>, tensor<4x32x32xf32>, tensor<4x32xf32>)
         -> tensor<2x?x32xf32>
  return %y : tensor<2x?x32xf32>
}

// -----

// [B, S, H] with B and S both dynamic: restored by a copy at row b * S + s
// (an expand_shape with two dynamic sizes in one group crashes MLIR 22's
// expand-strided-metadata).
// CHECK-LABEL: func @both_dynamic
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: tensor<?x?x8xf32>
// CHECK: %[[Y:.*]] = moe.combine
// CHECK: %[[S:.*]] = tensor.dim %[[X]], %c1
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<?x?x8xf32>)
// CHECK-DAG: %[[B:.*]] = linalg.index 0
// CHECK-DAG: %[[SI:.*]] = linalg.index 1
// CHECK: %[[BS:.*]] = arith.muli %[[B]], %[[S]]
// CHECK: %[[ROW:.*]] = arith.addi %[[BS]], %[[SI]]
// CHECK: tensor.extract %[[Y]][%[[ROW]], %{{.*}}]
// CHECK-NOT: tensor.expand_shape
func.func @both_dynamic(%x: tensor<?x?x8xf32>, %l: tensor<?x4xf32>,
                        %w1: tensor<4x6x8xf32>, %w2: tensor<4x8x6xf32>)
    -> tensor<?x?x8xf32> {
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2)
         {routing = #moe.routing<k = 2>,
          activation = #moe.activation<kind = relu>}
         : (tensor<?x?x8xf32>, tensor<?x4xf32>, tensor<4x6x8xf32>,
            tensor<4x8x6xf32>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}
