// RUN: moe-opt %s --moe-gpu-hoist-constants --split-input-file --verify-diagnostics | FileCheck %s --enable-var-scope

// Each distinct global read by the entry becomes one trailing argument (in
// order of first use); its getter returns the host copy; the module records
// the argument types for the artifact's host code.

// CHECK: module attributes {moe.gpu.constants = [memref<4x8xf32>, memref<8xi32>]}
memref.global "private" constant @weights : memref<4x8xf32> = dense<1.0>
memref.global "private" constant @table : memref<8xi32> = dense<3>

// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: %[[X:.*]]: memref<4xf32>,
// CHECK-SAME: %[[W:.*]]: memref<4x8xf32> {moe.constant = @weights},
// CHECK-SAME: %[[T:.*]]: memref<8xi32> {moe.constant = @table})
func.func @main_graph(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // CHECK-NOT: memref.get_global
  // CHECK: memref.load %[[W]]
  %w = memref.get_global @weights : memref<4x8xf32>
  %a = memref.load %w[%c0, %c0] : memref<4x8xf32>
  // CHECK: memref.load %[[T]]
  %t = memref.get_global @table : memref<8xi32>
  %i = memref.load %t[%c0] : memref<8xi32>
  // A second read of the same global uses the same argument.
  // CHECK: memref.load %[[W]]
  %w2 = memref.get_global @weights : memref<4x8xf32>
  %b = memref.load %w2[%c0, %c0] : memref<4x8xf32>
  %s = arith.addf %a, %b : f32
  return %s : f32
}

// CHECK-LABEL: func.func @_moe_constant_0() -> memref<4x8xf32>
// CHECK-SAME: llvm.emit_c_interface
// CHECK: %[[G:.*]] = memref.get_global @weights : memref<4x8xf32>
// CHECK: return %[[G]]
// CHECK-LABEL: func.func @_moe_constant_1() -> memref<8xi32>
// CHECK: memref.get_global @table

// -----

// A model without constants records an empty list.
// CHECK: module attributes {moe.gpu.constants = []}
// CHECK-LABEL: func.func @main_graph(%{{.*}}: memref<4xf32>) -> memref<4xf32>
func.func @main_graph(%x: memref<4xf32>) -> memref<4xf32> {
  return %x : memref<4xf32>
}

// -----

// expected-error @+1 {{moe-gpu-hoist-constants: no function 'main_graph' with a body}}
module {
  func.func private @main_graph(memref<4xf32>)
}
