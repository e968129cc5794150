"""Generators of com.microsoft.MoE / QMoE ONNX models (random weights as
initializers), used by the numerical tests and the benchmarks.

Layouts are onnxruntime's current ones (MISSION §4): fc1 [E, f*I, H],
fc2 [E, H, I], fc3 [E, I, H] (f = 2 for fused swiglu). Graph inputs are
`input` ([T, H], or [B, S, H] with `rank3`) and `router_probs` ([T, E]).
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS_DOMAIN = "com.microsoft"

# Test-matrix names of the activation variants -> (activation_type,
# swiglu_fusion or None, whether fc3 is required).
ACTIVATIONS = {
    "relu": ("relu", None), "gelu": ("gelu", None), "silu": ("silu", None),
    "identity": ("identity", None),
    "swiglu-interleaved": ("swiglu", 1), "swiglu-concatenated": ("swiglu", 2),
    "swiglu-separate": ("swiglu", 0),
}


class MoESpec:
    """One com.microsoft.MoE node: sizes, attributes and float weights."""

    def __init__(self, name, hidden, inter, experts, k, variant="relu",
                 bias=True, fc3=False, normalize=True, alpha=None, beta=None,
                 limit=None, rng=None, weight_scale=None):
        if variant not in ACTIVATIONS:
            raise ValueError(f"unknown variant {variant!r}; one of {sorted(ACTIVATIONS)}")
        self.name, self.H, self.I, self.E, self.k = name, hidden, inter, experts, k
        self.variant = variant
        self.activation, self.fusion = ACTIVATIONS[variant]
        self.fc3 = fc3 or variant == "swiglu-separate"
        if self.activation == "swiglu" and self.fusion != 0 and fc3:
            raise ValueError("fused swiglu takes no fc3")
        self.bias, self.normalize = bias, normalize
        self.alpha, self.beta, self.limit = alpha, beta, limit
        rng = rng if rng is not None else np.random.default_rng(0)
        f = 2 if self.activation == "swiglu" and self.fusion in (1, 2) else 1
        s1 = weight_scale or 1.0 / np.sqrt(hidden)
        s2 = weight_scale or 1.0 / np.sqrt(inter)

        def w(*shape, scale):
            return (rng.standard_normal(shape) * scale).astype(np.float32)

        self.fc1_w = w(experts, f * inter, hidden, scale=s1)
        self.fc2_w = w(experts, hidden, inter, scale=s2)
        self.fc3_w = w(experts, inter, hidden, scale=s1) if self.fc3 else None
        self.fc1_b = w(experts, f * inter, scale=0.1) if bias else None
        self.fc2_b = w(experts, hidden, scale=0.1) if bias else None
        self.fc3_b = w(experts, inter, scale=0.1) if bias and self.fc3 else None

    def attributes(self):
        attrs = {"k": self.k, "activation_type": self.activation,
                 "normalize_routing_weights": int(self.normalize)}
        if self.activation == "swiglu":
            attrs["swiglu_fusion"] = self.fusion
            if self.alpha is not None:
                attrs["activation_alpha"] = float(self.alpha)
            if self.beta is not None:
                attrs["activation_beta"] = float(self.beta)
            if self.limit is not None:
                attrs["swiglu_limit"] = float(self.limit)
        return attrs

    def reference_kwargs(self):
        """Keyword arguments of examples/moe_reference.py's moe_reference."""
        return dict(fc1_weights=self.fc1_w, fc1_bias=self.fc1_b,
                    fc2_weights=self.fc2_w, fc2_bias=self.fc2_b,
                    fc3_weights=self.fc3_w, fc3_bias=self.fc3_b, k=self.k,
                    activation=self.activation,
                    normalize=self.normalize,
                    swiglu_fusion=self.fusion if self.fusion is not None else 0,
                    alpha=1.0 if self.alpha is None else self.alpha,
                    beta=0.0 if self.beta is None else self.beta,
                    limit=np.inf if self.limit is None else self.limit)

    def node(self, x, router, output):
        """The MoE node and its initializers (names prefixed by self.name)."""
        p = self.name + "_"
        inits, names = [], [x, router]
        for tag, arr in (("fc1_w", self.fc1_w), ("fc1_b", self.fc1_b),
                         ("fc2_w", self.fc2_w), ("fc2_b", self.fc2_b),
                         ("fc3_w", self.fc3_w), ("fc3_b", self.fc3_b)):
            if arr is None:
                names.append("")
            else:
                names.append(p + tag)
                inits.append(numpy_helper.from_array(arr, p + tag))
        while names and names[-1] == "":
            names.pop()
        node = helper.make_node("MoE", names, [output], name=self.name,
                                domain=MS_DOMAIN, **self.attributes())
        return node, inits


def input_infos(hidden, experts, rank3, x="input", router="router_probs"):
    x_shape = ["B", "S", hidden] if rank3 else ["T", hidden]
    return [helper.make_tensor_value_info(x, TensorProto.FLOAT, x_shape),
            helper.make_tensor_value_info(router, TensorProto.FLOAT, ["T", experts])]


def make_model(nodes, inits, inputs, outputs, name="moe"):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 21),
                              helper.make_opsetid(MS_DOMAIN, 1)],
        producer_name="moe_compiler.models")
    model.ir_version = 10
    return model


