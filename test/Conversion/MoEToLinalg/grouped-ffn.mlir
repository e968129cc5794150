// RUN: moe-opt %s -split-input-file --convert-moe-to-linalg | FileCheck %s

// A loop over the FFN experts (fc1 dim 0) slices each expert's weights once,
// then a loop over rows [offsets[e], offsets[e+1]) runs the FFN on one row:
// linalg.matvec per GEMV, element-wise bias and activation. Rows outside
// the FFN experts' ranges keep the zeros the result starts from.

// CHECK-LABEL: func.func @grouped_relu_bias
// CHECK-SAME:    %[[ROWS:[a-z0-9]+]]: tensor<6x4xf32>, %[[OFF:[a-z0-9]+]]: tensor<4xi32>, %[[W1:[a-z0-9]+]]: tensor<3x8x4xf32>, %[[B1:[a-z0-9]+]]: tensor<3x8xf32>, %[[W2:[a-z0-9]+]]: tensor<3x4x8xf32>, %[[B2:[a-z0-9]+]]: tensor<3x4xf32>
// CHECK-NOT:     moe.grouped_ffn
// CHECK:         %[[ZEROS:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<6x4xf32>)
// CHECK:         %[[RES:.+]] = scf.for %[[E:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %[[ZEROS]]) -> (tensor<6x4xf32>)
// CHECK-DAG:       %[[W1E:.+]] = tensor.extract_slice %[[W1]][%[[E]], 0, 0] [1, 8, 4] [1, 1, 1] : tensor<3x8x4xf32> to tensor<8x4xf32>
// CHECK-DAG:       %[[B1E:.+]] = tensor.extract_slice %[[B1]][%[[E]], 0] [1, 8] [1, 1] : tensor<3x8xf32> to tensor<8xf32>
// CHECK-DAG:       %[[W2E:.+]] = tensor.extract_slice %[[W2]][%[[E]], 0, 0] [1, 4, 8] [1, 1, 1] : tensor<3x4x8xf32> to tensor<4x8xf32>
// CHECK-DAG:       %[[B2E:.+]] = tensor.extract_slice %[[B2]][%[[E]], 0] [1, 4] [1, 1] : tensor<3x4xf32> to tensor<4xf32>
// CHECK-DAG:       %[[BEGIN:.+]] = tensor.extract %[[OFF]][%[[E]]] : tensor<4xi32>
// CHECK-DAG:       %[[NEXT:.+]] = arith.addi %[[E]], %{{.+}} : index
// CHECK-DAG:       %[[END:.+]] = tensor.extract %[[OFF]][%[[NEXT]]] : tensor<4xi32>
// CHECK:           %[[UB:.+]] = arith.index_cast %[[END]]
// CHECK:           scf.for %[[R:.+]] = %{{.+}} to %[[UB]] step %{{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<6x4xf32>)
// CHECK:             %[[X:.+]] = tensor.extract_slice %[[ROWS]][%[[R]], 0] [1, 4] [1, 1] : tensor<6x4xf32> to tensor<4xf32>
// CHECK:             %[[H:.+]] = linalg.matvec ins(%[[W1E]], %[[X]] : tensor<8x4xf32>, tensor<4xf32>)
// CHECK:             %[[HB:.+]] = linalg.generic {{.+}} ins(%[[H]], %[[B1E]] :
// CHECK:               arith.addf
// CHECK:             %[[A:.+]] = linalg.generic {{.+}} ins(%[[HB]] :
// CHECK:               arith.maximumf
// CHECK:             %[[Y:.+]] = linalg.matvec ins(%[[W2E]], %[[A]] : tensor<4x8xf32>, tensor<8xf32>)
// CHECK:             %[[YB:.+]] = linalg.generic {{.+}} ins(%[[Y]], %[[B2E]] :
// CHECK:             tensor.insert_slice %[[YB]] into %[[ACC]][%[[R]], 0] [1, 4] [1, 1] : tensor<4xf32> into tensor<6x4xf32>
// CHECK:         return %[[RES]]
func.func @grouped_relu_bias(%rows: tensor<6x4xf32>, %off: tensor<4xi32>,
    %w1: tensor<3x8x4xf32>, %b1: tensor<3x8xf32>, %w2: tensor<3x4x8xf32>,
    %b2: tensor<3x4xf32>) -> tensor<6x4xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2)
         {activation = #moe.activation<kind = relu>}
         : (tensor<6x4xf32>, tensor<4xi32>, tensor<3x8x4xf32>, tensor<3x8xf32>,
            tensor<3x4x8xf32>, tensor<3x4xf32>) -> tensor<6x4xf32>
  return %y : tensor<6x4xf32>
}

// -----

// Gated (fc3): a = silu(fc1 x) * (fc3 x); three GEMVs per row. Offsets may
// have more entries than FFN experts + 1 (special experts follow): the
// expert loop still runs over fc1's expert dimension only.

