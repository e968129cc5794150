// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-mma=precision=bf16 | FileCheck %s --enable-var-scope
// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-mma=precision=f16 | FileCheck %s --enable-var-scope --check-prefix=F16
// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-mma | FileCheck %s --enable-var-scope --check-prefix=F32
// RUN: not moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-mma=precision=f8 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: convert-moe-grouped-ffn-to-mma: unknown precision 'f8' (expected f32, bf16 or f16)

// A gated silu FFN with biases (H = 32, I = 16): the tile schedule from the
// offsets, the gather into the padded layout as bf16 bits in f16, then two
// warp-tile foralls over ceil(N/16) + E tiles whose bodies skip surplus
// tiles and run m16n8k16 contracts of extended operands:
//   - fc1 and fc3 together (per step two output blocks, each a term of w1
//     and one of w3: four accumulators), whose epilogue adds fc1's bias (a
//     row broadcast over the tile), applies silu and the gating and writes
//     the bf16 fc2 operand;
//   - fc2, whose epilogue adds its bias and writes the tile's rows of the
//     ragged result (a dynamic-size slice from the per-tile first row and
//     count computed beforehand: rows past it dropped); surplus tiles write
//     zeros into the rows past the FFN experts.
// No element-wise kernel between the GEMMs and none after them. Constant
// weights are converted at compile time.

