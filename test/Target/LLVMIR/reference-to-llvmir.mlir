// RUN: moe-opt %s --moe-reference-to-llvm | moe-translate --mlir-to-llvmir | FileCheck %s

// A layer lowered by the reference pipeline translates to LLVM IR, with the
// C interface wrapper the runtime calls.
// CHECK-DAG: define { ptr, ptr, i64, [2 x i64], [2 x i64] } @layer(
// CHECK-DAG: define void @_mlir_ciface_layer(
// CHECK-DAG: call ptr @malloc(
func.func @layer(%x: tensor<4x8xf32>, %l: tensor<4x3xf32>,
                 %w1: tensor<3x16x8xf32>, %w2: tensor<3x8x8xf32>)
    -> tensor<4x8xf32> attributes {llvm.emit_c_interface} {
  %y = moe.layer %x, %l fc1(%w1) fc2(%w2)
         {routing = #moe.routing<k = 1>,
          activation = #moe.activation<kind = swiglu, alpha = 1.702, limit = 7.0>}
         : (tensor<4x8xf32>, tensor<4x3xf32>, tensor<3x16x8xf32>,
            tensor<3x8x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
