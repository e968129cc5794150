// RUN: moe-opt %s -split-input-file --convert-moe-to-linalg | FileCheck %s

// result = init, then result[t] += w * expert_rows[i] for every row i whose
// token t is not padding: a loop over the rows carrying the result.

// CHECK-LABEL: func.func @combine
// CHECK-SAME:    %[[ROWS:[a-z0-9]+]]: tensor<8x3xf32>, %[[TOK:[a-z0-9]+]]: tensor<8xi32>, %[[W:[a-z0-9]+]]: tensor<8xf32>, %[[INIT:[a-z0-9]+]]: tensor<4x3xf32>
// CHECK-NOT:     moe.combine
// CHECK:         %[[RES:.+]] = scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[INIT]]) -> (tensor<4x3xf32>)
// CHECK:           %[[T:.+]] = tensor.extract %[[TOK]][%[[I]]]
// CHECK:           %[[VALID:.+]] = arith.cmpi sge, %[[T]], %{{.+}} : i32
// CHECK:           scf.if %[[VALID]] -> (tensor<4x3xf32>)
// CHECK:             %[[TI:.+]] = arith.index_cast %[[T]] : i32 to index
// CHECK:             %[[WI:.+]] = tensor.extract %[[W]][%[[I]]] : tensor<8xf32>
// CHECK:             %[[OLD:.+]] = tensor.extract_slice %[[ACC]][%[[TI]], 0] [1, 3] [1, 1]
// CHECK:             %[[ROW:.+]] = tensor.extract_slice %[[ROWS]][%[[I]], 0] [1, 3] [1, 1]
// CHECK:             %[[SUM:.+]] = linalg.generic {{.+}} ins(%[[OLD]], %[[ROW]] : tensor<3xf32>, tensor<3xf32>)
// CHECK:             ^bb0(%[[A:.+]]: f32, %[[B:.+]]: f32, %{{.+}}: f32):
// CHECK:               %[[SCALED:.+]] = arith.mulf %[[WI]], %[[B]] : f32
// CHECK:               arith.addf %[[A]], %[[SCALED]] : f32
// CHECK:             tensor.insert_slice %[[SUM]] into %[[ACC]][%[[TI]], 0] [1, 3] [1, 1]
// CHECK:         return %[[RES]]
func.func @combine(%rows: tensor<8x3xf32>, %tok: tensor<8xi32>, %w: tensor<8xf32>,
                   %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %y = moe.combine %rows, %tok, %w into %init
      : tensor<8x3xf32>, tensor<8xi32>, tensor<8xf32> into tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// Row weights of another float type are cast to the rows' type.

// CHECK-LABEL: func.func @combine_cast_weight
// CHECK-NOT:     moe.combine
// CHECK:         %[[W:.+]] = tensor.extract %{{.+}} : tensor<?xf32>
// CHECK:         %[[WH:.+]] = arith.truncf %[[W]] : f32 to bf16
// CHECK:         linalg.generic
// CHECK:           arith.mulf %[[WH]], %{{.+}} : bf16
func.func @combine_cast_weight(%rows: tensor<?x4xbf16>, %tok: tensor<?xi32>,
                               %w: tensor<?xf32>, %init: tensor<2x4xbf16>)
    -> tensor<2x4xbf16> {
  %y = moe.combine %rows, %tok, %w into %init
      : tensor<?x4xbf16>, tensor<?xi32>, tensor<?xf32> into tensor<2x4xbf16>
  return %y : tensor<2x4xbf16>
}

// -----

// f16 weights on bf16 rows: same width, so the weight goes through f32.

// CHECK-LABEL: func.func @combine_f16_weight_bf16_rows
// CHECK-NOT:     moe.combine
// CHECK:         %[[W:.+]] = tensor.extract %{{.+}} : tensor<4xf16>
// CHECK:         %[[W32:.+]] = arith.extf %[[W]] : f16 to f32
// CHECK:         %[[WB:.+]] = arith.truncf %[[W32]] : f32 to bf16
// CHECK:         arith.mulf %[[WB]], %{{.+}} : bf16
func.func @combine_f16_weight_bf16_rows(%rows: tensor<4x2xbf16>,
    %tok: tensor<4xi32>, %w: tensor<4xf16>, %init: tensor<2x2xbf16>)
    -> tensor<2x2xbf16> {
  %y = moe.combine %rows, %tok, %w into %init
      : tensor<4x2xbf16>, tensor<4xi32>, tensor<4xf16> into tensor<2x2xbf16>
  return %y : tensor<2x2xbf16>
}
