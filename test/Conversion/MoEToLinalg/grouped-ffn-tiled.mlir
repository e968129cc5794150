// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-tiled="vector-width=4 tile-rows=2 tile-n=2 approximate-math=false prefetch=false" | FileCheck %s --enable-var-scope
// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-tiled="vector-width=4 tile-rows=2 tile-n=2 prefetch=false" | FileCheck %s --enable-var-scope --check-prefix=APPROX
// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-tiled="vector-width=4 tile-rows=2 tile-n=2" | FileCheck %s --enable-var-scope --check-prefix=PREFETCH
// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-tiled="vector-width=4 tile-rows=2 tile-n=2 prefetch=false weight-tile-bytes=64 row-slab-bytes=100" | FileCheck %s --enable-var-scope --check-prefix=KBLOCK

// Only the rows outside [offsets[0], offsets[E]) are zero-filled. For each
// expert e (fc1 dim 0) with rows, rows [offsets[e], offsets[e+1]) are one
// dynamic slice; fc1 is an scf.forall over its activated columns c (one per
// tile: tile-n = 2 weight rows, the gate row 2c and the linear row 2c+1 of
// the interleaved swiglu), each a 2-row micro-kernel (2 x 2 vector<4xf32>
// FMA accumulators over K) then a one-row remainder loop. The accumulators
// are summed by one shuffle tree into a vector<4> (row-major 2 x 2), biased,
// split into gate and linear lanes, activated and stored one column per
// row. fc2 writes straight into the expert's rows of the result.

