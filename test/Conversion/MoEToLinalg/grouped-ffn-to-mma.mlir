// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-mma=precision=bf16 | FileCheck %s --enable-var-scope
// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-mma=precision=f16 | FileCheck %s --enable-var-scope --check-prefix=F16
// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-mma | FileCheck %s --enable-var-scope --check-prefix=F32
// RUN: not moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-mma=precision=f8 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: convert-moe-grouped-ffn-to-mma: unknown precision 'f8' (expected f32, bf16 or f16)

// A gated silu FFN with biases (H = 32, I = 16): the tile
// schedule from the offsets, the gather into the padded layout as bf16 bits
// in f16, three warp-tile foralls over ceil(N/16) + E tiles whose bodies
// skip surplus tiles and run m16n8k16 contracts of extended operands, the
// epilogue kernel, and the un-padding with fc2's bias. Constant weights are
// converted at compile time.

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
// CHECK:         scf.forall (%[[T:.*]]) in (%[[TILES]])
// CHECK:           %[[EXPERT:.*]] = tensor.extract %{{.*}}[%[[T]]] : tensor<?xi32>
// CHECK:           %[[FFN:.*]] = arith.cmpi slt, %[[EXPERT]]
// CHECK:           scf.if %[[FFN]]
// CHECK:             scf.for
// CHECK:               scf.for {{.*}} iter_args({{.*}}) -> (vector<16x8xf32>, vector<16x8xf32>) {
// CHECK:                 vector.transfer_read {{.*}} : tensor<?x32xf16>, vector<16x16xf16>
// CHECK:                 arith.bitcast {{.*}} : vector<16x16xf16> to vector<16x16xbf16>
// CHECK:                 arith.extf {{.*}} : vector<16x16xbf16> to vector<16x16xf32>
// CHECK:                 vector.transfer_read {{.*}} : tensor<4x16x32xf16>, vector<8x16xf16>
// CHECK:                 vector.contract {{.*}} : vector<16x16xf32>, vector<8x16xf32> into vector<16x8xf32>
// CHECK:               vector.transfer_write {{.*}} : vector<16x8xf32>, tensor<16x16xf32>
// CHECK:           scf.forall.in_parallel
// CHECK:             tensor.parallel_insert_slice
// CHECK:         } {mapping = [#gpu.warp<x>]}
// CHECK:         scf.forall
// CHECK:         } {mapping = [#gpu.warp<x>]}
// CHECK:         math.exp
// CHECK:         scf.forall
// CHECK:           scf.for {{.*}} iter_args({{.*}}) -> (vector<16x8xf32>, vector<16x8xf32>, vector<16x8xf32>, vector<16x8xf32>) {
// CHECK:         } {mapping = [#gpu.warp<x>]}
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
