// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.route with dynamic k (threshold): only the shortest prefix of the
// selected slots whose scores reach the threshold is kept (at least
// one); the other slots get id -1 and weight 0.
// Expected values come from an independent numpy model of the op
// semantics (float64), not from the lowering.

func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @print(%w: tensor<*xf32>, %ids: tensor<*xi32>) {
  %mw = bufferization.to_buffer %w : tensor<*xf32> to memref<*xf32>
  call @printMemrefF32(%mw) : (memref<*xf32>) -> ()
  %mi = bufferization.to_buffer %ids : tensor<*xi32> to memref<*xi32>
  call @printMemrefI32(%mi) : (memref<*xi32>) -> ()
  return
}

// threshold = 0.7, without renormalisation.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.7898{{[0-9]*}}, 0, 0, 0],
// CHECK-NEXT:  [0.4023{{[0-9]*}}, 0.2440{{[0-9]*}}, 0.1211{{[0-9]*}}, 0],
// CHECK-NEXT:  [0.1666{{[0-9]*}}, 0.1666{{[0-9]*}}, 0.1666{{[0-9]*}}, 0.1666{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[0, -1, -1, -1],
// CHECK-NEXT:  [1, 0, 5, -1],
// CHECK-NEXT:  [0, 1, 2, 3]]
func.func @dynamic_k() {
  %logits = arith.constant dense<[[3.0, 0.0, 0.5, -1.0, 0.20000000298023224, 0.10000000149011612], [1.0, 1.5, 0.20000000298023224, -1.0, 0.0, 0.30000001192092896], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<3x6xf32>
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 4, threshold = 0.7>}
      : tensor<3x6xf32> -> tensor<3x4xf32>, tensor<3x4xi32>
  %uw = tensor.cast %w : tensor<3x4xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<3x4xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// The same with renormalisation over the kept slots, then scale.
// CHECK: data =
// CHECK-NEXT: {{\[}}[2, 0, 0, 0],
// CHECK-NEXT:  [1.048{{[0-9]*}}, 0.6358{{[0-9]*}}, 0.3157{{[0-9]*}}, 0],
// CHECK-NEXT:  [0.5, 0.5, 0.5, 0.5]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[0, -1, -1, -1],
// CHECK-NEXT:  [1, 0, 5, -1],
// CHECK-NEXT:  [0, 1, 2, 3]]
func.func @dynamic_k_renormalize_scale() {
  %logits = arith.constant dense<[[3.0, 0.0, 0.5, -1.0, 0.20000000298023224, 0.10000000149011612], [1.0, 1.5, 0.20000000298023224, -1.0, 0.0, 0.30000001192092896], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<3x6xf32>
  %w, %ids = moe.route %logits
      {routing = #moe.routing<k = 4, renormalize = true, scale = 2.0, threshold = 0.7>}
      : tensor<3x6xf32> -> tensor<3x4xf32>, tensor<3x4xi32>
  %uw = tensor.cast %w : tensor<3x4xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<3x4xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

func.func @main() {
  call @dynamic_k() : () -> ()
  call @dynamic_k_renormalize_scale() : () -> ()
  return
}