// CHECK-LABEL: func.func @silu_fc3
// CHECK-NOT:     moe.grouped_ffn
// CHECK-DAG:     arith.constant dense<{{.*}}> : tensor<4x16x32xf16>
// CHECK-DAG:     arith.constant dense<{{.*}}> : tensor<4x32x16xf16>
// CHECK-DAG:     arith.constant dense<{{.*}}> : tensor<4x16x32xf16>
// CHECK:         %[[FULL:.*]] = arith.divui
// CHECK-NEXT:    %[[TILES:.*]] = arith.addi %[[FULL]], %{{.*}} : index
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:         arith.truncf %{{.*}} : f32 to bf16
// CHECK:         arith.bitcast %{{.*}} : bf16 to f16
// CHECK:         scf.forall (%[[T:.*]], %{{.*}}) in (%[[TILES]], 1) shared_outs({{.*}}) -> (tensor<?x16xf16>) {
// CHECK:           %[[EXPERT:.*]] = tensor.extract %{{.*}}[%[[T]]] : tensor<?xi32>
// CHECK:           %[[FFN:.*]] = arith.cmpi slt, %[[EXPERT]]
// CHECK:           scf.if %[[FFN]]
// CHECK:               scf.for {{.*}} iter_args({{.*}}) -> (vector<16x8xf32>, vector<16x8xf32>, vector<16x8xf32>, vector<16x8xf32>) {
// CHECK:                 vector.transfer_read {{.*}} : tensor<?x32xf16>, vector<16x16xf16>
// CHECK:                 arith.bitcast {{.*}} : vector<16x16xf16> to vector<16x16xbf16>
// CHECK:                 arith.extf {{.*}} : vector<16x16xbf16> to vector<16x16xf32>
// CHECK:                 vector.transfer_read {{.*}} : tensor<4x16x32xf16>, vector<8x16xf16>
// CHECK:                 vector.contract {{.*}} : vector<16x16xf32>, vector<8x16xf32> into vector<16x8xf32>
// CHECK:                 vector.transfer_read {{.*}} : tensor<4x16x32xf16>, vector<8x16xf16>
// CHECK:                 vector.contract {{.*}} : vector<16x16xf32>, vector<8x16xf32> into vector<16x8xf32>
// CHECK:               vector.transfer_read %{{.*}} : tensor<4x16xf32>, vector<8xf32>
// CHECK-NEXT:          vector.broadcast {{.*}} : vector<8xf32> to vector<16x8xf32>
// CHECK:               arith.addf {{.*}} : vector<16x8xf32>
// CHECK:               math.exp {{.*}} : vector<16x8xf32>
// CHECK:               arith.mulf {{.*}} : vector<16x8xf32>
// CHECK:               arith.truncf {{.*}} : vector<16x8xf32> to vector<16x8xbf16>
// CHECK-NEXT:          arith.bitcast {{.*}} : vector<16x8xbf16> to vector<16x8xf16>
// CHECK-NEXT:          vector.transfer_write {{.*}} {in_bounds = [true, true]} : vector<16x8xf16>, tensor<16x16xf16>
// CHECK:           scf.forall.in_parallel
// CHECK:             tensor.parallel_insert_slice
// CHECK:         } {mapping = [#gpu.warp<x>, #gpu.warp<y>]}
// CHECK:         %[[ROWS:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel"]} outs({{.*}} : tensor<?xi32>, tensor<?xi32>)
// CHECK:         scf.forall (%[[T2:.*]], %{{.*}}) in (%[[TILES]], 1) shared_outs({{.*}}) -> (tensor<?x32xf32>) {
// CHECK:           tensor.extract %[[ROWS]]#0[%[[T2]]]
// CHECK:           tensor.extract %[[ROWS]]#1[%[[T2]]]
// CHECK:           tensor.extract_slice {{.*}} : tensor<?x32xf32> to tensor<?x32xf32>
// CHECK:           scf.if
// CHECK:               scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO:[a-z0-9_]+]], {{.*}}) -> (vector<16x8xf32>, vector<16x8xf32>, vector<16x8xf32>, vector<16x8xf32>) {
// CHECK:               vector.transfer_read %{{.*}} : tensor<4x32xf32>, vector<8xf32>
// CHECK:               arith.addf {{.*}} : vector<16x8xf32>
// CHECK-NEXT:          vector.transfer_write {{.*}} {in_bounds = [false, true]} : vector<16x8xf32>, tensor<?x32xf32>
// CHECK:           } else {
// CHECK:             scf.for
// CHECK:               vector.transfer_write %[[ZERO]], {{.*}} {in_bounds = [false, true]} : vector<16x8xf32>, tensor<?x32xf32>
// CHECK:         } {mapping = [#gpu.warp<x>, #gpu.warp<y>]}
// CHECK-NOT:     linalg.generic
// CHECK:         return
// F16-LABEL: func.func @silu_fc3
// F16-NOT:     arith.bitcast
// F16:         vector.transfer_read {{.*}} : tensor<?x32xf16>, vector<16x16xf16>
// F16-NEXT:    arith.extf {{.*}} : vector<16x16xf16> to vector<16x16xf32>
// f32 precision leaves f32 models alone.
// F32-LABEL: func.func @silu_fc3
// F32:         moe.grouped_ffn
func.func @silu_fc3(%rows: tensor<?x32xf32>, %off: tensor<5xi32>,
    %b1: tensor<4x16xf32>, %b2: tensor<4x32xf32>) -> tensor<?x32xf32> {
  %w1 = arith.constant dense<0.5> : tensor<4x16x32xf32>
  %w2 = arith.constant dense<0.25> : tensor<4x32x16xf32>
  %w3 = arith.constant dense<0.125> : tensor<4x16x32xf32>
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2) fc3(%w3)
         {activation = #moe.activation<kind = silu>}
         : (tensor<?x32xf32>, tensor<5xi32>, tensor<4x16x32xf32>,
            tensor<4x16xf32>, tensor<4x32x16xf32>, tensor<4x32xf32>,
            tensor<4x16x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// Weights that are arguments are converted by an element-wise generic; a
// 16-bit model takes the path at precision f32 too, in its own type, and
// its result goes back to f16.

// CHECK-LABEL: func.func @f16_model
// CHECK:         arith.truncf %{{.*}} : f32 to bf16
// F32-LABEL: func.func @f16_model
// F32-NOT:     moe.grouped_ffn
// F32-NOT:     arith.bitcast
// F32:         vector.contract
// F32:         arith.truncf %{{.*}} : f32 to f16
func.func @f16_model(%rows: tensor<?x16xf16>, %off: tensor<3xi32>,
    %w1: tensor<2x16x16xf16>, %w2: tensor<2x16x16xf16>) -> tensor<?x16xf16> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = relu>}
         : (tensor<?x16xf16>, tensor<3xi32>, tensor<2x16x16xf16>,
            tensor<2x16x16xf16>) -> tensor<?x16xf16>
  return %y : tensor<?x16xf16>
}

