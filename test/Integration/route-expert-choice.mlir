// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.expert_choice_route: each expert takes its `capacity` tokens with
// the highest score (ties: lower token); offsets[e] = e * capacity.
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

// Softmax over the experts of each token; tokens 1 and 3 are identical
// (a tie, token 1 wins).
// CHECK: data =
// CHECK-NEXT: [0, 2, 1, 3, 2, 1]
// CHECK: data =
// CHECK-NEXT: [0.6652{{[0-9]*}}, 0.5064{{[0-9]*}}, 0.7361{{[0-9]*}}, 0.7361{{[0-9]*}}, 0.3071{{[0-9]*}}, 0.09962{{[0-9]*}}]
// CHECK: data =
// CHECK-NEXT: [0, 2, 4, 6]
func.func @expert_choice_softmax() {
  %logits = arith.constant dense<[[1.0, 0.0, -1.0], [0.5, 2.0, 0.0], [2.0, 1.0, 1.5], [0.5, 2.0, 0.0]]> : tensor<4x3xf32>
  %tok, %w, %off = moe.expert_choice_route %logits
      {capacity = 2 : i64}
      : tensor<4x3xf32> -> tensor<6xi32>, tensor<6xf32>, tensor<4xi32>
  %ut = tensor.cast %tok : tensor<6xi32> to tensor<*xi32>
  %uw = tensor.cast %w : tensor<6xf32> to tensor<*xf32>
  %uo = tensor.cast %off : tensor<4xi32> to tensor<*xi32>
  %mt = bufferization.to_buffer %ut : tensor<*xi32> to memref<*xi32>
  call @printMemrefI32(%mt) : (memref<*xi32>) -> ()
  %mw = bufferization.to_buffer %uw : tensor<*xf32> to memref<*xf32>
  call @printMemrefF32(%mw) : (memref<*xf32>) -> ()
  %mo = bufferization.to_buffer %uo : tensor<*xi32> to memref<*xi32>
  call @printMemrefI32(%mo) : (memref<*xi32>) -> ()
  return
}

// Sigmoid scores, capacity 3: a token may be taken by several experts
// or by none (token 0).
// CHECK: data =
// CHECK-NEXT: [2, 3, 1, 3, 1, 2]
// CHECK: data =
// CHECK-NEXT: [0.8807{{[0-9]*}}, 0.7310{{[0-9]*}}, 0.6224{{[0-9]*}}, 0.9525{{[0-9]*}}, 0.8807{{[0-9]*}}, 0.7310{{[0-9]*}}]
// CHECK: data =
// CHECK-NEXT: [0, 3, 6]
func.func @expert_choice_sigmoid() {
  %logits = arith.constant dense<[[-1.0, -2.0], [0.5, 2.0], [2.0, 1.0], [1.0, 3.0]]> : tensor<4x2xf32>
  %tok, %w, %off = moe.expert_choice_route %logits
      {capacity = 3 : i64, score = #moe.score_function<sigmoid>}
      : tensor<4x2xf32> -> tensor<6xi32>, tensor<6xf32>, tensor<3xi32>
  %ut = tensor.cast %tok : tensor<6xi32> to tensor<*xi32>
  %uw = tensor.cast %w : tensor<6xf32> to tensor<*xf32>
  %uo = tensor.cast %off : tensor<3xi32> to tensor<*xi32>
  %mt = bufferization.to_buffer %ut : tensor<*xi32> to memref<*xi32>
  call @printMemrefI32(%mt) : (memref<*xi32>) -> ()
  %mw = bufferization.to_buffer %uw : tensor<*xf32> to memref<*xf32>
  call @printMemrefF32(%mw) : (memref<*xf32>) -> ()
  %mo = bufferization.to_buffer %uo : tensor<*xi32> to memref<*xi32>
  call @printMemrefI32(%mo) : (memref<*xi32>) -> ()
  return
}

func.func @main() {
  call @expert_choice_softmax() : () -> ()
  call @expert_choice_sigmoid() : () -> ()
  return
}
