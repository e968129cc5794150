// RUN: moe-opt %s -split-input-file --convert-moe-to-linalg | FileCheck %s

// Dropless: one pass counts the rows of every expert, a prefix sum gives the
// offsets, a second pass writes each assignment at offsets[e] + rank.

// CHECK-LABEL: func.func @dispatch_dropless
// CHECK-SAME:    %[[IDS:[a-z0-9]+]]: tensor<4x2xi32>, %[[W:[a-z0-9]+]]: tensor<4x2xf32>
// CHECK-NOT:     moe.dispatch
// CHECK-NOT:     math.ceil
// CHECK:         %[[COUNTS:.+]] = scf.for %[[T:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}}) -> (tensor<3xi32>)
// CHECK:           scf.for %[[S:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}}) -> (tensor<3xi32>)
// CHECK:             %[[E:.+]] = tensor.extract %[[IDS]][%[[T]], %[[S]]]
// CHECK:             arith.cmpi sge, %[[E]]
// CHECK:             arith.cmpi slt, %[[E]]
// CHECK:             scf.if
// CHECK:               tensor.insert
// CHECK:         %[[OFFSETS:.+]] = scf.for {{.+}} -> (tensor<4xi32>)
// CHECK:           tensor.extract %[[COUNTS]]
// CHECK:         linalg.fill ins(%{{.+}} : i32) outs(%{{.+}} : tensor<8xi32>)
// CHECK:         linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<8xf32>)
// CHECK:         %[[ROWS:.+]]:3 = scf.for {{.+}} -> (tensor<8xi32>, tensor<8xf32>, tensor<3xi32>)
// CHECK:           scf.for
// CHECK:             scf.if
// CHECK:               %[[START:.+]] = tensor.extract %[[OFFSETS]]
// CHECK:               arith.addi %[[START]]
// CHECK:               tensor.extract %[[W]]
// CHECK-NOT:     moe.dispatch
// CHECK:         return %[[ROWS]]#0, %[[ROWS]]#1, %[[OFFSETS]]
func.func @dispatch_dropless(%ids: tensor<4x2xi32>, %w: tensor<4x2xf32>)
    -> (tensor<8xi32>, tensor<8xf32>, tensor<4xi32>) {
  %tok, %rw, %off = moe.dispatch %ids, %w {num_experts = 3 : i64}
      : tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<8xi32>, tensor<8xf32>, tensor<4xi32>
  return %tok, %rw, %off : tensor<8xi32>, tensor<8xf32>, tensor<4xi32>
}

// -----

// Capacity: C = ceil(cf * T * k / E) in f64; counts are clamped to C and an
// assignment is written only while its expert has fewer than C rows.

// CHECK-LABEL: func.func @dispatch_capacity
// CHECK-NOT:     moe.dispatch
// CHECK:         %[[PROD:.+]] = arith.mulf %{{.+}}, %{{.+}} : f64
// CHECK:         %[[PROD2:.+]] = arith.mulf %[[PROD]], %{{.+}} : f64
// CHECK:         %[[Q:.+]] = arith.divf %[[PROD2]], %{{.+}} : f64
// CHECK:         %[[CEIL:.+]] = math.ceil %[[Q]] : f64
// CHECK:         %[[CAP:.+]] = arith.fptosi %[[CEIL]] : f64 to i32
// CHECK:         linalg.generic
// CHECK:           arith.minsi %{{.+}}, %[[CAP]] : i32
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             scf.if
// CHECK:               arith.cmpi slt, %{{.+}}, %[[CAP]] : i32
// CHECK:               scf.if
func.func @dispatch_capacity(%ids: tensor<4x2xi32>, %w: tensor<4x2xf32>)
    -> (tensor<8xi32>, tensor<8xf32>, tensor<4xi32>) {
  %tok, %rw, %off = moe.dispatch %ids, %w
      {num_experts = 3 : i64, capacity_factor = 0.75 : f64}
      : tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<8xi32>, tensor<8xf32>, tensor<4xi32>
  return %tok, %rw, %off : tensor<8xi32>, tensor<8xf32>, tensor<4xi32>
}

// -----

// Dynamic token count: the row count T * k comes from tensor.dim.

// CHECK-LABEL: func.func @dispatch_dynamic
// CHECK-SAME:    %[[IDS:[a-z0-9]+]]: tensor<?x2xi32>
// CHECK-NOT:     moe.dispatch
// CHECK:         %[[T:.+]] = tensor.dim %[[IDS]], %{{.+}} : tensor<?x2xi32>
// CHECK:         %[[N:.+]] = arith.muli %{{.+}}, %{{.+}} : index
// CHECK:         tensor.empty(%[[N]]) : tensor<?xi32>
// CHECK:         tensor.empty(%[[N]]) : tensor<?xbf16>
func.func @dispatch_dynamic(%ids: tensor<?x2xi32>, %w: tensor<?x2xbf16>)
    -> (tensor<?xi32>, tensor<?xbf16>, tensor<5xi32>) {
  %tok, %rw, %off = moe.dispatch %ids, %w {num_experts = 4 : i64}
      : tensor<?x2xi32>, tensor<?x2xbf16>
      -> tensor<?xi32>, tensor<?xbf16>, tensor<5xi32>
  return %tok, %rw, %off : tensor<?xi32>, tensor<?xbf16>, tensor<5xi32>
}
