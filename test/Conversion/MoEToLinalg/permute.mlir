// RUN: moe-opt %s -split-input-file --convert-moe-to-linalg | FileCheck %s

// A loop over the rows: zeros everywhere, then row i copies input row
// row_token[i] when it is not padding (< 0).

// CHECK-LABEL: func.func @permute
// CHECK-SAME:    %[[X:[a-z0-9]+]]: tensor<4x3xf32>, %[[TOK:[a-z0-9]+]]: tensor<8xi32>
// CHECK-NOT:     moe.permute
// CHECK:         %[[ZEROS:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<8x3xf32>)
// CHECK:         %[[RES:.+]] = scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[ZEROS]]) -> (tensor<8x3xf32>)
// CHECK:           %[[T:.+]] = tensor.extract %[[TOK]][%[[I]]] : tensor<8xi32>
// CHECK:           %[[VALID:.+]] = arith.cmpi sge, %[[T]], %{{.+}} : i32
// CHECK:           scf.if %[[VALID]] -> (tensor<8x3xf32>)
// CHECK:             %[[TI:.+]] = arith.index_cast %[[T]] : i32 to index
// CHECK:             %[[ROW:.+]] = tensor.extract_slice %[[X]][%[[TI]], 0] [1, 3] [1, 1] : tensor<4x3xf32> to tensor<3xf32>
// CHECK:             tensor.insert_slice %[[ROW]] into %[[ACC]][%[[I]], 0] [1, 3] [1, 1] : tensor<3xf32> into tensor<8x3xf32>
// CHECK:           } else {
// CHECK:             scf.yield %[[ACC]]
// CHECK:         return %[[RES]]
func.func @permute(%x: tensor<4x3xf32>, %tok: tensor<8xi32>) -> tensor<8x3xf32> {
  %r = moe.permute %x, %tok : tensor<4x3xf32>, tensor<8xi32> -> tensor<8x3xf32>
  return %r : tensor<8x3xf32>
}

// -----

// Dynamic sizes come from row_token (rows) and the input (hidden size).

// CHECK-LABEL: func.func @permute_dynamic
// CHECK-SAME:    %[[X:[a-z0-9]+]]: tensor<?x?xf16>, %[[TOK:[a-z0-9]+]]: tensor<?xi32>
// CHECK-NOT:     moe.permute
// CHECK-DAG:     %[[N:.+]] = tensor.dim %[[TOK]], %{{.+}} : tensor<?xi32>
// CHECK-DAG:     %[[H:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<?x?xf16>
// CHECK:         tensor.empty(%[[N]], %[[H]]) : tensor<?x?xf16>
// CHECK:         scf.for %{{.+}} = %{{.+}} to %[[N]]
// CHECK:           tensor.extract_slice %[[X]]{{.+}} : tensor<?x?xf16> to tensor<?xf16>
func.func @permute_dynamic(%x: tensor<?x?xf16>, %tok: tensor<?xi32>) -> tensor<?x?xf16> {
  %r = moe.permute %x, %tok : tensor<?x?xf16>, tensor<?xi32> -> tensor<?x?xf16>
  return %r : tensor<?x?xf16>
}
