#!/usr/bin/env python3
"""Writes binary ONNX fixtures of onnxruntime's fused com.microsoft.MoE and
com.microsoft.QMoE ops, as onnxruntime-genai's model builder emits them:
one node whose expert weights are initializers in onnxruntime's current
layout (fc1 [E, f*I, H], fc2 [E, H, I], fc3 [E, I, H]; f = 2 for fused
swiglu), fed by graph inputs `input` and `router_probs`.

Usage: gen_moe_models.py --out DIR [--seed N]

The models are small (E = 4, H = 32, I = 16) but their weights exceed the
importer's inline limit, so they import as dense_resource blobs. Weights are
drawn from a fixed seed, so every run writes the same files. QMoE weights are
quantised from float weights the way onnxruntime's tools do it: per row (or
per block of `block_size` along K) an asymmetric uint8 / uint4 code with a
float scale and a zero point, 4-bit values packed two per byte with the low
nibble first, 4-bit zero points packed the same way along their last axis.
"""

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

E, H, I = 4, 32, 16
MS_DOMAIN = "com.microsoft"


def model(name, node, inputs, initializers):
    graph = helper.make_graph([node], name, inputs,
                              [helper.make_tensor_value_info(
                                  "output", TensorProto.FLOAT,
                                  _shape_of(inputs[0]))],
                              initializers)
    m = helper.make_model(graph, producer_name="gen_moe_models.py",
                          ir_version=10,
                          opset_imports=[helper.make_opsetid("", 21),
                                         helper.make_opsetid(MS_DOMAIN, 1)])
    onnx.checker.check_model(m)
    return m


def _shape_of(value_info):
    return [d.dim_param or d.dim_value
            for d in value_info.type.tensor_type.shape.dim]


def float_inputs(rank3):
    x_shape = ["batch", 3, H] if rank3 else ["tokens", H]
    rows = "tokens"
    return [helper.make_tensor_value_info("input", TensorProto.FLOAT, x_shape),
            helper.make_tensor_value_info("router_probs", TensorProto.FLOAT,
                                          [rows, E])]


def weights(rng, *shape, scale=0.3):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def moe_model(rng, name, activation, rank3=False, bias=True, fc3=False,
              fusion=None, alpha=None, beta=None, limit=None, k=2,
              normalize=1):
    f = 2 if activation == "swiglu" and fusion in (1, 2) else 1
    inits = [numpy_helper.from_array(weights(rng, E, f * I, H),
                                     "fc1_experts_weights"),
             numpy_helper.from_array(weights(rng, E, H, I),
                                     "fc2_experts_weights")]
    names = ["input", "router_probs", "fc1_experts_weights", "",
             "fc2_experts_weights", ""]
    if bias:
        inits += [numpy_helper.from_array(weights(rng, E, f * I),
                                          "fc1_experts_bias"),
                  numpy_helper.from_array(weights(rng, E, H),
                                          "fc2_experts_bias")]
        names[3], names[5] = "fc1_experts_bias", "fc2_experts_bias"
    if fc3:
        inits.append(numpy_helper.from_array(weights(rng, E, I, H),
                                             "fc3_experts_weights"))
        names.append("fc3_experts_weights")
    attrs = dict(k=k, activation_type=activation,
                 normalize_routing_weights=normalize)
    for key, value in (("swiglu_fusion", fusion), ("activation_alpha", alpha),
                       ("activation_beta", beta), ("swiglu_limit", limit)):
        if value is not None:
            attrs[key] = value
    node = helper.make_node("MoE", names, ["output"], name=name,
                            domain=MS_DOMAIN, **attrs)
    return model(name, node, float_inputs(rank3), inits)


