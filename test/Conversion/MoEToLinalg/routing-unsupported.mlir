// RUN: moe-opt %s -split-input-file --convert-moe-to-linalg -verify-diagnostics

// The reference lowering needs a static expert count.

func.func @route_dynamic_experts(%logits: tensor<4x?xf32>)
    -> (tensor<4x2xf32>, tensor<4x2xi32>) {
  // expected-error @+1 {{failed to legalize operation 'moe.route'}}
  %w, %ids = moe.route %logits {routing = #moe.routing<k = 2>}
      : tensor<4x?xf32> -> tensor<4x2xf32>, tensor<4x2xi32>
  return %w, %ids : tensor<4x2xf32>, tensor<4x2xi32>
}

// -----

func.func @expert_choice_dynamic_experts(%logits: tensor<4x?xf32>)
    -> (tensor<?xi32>, tensor<?xf32>, tensor<?xi32>) {
  // expected-error @+1 {{failed to legalize operation 'moe.expert_choice_route'}}
  %tok, %w, %off = moe.expert_choice_route %logits {capacity = 2 : i64}
      : tensor<4x?xf32> -> tensor<?xi32>, tensor<?xf32>, tensor<?xi32>
  return %tok, %w, %off : tensor<?xi32>, tensor<?xf32>, tensor<?xi32>
}
