// A small Mixtral-style MoE layer: 16 tokens, hidden size 64, expert FFN size
// 128, 8 experts, top-2 routing. As in Mixtral, the router is a bias-free
// linear gate, the top-2 logits are selected first and softmax-ed over the
// two (topk_then_score), and every expert is a SwiGLU FFN:
// fc2(silu(fc1 x) * fc3 x). Weights are function arguments.
//
//   build/bin/moe-opt examples/mixtral_layer.mlir --moe-reference
//
// lowers it to upstream linalg/tensor/arith/scf/math (the reference lowering);
// --moe-decompose-layer alone shows the staged moe ops.

func.func @mixtral_layer(%x: tensor<16x64xf32>,        // tokens [T, H]
                         %gate: tensor<64x8xf32>,      // router  [H, E]
                         %w1: tensor<8x128x64xf32>,    // fc1     [E, I, H]
                         %w2: tensor<8x64x128xf32>,    // fc2     [E, H, I]
                         %w3: tensor<8x128x64xf32>)    // fc3     [E, I, H]
    -> tensor<16x64xf32> {
  // Router logits [T, E] = x * gate.
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<16x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<16x8xf32>)
      -> tensor<16x8xf32>
  %logits = linalg.matmul ins(%x, %gate : tensor<16x64xf32>, tensor<64x8xf32>)
      outs(%acc : tensor<16x8xf32>) -> tensor<16x8xf32>

  %y = moe.layer %x, %logits fc1(%w1) fc2(%w2) fc3(%w3)
         {routing = #moe.routing<k = 2, order = topk_then_score>,
          activation = #moe.activation<kind = silu>}
         : (tensor<16x64xf32>, tensor<16x8xf32>, tensor<8x128x64xf32>,
            tensor<8x64x128xf32>, tensor<8x128x64xf32>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}