def quantize(w, bits, block_size):
    """Asymmetric quantisation of float weights [E, N, K]: returns the stored
    uint8 weights [E, N, K*bits/8], scales [E, N] or [E, N, K/block_size]
    and zero points packed like the weights along their last axis."""
    e, n, k = w.shape
    groups = w.reshape(e, n, k // block_size, block_size) if block_size \
        else w.reshape(e, n, 1, k)
    levels = (1 << bits) - 1
    lo = np.minimum(groups.min(-1), 0.0)
    hi = np.maximum(groups.max(-1), 0.0)
    scale = np.maximum((hi - lo) / levels, 1e-6).astype(np.float32)
    zero = np.clip(np.round(-lo / scale), 0, levels).astype(np.uint8)
    q = np.clip(np.round(groups / scale[..., None]) + zero[..., None], 0,
                levels).astype(np.uint8).reshape(e, n, k)
    if not block_size:
        scale, zero = scale[..., 0], zero[..., 0]
    if bits == 4:
        q = pack_nibbles(q)
        zero = pack_nibbles(zero)
    return q, scale, zero


def pack_nibbles(values):
    """Two 4-bit values per byte along the last axis, low nibble first."""
    if values.shape[-1] % 2:
        pad = np.zeros(values.shape[:-1] + (1,), np.uint8)
        values = np.concatenate([values, pad], -1)
    return (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)


def qmoe_model(rng, name, activation, bits, block_size=0, zero_points=True,
               bias=True, fusion=None, alpha=None, beta=None, limit=None,
               rank3=False):
    f = 2 if activation == "swiglu" else 1
    inits, names = [], ["input", "router_probs"]
    zps = []
    for fc, (n, k) in (("fc1", (f * I, H)), ("fc2", (H, I))):
        q, s, z = quantize(weights(rng, E, n, k), bits, block_size)
        inits += [numpy_helper.from_array(q, fc + "_experts_weights"),
                  numpy_helper.from_array(s, fc + "_scales")]
        names += [fc + "_experts_weights", fc + "_scales"]
        if bias:
            inits.append(numpy_helper.from_array(weights(rng, E, n),
                                                 fc + "_experts_bias"))
            names.append(fc + "_experts_bias")
        else:
            names.append("")
        zps.append((fc + "_zero_points", z))
    if zero_points:
        names += ["", "", ""]  # fc3 weights, scales, bias
        for zp_name, z in zps:
            inits.append(numpy_helper.from_array(z, zp_name))
            names.append(zp_name)
    attrs = dict(k=2, activation_type=activation, normalize_routing_weights=1,
                 expert_weight_bits=bits)
    if block_size:
        attrs["block_size"] = block_size
    for key, value in (("swiglu_fusion", fusion), ("activation_alpha", alpha),
                       ("activation_beta", beta), ("swiglu_limit", limit)):
        if value is not None:
            attrs[key] = value
    node = helper.make_node("QMoE", names, ["output"], name=name,
                            domain=MS_DOMAIN, **attrs)
    return model(name, node, float_inputs(rank3), inits)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    gpt_oss = dict(fusion=1, alpha=1.702, beta=1.0, limit=7.0)
    models = {
        "moe_relu_2d": moe_model(rng, "moe_relu_2d", "relu", normalize=0),
        "moe_gelu_3d": moe_model(rng, "moe_gelu_3d", "gelu", rank3=True,
                                 bias=False),
        "moe_silu_fc3": moe_model(rng, "moe_silu_fc3", "silu", fc3=True),
        "moe_identity_3d": moe_model(rng, "moe_identity_3d", "identity",
                                     rank3=True, k=1),
        "moe_swiglu_interleaved": moe_model(rng, "moe_swiglu_interleaved",
                                            "swiglu", **gpt_oss),
        "moe_swiglu_concatenated": moe_model(
            rng, "moe_swiglu_concatenated", "swiglu", fusion=2, alpha=1.5,
            beta=0.5, limit=5.0),
        "qmoe_int8_rowwise": qmoe_model(rng, "qmoe_int8_rowwise", "silu", 8),
        "qmoe_int4_rowwise_3d": qmoe_model(rng, "qmoe_int4_rowwise_3d",
                                           "relu", 4, zero_points=False,
                                           bias=False, rank3=True),
        "qmoe_int4_blockwise": qmoe_model(rng, "qmoe_int4_blockwise",
                                          "swiglu", 4, block_size=16,
                                          **gpt_oss),
    }
    for name, m in models.items():
        onnx.save(m, os.path.join(args.out, name + ".onnx"))


if __name__ == "__main__":
    main()
