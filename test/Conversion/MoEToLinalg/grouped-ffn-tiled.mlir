// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-tiled="vector-width=4 tile-rows=2 tile-n=2" | FileCheck %s

// For each expert e (fc1 dim 0), rows [offsets[e], offsets[e+1]) are one
// dynamic slice; fc1 is an scf.forall over 2-column tiles of its output,
// each a 2-row micro-kernel (2 x 2 vector<4xf32> FMA accumulators over K,
// stepping by the vector width) then a one-row remainder loop, reduced,
// biased and written one vector<2xf32> per row. swiglu (interleaved) reads
// stride-2 column slices of fc1's output; fc2 writes straight into the
// expert's rows of the result.

// CHECK-LABEL: func.func @swiglu_bias
// CHECK-SAME:    %[[ROWS:[a-z0-9]+]]: tensor<?x8xf32>, %[[OFF:[a-z0-9]+]]: tensor<4xi32>, %[[W1:[a-z0-9]+]]: tensor<3x8x8xf32>, %[[B1:[a-z0-9]+]]: tensor<3x8xf32>, %[[W2:[a-z0-9]+]]: tensor<3x8x4xf32>
// CHECK-NOT:     moe.grouped_ffn
// CHECK:         %[[ZEROS:.+]] = linalg.fill
// CHECK:         scf.for %[[E:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[RES:.+]] = %[[ZEROS]]) -> (tensor<?x8xf32>)
// CHECK:           %[[BEGIN:.+]] = arith.index_cast
// CHECK:           %[[END:.+]] = arith.index_cast
// CHECK:           %[[N:.+]] = arith.subi %[[END]], %[[BEGIN]] : index
// CHECK:           %[[X:.+]] = tensor.extract_slice %[[ROWS]][%[[BEGIN]], 0] [%[[N]], 8] [1, 1] : tensor<?x8xf32> to tensor<?x8xf32>
// CHECK:           %[[H:.+]] = scf.forall (%[[J:.+]]) in (4) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<?x8xf32>)
// CHECK:             scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %{{.+}}) -> (tensor<?x2xf32>)
// CHECK:               scf.for {{.+}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
// CHECK-COUNT-4:         vector.transfer_read {{.+}} {in_bounds = [true]} : tensor<{{.+}}>, vector<4xf32>
// CHECK-COUNT-4:         vector.fma {{.+}} : vector<4xf32>
// CHECK:               vector.reduction <add>
// CHECK:               vector.from_elements {{.+}} : vector<2xf32>
// CHECK:               arith.addf {{.+}} : vector<2xf32>
// CHECK:               vector.transfer_write {{.+}} : vector<2xf32>, tensor<?x2xf32>
// CHECK:             scf.for {{.+}} -> (vector<4xf32>, vector<4xf32>)
// CHECK-COUNT-2:         vector.fma {{.+}} : vector<4xf32>
// CHECK:             scf.forall.in_parallel
// CHECK-NEXT:          tensor.parallel_insert_slice %{{.+}} into %{{.+}}[0, %{{.+}}] [%[[N]], 2] [1, 1] : tensor<?x2xf32> into tensor<?x8xf32>
// CHECK:           %[[GATE:.+]] = tensor.extract_slice %[[H]][0, 0] [%[[N]], 4] [1, 2]
// CHECK:           %[[LIN:.+]] = tensor.extract_slice %[[H]][0, 1] [%[[N]], 4] [1, 2]
// CHECK:           %[[A:.+]] = linalg.generic {{.+}} ins(%[[GATE]], %[[LIN]] :
// CHECK:             math.exp
// CHECK:           %[[DEST:.+]] = tensor.extract_slice %[[RES]][%[[BEGIN]], 0] [%[[N]], 8] [1, 1]
// CHECK:           %[[Y:.+]] = scf.forall (%{{.+}}) in (4) shared_outs(%{{.+}} = %[[DEST]]) -> (tensor<?x8xf32>)
// CHECK:             vector.transfer_read %[[A]]
// CHECK:           tensor.insert_slice %[[Y]] into %[[RES]][%[[BEGIN]], 0] [%[[N]], 8] [1, 1]
func.func @swiglu_bias(%rows: tensor<?x8xf32>, %off: tensor<4xi32>, %w1: tensor<3x8x8xf32>, %b1: tensor<3x8xf32>, %w2: tensor<3x8x4xf32>) -> tensor<?x8xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2)
         {activation = #moe.activation<kind = swiglu, layout = interleaved>}
         : (tensor<?x8xf32>, tensor<4xi32>, tensor<3x8x8xf32>, tensor<3x8xf32>, tensor<3x8x4xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// A gated expert (fc3): two products on the same rows, multiplied after
// the activation.

// CHECK-LABEL: func.func @silu_fc3
// CHECK:         scf.for
// CHECK:           %[[H:.+]] = scf.forall
// CHECK:           %[[ACT:.+]] = linalg.generic {{.+}} ins(%[[H]] :
// CHECK:           %[[UP:.+]] = scf.forall
// CHECK:           %[[A:.+]] = linalg.generic {{.+}} ins(%[[ACT]], %[[UP]] :
// CHECK:             arith.mulf
// CHECK:           scf.forall
// CHECK:             vector.transfer_read %[[A]]
func.func @silu_fc3(%rows: tensor<6x8xf32>, %off: tensor<3xi32>, %w1: tensor<2x4x8xf32>, %w2: tensor<2x8x4xf32>, %w3: tensor<2x4x8xf32>) -> tensor<6x8xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2) fc3(%w3)
         {activation = #moe.activation<kind = silu>}
         : (tensor<6x8xf32>, tensor<3xi32>, tensor<2x4x8xf32>, tensor<2x8x4xf32>, tensor<2x4x8xf32>) -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

// Not tiled, left for the reference lowering: K (H = 6) is not a multiple
// of the vector width, and f16 experts.

// CHECK-LABEL: func.func @untiled_sizes
// CHECK:         moe.grouped_ffn
func.func @untiled_sizes(%rows: tensor<5x6xf32>, %off: tensor<3xi32>, %w1: tensor<2x4x6xf32>, %w2: tensor<2x6x4xf32>) -> tensor<5x6xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = relu>}
         : (tensor<5x6xf32>, tensor<3xi32>, tensor<2x4x6xf32>, tensor<2x6x4xf32>) -> tensor<5x6xf32>
  return %y : tensor<5x6xf32>
}

// CHECK-LABEL: func.func @untiled_f16
// CHECK:         moe.grouped_ffn
func.func @untiled_f16(%rows: tensor<5x8xf16>, %off: tensor<3xi32>, %w1: tensor<2x4x8xf16>, %w2: tensor<2x8x4xf16>) -> tensor<5x8xf16> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = relu>}
         : (tensor<5x8xf16>, tensor<3xi32>, tensor<2x4x8xf16>, tensor<2x8x4xf16>) -> tensor<5x8xf16>
  return %y : tensor<5x8xf16>
}