// CHECK-LABEL: func.func @swiglu_bias
// CHECK-SAME:    %[[ROWS:[a-z0-9]+]]: tensor<?x8xf32>, %[[OFF:[a-z0-9]+]]: tensor<4xi32>, %[[W1:[a-z0-9]+]]: tensor<3x8x8xf32>, %[[B1:[a-z0-9]+]]: tensor<3x8xf32>, %[[W2:[a-z0-9]+]]: tensor<3x8x4xf32>
// CHECK-NOT:     moe.grouped_ffn
// CHECK:         %[[EMPTY:.+]] = tensor.empty(%{{.+}}) : tensor<?x8xf32>
// CHECK:         %[[FIRST:.+]] = arith.index_cast
// CHECK:         %[[LAST:.+]] = arith.index_cast
// CHECK:         %[[HEAD:.+]] = tensor.extract_slice %[[EMPTY]][%{{.+}}, 0] [%{{.+}}, 8]
// CHECK:         linalg.fill {{.+}} outs(%[[HEAD]]
// CHECK:         %[[TAIL:.+]] = tensor.extract_slice %{{.+}}[%[[LAST]], 0] [%{{.+}}, 8]
// CHECK:         linalg.fill {{.+}} outs(%[[TAIL]]
// CHECK:         %[[ZEROED:.+]] = tensor.insert_slice
// CHECK:         scf.for %[[E:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[RES:.+]] = %[[ZEROED]]) -> (tensor<?x8xf32>)
// CHECK:           %[[BEGIN:.+]] = arith.index_cast
// CHECK:           %[[END:.+]] = arith.index_cast
// CHECK:           %[[N:.+]] = arith.subi %[[END]], %[[BEGIN]] : index
// CHECK:           %[[HAS:.+]] = arith.cmpi sgt, %[[N]], %{{.+}} : index
// CHECK:           scf.if %[[HAS]] -> (tensor<?x8xf32>)
// CHECK:             %[[X:.+]] = tensor.extract_slice %[[ROWS]][%[[BEGIN]], 0] [%[[N]], 8] [1, 1] : tensor<?x8xf32> to tensor<?x8xf32>
// CHECK:             %[[EW1:.+]] = tensor.extract_slice %[[W1]][%[[E]], 0, 0] [1, 8, 8]
// CHECK:             %[[EB1:.+]] = tensor.extract_slice %[[B1]][%[[E]], 0] [1, 8]
// CHECK:             %[[A:.+]] = scf.forall (%[[C:.+]]) in (4) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<?x4xf32>)
// CHECK:               %[[GATE:.+]] = arith.muli %[[C]], %{{.+}} : index
// CHECK:               tensor.extract %[[EB1]][%[[GATE]]]
// CHECK:               %[[LIN0:.+]] = arith.muli %[[C]], %{{.+}} : index
// CHECK:               %[[LIN:.+]] = arith.addi %[[LIN0]], %{{.+}} : index
// CHECK:               tensor.extract %[[EB1]][%[[LIN]]]
// CHECK:               %[[BIAS:.+]] = vector.from_elements {{.+}} : vector<2xf32>
// CHECK:               %[[BIAS2:.+]] = vector.shuffle %[[BIAS]], %[[BIAS]] [0, 1, 0, 1]
// CHECK:               scf.for {{.+}} -> (tensor<?x1xf32>)
// CHECK:                 %[[ACC:.+]]:4 = scf.for {{.+}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
// CHECK-COUNT-2:           vector.transfer_read %[[X]]
// CHECK:                   vector.transfer_read %[[EW1]][%[[GATE]], %{{.+}}]
// CHECK:                   vector.transfer_read %[[EW1]][%[[LIN]], %{{.+}}]
// CHECK-COUNT-4:           vector.fma {{.+}} : vector<4xf32>
// CHECK:                 vector.shuffle %[[ACC]]#0, %[[ACC]]#1 [0, 1, 4, 5]
// CHECK:                 vector.shuffle %[[ACC]]#0, %[[ACC]]#1 [2, 3, 6, 7]
// CHECK:                 vector.shuffle %[[ACC]]#2, %[[ACC]]#3 [0, 1, 4, 5]
// CHECK:                 vector.shuffle %[[ACC]]#2, %[[ACC]]#3 [2, 3, 6, 7]
// CHECK:                 %[[LO:.+]] = vector.shuffle %{{.+}}, %{{.+}} [0, 2, 4, 6]
// CHECK:                 %[[HI:.+]] = vector.shuffle %{{.+}}, %{{.+}} [1, 3, 5, 7]
// CHECK:                 %[[SUMS:.+]] = arith.addf %[[LO]], %[[HI]] : vector<4xf32>
// CHECK:                 %[[BIASED:.+]] = arith.addf %[[SUMS]], %[[BIAS2]] : vector<4xf32>
// CHECK:                 %[[G:.+]] = vector.shuffle %[[BIASED]], %[[BIASED]] [0, 2]
// CHECK:                 %[[L:.+]] = vector.shuffle %[[BIASED]], %[[BIASED]] [1, 3]
// CHECK:                 arith.mulf %{{.+}}, %[[G]] : vector<2xf32>
// CHECK:                 math.exp %{{.+}} : vector<2xf32>
// CHECK:                 %[[LB:.+]] = arith.addf %[[L]], %{{.+}} : vector<2xf32>
// CHECK:                 %[[ACT:.+]] = arith.mulf %{{.+}}, %[[LB]] : vector<2xf32>
// CHECK:                 %[[ROW0:.+]] = vector.shuffle %[[ACT]], %[[ACT]] [0]
// CHECK:                 vector.transfer_write %[[ROW0]], {{.+}} : vector<1xf32>, tensor<?x1xf32>
// CHECK:                 %[[ROW1:.+]] = vector.shuffle %[[ACT]], %[[ACT]] [1]
// CHECK:                 vector.transfer_write %[[ROW1]], {{.+}} : vector<1xf32>, tensor<?x1xf32>
// CHECK:               scf.for {{.+}} -> (tensor<?x1xf32>)
// CHECK:                 scf.for {{.+}} -> (vector<4xf32>, vector<4xf32>)
// CHECK-COUNT-2:           vector.fma {{.+}} : vector<4xf32>
// CHECK:                 math.exp %{{.+}} : vector<1xf32>
// CHECK:               scf.forall.in_parallel
// CHECK-NEXT:            tensor.parallel_insert_slice %{{.+}} into %{{.+}}[0, %[[C]]] [%[[N]], 1] [1, 1] : tensor<?x1xf32> into tensor<?x4xf32>
// CHECK:             %[[DEST:.+]] = tensor.extract_slice %[[RES]][%[[BEGIN]], 0] [%[[N]], 8] [1, 1]
// CHECK:             %[[Y:.+]] = scf.forall (%{{.+}}) in (4) shared_outs(%{{.+}} = %[[DEST]]) -> (tensor<?x8xf32>)
// CHECK:               vector.transfer_read %[[A]]
// CHECK-NOT:           math.exp
// CHECK:               vector.transfer_write {{.+}} : vector<2xf32>, tensor<?x2xf32>
// CHECK:             tensor.insert_slice %[[Y]] into %[[RES]][%[[BEGIN]], 0] [%[[N]], 8] [1, 1]

