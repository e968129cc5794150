// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-wgmma=precision=bf16 | FileCheck %s --enable-var-scope
// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-wgmma=precision=f16 | FileCheck %s --enable-var-scope --check-prefix=F16
// RUN: moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-wgmma=precision=bf16 --convert-moe-grouped-ffn-to-mma=precision=bf16 | FileCheck %s --enable-var-scope --check-prefix=FALLBACK
// RUN: not moe-opt %s -split-input-file --convert-moe-grouped-ffn-to-wgmma=precision=f8 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: convert-moe-grouped-ffn-to-wgmma: unknown precision 'f8' (expected f32, bf16 or f16)

// A swiglu FFN with biases (H = 64, I = 64, fc1 [E, 2I, H]): the tile
// schedule in 64-row tiles (ceil(N/64) + E), the gather into the padded
// layout as bf16 bits in f16, fc1 and fc2 as marked generics over
// (padded row, column, reduction) reading the tile's expert's weight, the
// epilogue, and the un-padding.

// CHECK-LABEL: func.func @swiglu
// CHECK-NOT:     moe.grouped_ffn
// CHECK-DAG:     arith.constant dense<{{.*}}> : tensor<2x128x64xf16>
// CHECK-DAG:     arith.constant dense<{{.*}}> : tensor<2x64x64xf16>
// CHECK-DAG:     %[[C64:.*]] = arith.constant 64 : index
// CHECK:         %[[FULL:.*]] = arith.divui %{{.*}}, %[[C64]] : index
// CHECK-NEXT:    %[[TILES:.*]] = arith.addi %[[FULL]], %{{.*}} : index
// CHECK:         %[[PADDED:.*]] = arith.muli %[[TILES]], %[[C64]] : index
// CHECK:         %[[A:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x64xf16>)
// CHECK:           arith.truncf %{{.*}} : f32 to bf16
// CHECK:           arith.bitcast %{{.*}} : bf16 to f16
// CHECK:         } -> tensor<?x64xf16>
// CHECK:         %[[H1:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[A]] : tensor<?x64xf16>) outs(%{{.*}} : tensor<?x128xf32>) attrs = {moe.wgmma_gemm = {operand_type = bf16, tile_rows = 64 : i64}}
// CHECK:           %[[ROW:.*]] = linalg.index 0 : index
// CHECK:           %[[TILE:.*]] = arith.divui %[[ROW]], %{{.*}} : index
// CHECK:           %[[EXPERT:.*]] = tensor.extract %{{.*}}[%[[TILE]]] : tensor<?xi32>
// CHECK:           tensor.extract %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : tensor<2x128x64xf16>
// CHECK:           arith.bitcast %{{.*}} : f16 to bf16
// CHECK:           arith.select
// CHECK:         } -> tensor<?x128xf32>
// CHECK:         math.exp
// CHECK:         linalg.generic {{.*}} outs(%{{.*}} : tensor<?x64xf32>) attrs = {moe.wgmma_gemm = {operand_type = bf16, tile_rows = 64 : i64}}
// CHECK:         return
// F16-LABEL: func.func @swiglu
// F16:         linalg.generic {{.*}} attrs = {moe.wgmma_gemm = {operand_type = f16, tile_rows = 64 : i64}}
// F16-NOT:       arith.bitcast
// F16:         } -> tensor<?x128xf32>
func.func @swiglu(%rows: tensor<?x64xf32>, %off: tensor<3xi32>,
    %b1: tensor<2x128xf32>, %b2: tensor<2x64xf32>) -> tensor<?x64xf32> {
  %w1 = arith.constant dense<0.5> : tensor<2x128x64xf32>
  %w2 = arith.constant dense<0.25> : tensor<2x64x64xf32>
  %y = moe.grouped_ffn %rows, %off fc1(%w1, %b1) fc2(%w2, %b2)
         {activation = #moe.activation<kind = swiglu>}
         : (tensor<?x64xf32>, tensor<3xi32>, tensor<2x128x64xf32>,
            tensor<2x128xf32>, tensor<2x64x64xf32>, tensor<2x64xf32>)
         -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// H = 32 is not a multiple of 64: left alone by the warpgroup lowering, so
// convert-moe-grouped-ffn-to-mma (16-row tiles, mma.sync) takes it.

// CHECK-LABEL: func.func @not_wgmma_shaped
// CHECK:         moe.grouped_ffn
// FALLBACK-LABEL: func.func @not_wgmma_shaped
// FALLBACK-NOT:    moe.grouped_ffn
// FALLBACK-NOT:    moe.wgmma_gemm
// FALLBACK:        vector.contract
// FALLBACK:        } {mapping = [#gpu.warp<x>, #gpu.warp<y>]}
func.func @not_wgmma_shaped(%rows: tensor<?x32xf32>, %off: tensor<3xi32>,
    %w1: tensor<2x64x32xf32>, %w2: tensor<2x32x64xf32>) -> tensor<?x32xf32> {
  %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
         {activation = #moe.activation<kind = relu>}
         : (tensor<?x32xf32>, tensor<3xi32>, tensor<2x64x32xf32>,
            tensor<2x32x64xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
