// RUN: moe-opt %s -split-input-file --convert-moe-routing-to-device | FileCheck %s --enable-var-scope
// RUN: moe-opt %s -split-input-file --convert-moe-routing-to-device --mlir-print-debuginfo | FileCheck %s --check-prefix=NAMES

// moe.route: one scf.forall iteration per token writing its rows of the
// results. Softmax max and sum once per token, then k picks: each scans the
// experts for the best key after the previous pick in (key descending,
// expert ascending), recomputing the score; no per-expert tensor.

// CHECK-LABEL: func.func @route_softmax
// CHECK-SAME:    %[[LOGITS:[a-z0-9]+]]: tensor<?x8xf32>
// CHECK-NOT:     moe.route
// CHECK:         %[[T:.*]] = tensor.dim %[[LOGITS]]
// CHECK:         scf.forall (%[[TOK:.*]]) in (%[[T]]) shared_outs(%[[IDS:.*]] = %{{.*}}, %[[W:.*]] = %{{.*}}) -> (tensor<?x2xi32>, tensor<?x2xf32>)
// CHECK:           %[[IDROW:.*]] = tensor.extract_slice %[[IDS]][%[[TOK]], 0] [1, 2] [1, 1] : tensor<?x2xi32> to tensor<2xi32>
// CHECK:           %[[WROW:.*]] = tensor.extract_slice %[[W]][%[[TOK]], 0] [1, 2] [1, 1] : tensor<?x2xf32> to tensor<2xf32>
// CHECK:           %[[MAX:.*]] = scf.for {{.*}} -> (f32)
// CHECK:             arith.maximumf
// CHECK:           %[[SUM:.*]] = scf.for {{.*}} -> (f32)
// CHECK:             math.exp
// CHECK:           scf.for {{.*}} iter_args(%{{.*}} = %[[IDROW]], %{{.*}} = %[[WROW]], {{.*}}) -> (tensor<2xi32>, tensor<2xf32>, index, f32, i1)
// CHECK:             scf.for {{.*}} -> (index, f32, i1)
// CHECK:               arith.divf %{{.*}}, %[[SUM]]
// CHECK:               arith.cmpi ugt
// CHECK:               arith.cmpf oeq
// CHECK:               arith.cmpf olt
// CHECK:               arith.cmpf ogt
// CHECK:           scf.forall.in_parallel
// CHECK:             tensor.parallel_insert_slice %{{.*}} into %[[IDS]][%[[TOK]], 0] [1, 2] [1, 1]
// CHECK:             tensor.parallel_insert_slice %{{.*}} into %[[W]][%[[TOK]], 0] [1, 2] [1, 1]
// CHECK-NOT:     tensor.empty() : tensor<8x
// NAMES: "moe.kernel:moe_topk"
func.func @route_softmax(%logits: tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = moe.route %logits {routing = #moe.routing<k = 2, renormalize = true>}
      : tensor<?x8xf32> -> tensor<?x2xf32>, tensor<?x2xi32>
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// -----

// f16 logits route in f32: the loop writes f32 scores, an element-wise
// kernel after it casts them into the weights (no scratch row inside the
// loop, whose buffer would be allocated in the kernel). The kept groups are
// an i64 bit mask.

// CHECK-LABEL: func.func @route_groups_f16
// CHECK:         %[[ROUTED:.*]]:2 = scf.forall {{.*}} -> (tensor<4x2xi32>, tensor<4x2xf32>)
// CHECK:           arith.shli {{.*}} : i64
// CHECK:           arith.shrui {{.*}} : i64
// CHECK-NOT:       arith.truncf
// CHECK:           scf.forall.in_parallel
// CHECK-COUNT-2:     tensor.parallel_insert_slice
// CHECK:         linalg.generic {{.*}} ins(%[[ROUTED]]#1 : tensor<4x2xf32>) outs(%{{.*}} : tensor<4x2xf16>)
// CHECK:           arith.truncf {{.*}} : f32 to f16
func.func @route_groups_f16(%logits: tensor<4x8xf16>, %bias: tensor<8xf16>) -> (tensor<4x2xf16>, tensor<4x2xi32>) {
  %w, %ids = moe.route %logits bias(%bias : tensor<8xf16>)
      {routing = #moe.routing<k = 2, score = sigmoid, n_groups = 4, top_groups = 2, threshold = 0.5>}
      : tensor<4x8xf16> -> tensor<4x2xf16>, tensor<4x2xi32>
  return %w, %ids : tensor<4x2xf16>, tensor<4x2xi32>
}

// -----

// Left for the reference lowering: a dynamic expert count, and more expert
// groups than the 64-bit mask holds.

// CHECK-LABEL: func.func @route_unsupported
// CHECK:         moe.route %{{.*}} : tensor<2x?xf32>
// CHECK:         moe.route %{{.*}} : tensor<2x130xf32>
func.func @route_unsupported(%a: tensor<2x?xf32>, %b: tensor<2x130xf32>) -> (tensor<2x1xi32>, tensor<2x1xi32>) {
  %w0, %ids0 = moe.route %a {routing = #moe.routing<k = 1>}
      : tensor<2x?xf32> -> tensor<2x1xf32>, tensor<2x1xi32>
  %w1, %ids1 = moe.route %b {routing = #moe.routing<k = 1, n_groups = 65, top_groups = 1>}
      : tensor<2x130xf32> -> tensor<2x1xf32>, tensor<2x1xi32>
  return %ids0, %ids1 : tensor<2x1xi32>, tensor<2x1xi32>
}

// -----

// The layer: dispatch as grids over (chunk, expert), experts and rows,
// permute over (row, column), combine over (token, column) through each
// token's rows in row order. Chunks are 128 tokens at k = 2.

// CHECK-LABEL: func.func @layer
// CHECK-SAME:    %[[IDS:[a-z0-9]+]]: tensor<?x2xi32>, %[[WTS:[a-z0-9]+]]: tensor<?x2xf32>, %[[X:[a-z0-9]+]]: tensor<?x16xf32>
// CHECK-NOT:     moe.
// Histogram: counts[c, e] over the chunk's assignments.
// CHECK:         %[[COUNTS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x8xi32>)
// CHECK:           scf.for
// CHECK:             tensor.extract %[[IDS]]
// CHECK:             arith.cmpi eq
// Chunk scan: before[c, e].
// CHECK:         %[[BEFORE:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x8xi32>)
// CHECK:           tensor.extract %[[COUNTS]]
// CHECK:         %[[KEPT:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<8xi32>)
// CHECK:         %[[OFFSETS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<9xi32>)
// CHECK:           tensor.extract %[[KEPT]]
// Each row gathers its assignment: expert from the offsets, chunk from
// `before`, rank inside the chunk; padding rows get token -1, weight 0.
// CHECK:         %[[ROWS:.*]]:2 = linalg.generic {{.*}} outs(%{{.*}}, %{{.*}} : tensor<?xi32>, tensor<?xf32>)
// CHECK:           tensor.extract %[[OFFSETS]]
// CHECK:           scf.if
// CHECK:             tensor.extract %[[BEFORE]]
// CHECK:             tensor.extract %[[WTS]]
// CHECK:           } else {
// CHECK:             arith.constant -1 : i32
// Each token's rows in row order, then the combine.
// CHECK:         %[[TOKROWS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x2xi32>)
// CHECK:         %[[PERM:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x16xf32>)
// CHECK:           tensor.extract %[[ROWS]]#0
// CHECK:           tensor.extract %[[X]]
// CHECK:         %[[Y:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x16xf32>)
// CHECK:           scf.for {{.*}} -> (f32)
// CHECK:             tensor.extract %[[TOKROWS]]
// CHECK:             arith.mulf
// CHECK:             arith.addf
// CHECK:         return %[[Y]], %[[OFFSETS]]
// NAMES-DAG: "moe.kernel:moe_histogram"
// NAMES-DAG: "moe.kernel:moe_scan_chunks"
// NAMES-DAG: "moe.kernel:moe_expert_counts"
// NAMES-DAG: "moe.kernel:moe_offsets"
// NAMES-DAG: "moe.kernel:moe_dispatch_rows"
// NAMES-DAG: "moe.kernel:moe_token_rows"
// NAMES-DAG: "moe.kernel:moe_permute"
// NAMES-DAG: "moe.kernel:moe_combine"
func.func @layer(%ids: tensor<?x2xi32>, %w: tensor<?x2xf32>, %x: tensor<?x16xf32>) -> (tensor<?x16xf32>, tensor<9xi32>) {
  %tok, %rw, %off = moe.dispatch %ids, %w {num_experts = 8 : i64}
      : tensor<?x2xi32>, tensor<?x2xf32> -> tensor<?xi32>, tensor<?xf32>, tensor<9xi32>
  %rows = moe.permute %x, %tok : tensor<?x16xf32>, tensor<?xi32> -> tensor<?x16xf32>
  %c0 = arith.constant 0 : index
  %t = tensor.dim %x, %c0 : tensor<?x16xf32>
  %e = tensor.empty(%t) : tensor<?x16xf32>
  %y = moe.combine %rows, %tok, %rw into %e
      : tensor<?x16xf32>, tensor<?xi32>, tensor<?xf32> into tensor<?x16xf32>
  return %y, %off : tensor<?x16xf32>, tensor<9xi32>
}

// -----

// With a capacity, the counts are clamped and a token's slot past the
// capacity has no row (-1).

// CHECK-LABEL: func.func @dispatch_capacity
// CHECK:         %[[CAP:.*]] = arith.fptosi {{.*}} : f64 to i32
// CHECK:         linalg.generic {{.*}} outs(%{{.*}} : tensor<8xi32>)
// CHECK:           arith.minsi %{{.*}}, %[[CAP]] : i32
// CHECK:         linalg.generic {{.*}} outs(%{{.*}} : tensor<16x2xi32>)
// CHECK:           arith.cmpi slt, %{{.*}}, %[[CAP]] : i32
func.func @dispatch_capacity(%ids: tensor<16x2xi32>, %w: tensor<16x2xf32>, %rows: tensor<32x4xf32>, %init: tensor<16x4xf32>) -> (tensor<16x4xf32>, tensor<9xi32>) {
  %tok, %rw, %off = moe.dispatch %ids, %w {num_experts = 8 : i64, capacity_factor = 1.0 : f64}
      : tensor<16x2xi32>, tensor<16x2xf32> -> tensor<32xi32>, tensor<32xf32>, tensor<9xi32>
  %y = moe.combine %rows, %tok, %rw into %init
      : tensor<32x4xf32>, tensor<32xi32>, tensor<32xf32> into tensor<16x4xf32>
  return %y, %off : tensor<16x4xf32>, tensor<9xi32>
}

// -----

// A combine whose tokens are not the dispatch's (another T) is left for the
// reference lowering.

// CHECK-LABEL: func.func @combine_other_tokens
// CHECK:         moe.combine
func.func @combine_other_tokens(%ids: tensor<16x2xi32>, %w: tensor<16x2xf32>, %rows: tensor<32x4xf32>, %init: tensor<20x4xf32>) -> tensor<20x4xf32> {
  %tok, %rw, %off = moe.dispatch %ids, %w {num_experts = 8 : i64}
      : tensor<16x2xi32>, tensor<16x2xf32> -> tensor<32xi32>, tensor<32xf32>, tensor<9xi32>
  %y = moe.combine %rows, %tok, %rw into %init
      : tensor<32x4xf32>, tensor<32xi32>, tensor<32xf32> into tensor<20x4xf32>
  return %y : tensor<20x4xf32>
}
