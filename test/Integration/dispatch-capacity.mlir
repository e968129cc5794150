// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s
//
// moe.dispatch with a capacity factor: each expert keeps its first
// C = ceil(cf * T * k / E) assignments in token order; the dropped ones
// become padding. Expected values: numpy.

func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefF64(memref<*xf64>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @dispatch_cf(%ids: tensor<4x2xi32>, %w: tensor<4x2xf32>)
    -> (tensor<8xi32>, tensor<8xf32>, tensor<4xi32>) {
  %tok, %rw, %off = moe.dispatch %ids, %w
      {num_experts = 3 : i64, capacity_factor = 0.75 : f64}
      : tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<8xi32>, tensor<8xf32>, tensor<4xi32>
  return %tok, %rw, %off : tensor<8xi32>, tensor<8xf32>, tensor<4xi32>
}

// T is only known at run time: C = ceil(0.35 * 4 * 2 / 3) = 1.
func.func @dispatch_dynamic(%ids: tensor<?x2xi32>, %w: tensor<?x2xf32>)
    -> (tensor<?xi32>, tensor<?xf32>, tensor<4xi32>) {
  %tok, %rw, %off = moe.dispatch %ids, %w
      {num_experts = 3 : i64, capacity_factor = 0.35 : f64}
      : tensor<?x2xi32>, tensor<?x2xf32>
      -> tensor<?xi32>, tensor<?xf32>, tensor<4xi32>
  return %tok, %rw, %off : tensor<?xi32>, tensor<?xf32>, tensor<4xi32>
}

func.func @main() {
  %ids = arith.constant dense<[[0, 2], [0, -1], [2, 0], [0, 1]]> : tensor<4x2xi32>
  %w = arith.constant dense<[[0.5, 0.25], [0.75, 0.0], [0.375, 0.625], [0.125, 0.875]]> : tensor<4x2xf32>
  %tok, %rw, %off = call @dispatch_cf(%ids, %w)
      : (tensor<4x2xi32>, tensor<4x2xf32>) -> (tensor<8xi32>, tensor<8xf32>, tensor<4xi32>)
  %buf1 = bufferization.to_buffer %tok : tensor<8xi32> to memref<8xi32>
  %ubuf1 = memref.cast %buf1 : memref<8xi32> to memref<*xi32>
  call @printMemrefI32(%ubuf1) : (memref<*xi32>) -> ()
  %buf2 = bufferization.to_buffer %rw : tensor<8xf32> to memref<8xf32>
  %ubuf2 = memref.cast %buf2 : memref<8xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf2) : (memref<*xf32>) -> ()
  %buf3 = bufferization.to_buffer %off : tensor<4xi32> to memref<4xi32>
  %ubuf3 = memref.cast %buf3 : memref<4xi32> to memref<*xi32>
  call @printMemrefI32(%ubuf3) : (memref<*xi32>) -> ()
  %dids = tensor.cast %ids : tensor<4x2xi32> to tensor<?x2xi32>
  %dw = tensor.cast %w : tensor<4x2xf32> to tensor<?x2xf32>
  %dtok_d, %drw_d, %doff = call @dispatch_dynamic(%dids, %dw)
      : (tensor<?x2xi32>, tensor<?x2xf32>) -> (tensor<?xi32>, tensor<?xf32>, tensor<4xi32>)
  %dtok = tensor.cast %dtok_d : tensor<?xi32> to tensor<8xi32>
  %drw = tensor.cast %drw_d : tensor<?xf32> to tensor<8xf32>
  %buf4 = bufferization.to_buffer %dtok : tensor<8xi32> to memref<8xi32>
  %ubuf4 = memref.cast %buf4 : memref<8xi32> to memref<*xi32>
  call @printMemrefI32(%ubuf4) : (memref<*xi32>) -> ()
  %buf5 = bufferization.to_buffer %drw : tensor<8xf32> to memref<8xf32>
  %ubuf5 = memref.cast %buf5 : memref<8xf32> to memref<*xf32>
  call @printMemrefF32(%ubuf5) : (memref<*xf32>) -> ()
  %buf6 = bufferization.to_buffer %doff : tensor<4xi32> to memref<4xi32>
  %ubuf6 = memref.cast %buf6 : memref<4xi32> to memref<*xi32>
  call @printMemrefI32(%ubuf6) : (memref<*xi32>) -> ()
  return
}

// C = ceil(0.75 * 4 * 2 / 3) = 2: expert 0 keeps tokens 0 and 1.
// CHECK: rank = 1 offset = 0 sizes = [8]
// CHECK-NEXT: [0, 1, 3, 0, 2, -1, -1, -1]
// CHECK: rank = 1 offset = 0 sizes = [8]
// CHECK-NEXT: [0.5, 0.75, 0.875, 0.25, 0.375, {{-?0}}, {{-?0}}, {{-?0}}]
// CHECK: rank = 1 offset = 0 sizes = [4]
// CHECK-NEXT: [0, 2, 3, 5]
// C = 1: every expert keeps its first assignment only.
// CHECK: rank = 1 offset = 0 sizes = [8]
// CHECK-NEXT: [0, 3, 0, -1, -1, -1, -1, -1]
// CHECK: rank = 1 offset = 0 sizes = [8]
// CHECK-NEXT: [0.5, 0.875, 0.25, {{-?0}}, {{-?0}}, {{-?0}}, {{-?0}}, {{-?0}}]
// CHECK: rank = 1 offset = 0 sizes = [4]
// CHECK-NEXT: [0, 1, 2, 3]
