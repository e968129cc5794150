// RUN: moe-opt %s -split-input-file --convert-moe-to-linalg | FileCheck %s

// Softmax, score_then_topk, dynamic token count: one scf.for over the tokens
// carrying the [T, k] results; per token a max-subtracted softmax, then k
// argmax passes (strict ogt: ties go to the lower expert) over the experts
// not taken yet.

// CHECK-LABEL: func.func @route_softmax
// CHECK-SAME:    %[[LOGITS:.*]]: tensor<?x4xf32>
// CHECK-NOT:     moe.route
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK:         %[[T:.*]] = tensor.dim %[[LOGITS]], %[[C0]] : tensor<?x4xf32>
// CHECK-DAG:     %[[W0:.*]] = tensor.empty(%[[T]]) : tensor<?x2xf32>
// CHECK-DAG:     %[[I0:.*]] = tensor.empty(%[[T]]) : tensor<?x2xi32>
// CHECK:         %[[RES:.*]]:2 = scf.for %[[TOK:.*]] = %{{.*}} to %[[T]] step %{{.*}} iter_args(%{{.*}} = %[[W0]], %{{.*}} = %[[I0]]) -> (tensor<?x2xf32>, tensor<?x2xi32>)
// CHECK:           tensor.extract %[[LOGITS]][%[[TOK]], %{{.*}}] : tensor<?x4xf32>
// CHECK:           arith.maximumf
// CHECK:           arith.subf
// CHECK:           math.exp
// CHECK:           arith.addf
// CHECK:           arith.divf
// CHECK:           arith.cmpf uno
// CHECK:           linalg.fill ins(%false{{.*}}) outs(%{{.*}} : tensor<4xi1>)
// CHECK:           scf.for {{.*}} -> (tensor<4xi1>, tensor<2xindex>)
// CHECK:             scf.for {{.*}} -> (index, f32, i1)
// CHECK:               arith.cmpf ogt
// CHECK:           arith.index_cast %{{.*}} : index to i32
// CHECK:           tensor.insert %{{.*}} into %{{.*}}[%[[TOK]], %{{.*}}] : tensor<?x2xf32>
// CHECK:           tensor.insert %{{.*}} into %{{.*}}[%[[TOK]], %{{.*}}] : tensor<?x2xi32>
// CHECK:         return %[[RES]]#0, %[[RES]]#1
func.func @route_softmax(%logits: tensor<?x4xf32>)
    -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = moe.route %logits {routing = #moe.routing<k = 2>}
      : tensor<?x4xf32> -> tensor<?x2xf32>, tensor<?x2xi32>
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// -----

// Sigmoid with offsets, mask and bias: offsets are added to the logits,
// masked experts get -inf, the bias only enters the selection keys, and the
// weights are renormalised then scaled.

// CHECK-LABEL: func.func @route_sigmoid_operands
// CHECK-SAME:    %[[LOGITS:[^:]*]]: tensor<2x8xf32>, %[[BIAS:[^:]*]]: tensor<8xf32>, %[[MASK:[^:]*]]: tensor<8xi1>, %[[OFFS:[^:]*]]: tensor<8xf32>
// CHECK-NOT:     moe.route
// CHECK:         scf.for {{.*}} -> (tensor<2x2xf32>, tensor<2x2xi32>)
// CHECK:           %[[L:.*]] = tensor.extract %[[LOGITS]]
// CHECK:           %[[O:.*]] = tensor.extract %[[OFFS]]
// CHECK:           %[[LO:.*]] = arith.addf %[[L]], %[[O]] : f32
// CHECK:           %[[KEEP:.*]] = tensor.extract %[[MASK]]
// CHECK:           arith.select %[[KEEP]], %[[LO]], %{{.*}} : f32
// CHECK:           %[[NEG:.*]] = arith.negf
// CHECK:           math.exp %[[NEG]]
// CHECK:           %[[P:.*]] = tensor.extract
// CHECK:           %[[B:.*]] = tensor.extract %[[BIAS]]
// CHECK:           arith.addf %[[P]], %[[B]] : f32
// CHECK:           arith.cmpf ogt
// CHECK-NOT:       %[[BIAS]]{{\[}}
// CHECK:           arith.divf
// CHECK:           %[[SCALE:.*]] = arith.constant 2.500000e+00 : f32
// CHECK:           arith.mulf %{{.*}}, %[[SCALE]] : f32
// CHECK:         return
func.func @route_sigmoid_operands(%logits: tensor<2x8xf32>, %bias: tensor<8xf32>,
    %mask: tensor<8xi1>, %offsets: tensor<8xf32>)
    -> (tensor<2x2xf32>, tensor<2x2xi32>) {
  %w, %ids = moe.route %logits bias(%bias : tensor<8xf32>)
      mask(%mask : tensor<8xi1>) offsets(%offsets : tensor<8xf32>)
      {routing = #moe.routing<k = 2, score = sigmoid, renormalize = true,
                              scale = 2.5>}
      : tensor<2x8xf32> -> tensor<2x2xf32>, tensor<2x2xi32>
  return %w, %ids : tensor<2x2xf32>, tensor<2x2xi32>
}

// -----

// topk_then_score: selection runs on the logits first; the softmax (exp)
// only comes after, over a vector of the k selected logits.

// CHECK-LABEL: func.func @route_topk_then_score
// CHECK-NOT:     moe.route
// CHECK:         scf.for
// CHECK-NOT:       math.exp
// CHECK:           arith.cmpf ogt
// CHECK:           tensor.extract {{.*}} : tensor<3xindex>
// CHECK:           arith.maximumf {{.*}} : f32
// CHECK:           math.exp
// CHECK:           arith.divf
// CHECK:         return
func.func @route_topk_then_score(%logits: tensor<4x8xf32>)
    -> (tensor<4x3xf32>, tensor<4x3xi32>) {
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 3, order = topk_then_score>}
      : tensor<4x8xf32> -> tensor<4x3xf32>, tensor<4x3xi32>
  return %w, %ids : tensor<4x3xf32>, tensor<4x3xi32>
}

