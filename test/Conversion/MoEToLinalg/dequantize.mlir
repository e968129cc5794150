// RUN: moe-opt %s -split-input-file --convert-moe-to-linalg | FileCheck %s

// One tensor.generate over the result: each element reads its byte, scale
// and zero point with tensor.extract and computes (q - zp) * scale in f32.

// int8 row-wise, unsigned storage: offset binary, default zero point 128.
// ui8 is not an arith type: the byte is reinterpreted as i8 first.

// CHECK-LABEL: func.func @dequantize_u8_rowwise
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: tensor<4x8x16xui8>, %[[S:[a-z0-9]+]]: tensor<4x8xf32>
// CHECK-NOT:     moe.dequantize
// CHECK:         tensor.generate
// CHECK:         ^bb0(%[[E:.+]]: index, %[[N:.+]]: index, %[[J:.+]]: index):
// CHECK:           %[[BYTE:.+]] = tensor.extract %[[Q]][%[[E]], %[[N]], %[[J]]] : tensor<4x8x16xui8>
// CHECK:           %[[I8:.+]] = builtin.unrealized_conversion_cast %[[BYTE]] : ui8 to i8
// CHECK:           %[[V:.+]] = arith.uitofp %[[I8]] : i8 to f32
// CHECK:           %[[SCALE:.+]] = tensor.extract %[[S]][%[[E]], %[[N]]] : tensor<4x8xf32>
// CHECK:           %[[ZP:.+]] = arith.constant 1.280000e+02 : f32
// CHECK:           %[[D:.+]] = arith.subf %[[V]], %[[ZP]] : f32
// CHECK:           %[[R:.+]] = arith.mulf %[[D]], %[[SCALE]] : f32
// CHECK:           tensor.yield %[[R]] : f32
// CHECK:         } : tensor<4x8x16xf32>
func.func @dequantize_u8_rowwise(%q: tensor<4x8x16xui8>, %s: tensor<4x8xf32>)
    -> tensor<4x8x16xf32> {
  %w = moe.dequantize %q, %s {bits = 8 : i64}
      : tensor<4x8x16xui8>, tensor<4x8xf32> -> tensor<4x8x16xf32>
  return %w : tensor<4x8x16xf32>
}

// -----

// int8, signless storage: two's complement, zero point 0; dynamic dims.

// CHECK-LABEL: func.func @dequantize_i8_dynamic
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: tensor<?x?xi8>
// CHECK-NOT:     moe.dequantize
// CHECK-DAG:     %[[N:.+]] = tensor.dim %[[Q]], %{{.+}} : tensor<?x?xi8>
// CHECK-DAG:     %[[K:.+]] = tensor.dim %[[Q]], %{{.+}} : tensor<?x?xi8>
// CHECK:         tensor.generate %[[N]], %[[K]]
// CHECK-NOT:       unrealized_conversion_cast
// CHECK:           %[[V:.+]] = arith.sitofp %{{.+}} : i8 to f32
// CHECK:           %[[ZP:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:           arith.subf %[[V]], %[[ZP]] : f32
// CHECK:         } : tensor<?x?xf32>
func.func @dequantize_i8_dynamic(%q: tensor<?x?xi8>, %s: tensor<?xf32>)
    -> tensor<?x?xf32> {
  %w = moe.dequantize %q, %s {bits = 8 : i64}
      : tensor<?x?xi8>, tensor<?xf32> -> tensor<?x?xf32>
  return %w : tensor<?x?xf32>
}

// -----

// Packed int4, block-wise: byte j / 2, low nibble for even j (shifted up
// first), high nibble for odd j, shifted down logically for ui8; the scale
// of block j / block_size. Default zero point 8.

