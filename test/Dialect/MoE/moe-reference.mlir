// RUN: moe-opt %s --moe-reference | FileCheck %s

// The reference pipeline leaves only upstream dialects, at tensor level.
// CHECK-LABEL: func @layer
// CHECK-NOT: moe.
// CHECK: scf.for
// CHECK: linalg.matvec
// CHECK-NOT: moe.
// CHECK: return %{{.*}} : tensor<8x16xf32>
func.func @layer(%x: tensor<8x16xf32>, %l: tensor<8x4xf32>,
                 %w1: tensor<4x32x16xf32>, %w2: tensor<4x16x32xf32>,
                 %w3: tensor<4x32x16xf32>) -> tensor<8x16xf32> {
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2) fc3(%w3)
         {routing = #moe.routing<k = 2, renormalize = true>,
          activation = #moe.activation<kind = silu>}
         : (tensor<8x16xf32>, tensor<8x4xf32>, tensor<4x32x16xf32>,
            tensor<4x16x32xf32>, tensor<4x32x16xf32>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}