// -----

// Group limit (top2_sum): the group scores (two running maxima per group) are
// ranked with the same argmax selection, then the experts outside the kept
// groups get -inf keys (expert / group size picks the group).

// CHECK-LABEL: func.func @route_groups
// CHECK-NOT:     moe.route
// CHECK:         scf.for
// CHECK:           scf.for {{.*}} -> (tensor<4xf32>)
// CHECK:             scf.for {{.*}} -> (f32, f32)
// CHECK:             arith.addf
// CHECK:           scf.for {{.*}} -> (tensor<4xi1>, tensor<2xindex>)
// CHECK:           %[[GSIZE:.*]] = arith.constant 2 : index
// CHECK:           arith.divui %{{.*}}, %[[GSIZE]] : index
// CHECK:           tensor.extract %{{.*}} : tensor<4xi1>
// CHECK:           scf.for {{.*}} -> (tensor<8xi1>, tensor<3xindex>)
// CHECK:         return
func.func @route_groups(%logits: tensor<4x8xf32>)
    -> (tensor<4x3xf32>, tensor<4x3xi32>) {
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 3, score = sigmoid, n_groups = 4,
                              top_groups = 2, group_score = top2_sum>}
      : tensor<4x8xf32> -> tensor<4x3xf32>, tensor<4x3xi32>
  return %w, %ids : tensor<4x3xf32>, tensor<4x3xi32>
}

// -----

// Dynamic k: a running sum over the selected slots decides which are kept
// (olt threshold); dropped slots get weight 0 and id -1.

// CHECK-LABEL: func.func @route_dynamic_k
// CHECK-NOT:     moe.route
// CHECK:         scf.for
// CHECK:           %[[THR:.*]] = arith.constant 5.000000e-01 : f32
// CHECK:           scf.for {{.*}} -> (tensor<4xi1>, f32, i1)
// CHECK:             arith.cmpf olt, %{{.*}}, %[[THR]] : f32
// CHECK:           arith.select {{.*}} : f32
// CHECK:           %[[DROP:.*]] = arith.constant -1 : i32
// CHECK:           arith.select %{{.*}}, %{{.*}}, %[[DROP]] : i32
// CHECK:         return
func.func @route_dynamic_k(%logits: tensor<2x8xf32>)
    -> (tensor<2x4xf32>, tensor<2x4xi32>) {
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 4, threshold = 0.5>}
      : tensor<2x8xf32> -> tensor<2x4xf32>, tensor<2x4xi32>
  return %w, %ids : tensor<2x4xf32>, tensor<2x4xi32>
}

// -----

// bf16 logits are routed in f32 and the weights truncated back.

// CHECK-LABEL: func.func @route_bf16
// CHECK-NOT:     moe.route
// CHECK:         scf.for {{.*}} -> (tensor<3x2xbf16>, tensor<3x2xi32>)
// CHECK:           arith.extf %{{.*}} : bf16 to f32
// CHECK:           math.exp %{{.*}} : f32
// CHECK:           arith.truncf %{{.*}} : f32 to bf16
// CHECK:         return
func.func @route_bf16(%logits: tensor<3x4xbf16>)
    -> (tensor<3x2xbf16>, tensor<3x2xi32>) {
  %w, %ids = moe.route %logits {routing = #moe.routing<k = 2>}
      : tensor<3x4xbf16> -> tensor<3x2xbf16>, tensor<3x2xi32>
  return %w, %ids : tensor<3x2xbf16>, tensor<3x2xi32>
}