// CHECK-LABEL: func.func @grouped_silu_gated
// CHECK-NOT:     moe.grouped_ffn
// CHECK:         %[[C2:.+]] = arith.constant 2 : index
// CHECK:         scf.for %{{.+}} = %{{.+}} to %[[C2]]
// CHECK:           scf.for
// CHECK:             %[[H:.+]] = linalg.matvec ins(%{{.+}}, %{{.+}} : tensor<8x4xf32>, tensor<4xf32>)
// CHECK:             %[[ACT:.+]] = linalg.generic {{.+}} ins(%[[H]] :
// CHECK:               %[[NEG:.+]] = arith.negf
// CHECK:               %[[EXP:.+]] = math.exp %[[NEG]]
// CHECK:             %[[UP:.+]] = linalg.matvec ins(%{{.+}}, %{{.+}} : tensor<8x4xf32>, tensor<4xf32>)
// CHECK:             %[[GATED:.+]] = linalg.generic {{.+}} ins(%[[ACT]], %[[UP]] :
// CHECK:               arith.mulf
// CHECK:             linalg.matvec ins(%{{.+}}, %[[GATED]] : tensor<4x8xf32>, tensor<8xf32>)
func.func @grouped_silu_gated(%rows: tensor<6x4xf32>, %off: tensor<5xi32>,
    %w1: tensor<2x8x4xf32>, %w2: tensor<2x4x8xf32>, %w3: tensor<2x8x4xf32>)
    -> tensor<6x4xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2) fc3(%w3)
         {activation = #moe.activation<kind = silu>}
         : (tensor<6x4xf32>, tensor<5xi32>, tensor<2x8x4xf32>,
            tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<6x4xf32>
  return %y : tensor<6x4xf32>
}

// -----

// gelu_tanh and gelu_erf use math.tanh / math.erf.

// CHECK-LABEL: func.func @grouped_gelu_tanh
// CHECK-NOT:     moe.grouped_ffn
// CHECK:         linalg.generic
// CHECK:           math.tanh
func.func @grouped_gelu_tanh(%rows: tensor<6x4xf32>, %off: tensor<4xi32>,
    %w1: tensor<3x8x4xf32>, %w2: tensor<3x4x8xf32>) -> tensor<6x4xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = gelu_tanh>}
         : (tensor<6x4xf32>, tensor<4xi32>, tensor<3x8x4xf32>,
            tensor<3x4x8xf32>) -> tensor<6x4xf32>
  return %y : tensor<6x4xf32>
}

// CHECK-LABEL: func.func @grouped_gelu_erf
// CHECK-NOT:     moe.grouped_ffn
// CHECK:         linalg.generic
// CHECK:           math.erf
func.func @grouped_gelu_erf(%rows: tensor<6x4xf32>, %off: tensor<4xi32>,
    %w1: tensor<3x8x4xf32>, %w2: tensor<3x4x8xf32>) -> tensor<6x4xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = gelu_erf>}
         : (tensor<6x4xf32>, tensor<4xi32>, tensor<3x8x4xf32>,
            tensor<3x4x8xf32>) -> tensor<6x4xf32>
  return %y : tensor<6x4xf32>
}

// -----

// Fused swiglu, interleaved: gate = h[0::2], lin = h[1::2] (stride-2
// slices), clamped by the limit.

// CHECK-LABEL: func.func @grouped_swiglu_interleaved
// CHECK-NOT:     moe.grouped_ffn
// CHECK:         %[[H:.+]] = linalg.matvec ins(%{{.+}}, %{{.+}} : tensor<8x4xf32>, tensor<4xf32>)
// CHECK:         %[[GATE:.+]] = tensor.extract_slice %[[H]][0] [4] [2] : tensor<8xf32> to tensor<4xf32>
// CHECK:         %[[LIN:.+]] = tensor.extract_slice %[[H]][1] [4] [2] : tensor<8xf32> to tensor<4xf32>
// CHECK:         linalg.generic {{.+}} ins(%[[GATE]], %[[LIN]] :
// CHECK:         ^bb0(%[[G:.+]]: f32, %[[L:.+]]: f32, %{{.+}}: f32):
// CHECK-DAG:       %[[LIMIT:.+]] = arith.constant 7.000000e+00 : f32
// CHECK-DAG:       %[[NLIMIT:.+]] = arith.constant -7.000000e+00 : f32
// CHECK:           %[[GC:.+]] = arith.minimumf %[[G]], %[[LIMIT]] : f32
// CHECK:           %[[LC:.+]] = arith.minimumf %[[L]], %[[LIMIT]] : f32
// CHECK:           arith.maximumf %[[LC]], %[[NLIMIT]] : f32
// CHECK:           %[[ALPHA:.+]] = arith.constant 1.702
// CHECK:           arith.mulf %[[ALPHA]], %[[GC]] : f32
// CHECK:           math.exp
// CHECK:         linalg.matvec ins(%{{.+}}, %{{.+}} : tensor<4x4xf32>, tensor<4xf32>)
func.func @grouped_swiglu_interleaved(%rows: tensor<6x4xf32>,
    %off: tensor<4xi32>, %w1: tensor<3x8x4xf32>, %w2: tensor<3x4x4xf32>)
    -> tensor<6x4xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = swiglu, alpha = 1.702,
                                       beta = 1.0, limit = 7.0>}
         : (tensor<6x4xf32>, tensor<4xi32>, tensor<3x8x4xf32>,
            tensor<3x4x4xf32>) -> tensor<6x4xf32>
  return %y : tensor<6x4xf32>
}