// CHECK-LABEL: func.func @dequantize_u4_blockwise
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: tensor<8x16xui8>, %[[S:[a-z0-9]+]]: tensor<8x2xf32>
// CHECK-NOT:     moe.dequantize
// CHECK:         tensor.generate
// CHECK:         ^bb0(%[[N:.+]]: index, %[[J:.+]]: index):
// CHECK:           %[[TWO:.+]] = arith.constant 2 : index
// CHECK:           %[[BYTEIDX:.+]] = arith.divui %[[J]], %[[TWO]] : index
// CHECK:           %[[BYTE:.+]] = tensor.extract %[[Q]][%[[N]], %[[BYTEIDX]]]
// CHECK:           %[[I8:.+]] = builtin.unrealized_conversion_cast %[[BYTE]] : ui8 to i8
// CHECK:           %[[FOUR:.+]] = arith.constant 4 : i8
// CHECK:           %[[ODD:.+]] = arith.remui %[[J]], %[[TWO]] : index
// CHECK:           %[[HIGH:.+]] = arith.cmpi ne, %[[ODD]]
// CHECK:           %[[LOWUP:.+]] = arith.shli %[[I8]], %[[FOUR]] : i8
// CHECK:           %[[TOP:.+]] = arith.select %[[HIGH]], %[[I8]], %[[LOWUP]] : i8
// CHECK:           %[[NIB:.+]] = arith.shrui %[[TOP]], %[[FOUR]] : i8
// CHECK:           %[[V:.+]] = arith.uitofp %[[NIB]] : i8 to f32
// CHECK:           %[[BLOCK:.+]] = arith.constant 16 : index
// CHECK:           %[[B:.+]] = arith.divui %[[J]], %[[BLOCK]] : index
// CHECK:           tensor.extract %[[S]][%[[N]], %[[B]]] : tensor<8x2xf32>
// CHECK:           arith.constant 8.000000e+00 : f32
// CHECK:         } : tensor<8x32xf32>
func.func @dequantize_u4_blockwise(%q: tensor<8x16xui8>, %s: tensor<8x2xf32>)
    -> tensor<8x32xf32> {
  %w = moe.dequantize %q, %s {bits = 4 : i64, block_size = 16 : i64}
      : tensor<8x16xui8>, tensor<8x2xf32> -> tensor<8x32xf32>
  return %w : tensor<8x32xf32>
}

// -----

// Signed int4 nibbles are sign-extended with an arithmetic shift; integer
// zero points are read per block, f16 scales and result go through f32.

// CHECK-LABEL: func.func @dequantize_s4_zero_points
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: tensor<8x16xsi8>, %[[S:[a-z0-9]+]]: tensor<8x2xf16>, %[[Z:[a-z0-9]+]]: tensor<8x2xui8>
// CHECK-NOT:     moe.dequantize
// CHECK:         tensor.generate
// CHECK:           builtin.unrealized_conversion_cast %{{.+}} : si8 to i8
// CHECK:           %[[NIB:.+]] = arith.shrsi %{{.+}}, %{{.+}} : i8
// CHECK:           %[[V:.+]] = arith.sitofp %[[NIB]] : i8 to f32
// CHECK:           %[[SC:.+]] = arith.extf %{{.+}} : f16 to f32
// CHECK:           %[[ZB:.+]] = tensor.extract %[[Z]][%{{.+}}, %{{.+}}] : tensor<8x2xui8>
// CHECK:           %[[ZI:.+]] = builtin.unrealized_conversion_cast %[[ZB]] : ui8 to i8
// CHECK:           %[[ZP:.+]] = arith.uitofp %[[ZI]] : i8 to f32
// CHECK:           %[[D:.+]] = arith.subf %[[V]], %[[ZP]] : f32
// CHECK:           %[[R:.+]] = arith.mulf %[[D]], %[[SC]] : f32
// CHECK:           %[[H:.+]] = arith.truncf %[[R]] : f32 to f16
// CHECK:           tensor.yield %[[H]] : f16
// CHECK:         } : tensor<8x31xf16>
func.func @dequantize_s4_zero_points(%q: tensor<8x16xsi8>, %s: tensor<8x2xf16>,
                                     %z: tensor<8x2xui8>) -> tensor<8x31xf16> {
  %w = moe.dequantize %q, %s zero_points(%z : tensor<8x2xui8>)
      {bits = 4 : i64, block_size = 16 : i64}
      : tensor<8x16xsi8>, tensor<8x2xf16> -> tensor<8x31xf16>
  return %w : tensor<8x31xf16>
}

// -----

// Float zero points are cast to the compute type.

// CHECK-LABEL: func.func @dequantize_float_zero_points
// CHECK-NOT:     moe.dequantize
// CHECK:         tensor.generate
// CHECK:           %[[Z:.+]] = tensor.extract %{{.+}} : tensor<8xbf16>
// CHECK:           %[[ZP:.+]] = arith.extf %[[Z]] : bf16 to f32
// CHECK:           arith.subf %{{.+}}, %[[ZP]] : f32
func.func @dequantize_float_zero_points(%q: tensor<8x16xi8>, %s: tensor<8xf32>,
                                        %z: tensor<8xbf16>) -> tensor<8x16xf32> {
  %w = moe.dequantize %q, %s zero_points(%z : tensor<8xbf16>) {bits = 8 : i64}
      : tensor<8x16xi8>, tensor<8xf32> -> tensor<8x16xf32>
  return %w : tensor<8x16xf32>
}
