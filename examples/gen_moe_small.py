#!/usr/bin/env python3
"""Writes examples/moe_small.onnx: one com.microsoft.MoE node (gpt-oss style
swiglu, interleaved halves, alpha 1.702, beta 1, limit 7, with biases),
H = 64, I = 128, E = 8, k = 2, renormalised routing weights, over a symbolic
token count T: inputs `input` [T, 64] and `router_probs` [T, 8], output
`output` [T, 64]. Weights are random (fixed seed, so the file is
reproducible) and stored as initializers in onnxruntime's layout
(fc1 [E, 2I, H], fc2 [E, H, I]).

Usage: gen_moe_small.py [-o examples/moe_small.onnx] [--seed 7]
"""

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

H, I, E, K = 64, 128, 8, 2


def build(seed):
    rng = np.random.default_rng(seed)

    def init(name, shape, scale):
        return numpy_helper.from_array(
            (rng.standard_normal(shape) * scale).astype(np.float32), name)

    inits = [init("fc1_experts_weights", (E, 2 * I, H), 1 / np.sqrt(H)),
             init("fc1_experts_bias", (E, 2 * I), 0.1),
             init("fc2_experts_weights", (E, H, I), 1 / np.sqrt(I)),
             init("fc2_experts_bias", (E, H), 0.1)]
    node = helper.make_node(
        "MoE", ["input", "router_probs"] + [t.name for t in inits], ["output"],
        name="moe", domain="com.microsoft", k=K, activation_type="swiglu",
        swiglu_fusion=1, activation_alpha=1.702, activation_beta=1.0,
        swiglu_limit=7.0, normalize_routing_weights=1)
    graph = helper.make_graph(
        [node], "moe_small",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["T", H]),
         helper.make_tensor_value_info("router_probs", TensorProto.FLOAT, ["T", E])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["T", H])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="examples/gen_moe_small.py",
                              opset_imports=[helper.make_opsetid("", 21),
                                             helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    return model


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=os.path.join(here, "moe_small.onnx"))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    onnx.save(build(args.seed), args.output)
    print(f"wrote {args.output} ({os.path.getsize(args.output)} bytes)")


if __name__ == "__main__":
    main()