// By default the epilogue's exp is a polynomial: no libm call is left.
// APPROX-LABEL: func.func @swiglu_bias
// APPROX-NOT:     math.exp
// APPROX:         math.floor {{.+}} : vector<2xf32>
// APPROX:         math.fma {{.+}} : vector<2xf32>
// APPROX-NOT:     math.exp

// By default each row tile i of a column tile prefetches its share of the
// next column tile's weight rows (the last tile's next is itself) into L2:
// lines [i * P, (i + 1) * P), P = K steps / row tiles, one per K step of
// its first P steps; the remaining steps run without prefetches.
// PREFETCH-LABEL: func.func @swiglu_bias
// PREFETCH:         %[[BUF:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<8x8xf32> to memref<8x8xf32, strided<[?, ?], offset: ?>>
// PREFETCH:         scf.forall (%[[C:.+]]) in (4)
// PREFETCH:           %[[NEXT0:.+]] = arith.addi %[[C]], %{{.+}} : index
// PREFETCH:           %[[NEXT:.+]] = arith.minui %[[NEXT0]], %{{.+}} : index
// PREFETCH:           %[[NGATE:.+]] = arith.muli %[[NEXT]], %{{.+}} : index
// PREFETCH:           %[[TILES0:.+]] = arith.ceildivui %[[N:.+]], %{{.+}} : index
// PREFETCH:           %[[TILES:.+]] = arith.maxui %[[TILES0]], %{{.+}} : index
// PREFETCH:           scf.for %[[ROW:[a-z0-9_]+]] =
// PREFETCH:             %[[I:.+]] = arith.divui %[[ROW]], %{{.+}} : index
// PREFETCH:             %[[P:.+]] = arith.ceildivui %{{.+}}, %[[TILES]] : index
// PREFETCH:             %[[SPLIT:.+]] = arith.minui
// PREFETCH:             %[[ACC:.+]]:4 = scf.for %[[K:[a-z0-9_]+]] = %{{.+}} to %[[SPLIT]]
// PREFETCH-COUNT-4:       vector.fma
// PREFETCH:               %[[LINE:.+]] = arith.minui
// PREFETCH:               memref.prefetch %[[BUF]][%[[NGATE]], %[[LINE]]], read, locality<2>, data
// PREFETCH:               memref.prefetch %[[BUF]][%{{.+}}, %[[LINE]]], read, locality<2>, data
// PREFETCH:             scf.for %{{.+}} = %[[SPLIT]] to %{{.+}} iter_args(%{{.+}} = %[[ACC]]#0,
// PREFETCH-NOT:           memref.prefetch
// PREFETCH:             vector.shuffle
func.func @swiglu_bias(%rows: tensor<?x8xf32>, %off: tensor<4xi32>, %w1: tensor<3x8x8xf32>, %b1: tensor<3x8xf32>, %w2: tensor<3x8x4xf32>) -> tensor<?x8xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2)
         {activation = #moe.activation<kind = swiglu, layout = interleaved>}
         : (tensor<?x8xf32>, tensor<4xi32>, tensor<3x8x8xf32>, tensor<3x8xf32>, tensor<3x8x4xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// Concatenated swiglu: the gate of column c is row c, its linear half row
// I + c (I = 4).

// CHECK-LABEL: func.func @swiglu_concatenated
// CHECK:         scf.forall (%[[C:.+]]) in (4)
// CHECK:           %[[LIN:.+]] = arith.addi %[[C]], %[[I:.+]] : index
// CHECK:           vector.transfer_read %{{.+}}[%[[C]], %{{.+}}]
// CHECK:           vector.transfer_read %{{.+}}[%[[LIN]], %{{.+}}]
// CHECK:           math.exp
func.func @swiglu_concatenated(%rows: tensor<6x8xf32>, %off: tensor<3xi32>, %w1: tensor<2x8x8xf32>, %w2: tensor<2x8x4xf32>) -> tensor<6x8xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = swiglu, layout = concatenated>}
         : (tensor<6x8xf32>, tensor<3xi32>, tensor<2x8x8xf32>, tensor<2x8x4xf32>) -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

// A gated expert (fc3): a tile reads the fc1 and fc3 rows of the same
// column; the epilogue is silu(fc1 x) * (fc3 x).

// CHECK-LABEL: func.func @silu_fc3
// CHECK-SAME:    %{{[a-z0-9]+}}: tensor<6x8xf32>, %{{[a-z0-9]+}}: tensor<3xi32>, %[[W1:[a-z0-9]+]]: tensor<2x4x8xf32>, %{{[a-z0-9]+}}: tensor<2x8x4xf32>, %[[W3:[a-z0-9]+]]: tensor<2x4x8xf32>
// CHECK:         %[[EW1:.+]] = tensor.extract_slice %[[W1]]
// CHECK:         %[[EW3:.+]] = tensor.extract_slice %[[W3]]
// CHECK:         scf.forall (%[[C:.+]]) in (4)
// CHECK:           vector.transfer_read %[[EW1]][%[[C]], %{{.+}}]
// CHECK:           vector.transfer_read %[[EW3]][%[[C]], %{{.+}}]
// CHECK:           %[[H:.+]] = vector.shuffle %[[S:.+]], %[[S]] [0, 2]
// CHECK:           %[[UP:.+]] = vector.shuffle %[[S]], %[[S]] [1, 3]
// CHECK:           math.exp
// CHECK:           %[[SILU:.+]] = arith.mulf %[[H]], %{{.+}} : vector<2xf32>
// CHECK:           arith.mulf %[[SILU]], %[[UP]] : vector<2xf32>
func.func @silu_fc3(%rows: tensor<6x8xf32>, %off: tensor<3xi32>, %w1: tensor<2x4x8xf32>, %w2: tensor<2x8x4xf32>, %w3: tensor<2x4x8xf32>) -> tensor<6x8xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2) fc3(%w3)
         {activation = #moe.activation<kind = silu>}
         : (tensor<6x8xf32>, tensor<3xi32>, tensor<2x4x8xf32>, tensor<2x8x4xf32>, tensor<2x4x8xf32>) -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

// Plain activations are element-wise: tile-n columns per tile (4 / 2 = 2
// tiles), gelu_erf keeps its erf (a polynomial by default).

// CHECK-LABEL: func.func @gelu_erf
// CHECK:         scf.forall (%{{.+}}) in (2) {{.+}} -> (tensor<?x4xf32>)
// CHECK:           math.erf %{{.+}} : vector<4xf32>
// CHECK:           vector.transfer_write {{.+}} : vector<2xf32>, tensor<?x2xf32>
// APPROX-LABEL: func.func @gelu_erf
// APPROX-NOT:     math.erf
func.func @gelu_erf(%rows: tensor<6x8xf32>, %off: tensor<3xi32>, %w1: tensor<2x4x8xf32>, %w2: tensor<2x8x4xf32>) -> tensor<6x8xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = gelu_erf>}
         : (tensor<6x8xf32>, tensor<3xi32>, tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

// fc2's weight rows (2 x K = 16 floats: 128 bytes) exceed weight-tile-bytes
// (64): its reduction runs in blocks of 8 whose weight rows stay in L1
// while all the tile's rows pass, the first block storing (with the bias),
// the next ones adding to the output. When the expert's rows take more than
// row-slab-bytes (100; n x 16 floats, checked at run time), each block is
// its own parallel pass over the column tiles (so that the block's slab of
// the rows stays in cache); otherwise one pass runs all blocks. fc1 (with
// an epilogue) is never split.
// KBLOCK-LABEL: func.func @k_blocks
// KBLOCK:         scf.forall (%{{.+}}) in (8) {{.+}} -> (tensor<?x16xf32>)
// KBLOCK:         %[[BLOCKED:.+]] = arith.cmpi ugt, %{{.+}}, %{{.+}} : index
// KBLOCK:         %[[PASSEND:.+]] = arith.select %[[BLOCKED]], %[[EIGHT:.+]], %{{.+}} : index
// KBLOCK:         %[[PASSES:.+]] = arith.select %[[BLOCKED]], %{{.+}}, %{{.+}} : index
// KBLOCK:         %[[FIRST:.+]] = scf.forall (%{{.+}}) in (4) {{.+}} -> (tensor<?x8xf32>)
// KBLOCK:           %[[SUBEND:.+]] = arith.minui %{{.+}}, %[[PASSEND]] : index
// KBLOCK:           scf.for %{{.+}} = %{{.+}} to %[[SUBEND]] step %{{.+}} iter_args({{.+}}) -> (vector<4xf32>,
// KBLOCK:           vector.transfer_write {{.+}} : vector<2xf32>, tensor<?x2xf32>
// KBLOCK:           scf.for %[[SUB:.+]] = %[[SUBEND]] to %[[PASSEND]] step %[[EIGHT]] iter_args(%[[ACC:.+]] = %{{.+}})
// KBLOCK:             scf.for %{{.+}} = %[[SUB]] to %{{.+}} step
// KBLOCK:             %[[OLD:.+]] = vector.transfer_read {{.+}} : tensor<?x2xf32>, vector<2xf32>
// KBLOCK:             %[[NEW:.+]] = arith.addf %[[OLD]], %{{.+}} : vector<2xf32>
// KBLOCK:             vector.transfer_write %[[NEW]]
// KBLOCK:         scf.for %[[PASS:.+]] = %{{.+}} to %[[PASSES]] step %{{.+}} iter_args(%[[PART:.+]] = %[[FIRST]]) -> (tensor<?x8xf32>)
// KBLOCK:           %[[KB:.+]] = arith.muli %[[PASS]], %[[EIGHT]] : index
// KBLOCK:           scf.forall (%{{.+}}) in (4) shared_outs(%{{.+}} = %[[PART]]) -> (tensor<?x8xf32>)
// KBLOCK:             scf.for %{{.+}} = %[[KB]] to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (vector<4xf32>,
// KBLOCK:             %[[OLD2:.+]] = vector.transfer_read {{.+}} : tensor<?x2xf32>, vector<2xf32>
// KBLOCK:             arith.addf %[[OLD2]], %{{.+}} : vector<2xf32>
func.func @k_blocks(%rows: tensor<6x8xf32>, %off: tensor<3xi32>, %w1: tensor<2x16x8xf32>, %w2: tensor<2x8x16xf32>, %b2: tensor<2x8xf32>) -> tensor<6x8xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2, %b2)
         {activation = #moe.activation<kind = relu>}
         : (tensor<6x8xf32>, tensor<3xi32>, tensor<2x16x8xf32>, tensor<2x8x16xf32>, tensor<2x8xf32>) -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

// A combine of the permuted rows' experts: no permuted rows and no grouped
// result. fc1 reads row max(tok[begin + r], 0) of x; fc2 adds w * row into
// the combine's result at row tok[begin + r] when it is >= 0.
// CHECK-LABEL: func.func @fused_combine
// CHECK-SAME:    %[[X:[a-z0-9]+]]: tensor<?x8xf32>, %[[TOK:[a-z0-9]+]]: tensor<12xi32>, %[[W:[a-z0-9]+]]: tensor<12xf32>, %[[OFF:[a-z0-9]+]]: tensor<3xi32>
// CHECK-NOT:     moe.
// CHECK:         %[[INIT:.+]] = linalg.fill
// CHECK:         scf.for %{{.+}} iter_args(%[[RES:.+]] = %[[INIT]]) -> (tensor<?x8xf32>)
// CHECK:           %[[BEGIN:.+]] = arith.index_cast
// CHECK:           scf.if
// CHECK:             %[[A:.+]] = scf.forall
// CHECK:               %[[ROW:.+]] = arith.addi %[[BEGIN]], %{{.+}} : index
// CHECK:               %[[T:.+]] = tensor.extract %[[TOK]][%[[ROW]]]
// CHECK:               %[[TI:.+]] = arith.index_cast %[[T]] : i32 to index
// CHECK:               %[[XROW:.+]] = arith.maxsi %[[TI]], %{{.+}} : index
// CHECK:               vector.transfer_read %[[X]][%[[XROW]], %{{.+}}]
// CHECK:             scf.forall (%{{.+}}) in (4) shared_outs(%[[OUT:.+]] = %[[RES]]) -> (tensor<?x8xf32>)
// CHECK:               vector.transfer_read %[[A]]
// CHECK:               %[[I:.+]] = arith.addi %[[BEGIN]], %{{.+}} : index
// CHECK:               %[[T2:.+]] = tensor.extract %[[TOK]][%[[I]]]
// CHECK:               %[[ROUTED:.+]] = arith.cmpi sge, %[[T2]], %{{.+}} : i32
// CHECK:               scf.if %[[ROUTED]]
// CHECK:                 %[[WI:.+]] = tensor.extract %[[W]][%[[I]]]
// CHECK:                 %[[WV:.+]] = vector.broadcast %[[WI]] : f32 to vector<2xf32>
// CHECK:                 %[[OLD:.+]] = vector.transfer_read
// CHECK:                 %[[P:.+]] = arith.mulf %[[WV]], %{{.+}} : vector<2xf32>
// CHECK:                 arith.addf %[[OLD]], %[[P]] : vector<2xf32>
func.func @fused_combine(%x: tensor<?x8xf32>, %tok: tensor<12xi32>, %w: tensor<12xf32>, %off: tensor<3xi32>, %w1: tensor<2x8x8xf32>, %w2: tensor<2x8x4xf32>) -> tensor<?x8xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %t = tensor.dim %x, %c0 : tensor<?x8xf32>
  %empty = tensor.empty(%t) : tensor<?x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x8xf32>) -> tensor<?x8xf32>
  %rows = moe.permute %x, %tok : tensor<?x8xf32>, tensor<12xi32> -> tensor<12x8xf32>
  %h = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = swiglu>}
         : (tensor<12x8xf32>, tensor<3xi32>, tensor<2x8x8xf32>, tensor<2x8x4xf32>) -> tensor<12x8xf32>
  %y = moe.combine %h, %tok, %w into %init
         : tensor<12x8xf32>, tensor<12xi32>, tensor<12xf32> into tensor<?x8xf32>
  return %y : tensor<?x8xf32>
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
