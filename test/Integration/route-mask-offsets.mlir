// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.route with an expert mask and logit offsets: masked experts get
// probability 0 and are picked only when fewer than k are unmasked.
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

// Expert 1 is masked; offsets shift experts 2 and 3.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.6914{{[0-9]*}}, 0.1542{{[0-9]*}}],
// CHECK-NEXT:  [0.5955{{[0-9]*}}, 0.2421{{[0-9]*}}]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[0, 2],
// CHECK-NEXT:  [3, 2]]
func.func @mask_and_offsets() {
  %logits = arith.constant dense<[[1.0, 2.0, 0.5, -1.0], [0.30000001192092896, -0.20000000298023224, 1.7000000476837158, 1.100000023841858]]> : tensor<2x4xf32>
  %mask = arith.constant dense<[true, false, true, true]> : tensor<4xi1>
  %offsets = arith.constant dense<[0.0, 0.0, -1.0, 0.5]> : tensor<4xf32>
  %w, %ids = moe.route %logits mask(%mask : tensor<4xi1>) offsets(%offsets : tensor<4xf32>)
      {routing = #moe.routing<k = 2>}
      : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<2x2xi32>
  %uw = tensor.cast %w : tensor<2x2xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x2xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// Only expert 2 is unmasked: the second slot takes the lowest masked
// expert with weight 0.
// CHECK: data =
// CHECK-NEXT: {{\[}}[1, 0],
// CHECK-NEXT:  [1, 0]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[2, 0],
// CHECK-NEXT:  [2, 0]]
func.func @mask_fewer_than_k() {
  %logits = arith.constant dense<[[1.0, 2.0, 0.5, -1.0], [0.30000001192092896, -0.20000000298023224, 1.7000000476837158, 1.100000023841858]]> : tensor<2x4xf32>
  %mask = arith.constant dense<[false, false, true, false]> : tensor<4xi1>
  %w, %ids = moe.route %logits mask(%mask : tensor<4xi1>)
      {routing = #moe.routing<k = 2>}
      : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<2x2xi32>
  %uw = tensor.cast %w : tensor<2x2xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x2xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

// Same with topk_then_score and sigmoid: the masked keys are -inf and the
// lowest-index one is still taken; its sigmoid weight is 0.
// CHECK: data =
// CHECK-NEXT: {{\[}}[0.8807{{[0-9]*}}, 0.6224{{[0-9]*}}, 0],
// CHECK-NEXT:  [0.8455{{[0-9]*}}, 0.4501{{[0-9]*}}, 0]]
// CHECK: data =
// CHECK-NEXT: {{\[}}[1, 2, 0],
// CHECK-NEXT:  [2, 1, 0]]
func.func @mask_fewer_than_k_topk_then_score() {
  %logits = arith.constant dense<[[1.0, 2.0, 0.5, -1.0], [0.30000001192092896, -0.20000000298023224, 1.7000000476837158, 1.100000023841858]]> : tensor<2x4xf32>
  %mask = arith.constant dense<[false, true, true, false]> : tensor<4xi1>
  %w, %ids = moe.route %logits mask(%mask : tensor<4xi1>)
      {routing = #moe.routing<k = 3, score = sigmoid, order = topk_then_score>}
      : tensor<2x4xf32> -> tensor<2x3xf32>, tensor<2x3xi32>
  %uw = tensor.cast %w : tensor<2x3xf32> to tensor<*xf32>
  %ui = tensor.cast %ids : tensor<2x3xi32> to tensor<*xi32>
  call @print(%uw, %ui) : (tensor<*xf32>, tensor<*xi32>) -> ()
  return
}

func.func @main() {
  call @mask_and_offsets() : () -> ()
  call @mask_fewer_than_k() : () -> ()
  call @mask_fewer_than_k_topk_then_score() : () -> ()
  return
}
