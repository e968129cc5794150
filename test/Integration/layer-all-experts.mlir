// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s

// k = E with identity experts: every token uses every expert.

func.func private @printMemrefF32(memref<*xf32>)

func.func @main() {
  %x = arith.constant dense<[[-0.80193144, -1.3243589 , -0.24836162,  0.42044523],
 [ 1.1360465 ,  0.1097064 , -0.5526473 , -0.7847804 ],
 [ 0.7487458 ,  1.634783  ,  0.27276877, -1.2333287 ]]> : tensor<3x4xf32>
  %l = arith.constant dense<[[-0.9582652  ,  1.6000191  ,  0.20288244 ],
 [-1.7321348  , -0.083696194, -1.163226   ],
 [-0.6292881  , -0.48800582 , -0.7133134  ]]> : tensor<3x3xf32>
  %w1 = arith.constant dense<[[[ 0.27668923 , -0.031542987, -0.29471564 ,  0.20481892 ],
  [ 0.41492766 , -0.8215117  , -0.12836507 , -0.49037367 ]],

 [[-0.08657761 , -0.64470935 ,  0.010345197, -0.01894287 ],
  [-0.15216887 , -0.5239633  , -0.19809517 , -0.5456644  ]],

 [[-0.6776044  ,  0.112392865, -0.554675   ,  0.58514804 ],
  [ 0.35829383 , -0.99890834 ,  0.13606444 , -0.5508583  ]]]> : tensor<3x2x4xf32>
  %b1 = arith.constant dense<[[-0.36490875, -0.15236188],
 [ 0.24238142,  0.10302314],
 [-0.8649728 ,  0.89578307]]> : tensor<3x2xf32>
  %w2 = arith.constant dense<[[[ 0.01652861 ,  0.021815997],
  [-0.9942149  , -0.11671126 ],
  [-0.12789501 ,  0.48100027 ],
  [-0.5907234  ,  0.36902094 ]],

 [[-0.5494864  , -0.16564545 ],
  [-0.4202366  ,  0.72436565 ],
  [ 0.28410655 ,  1.2158662  ],
  [ 0.3209582  ,  0.42249638 ]],

 [[ 0.42034143 , -0.30330577 ],
  [-0.035014223,  0.67519444 ],
  [-0.19827539 ,  0.094399765],
  [-0.010611731,  0.30460826 ]]]> : tensor<3x4x2xf32>
  %b2 = arith.constant dense<[[-1.2984812 , -1.2011156 , -1.2824918 ,  0.9669723 ],
 [-0.36060837, -0.9710364 , -1.1360214 ,  0.42113113],
 [-1.0548407 , -1.2720782 ,  0.61399305, -1.1967077 ]]> : tensor<3x4xf32>
  %y = moe.layer %x, %l fc1(%w1, %b1) fc2(%w2, %b2)
         {routing = #moe.routing<k = 3>, activation = #moe.activation<kind = identity>}
         : (tensor<3x4xf32>, tensor<3x3xf32>, tensor<3x2x4xf32>, tensor<3x2xf32>, tensor<3x4x2xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %u = tensor.cast %y : tensor<3x4xf32> to tensor<*xf32>
  %m = bufferization.to_buffer %u : tensor<*xf32> to memref<*xf32>
  call @printMemrefF32(%m) : (memref<*xf32>) -> ()
  return
}

// CHECK: rank = 2 offset = 0 sizes = [3, 4]
// CHECK-NEXT: [{{-1\.21[0-9]*}}, {{-0\.77[0-9]*}}, {{0\.155[0-9]*}}, {{0\.78[0-9]*}}]
// CHECK-NEXT: [{{-0\.97[0-9]*}}, {{-0\.65[0-9]*}}, {{-0\.27[0-9]*}}, {{0\.40[0-9]*}}]
// CHECK-NEXT: [{{-0\.97[0-9]*}}, {{-0\.[0-9]*}}, {{-0\.80[0-9]*}}, {{0\.032[0-9]*}}]
