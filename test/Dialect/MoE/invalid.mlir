// RUN: moe-opt %s -split-input-file -verify-diagnostics

// One case per verifier message of the moe dialect.

// expected-error @+1 {{routing k must be at least 1}}
func.func @f() attributes {r = #moe.routing<k = 0>} { return }

// -----

// expected-error @+1 {{routing scale must be finite and positive}}
func.func @f() attributes {r = #moe.routing<k = 2, scale = -1.0>} { return }

// -----

// expected-error @+1 {{routing n_groups must be at least 1}}
func.func @f() attributes {r = #moe.routing<k = 2, n_groups = 0>} { return }

// -----

// expected-error @+1 {{routing top_groups must be in [1, n_groups = 2], got 3}}
func.func @f() attributes {r = #moe.routing<k = 2, n_groups = 2, top_groups = 3>} { return }

// -----

// expected-error @+1 {{routing threshold must be in [0, 1]}}
func.func @f() attributes {r = #moe.routing<k = 2, threshold = 1.5>} { return }

// -----

// expected-error @+1 {{layout, alpha, beta and limit only apply to the swiglu activation}}
func.func @f() attributes {a = #moe.activation<kind = silu, alpha = 2.0>} { return }

// -----

// expected-error @+1 {{swiglu limit must be positive}}
func.func @f() attributes {a = #moe.activation<kind = swiglu, limit = 0.0>} { return }

// -----

func.func @f(%x: tensor<8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{input must be [T, H] or [B, S, H], got rank 1}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>} : (tensor<8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>, tensor<3x8x16xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf32>) -> tensor<4x9xf32> {
  // expected-error @+1 {{result type must equal the input type}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>} : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>, tensor<3x8x16xf32>) -> tensor<4x9xf32>
  return %y : tensor<4x9xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3x1xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{router_logits must have rank 2, got 3}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>} : (tensor<4x8xf32>, tensor<4x3x1xf32>, tensor<3x16x8xf32>, tensor<3x8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<2x3x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf32>) -> tensor<2x3x8xf32> {
  // expected-error @+1 {{router_logits dimension 0 must equal the number of tokens of the input (6), got 4}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>} : (tensor<2x3x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>, tensor<3x8x16xf32>) -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<16x8xf32>, %w2: tensor<3x8x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{fc1 weights must have rank 3, got 2}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>} : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<16x8xf32>, tensor<3x8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf16>) -> tensor<4x8xf32> {
  // expected-error @+1 {{fc1 weights and fc2 weights must have the same element type}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>} : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>, tensor<3x8x16xf16>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<4x8x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{fc2 weights dimension 0 must equal the number of experts of fc1 (3), got 4}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>} : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x9xf32>, %w2: tensor<3x8x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{fc1 weights dimension 2 must equal the hidden size (8), got 9}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>} : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x9xf32>, tensor<3x8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x7x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{fc2 weights dimension 1 must equal the hidden size (8), got 7}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>} : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>, tensor<3x7x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{fc1 weights dimension 1 must equal 2 x the fc2 inner size (swiglu) (32), got 16}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = swiglu>} : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>, tensor<3x8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{fc1 weights dimension 1 must equal the fc2 inner size (8), got 16}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>} : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>, tensor<3x8x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x4xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{router_logits dimension 1 must equal the number of experts of the weights (3), got 4}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>} : (tensor<4x8xf32>, tensor<4x4xf32>, tensor<3x16x8xf32>, tensor<3x8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{routing k (4) must not exceed the number of experts (3)}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) {routing = #moe.routing<k = 4>, activation = #moe.activation<kind = relu>} : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>, tensor<3x8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x32x8xf32>, %w2: tensor<3x8x16xf32>, %w3: tensor<3x16x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{the fused swiglu activation cannot be combined with fc3 weights}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) fc3(%w3) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = swiglu>} : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x32x8xf32>, tensor<3x8x16xf32>, tensor<3x16x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf32>, %w3: tensor<3x16x9xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{fc3 weights dimension 2 must equal the hidden size (8), got 9}}
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) fc3(%w3) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = silu>} : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>, tensor<3x8x16xf32>, tensor<3x16x9xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x8xf32>, %b1: tensor<3x15xf32>, %w2: tensor<3x8x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{fc1 bias dimension 1 must equal the rows of its weights (16), got 15}}
  %y = moe.layer %x, %l fc1(%w1, %b1) fc2(%w2) {routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>} : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>, tensor<3x15xf32>, tensor<3x8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf32>, %b3: tensor<3x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{fc3 bias requires fc3 weights}}
  %y = "moe.layer"(%x, %l, %w1, %w2, %b3) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 1>, routing = #moe.routing<k = 2>, activation = #moe.activation<kind = relu>}> : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>, tensor<3x8x16xf32>, tensor<3x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @f(%l: tensor<8xf32>) {
  // expected-error @+1 {{logits must have rank 2, got 1}}
  %w, %ids = moe.route %l {routing = #moe.routing<k = 2>} : tensor<8xf32> -> tensor<4x2xf32>, tensor<4x2xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>) {
  // expected-error @+1 {{routing k (9) must not exceed the number of experts (8)}}
  %w, %ids = moe.route %l {routing = #moe.routing<k = 9>} : tensor<4x8xf32> -> tensor<4x9xf32>, tensor<4x9xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>) {
  // expected-error @+1 {{the number of experts (8) must be divisible by n_groups (3)}}
  %w, %ids = moe.route %l {routing = #moe.routing<k = 2, n_groups = 3>} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>) {
  // expected-error @+1 {{group_score top2_sum needs at least 2 experts per group}}
  %w, %ids = moe.route %l {routing = #moe.routing<k = 2, n_groups = 8, top_groups = 2, group_score = top2_sum>} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>) {
  // expected-error @+1 {{routing k (5) exceeds the experts in the kept groups (4)}}
  %w, %ids = moe.route %l {routing = #moe.routing<k = 5, n_groups = 4, top_groups = 2>} : tensor<4x8xf32> -> tensor<4x5xf32>, tensor<4x5xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>, %b: tensor<7xf32>) {
  // expected-error @+1 {{correction_bias dimension 0 must equal the number of experts (8), got 7}}
  %w, %ids = moe.route %l bias(%b : tensor<7xf32>) {routing = #moe.routing<k = 2>} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>, %b: tensor<8xf16>) {
  // expected-error @+1 {{logits and correction_bias must have the same element type}}
  %w, %ids = moe.route %l bias(%b : tensor<8xf16>) {routing = #moe.routing<k = 2>} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>, %m: tensor<4xi1>) {
  // expected-error @+1 {{expert_mask dimension 0 must equal the number of experts (8), got 4}}
  %w, %ids = moe.route %l mask(%m : tensor<4xi1>) {routing = #moe.routing<k = 2>} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>) {
  // expected-error @+1 {{weights dimension 1 must equal routing k (2), got 3}}
  %w, %ids = moe.route %l {routing = #moe.routing<k = 2>} : tensor<4x8xf32> -> tensor<4x3xf32>, tensor<4x2xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>) {
  // expected-error @+1 {{expert_ids dimension 0 must equal the number of tokens (4), got 5}}
  %w, %ids = moe.route %l {routing = #moe.routing<k = 2>} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<5x2xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>) {
  // expected-error @+1 {{logits and weights must have the same element type}}
  %w, %ids = moe.route %l {routing = #moe.routing<k = 2>} : tensor<4x8xf32> -> tensor<4x2xf16>, tensor<4x2xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>) {
  // expected-error @+1 {{capacity (5) must not exceed the number of tokens (4)}}
  %t, %w, %o = moe.expert_choice_route %l {capacity = 5 : i64} : tensor<4x8xf32> -> tensor<40xi32>, tensor<40xf32>, tensor<9xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>) {
  // expected-error @+1 {{row_token dimension 0 must equal experts x capacity (16), got 15}}
  %t, %w, %o = moe.expert_choice_route %l {capacity = 2 : i64} : tensor<4x8xf32> -> tensor<15xi32>, tensor<15xf32>, tensor<9xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>) {
  // expected-error @+1 {{row_weight dimension 0 must equal the number of rows of row_token (16), got 15}}
  %t, %w, %o = moe.expert_choice_route %l {capacity = 2 : i64} : tensor<4x8xf32> -> tensor<16xi32>, tensor<15xf32>, tensor<9xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>) {
  // expected-error @+1 {{offsets dimension 0 must equal the number of experts + 1 (9), got 8}}
  %t, %w, %o = moe.expert_choice_route %l {capacity = 2 : i64} : tensor<4x8xf32> -> tensor<16xi32>, tensor<16xf32>, tensor<8xi32>
  return
}

// -----

func.func @f(%l: tensor<4x8xf32>) {
  // expected-error @+1 {{attribute 'capacity' failed to satisfy constraint}}
  %t, %w, %o = moe.expert_choice_route %l {capacity = 0 : i64} : tensor<4x8xf32> -> tensor<0xi32>, tensor<0xf32>, tensor<9xi32>
  return
}

// -----

func.func @f(%ids: tensor<4x2xi32>, %w: tensor<4x3xf32>) {
  // expected-error @+1 {{weights must have the shape of expert_ids}}
  %t, %rw, %o = moe.dispatch %ids, %w {num_experts = 4 : i64} : tensor<4x2xi32>, tensor<4x3xf32> -> tensor<8xi32>, tensor<8xf32>, tensor<5xi32>
  return
}

// -----

func.func @f(%ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{row_token dimension 0 must equal tokens x k (8), got 9}}
  %t, %rw, %o = moe.dispatch %ids, %w {num_experts = 4 : i64} : tensor<4x2xi32>, tensor<4x2xf32> -> tensor<9xi32>, tensor<9xf32>, tensor<5xi32>
  return
}

// -----

func.func @f(%ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{offsets dimension 0 must equal num_experts + 1 (5), got 4}}
  %t, %rw, %o = moe.dispatch %ids, %w {num_experts = 4 : i64} : tensor<4x2xi32>, tensor<4x2xf32> -> tensor<8xi32>, tensor<8xf32>, tensor<4xi32>
  return
}

// -----

func.func @f(%ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{k (2) must not exceed num_experts (1)}}
  %t, %rw, %o = moe.dispatch %ids, %w {num_experts = 1 : i64} : tensor<4x2xi32>, tensor<4x2xf32> -> tensor<8xi32>, tensor<8xf32>, tensor<2xi32>
  return
}

// -----

func.func @f(%ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{capacity_factor must be positive}}
  %t, %rw, %o = moe.dispatch %ids, %w {num_experts = 4 : i64, capacity_factor = 0.0 : f64} : tensor<4x2xi32>, tensor<4x2xf32> -> tensor<8xi32>, tensor<8xf32>, tensor<5xi32>
  return
}

// -----

func.func @f(%ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{weights and row_weight must have the same element type}}
  %t, %rw, %o = moe.dispatch %ids, %w {num_experts = 4 : i64} : tensor<4x2xi32>, tensor<4x2xf32> -> tensor<8xi32>, tensor<8xf16>, tensor<5xi32>
  return
}

// -----

func.func @f(%ids: tensor<8xi32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{expert_ids must have rank 2, got 1}}
  %t, %rw, %o = moe.dispatch %ids, %w {num_experts = 4 : i64} : tensor<8xi32>, tensor<8xf32> -> tensor<8xi32>, tensor<8xf32>, tensor<5xi32>
  return
}

// -----

func.func @f(%x: tensor<4x8xf32>, %t: tensor<8xi32>) {
  // expected-error @+1 {{result dimension 1 must equal the hidden size of the input (8), got 9}}
  %r = moe.permute %x, %t : tensor<4x8xf32>, tensor<8xi32> -> tensor<8x9xf32>
  return
}

// -----

func.func @f(%x: tensor<4x8xf32>, %t: tensor<8xi32>) {
  // expected-error @+1 {{result dimension 0 must equal the number of rows of row_token (8), got 7}}
  %r = moe.permute %x, %t : tensor<4x8xf32>, tensor<8xi32> -> tensor<7x8xf32>
  return
}

// -----

func.func @f(%r: tensor<8x8xf32>, %t: tensor<7xi32>, %w: tensor<7xf32>, %i: tensor<4x8xf32>) {
  // expected-error @+1 {{row_token dimension 0 must equal the number of expert rows (8), got 7}}
  %y = moe.combine %r, %t, %w into %i : tensor<8x8xf32>, tensor<7xi32>, tensor<7xf32> into tensor<4x8xf32>
  return
}

// -----

func.func @f(%r: tensor<8x8xf32>, %t: tensor<8xi32>, %w: tensor<8xf32>, %i: tensor<4x6xf32>) {
  // expected-error @+1 {{init dimension 1 must equal the hidden size of expert_rows (8), got 6}}
  %y = moe.combine %r, %t, %w into %i : tensor<8x8xf32>, tensor<8xi32>, tensor<8xf32> into tensor<4x6xf32>
  return
}

// -----

func.func @f(%r: tensor<8x8xf32>, %o: tensor<3xi32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf32>) {
  // expected-error @+1 {{offsets must have at least num_experts + 1 (4) entries, got 3}}
  %y = moe.grouped_ffn %r, %o fc1(%w1) fc2(%w2) {activation = #moe.activation<kind = relu>} : (tensor<8x8xf32>, tensor<3xi32>, tensor<3x16x8xf32>, tensor<3x8x16xf32>) -> tensor<8x8xf32>
  return
}

// -----

func.func @f(%r: tensor<8x8xf32>, %o: tensor<4xi32>, %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x16xf32>) {
  // expected-error @+1 {{result type must equal the rows type}}
  %y = moe.grouped_ffn %r, %o fc1(%w1) fc2(%w2) {activation = #moe.activation<kind = relu>} : (tensor<8x8xf32>, tensor<4xi32>, tensor<3x16x8xf32>, tensor<3x8x16xf32>) -> tensor<8x8xf16>
  return
}

// -----

func.func @f(%x: tensor<4x8xf32>, %w1: tensor<16x8xf32>, %w2: tensor<8x16xf32>, %g: tensor<9xf32>) {
  // expected-error @+1 {{gate dimension 0 must equal the hidden size (8), got 9}}
  %y = moe.shared_ffn %x fc1(%w1) fc2(%w2) gate(%g) {activation = #moe.activation<kind = silu>} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<8x16xf32>, tensor<9xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%x: tensor<4x8xf32>, %w1: tensor<3x16x8xf32>, %w2: tensor<8x16xf32>) {
  // expected-error @+1 {{fc1 weights must have rank 2, got 3}}
  %y = moe.shared_ffn %x fc1(%w1) fc2(%w2) {activation = #moe.activation<kind = silu>} : (tensor<4x8xf32>, tensor<3x16x8xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%r: tensor<8x4xf32>, %o: tensor<6xi32>) {
  // expected-error @+1 {{must describe at least one special expert}}
  %y = moe.special_experts %r, %o {first_expert = 2 : i64} : tensor<8x4xf32>, tensor<6xi32> -> tensor<8x4xf32>
  return
}

// -----

func.func @f(%r: tensor<8x4xf32>, %o: tensor<6xi32>) {
  // expected-error @+1 {{constants are required exactly when num_constant > 0}}
  %y = moe.special_experts %r, %o {first_expert = 2 : i64, num_constant = 1 : i64} : tensor<8x4xf32>, tensor<6xi32> -> tensor<8x4xf32>
  return
}

// -----

func.func @f(%r: tensor<8x4xf32>, %o: tensor<6xi32>, %c: tensor<2x4xf32>) {
  // expected-error @+1 {{constants dimension 0 must equal num_constant (1), got 2}}
  %y = moe.special_experts %r, %o constants(%c : tensor<2x4xf32>) {first_expert = 2 : i64, num_constant = 1 : i64} : tensor<8x4xf32>, tensor<6xi32> -> tensor<8x4xf32>
  return
}

// -----

func.func @f(%r: tensor<8x4xf32>, %o: tensor<5xi32>) {
  // expected-error @+1 {{offsets must have at least 6 entries for the special experts, got 5}}
  %y = moe.special_experts %r, %o {first_expert = 2 : i64, num_null = 1 : i64, num_copy = 2 : i64} : tensor<8x4xf32>, tensor<5xi32> -> tensor<8x4xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x8xui8>, %s: tensor<2x4xf32>) {
  // expected-error @+1 {{bits must be 4 or 8, got 6}}
  %w = moe.dequantize %q, %s {bits = 6 : i64} : tensor<2x4x8xui8>, tensor<2x4xf32> -> tensor<2x4x8xf32>
  return
}

// -----

func.func @f(%q: tensor<8xui8>, %s: tensor<2x4xf32>) {
  // expected-error @+1 {{quantized weights must have rank >= 2}}
  %w = moe.dequantize %q, %s {bits = 8 : i64} : tensor<8xui8>, tensor<2x4xf32> -> tensor<8xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x8xui8>, %s: tensor<2x4xf32>) {
  // expected-error @+1 {{result must have the rank of the quantized weights}}
  %w = moe.dequantize %q, %s {bits = 8 : i64} : tensor<2x4x8xui8>, tensor<2x4xf32> -> tensor<8x8xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x8xui8>, %s: tensor<2x4xf32>) {
  // expected-error @+1 {{quantized weights dimension 2 must equal ceil(K / 2) bytes for packed int4 (4), got 8}}
  %w = moe.dequantize %q, %s {bits = 4 : i64} : tensor<2x4x8xui8>, tensor<2x4xf32> -> tensor<2x4x8xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x8xui8>, %s: tensor<2x4xf32>) {
  // expected-error @+1 {{quantized weights dimension 2 must equal K (16), got 8}}
  %w = moe.dequantize %q, %s {bits = 8 : i64} : tensor<2x4x8xui8>, tensor<2x4xf32> -> tensor<2x4x16xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x8xui8>, %s: tensor<2x4x1xf32>) {
  // expected-error @+1 {{block_size must be 0 (row-wise) or a power of two >= 16, got 24}}
  %w = moe.dequantize %q, %s {bits = 8 : i64, block_size = 24 : i64} : tensor<2x4x8xui8>, tensor<2x4x1xf32> -> tensor<2x4x8xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x8xui8>, %s: tensor<2x4xf32>) {
  // expected-error @+1 {{scales must have rank 3 for block-wise quantisation, got 2}}
  %w = moe.dequantize %q, %s {bits = 8 : i64, block_size = 16 : i64} : tensor<2x4x8xui8>, tensor<2x4xf32> -> tensor<2x4x8xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x16xui8>, %s: tensor<2x4x1xf32>) {
  // expected-error @+1 {{scales dimension 2 must equal ceil(K / block_size) (2), got 1}}
  %w = moe.dequantize %q, %s {bits = 4 : i64, block_size = 16 : i64} : tensor<2x4x16xui8>, tensor<2x4x1xf32> -> tensor<2x4x32xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x8xui8>, %s: tensor<2x3xf32>) {
  // expected-error @+1 {{scales dimension 1 must equal the quantized weights' dimension (4), got 3}}
  %w = moe.dequantize %q, %s {bits = 8 : i64} : tensor<2x4x8xui8>, tensor<2x3xf32> -> tensor<2x4x8xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x8xui8>, %s: tensor<2x4xf32>) {
  // expected-error @+1 {{scales and result must have the same element type}}
  %w = moe.dequantize %q, %s {bits = 8 : i64} : tensor<2x4x8xui8>, tensor<2x4xf32> -> tensor<2x4x8xf16>
  return
}

// -----

func.func @f(%q: tensor<2x4x8xui8>, %s: tensor<2x4xf32>, %z: tensor<2x5xui8>) {
  // expected-error @+1 {{zero_points must have the shape of scales}}
  %w = moe.dequantize %q, %s zero_points(%z : tensor<2x5xui8>) {bits = 8 : i64} : tensor<2x4x8xui8>, tensor<2x4xf32> -> tensor<2x4x8xf32>
  return
}

// -----

func.func @f(%in: tensor<8x4xf32>, %out: tensor<6x5xf32>, %o: tensor<2xi32>) {
  // expected-error @+1 {{output dimension 1 must equal the row size of the input (4), got 5}}
  %p = moe.ragged_all_to_all_start %in, %out, %o, %o, %o, %o {num_ranks = 2 : i64} : tensor<8x4xf32>, tensor<6x5xf32>, tensor<2xi32> -> !moe.pending<tensor<6x5xf32>>
  return
}

// -----

func.func @f(%in: tensor<8x4xf32>, %out: tensor<6x4xf32>, %o: tensor<3xi32>) {
  // expected-error @+1 {{input_offsets dimension 0 must equal num_ranks (2), got 3}}
  %p = moe.ragged_all_to_all_start %in, %out, %o, %o, %o, %o {num_ranks = 2 : i64} : tensor<8x4xf32>, tensor<6x4xf32>, tensor<3xi32> -> !moe.pending<tensor<6x4xf32>>
  return
}

// -----

func.func @f(%in: tensor<8x4xf32>, %out: tensor<6x4xf32>, %o: tensor<2xi32>) {
  // expected-error @+1 {{pending value type must equal the output type}}
  %p = moe.ragged_all_to_all_start %in, %out, %o, %o, %o, %o {num_ranks = 2 : i64} : tensor<8x4xf32>, tensor<6x4xf32>, tensor<2xi32> -> !moe.pending<tensor<7x4xf32>>
  return
}