def single_moe_model(spec, rank3=False):
    """A model with one MoE node: inputs `input`, `router_probs`; output `output`."""
    node, inits = spec.node("input", "router_probs", "output")
    out_shape = ["B", "S", spec.H] if rank3 else ["T", spec.H]
    return make_model([node], inits, input_infos(spec.H, spec.E, rank3),
                      [helper.make_tensor_value_info("output", TensorProto.FLOAT,
                                                     out_shape)], spec.name)


def multi_moe_model(specs, rank3=False, name="moe_matrix"):
    """One model with one MoE node per spec, all on the same `input` and
    `router_probs`, output i named after spec i (so one compile covers many
    attribute combinations)."""
    h, e = specs[0].H, specs[0].E
    nodes, inits, outs = [], [], []
    out_shape = ["B", "S", h] if rank3 else ["T", h]
    for s in specs:
        node, ini = s.node("input", "router_probs", s.name)
        nodes.append(node)
        inits += ini
        outs.append(helper.make_tensor_value_info(s.name, TensorProto.FLOAT, out_shape))
    return make_model(nodes, inits, input_infos(h, e, rank3), outs, name)


#--- QMoE ---------------------------------------------------------------------#

def pack_nibbles(values):
    """Two 4-bit values per byte along the last axis, low nibble first."""
    return (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)


def quantize_rowwise(w, bits, rng, zero_points):
    """Row-wise asymmetric (or symmetric, zero point 2^(bits-1)) uint codes
    of w [E, N, K]: (stored, scales [E, N], zero points or None, dequantised)."""
    levels = (1 << bits) - 1
    if zero_points:
        lo, hi = w.min(-1), w.max(-1)
        scale = ((hi - lo) / levels).astype(np.float32)
        zero = np.clip(np.round(-lo / scale), 0, levels).astype(np.uint8)
    else:
        scale = (np.abs(w).max(-1) / (levels // 2)).astype(np.float32)
        zero = np.full(scale.shape, 1 << (bits - 1), np.uint8)
    q = np.clip(np.round(w / scale[..., None]) + zero[..., None], 0,
                levels).astype(np.uint8)
    deq = (q.astype(np.float64) - zero[..., None]) * scale[..., None]
    stored = pack_nibbles(q) if bits == 4 else q
    zp = None
    if zero_points:
        zp = pack_nibbles(zero) if bits == 4 else zero
    return stored, scale, zp, deq


def qmoe_node(name, hidden, inter, experts, k, bits, activation="silu",
              zero_points=True, bias=True, rng=None, x="input",
              router="router_probs", output="output"):
    """A com.microsoft.QMoE node with row-wise scales over `x`/`router`.
    Returns (node, initializers, the dequantised float64 weights as
    moe_reference keyword arguments). Initializer names are prefixed with
    `name`."""
    rng = rng if rng is not None else np.random.default_rng(0)
    f = 2 if activation == "swiglu" else 1
    w1 = rng.standard_normal((experts, f * inter, hidden)) / np.sqrt(hidden)
    w2 = rng.standard_normal((experts, hidden, inter)) / np.sqrt(inter)
    b1 = (rng.standard_normal((experts, f * inter)) * 0.1).astype(np.float32) if bias else None
    b2 = (rng.standard_normal((experts, hidden)) * 0.1).astype(np.float32) if bias else None
    q1, s1, z1, d1 = quantize_rowwise(w1, bits, rng, zero_points)
    q2, s2, z2, d2 = quantize_rowwise(w2, bits, rng, zero_points)
    p = name + "_"
    arrays = {"fc1_q": q1, "fc1_s": s1, "fc2_q": q2, "fc2_s": s2}
    names = [x, router, p + "fc1_q", p + "fc1_s", "", p + "fc2_q", p + "fc2_s", ""]
    if bias:
        arrays.update(fc1_b=b1, fc2_b=b2)
        names[4], names[7] = p + "fc1_b", p + "fc2_b"
    if zero_points:
        arrays.update(fc1_zp=z1, fc2_zp=z2)
        names += ["", "", "", p + "fc1_zp", p + "fc2_zp"]
    while names[-1] == "":
        names.pop()
    inits = [numpy_helper.from_array(a, p + n) for n, a in arrays.items()]
    attrs = {"k": k, "activation_type": activation, "normalize_routing_weights": 1,
             "expert_weight_bits": bits}
    if activation == "swiglu":
        attrs["swiglu_fusion"] = 1
    node = helper.make_node("QMoE", names, [output], name=name, domain=MS_DOMAIN, **attrs)
    ref = dict(fc1_weights=d1, fc1_bias=b1, fc2_weights=d2, fc2_bias=b2,
               k=k, activation=activation, normalize=True,
               swiglu_fusion=1 if activation == "swiglu" else 0)
    return node, inits, ref


def qmoe_model(name, hidden, inter, experts, k, bits, **kwargs):
    """A model with one QMoE node (see qmoe_node); returns (model, reference
    keyword arguments)."""
    node, inits, ref = qmoe_node(name, hidden, inter, experts, k, bits, **kwargs)
    model = make_model([node], inits, input_infos(hidden, experts, False),
                       [helper.make_tensor_value_info("output", TensorProto.FLOAT,
                                                      ["T", hidden])], name)
    return model, ref


def save(model, path):
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path
