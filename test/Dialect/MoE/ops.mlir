// RUN: moe-opt %s | moe-opt | FileCheck %s --enable-var-scope
// RUN: moe-opt %s --mlir-print-op-generic | moe-opt | FileCheck %s --enable-var-scope

// Every op and attribute round-trips through the custom and generic forms.

// CHECK-LABEL: func @layer_gated
// CHECK: moe.layer %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} fc1(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}) fc2(%{{[a-z0-9_]+}}) fc3(%{{[a-z0-9_]+}})
// CHECK-SAME: activation = #moe.activation<kind = silu>
// CHECK-SAME: routing = #moe.routing<k = 2, order = topk_then_score, renormalize = true>
func.func @layer_gated(%x: tensor<16x64xf32>, %l: tensor<16x8xf32>,
                       %w1: tensor<8x128x64xf32>, %b1: tensor<8x128xf32>,
                       %w2: tensor<8x64x128xf32>, %w3: tensor<8x128x64xf32>)
    -> tensor<16x64xf32> {
  %y = moe.layer %x, %l fc1(%w1, %b1) fc2(%w2) fc3(%w3)
         {routing = #moe.routing<k = 2, order = topk_then_score, renormalize = true>,
          activation = #moe.activation<kind = silu>}
         : (tensor<16x64xf32>, tensor<16x8xf32>, tensor<8x128x64xf32>,
            tensor<8x128xf32>, tensor<8x64x128xf32>, tensor<8x128x64xf32>)
         -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

// CHECK-LABEL: func @layer_swiglu_3d
// CHECK: moe.layer
// CHECK-SAME: activation = #moe.activation<kind = swiglu, layout = concatenated, alpha = 1.702, beta = 1.0, limit = 7.0>
func.func @layer_swiglu_3d(%x: tensor<2x?x32xbf16>, %l: tensor<?x4xbf16>,
                           %w1: tensor<4x64x32xbf16>, %b1: tensor<4x64xbf16>,
                           %w2: tensor<4x32x32xbf16>, %b2: tensor<4x32xbf16>)
    -> tensor<2x?x32xbf16> {
  %y = moe.layer %x, %l fc1(%w1, %b1) fc2(%w2, %b2)
         {routing = #moe.routing<k = 2>,
          activation = #moe.activation<kind = swiglu, layout = concatenated,
                                       alpha = 1.702, beta = 1.0, limit = 7.0>}
         : (tensor<2x?x32xbf16>, tensor<?x4xbf16>, tensor<4x64x32xbf16>,
            tensor<4x64xbf16>, tensor<4x32x32xbf16>, tensor<4x32xbf16>)
         -> tensor<2x?x32xbf16>
  return %y : tensor<2x?x32xbf16>
}

// CHECK-LABEL: func @route_deepseek
// CHECK: moe.route %{{[a-z0-9_]+}} bias(%{{[a-z0-9_]+}} : tensor<256xf32>)
// CHECK-SAME: routing = #moe.routing<k = 8, score = sigmoid, renormalize = true, scale = 2.5, n_groups = 8, top_groups = 4, group_score = top2_sum>
func.func @route_deepseek(%l: tensor<?x256xf32>, %bias: tensor<256xf32>)
    -> (tensor<?x8xf32>, tensor<?x8xi32>) {
  %w, %ids = moe.route %l bias(%bias : tensor<256xf32>)
      {routing = #moe.routing<k = 8, score = sigmoid, renormalize = true,
                              scale = 2.5, n_groups = 8, top_groups = 4,
                              group_score = top2_sum>}
      : tensor<?x256xf32> -> tensor<?x8xf32>, tensor<?x8xi32>
  return %w, %ids : tensor<?x8xf32>, tensor<?x8xi32>
}

// CHECK-LABEL: func @route_dynamic_k_masked
// CHECK: moe.route %{{[a-z0-9_]+}} mask(%{{[a-z0-9_]+}} : tensor<8xi1>) offsets(%{{[a-z0-9_]+}} : tensor<8xf32>)
// CHECK-SAME: routing = #moe.routing<k = 4, threshold = 0.9>
func.func @route_dynamic_k_masked(%l: tensor<16x8xf32>, %m: tensor<8xi1>,
                                  %o: tensor<8xf32>)
    -> (tensor<16x4xf32>, tensor<16x4xi32>) {
  %w, %ids = moe.route %l mask(%m : tensor<8xi1>) offsets(%o : tensor<8xf32>)
      {routing = #moe.routing<k = 4, threshold = 0.9>}
      : tensor<16x8xf32> -> tensor<16x4xf32>, tensor<16x4xi32>
  return %w, %ids : tensor<16x4xf32>, tensor<16x4xi32>
}

// CHECK-LABEL: func @expert_choice
// CHECK: moe.expert_choice_route %{{[a-z0-9_]+}} {capacity = 4 : i64, score = #moe.score_function<sigmoid>}
func.func @expert_choice(%l: tensor<16x8xf32>)
    -> (tensor<32xi32>, tensor<32xf32>, tensor<9xi32>) {
  %t, %w, %o = moe.expert_choice_route %l
      {capacity = 4 : i64, score = #moe.score_function<sigmoid>}
      : tensor<16x8xf32> -> tensor<32xi32>, tensor<32xf32>, tensor<9xi32>
  return %t, %w, %o : tensor<32xi32>, tensor<32xf32>, tensor<9xi32>
}

// CHECK-LABEL: func @staged
// CHECK: %[[TOK:[a-z0-9_]+]], %[[W:[a-z0-9_]+]], %[[OFF:[a-z0-9_]+]] = moe.dispatch %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} {capacity_factor = 1.250000e+00 : f64, num_experts = 10 : i64}
// CHECK: %[[ROWS:[a-z0-9_]+]] = moe.permute %{{[a-z0-9_]+}}, %[[TOK]]
// CHECK: %[[FFN:[a-z0-9_]+]] = moe.grouped_ffn %[[ROWS]], %[[OFF]] fc1(%{{[a-z0-9_]+}}) fc2(%{{[a-z0-9_]+}}) {activation = #moe.activation<kind = gelu_tanh>}
// CHECK: %[[SPECIAL:[a-z0-9_]+]] = moe.special_experts %[[ROWS]], %[[OFF]] constants(%{{[a-z0-9_]+}} : tensor<1x64xf32>) {first_expert = 8 : i64, num_constant = 1 : i64, num_copy = 1 : i64}
// CHECK: moe.combine %{{[a-z0-9_]+}}, %[[TOK]], %[[W]] into %{{[a-z0-9_]+}} : tensor<32x64xf32>, tensor<32xi32>, tensor<32xf32> into tensor<16x64xf32>
func.func @staged(%x: tensor<16x64xf32>, %ids: tensor<16x2xi32>,
                  %wts: tensor<16x2xf32>, %w1: tensor<8x128x64xf32>,
                  %w2: tensor<8x64x128xf32>, %c: tensor<1x64xf32>,
                  %init: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %tok, %w, %off = moe.dispatch %ids, %wts
      {num_experts = 10 : i64, capacity_factor = 1.25 : f64}
      : tensor<16x2xi32>, tensor<16x2xf32>
      -> tensor<32xi32>, tensor<32xf32>, tensor<11xi32>
  %rows = moe.permute %x, %tok
      : tensor<16x64xf32>, tensor<32xi32> -> tensor<32x64xf32>
  %ffn = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
      {activation = #moe.activation<kind = gelu_tanh>}
      : (tensor<32x64xf32>, tensor<11xi32>, tensor<8x128x64xf32>,
         tensor<8x64x128xf32>) -> tensor<32x64xf32>
  %special = moe.special_experts %rows, %off constants(%c : tensor<1x64xf32>)
      {first_expert = 8 : i64, num_copy = 1 : i64, num_constant = 1 : i64}
      : tensor<32x64xf32>, tensor<11xi32> -> tensor<32x64xf32>
  %sum = arith.addf %ffn, %special : tensor<32x64xf32>
  %y = moe.combine %sum, %tok, %w into %init
      : tensor<32x64xf32>, tensor<32xi32>, tensor<32xf32> into tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

// CHECK-LABEL: func @shared_gated
// CHECK: moe.shared_ffn %{{[a-z0-9_]+}} fc1(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}) fc2(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}) fc3(%{{[a-z0-9_]+}}) gate(%{{[a-z0-9_]+}}) {activation = #moe.activation<kind = gelu_erf>}
func.func @shared_gated(%x: tensor<?x64xf16>, %w1: tensor<96x64xf16>,
                        %b1: tensor<96xf16>, %w2: tensor<64x96xf16>,
                        %b2: tensor<64xf16>, %w3: tensor<96x64xf16>,
                        %g: tensor<64xf16>) -> tensor<?x64xf16> {
  %y = moe.shared_ffn %x fc1(%w1, %b1) fc2(%w2, %b2) fc3(%w3) gate(%g)
      {activation = #moe.activation<kind = gelu_erf>}
      : (tensor<?x64xf16>, tensor<96x64xf16>, tensor<96xf16>,
         tensor<64x96xf16>, tensor<64xf16>, tensor<96x64xf16>, tensor<64xf16>)
      -> tensor<?x64xf16>
  return %y : tensor<?x64xf16>
}

// CHECK-LABEL: func @dequantize_int4_blockwise
// CHECK: moe.dequantize %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} zero_points(%{{[a-z0-9_]+}} : tensor<8x128x2xui8>) {bits = 4 : i64, block_size = 32 : i64}
// CHECK-SAME: : tensor<8x128x32xui8>, tensor<8x128x2xf32> -> tensor<8x128x64xf32>
func.func @dequantize_int4_blockwise(%q: tensor<8x128x32xui8>,
                                     %s: tensor<8x128x2xf32>,
                                     %zp: tensor<8x128x2xui8>)
    -> tensor<8x128x64xf32> {
  %w = moe.dequantize %q, %s zero_points(%zp : tensor<8x128x2xui8>)
      {bits = 4 : i64, block_size = 32 : i64}
      : tensor<8x128x32xui8>, tensor<8x128x2xf32> -> tensor<8x128x64xf32>
  return %w : tensor<8x128x64xf32>
}

// CHECK-LABEL: func @dequantize_int8_rowwise
// CHECK: moe.dequantize %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} {bits = 8 : i64} : tensor<4x16x8xi8>, tensor<4x16xbf16> -> tensor<4x16x8xbf16>
func.func @dequantize_int8_rowwise(%q: tensor<4x16x8xi8>, %s: tensor<4x16xbf16>)
    -> tensor<4x16x8xbf16> {
  %w = moe.dequantize %q, %s {bits = 8 : i64}
      : tensor<4x16x8xi8>, tensor<4x16xbf16> -> tensor<4x16x8xbf16>
  return %w : tensor<4x16x8xbf16>
}

// CHECK-LABEL: func @all_to_all
// CHECK: %[[P:[a-z0-9_]+]] = moe.ragged_all_to_all_start %{{.*}} {num_ranks = 4 : i64} : tensor<64x32xf32>, tensor<96x32xf32>, tensor<4xi32> -> !moe.pending<tensor<96x32xf32>>
// CHECK: moe.ragged_all_to_all_wait %[[P]] : !moe.pending<tensor<96x32xf32>>
func.func @all_to_all(%in: tensor<64x32xf32>, %out: tensor<96x32xf32>,
                      %io: tensor<4xi32>, %ss: tensor<4xi32>,
                      %oo: tensor<4xi32>, %rs: tensor<4xi32>)
    -> tensor<96x32xf32> {
  %p = moe.ragged_all_to_all_start %in, %out, %io, %ss, %oo, %rs
      {num_ranks = 4 : i64}
      : tensor<64x32xf32>, tensor<96x32xf32>, tensor<4xi32>
      -> !moe.pending<tensor<96x32xf32>>
  %r = moe.ragged_all_to_all_wait %p : !moe.pending<tensor<96x32xf32>>
  return %r : tensor<96x32xf32>
}

// The pending value may cross loop iterations (chunk pipelining).
// CHECK-LABEL: func @pipelined
// CHECK: scf.for {{.*}} iter_args(%{{[a-z0-9_]+}} = %{{[a-z0-9_]+}}) -> (!moe.pending<tensor<8x4xf32>>)
func.func @pipelined(%in: tensor<8x4xf32>, %out: tensor<8x4xf32>,
                     %o: tensor<2xi32>, %s: tensor<2xi32>, %n: index)
    -> tensor<8x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %first = moe.ragged_all_to_all_start %in, %out, %o, %s, %o, %s
      {num_ranks = 2 : i64}
      : tensor<8x4xf32>, tensor<8x4xf32>, tensor<2xi32>
      -> !moe.pending<tensor<8x4xf32>>
  %last = scf.for %i = %c0 to %n step %c1 iter_args(%p = %first)
      -> (!moe.pending<tensor<8x4xf32>>) {
    %r = moe.ragged_all_to_all_wait %p : !moe.pending<tensor<8x4xf32>>
    %next = moe.ragged_all_to_all_start %r, %out, %o, %s, %o, %s
        {num_ranks = 2 : i64}
        : tensor<8x4xf32>, tensor<8x4xf32>, tensor<2xi32>
        -> !moe.pending<tensor<8x4xf32>>
    scf.yield %next : !moe.pending<tensor<8x4xf32>>
  }
  %r = moe.ragged_all_to_all_wait %last : !moe.pending<tensor<8x4xf32>>
  return %r : tensor<8x4xf32>
}
