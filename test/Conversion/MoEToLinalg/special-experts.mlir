// RUN: moe-opt %s -split-input-file --convert-moe-to-linalg | FileCheck %s

// Zeros, then one loop over the copy experts' rows (contiguous:
// [offsets[first_copy], offsets[first_constant])) and one loop per constant
// expert. Null experts need no code.

// CHECK-LABEL: func.func @special
// CHECK-SAME:    %[[ROWS:[a-z0-9]+]]: tensor<8x3xf32>, %[[OFF:[a-z0-9]+]]: tensor<7xi32>, %[[C:[a-z0-9]+]]: tensor<2x3xf32>
// CHECK-NOT:     moe.special_experts
// CHECK:         %[[ZEROS:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<8x3xf32>)
// CHECK:         %[[C2:.+]] = arith.constant 2 : index
// CHECK:         tensor.extract %[[OFF]][%[[C2]]]
// CHECK:         %[[C4:.+]] = arith.constant 4 : index
// CHECK:         tensor.extract %[[OFF]][%[[C4]]]
// CHECK:         %[[COPY:.+]] = scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[ZEROS]])
// CHECK:           %[[ROW:.+]] = tensor.extract_slice %[[ROWS]][%[[R]], 0] [1, 3] [1, 1]
// CHECK:           tensor.insert_slice %[[ROW]] into %[[ACC]][%[[R]], 0] [1, 3] [1, 1]
// CHECK:         %[[CONST0:.+]] = scf.for %[[R0:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC0:.+]] = %[[COPY]])
// CHECK:           %[[J0:.+]] = arith.constant 0 : index
// CHECK:           %[[K0:.+]] = tensor.extract_slice %[[C]][%[[J0]], 0] [1, 3] [1, 1]
// CHECK:           tensor.insert_slice %[[K0]] into %[[ACC0]][%[[R0]], 0] [1, 3] [1, 1]
// CHECK:         %[[CONST1:.+]] = scf.for %{{.+}} iter_args(%{{.+}} = %[[CONST0]])
// CHECK:           %[[J1:.+]] = arith.constant 1 : index
// CHECK:           tensor.extract_slice %[[C]][%[[J1]], 0] [1, 3] [1, 1]
// CHECK:         return %[[CONST1]]
func.func @special(%rows: tensor<8x3xf32>, %off: tensor<7xi32>,
                   %c: tensor<2x3xf32>) -> tensor<8x3xf32> {
  %y = moe.special_experts %rows, %off constants(%c : tensor<2x3xf32>)
         {first_expert = 1 : i64, num_null = 1 : i64, num_copy = 2 : i64,
          num_constant = 2 : i64}
         : tensor<8x3xf32>, tensor<7xi32> -> tensor<8x3xf32>
  return %y : tensor<8x3xf32>
}

// -----

// Copy experts only, dynamic rows.

// CHECK-LABEL: func.func @special_copy
// CHECK-SAME:    %[[ROWS:[a-z0-9]+]]: tensor<?x4xf16>
// CHECK-NOT:     moe.special_experts
// CHECK:         %[[N:.+]] = tensor.dim %[[ROWS]], %{{.+}} : tensor<?x4xf16>
// CHECK:         tensor.empty(%[[N]]) : tensor<?x4xf16>
// CHECK:         %[[RES:.+]] = scf.for
// CHECK:           tensor.extract_slice %[[ROWS]]
// CHECK-NOT:     scf.for
// CHECK:         return %[[RES]]
func.func @special_copy(%rows: tensor<?x4xf16>, %off: tensor<?xi32>)
    -> tensor<?x4xf16> {
  %y = moe.special_experts %rows, %off {first_expert = 4 : i64, num_copy = 1 : i64}
         : tensor<?x4xf16>, tensor<?xi32> -> tensor<?x4xf16>
  return %y : tensor<?x4xf16>
}
