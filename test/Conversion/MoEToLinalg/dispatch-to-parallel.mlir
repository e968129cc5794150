// RUN: moe-opt %s -split-input-file --convert-moe-dispatch-to-parallel | FileCheck %s --enable-var-scope

// moe.permute: one parallel iteration per row it writes; a routed row
// copies its token's row in vector<16> pieces, a padding row (token < 0)
// writes zeros.

// CHECK-LABEL: func.func @permute
// CHECK-SAME:    %[[X:[a-z0-9]+]]: tensor<?x32xf32>, %[[TOK:[a-z0-9]+]]: tensor<?xi32>
// CHECK:         %[[N:.+]] = tensor.dim %[[TOK]]
// CHECK:         %[[EMPTY:.+]] = tensor.empty(%[[N]]) : tensor<?x32xf32>
// CHECK:         scf.forall (%[[I:.+]]) in (%[[N]]) shared_outs(%[[OUT:.+]] = %[[EMPTY]]) -> (tensor<?x32xf32>)
// CHECK:           %[[ROW:.+]] = tensor.extract_slice %[[OUT]][%[[I]], 0] [1, 32] [1, 1]
// CHECK:           %[[T:.+]] = tensor.extract %[[TOK]][%[[I]]]
// CHECK:           %[[ROUTED:.+]] = arith.cmpi sge, %[[T]], %{{.+}} : i32
// CHECK:           %[[NEW:.+]] = scf.if %[[ROUTED]] -> (tensor<1x32xf32>)
// CHECK:             %[[TI:.+]] = arith.index_cast %[[T]] : i32 to index
// CHECK:             scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[R:.+]] = %[[ROW]])
// CHECK:               %[[V:.+]] = vector.transfer_read %[[X]][%[[TI]], %[[C]]]{{.+}} : tensor<?x32xf32>, vector<16xf32>
// CHECK:               vector.transfer_write %[[V]], %[[R]][%{{.+}}, %[[C]]]
// CHECK:           } else {
// CHECK:             scf.for
// CHECK:               vector.transfer_write %{{.+}} : vector<16xf32>, tensor<1x32xf32>
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %[[NEW]] into %[[OUT]][%[[I]], 0] [1, 32] [1, 1]
func.func @permute(%x: tensor<?x32xf32>, %tok: tensor<?xi32>) -> tensor<?x32xf32> {
  %rows = moe.permute %x, %tok : tensor<?x32xf32>, tensor<?xi32> -> tensor<?x32xf32>
  return %rows : tensor<?x32xf32>
}

// -----

// moe.combine: parallel over 128-column blocks of the tokens (512 / 128 =
// 4); each block walks the rows in order and adds w * row into its
// token's columns (mulf then addf, as the reference lowering).

// CHECK-LABEL: func.func @combine
// CHECK-SAME:    %[[ROWS:[a-z0-9]+]]: tensor<?x512xf32>, %[[TOK:[a-z0-9]+]]: tensor<?xi32>, %[[W:[a-z0-9]+]]: tensor<?xf32>, %[[INIT:[a-z0-9]+]]: tensor<?x512xf32>
// CHECK:         scf.forall (%[[B:.+]]) in (4) shared_outs(%[[OUT:.+]] = %[[INIT]]) -> (tensor<?x512xf32>)
// CHECK:           %[[FIRST:.+]] = arith.muli %[[B]], %{{.+}} : index
// CHECK:           %[[TILE:.+]] = tensor.extract_slice %[[OUT]][0, %[[FIRST]]] [%{{.+}}, 128] [1, 1]
// CHECK:           %[[DONE:.+]] = scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[TILE]])
// CHECK:             %[[T:.+]] = tensor.extract %[[TOK]][%[[I]]]
// CHECK:             arith.cmpi sge, %[[T]]
// CHECK:             scf.if
// CHECK:               %[[TI:.+]] = arith.index_cast %[[T]] : i32 to index
// CHECK:               %[[WI:.+]] = tensor.extract %[[W]][%[[I]]]
// CHECK:               %[[WV:.+]] = vector.broadcast %[[WI]] : f32 to vector<16xf32>
// CHECK:               scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[CUR:.+]] = %[[ACC]])
// CHECK:                 %[[COL:.+]] = arith.addi %[[FIRST]], %[[C]] : index
// CHECK:                 %[[R:.+]] = vector.transfer_read %[[ROWS]][%[[I]], %[[COL]]]
// CHECK:                 %[[S:.+]] = vector.transfer_read %[[CUR]][%[[TI]], %[[C]]]
// CHECK:                 %[[P:.+]] = arith.mulf %[[WV]], %[[R]] : vector<16xf32>
// CHECK:                 %[[SUM:.+]] = arith.addf %[[S]], %[[P]] : vector<16xf32>
// CHECK:                 vector.transfer_write %[[SUM]], %[[CUR]][%[[TI]], %[[C]]]
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %[[DONE]] into %[[OUT]][0, %[[FIRST]]] [%{{.+}}, 128] [1, 1]
func.func @combine(%rows: tensor<?x512xf32>, %tok: tensor<?xi32>, %w: tensor<?xf32>, %init: tensor<?x512xf32>) -> tensor<?x512xf32> {
  %y = moe.combine %rows, %tok, %w into %init
         : tensor<?x512xf32>, tensor<?xi32>, tensor<?xf32> into tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

// -----

// Narrow rows: one block, the widest vector dividing the width (24: 8).

// CHECK-LABEL: func.func @narrow
// CHECK:         scf.forall (%{{.+}}) in (%{{.+}})
// CHECK:           vector.transfer_read {{.+}} : tensor<?x24xf32>, vector<8xf32>
// CHECK:         scf.forall (%{{.+}}) in (1)
// CHECK:           arith.addf {{.+}} : vector<8xf32>
func.func @narrow(%x: tensor<?x24xf32>, %tok: tensor<?xi32>, %w: tensor<?xf32>, %init: tensor<?x24xf32>) -> tensor<?x24xf32> {
  %rows = moe.permute %x, %tok : tensor<?x24xf32>, tensor<?xi32> -> tensor<?x24xf32>
  %y = moe.combine %rows, %tok, %w into %init
         : tensor<?x24xf32>, tensor<?xi32>, tensor<?xf32> into tensor<?x24xf32>
  return %y : tensor<?x24xf32>
}

// -----

// Left for the reference lowering: a dynamic row width, and an f16 combine
// (the f16 permute is a plain copy and is parallelised).

// CHECK-LABEL: func.func @unsupported
// CHECK:         moe.permute %{{.+}} : tensor<?x?xf32>
// CHECK:         scf.forall
// CHECK:         moe.combine
func.func @unsupported(%x: tensor<?x?xf32>, %tok: tensor<?xi32>, %h: tensor<4x16xf16>, %w: tensor<?xf16>, %init: tensor<4x16xf16>) -> (tensor<?x?xf32>, tensor<4x16xf16>) {
  %rows = moe.permute %x, %tok : tensor<?x?xf32>, tensor<?xi32> -> tensor<?x?xf32>
  %hrows = moe.permute %h, %tok : tensor<4x16xf16>, tensor<?xi32> -> tensor<?x16xf16>
  %y = moe.combine %hrows, %tok, %w into %init
         : tensor<?x16xf16>, tensor<?xi32>, tensor<?xf16> into tensor<4x16xf16>
  return %rows, %y : tensor<?x?xf32>, tensor<4x16xf16>
}
