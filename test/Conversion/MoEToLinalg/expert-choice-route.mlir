// RUN: moe-opt %s -split-input-file --convert-moe-to-linalg | FileCheck %s

// Softmax scores per token into a [T, E] tensor, then one loop over the
// experts: each takes the `capacity` best tokens of its score column (argmax
// passes, strict ogt: ties go to the lower token) into rows
// [e * C, (e + 1) * C); offsets[e] = e * C.

// CHECK-LABEL: func.func @expert_choice_softmax
// CHECK-SAME:    %[[LOGITS:.*]]: tensor<4x3xf32>
// CHECK-NOT:     moe.expert_choice_route
// CHECK:         %[[SCORES:.*]] = scf.for {{.*}} -> (tensor<4x3xf32>)
// CHECK:           arith.maximumf
// CHECK:           math.exp
// CHECK:           arith.divf
// CHECK:         %[[C2:.*]] = arith.constant 2 : index
// CHECK:         %[[ROWS:.*]]:2 = scf.for %[[E:[^ ]*]] = {{.*}} -> (tensor<6xi32>, tensor<6xf32>)
// CHECK:           tensor.extract %[[SCORES]][%{{.*}}, %[[E]]] : tensor<4x3xf32>
// CHECK:           scf.for {{.*}} -> (tensor<4xi1>, tensor<2xindex>)
// CHECK:             scf.for {{.*}} -> (index, f32, i1)
// CHECK:               arith.cmpf ogt
// CHECK:           %[[FIRST:.*]] = arith.muli %[[E]], %[[C2]] : index
// CHECK:           arith.index_cast %{{.*}} : index to i32
// CHECK:           %[[ROW:.*]] = arith.addi %[[FIRST]], %{{.*}} : index
// CHECK:           tensor.insert %{{.*}} into %{{.*}}[%[[ROW]]] : tensor<6xi32>
// CHECK:           tensor.insert %{{.*}} into %{{.*}}[%{{.*}}] : tensor<6xf32>
// CHECK:         %[[OFFS:.*]] = scf.for {{.*}} -> (tensor<4xi32>)
// CHECK:           arith.muli %{{.*}}, %[[C2]] : index
// CHECK:           arith.index_cast %{{.*}} : index to i32
// CHECK:         return %[[ROWS]]#0, %[[ROWS]]#1, %[[OFFS]]
func.func @expert_choice_softmax(%logits: tensor<4x3xf32>)
    -> (tensor<6xi32>, tensor<6xf32>, tensor<4xi32>) {
  %tok, %w, %off = moe.expert_choice_route %logits {capacity = 2 : i64}
      : tensor<4x3xf32> -> tensor<6xi32>, tensor<6xf32>, tensor<4xi32>
  return %tok, %w, %off : tensor<6xi32>, tensor<6xf32>, tensor<4xi32>
}

// -----

// Sigmoid, dynamic token count, f16: scores in f32, token columns of dynamic
// length, weights truncated back to f16.

// CHECK-LABEL: func.func @expert_choice_sigmoid_f16
// CHECK-SAME:    %[[LOGITS:.*]]: tensor<?x2xf16>
// CHECK-NOT:     moe.expert_choice_route
// CHECK:         %[[T:.*]] = tensor.dim %[[LOGITS]]
// CHECK:         scf.for {{.*}} to %[[T]] {{.*}} -> (tensor<?x2xf32>)
// CHECK:           arith.extf %{{.*}} : f16 to f32
// CHECK:           arith.negf
// CHECK:           math.exp
// CHECK:         scf.for {{.*}} -> (tensor<6xi32>, tensor<6xf16>)
// CHECK:           scf.for {{.*}} -> (tensor<?xf32>)
// CHECK:           scf.for {{.*}} -> (tensor<?xi1>, tensor<3xindex>)
// CHECK:           arith.truncf %{{.*}} : f32 to f16
// CHECK:         return
func.func @expert_choice_sigmoid_f16(%logits: tensor<?x2xf16>)
    -> (tensor<6xi32>, tensor<6xf16>, tensor<3xi32>) {
  %tok, %w, %off = moe.expert_choice_route %logits
      {capacity = 3 : i64, score = #moe.score_function<sigmoid>}
      : tensor<?x2xf16> -> tensor<6xi32>, tensor<6xf16>, tensor<3xi32>
  return %tok, %w, %off : tensor<6xi32>, tensor<6xf16>, tensor<3xi32>
}
