// RUN: moe-opt %s -split-input-file --convert-moe-to-linalg | FileCheck %s

// The same one-row FFN as grouped_ffn (linalg.matvec per GEMV) in a loop
// over every token, with the weights used as they are.

// CHECK-LABEL: func.func @shared_bias
// CHECK-SAME:    %[[X:[a-z0-9]+]]: tensor<5x4xf32>, %[[W1:[a-z0-9]+]]: tensor<8x4xf32>, %[[B1:[a-z0-9]+]]: tensor<8xf32>, %[[W2:[a-z0-9]+]]: tensor<4x8xf32>, %[[B2:[a-z0-9]+]]: tensor<4xf32>
// CHECK-NOT:     moe.shared_ffn
// CHECK:         %[[RES:.+]] = scf.for %[[T:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<5x4xf32>)
// CHECK:           %[[ROW:.+]] = tensor.extract_slice %[[X]][%[[T]], 0] [1, 4] [1, 1]
// CHECK:           %[[H:.+]] = linalg.matvec ins(%[[W1]], %[[ROW]] : tensor<8x4xf32>, tensor<4xf32>)
// CHECK:           linalg.generic {{.+}} ins(%[[H]], %[[B1]] :
// CHECK:           linalg.generic
// CHECK:             math.tanh
// CHECK:           %[[Y:.+]] = linalg.matvec ins(%[[W2]], %{{.+}} : tensor<4x8xf32>, tensor<8xf32>)
// CHECK:           %[[YB:.+]] = linalg.generic {{.+}} ins(%[[Y]], %[[B2]] :
// CHECK-NOT:       linalg.dot
// CHECK:           tensor.insert_slice %[[YB]] into %[[ACC]][%[[T]], 0] [1, 4] [1, 1]
// CHECK:         return %[[RES]]
func.func @shared_bias(%x: tensor<5x4xf32>, %w1: tensor<8x4xf32>,
    %b1: tensor<8xf32>, %w2: tensor<4x8xf32>, %b2: tensor<4xf32>)
    -> tensor<5x4xf32> {
  %y = moe.shared_ffn %x fc1(%w1, %b1) fc2(%w2, %b2)
         {activation = #moe.activation<kind = gelu_tanh>}
         : (tensor<5x4xf32>, tensor<8x4xf32>, tensor<8xf32>, tensor<4x8xf32>,
            tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// Sigmoid gate: the FFN output of token t is scaled by
// sigmoid(dot(x[t], gate)).

// CHECK-LABEL: func.func @shared_gated
// CHECK-SAME:    %[[X:[a-z0-9]+]]: tensor<?x4xf32>, {{.+}}, %[[G:[a-z0-9]+]]: tensor<4xf32>
// CHECK-NOT:     moe.shared_ffn
// CHECK:         scf.for %[[T:.+]] = %{{.+}} to %{{.+}} step
// CHECK:           %[[ROW:.+]] = tensor.extract_slice %[[X]][%[[T]], 0] [1, 4] [1, 1]
// CHECK:           %[[Y:.+]] = linalg.matvec ins(%{{.+}}, %{{.+}} : tensor<4x8xf32>, tensor<8xf32>)
// CHECK:           %[[DOT:.+]] = linalg.dot ins(%[[ROW]], %[[G]] : tensor<4xf32>, tensor<4xf32>) outs(%{{.+}} : tensor<f32>)
// CHECK:           %[[D:.+]] = tensor.extract %[[DOT]][] : tensor<f32>
// CHECK:           %[[NEG:.+]] = arith.negf %[[D]]
// CHECK:           %[[EXP:.+]] = math.exp %[[NEG]]
// CHECK:           %[[DEN:.+]] = arith.addf %{{.+}}, %[[EXP]]
// CHECK:           %[[SIG:.+]] = arith.divf %{{.+}}, %[[DEN]]
// CHECK:           linalg.generic {{.+}} ins(%[[Y]] :
// CHECK:             arith.mulf %{{.+}}, %[[SIG]] : f32
func.func @shared_gated(%x: tensor<?x4xf32>, %w1: tensor<8x4xf32>,
    %w2: tensor<4x8xf32>, %w3: tensor<8x4xf32>, %g: tensor<4xf32>)
    -> tensor<?x4xf32> {
  %y = moe.shared_ffn %x fc1(%w1) fc2(%w2) fc3(%w3) gate(%g)
         {activation = #moe.activation<kind = silu>}
         : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>,
            tensor<4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// f16 tokens: weights and gate are cast to f32 once, outside the token loop.

// CHECK-LABEL: func.func @shared_f16
// CHECK-NOT:     moe.shared_ffn
// CHECK:         linalg.generic {{.+}} outs(%{{.+}} : tensor<8x4xf32>)
// CHECK:         linalg.generic {{.+}} outs(%{{.+}} : tensor<4x8xf32>)
// CHECK:         linalg.generic {{.+}} outs(%{{.+}} : tensor<4xf32>)
// CHECK:         scf.for
// CHECK:           linalg.dot ins(%{{.+}}, %{{.+}} : tensor<4xf32>, tensor<4xf32>)
// CHECK:           arith.truncf %{{.+}} : f32 to f16
func.func @shared_f16(%x: tensor<3x4xf16>, %w1: tensor<8x4xf16>,
    %w2: tensor<4x8xf16>, %g: tensor<4xf16>) -> tensor<3x4xf16> {
  %y = moe.shared_ffn %x fc1(%w1) fc2(%w2) gate(%g)
         {activation = #moe.activation<kind = relu>}
         : (tensor<3x4xf16>, tensor<8x4xf16>, tensor<4x8xf16>, tensor<4xf16>)
         -> tensor<3x4xf16>
  return %y : tensor<3x4xf16>
}