// -----

// Interleaved swiglu (gate 2i, linear 2i + 1) with weights that are
// arguments: fc1's rows are gathered into the blocked order (per 16 rows: 8
// gates, then their 8 linears) and converted to operands in one generic,
// its bias gathered the same way, and each output block n takes the terms at
// fc1 rows 2n and 2n + 8, the two halves of the same outputs.

// CHECK-LABEL: func.func @swiglu_interleaved
// CHECK:         linalg.generic {{.*}} outs(%{{.*}} : tensor<2x32x16xf16>)
// CHECK:           arith.remui %{{.*}}, %c16
// CHECK:           arith.select
// CHECK:           tensor.extract %{{.*}} : tensor<2x32x16xf32>
// CHECK-NEXT:      arith.truncf %{{.*}} : f32 to bf16
// CHECK-NEXT:      arith.bitcast %{{.*}} : bf16 to f16
// CHECK:         linalg.generic {{.*}} outs(%{{.*}} : tensor<2x32xf32>)
// CHECK:           arith.remui %{{.*}}, %c16
// CHECK:           tensor.extract %{{.*}} : tensor<2x32xf32>
// CHECK:         scf.forall
// CHECK:               scf.for {{.*}} iter_args({{.*}}) -> (vector<16x8xf32>, vector<16x8xf32>, vector<16x8xf32>, vector<16x8xf32>) {
// CHECK:                 %[[GATE:.*]] = arith.muli %{{.*}}, %c2 : index
// CHECK:                 vector.transfer_read %{{.*}}[%{{.*}}, %[[GATE]], %{{.*}}]
// CHECK:                 %[[LIN:.*]] = arith.addi %{{.*}}, %c8 : index
// CHECK:                 vector.transfer_read %{{.*}}[%{{.*}}, %[[LIN]], %{{.*}}]
// CHECK:               math.exp {{.*}} : vector<16x8xf32>
// CHECK:               vector.transfer_write {{.*}} : vector<16x8xf16>, tensor<16x16xf16>
// CHECK:         } {mapping = [#gpu.warp<x>, #gpu.warp<y>]}
func.func @swiglu_interleaved(%rows: tensor<?x16xf32>, %off: tensor<3xi32>,
    %w1: tensor<2x32x16xf32>, %b1: tensor<2x32xf32>, %w2: tensor<2x16x16xf32>)
    -> tensor<?x16xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2)
         {activation = #moe.activation<kind = swiglu, layout = interleaved>}
         : (tensor<?x16xf32>, tensor<3xi32>, tensor<2x32x16xf32>,
            tensor<2x32xf32>, tensor<2x16x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// H = 24 is not a multiple of 16: left alone.

// CHECK-LABEL: func.func @not_mma_shaped
// CHECK:         moe.grouped_ffn
func.func @not_mma_shaped(%rows: tensor<?x24xf32>, %off: tensor<3xi32>,
    %w1: tensor<2x16x24xf32>, %w2: tensor<2x24x16xf32>) -> tensor<?x24xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = relu>}
         : (tensor<?x24xf32>, tensor<3xi32>, tensor<2x16x24xf32>,
            tensor<2x24x16xf32>) -> tensor<?x24xf32>
  return %y : tensor<?x24xf32>
}