// -----

// Concatenated: gate = h[:I], lin = h[I:]. Without a limit no clamp.

// CHECK-LABEL: func.func @grouped_swiglu_concatenated
// CHECK-NOT:     moe.grouped_ffn
// CHECK:         %[[H:.+]] = linalg.matvec
// CHECK:         %[[GATE:.+]] = tensor.extract_slice %[[H]][0] [4] [1] : tensor<8xf32> to tensor<4xf32>
// CHECK:         %[[LIN:.+]] = tensor.extract_slice %[[H]][4] [4] [1] : tensor<8xf32> to tensor<4xf32>
// CHECK:         linalg.generic {{.+}} ins(%[[GATE]], %[[LIN]] :
// CHECK-NOT:       arith.minimumf
// CHECK:           math.exp
// CHECK:         linalg.yield
func.func @grouped_swiglu_concatenated(%rows: tensor<6x4xf32>,
    %off: tensor<4xi32>, %w1: tensor<3x8x4xf32>, %w2: tensor<3x4x4xf32>)
    -> tensor<6x4xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = swiglu, layout = concatenated>}
         : (tensor<6x4xf32>, tensor<4xi32>, tensor<3x8x4xf32>,
            tensor<3x4x4xf32>) -> tensor<6x4xf32>
  return %y : tensor<6x4xf32>
}

// -----

// bf16 rows and f16 weights: weights are cast to f32 once per expert, the row
// is extended to f32 and the result truncated back; dynamic row count.

// CHECK-LABEL: func.func @grouped_mixed_types
// CHECK-SAME:    %[[ROWS:[a-z0-9]+]]: tensor<?x4xbf16>
// CHECK-NOT:     moe.grouped_ffn
// CHECK:         %[[N:.+]] = tensor.dim %[[ROWS]], %{{.+}} : tensor<?x4xbf16>
// CHECK:         tensor.empty(%[[N]]) : tensor<?x4xbf16>
// CHECK:         scf.for
// CHECK:           %[[W1E:.+]] = tensor.extract_slice %{{.+}} : tensor<3x4x4xf16> to tensor<4x4xf16>
// CHECK:           linalg.generic {{.+}} ins(%[[W1E]] : tensor<4x4xf16>) outs(%{{.+}} : tensor<4x4xf32>)
// CHECK:             arith.extf %{{.+}} : f16 to f32
// CHECK:           scf.for
// CHECK:             linalg.generic
// CHECK:               arith.extf %{{.+}} : bf16 to f32
// CHECK:             linalg.matvec ins(%{{.+}}, %{{.+}} : tensor<4x4xf32>, tensor<4xf32>)
// CHECK:             linalg.generic
// CHECK:               arith.truncf %{{.+}} : f32 to bf16
// CHECK:             tensor.insert_slice %{{.+}} : tensor<4xbf16> into tensor<?x4xbf16>
func.func @grouped_mixed_types(%rows: tensor<?x4xbf16>, %off: tensor<4xi32>,
    %w1: tensor<3x4x4xf16>, %w2: tensor<3x4x4xf16>) -> tensor<?x4xbf16> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = identity>}
         : (tensor<?x4xbf16>, tensor<4xi32>, tensor<3x4x4xf16>,
            tensor<3x4x4xf16>) -> tensor<?x4xbf16>
  return %y : tensor<?x4xbf16>
}

// -----

// f64 rows compute in f64.

// CHECK-LABEL: func.func @grouped_f64
// CHECK-NOT:     moe.grouped_ffn
// CHECK:         linalg.matvec ins(%{{.+}}, %{{.+}} : tensor<4x4xf64>, tensor<4xf64>)
// CHECK-NOT:     arith.truncf
func.func @grouped_f64(%rows: tensor<6x4xf64>, %off: tensor<4xi32>,
    %w1: tensor<3x4x4xf64>, %w2: tensor<3x4x4xf64>) -> tensor<6x4xf64> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = gelu_erf>}
         : (tensor<6x4xf64>, tensor<4xi32>, tensor<3x4x4xf64>,
            tensor<3x4x4xf64>) -> tensor<6x4xf64>
  return %y : tensor<6x4xf64>
}
