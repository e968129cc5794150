#!/usr/bin/env python3
"""Makes random inputs for a one-node com.microsoft.MoE model, and checks an
output against examples/moe_reference.py (float64) computed from the model's
own initializers and attributes.

    check_moe.py inputs MODEL.onnx DIR [--tokens 16] [--seed N]
        writes DIR/input.npy [T, H] and DIR/router_probs.npy [T, E]
    check_moe.py check MODEL.onnx DIR
        reads DIR/input.npy, DIR/router_probs.npy and DIR/output.npy; prints
        the max abs and relative L2 error; exits 1 above --tol (1e-4)
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moe_reference import moe_reference, rel_l2  # noqa: E402

ROLES = ["input", "router_probs", "fc1_weights", "fc1_bias", "fc2_weights",
         "fc2_bias", "fc3_weights", "fc3_bias"]


def moe_node(model):
    nodes = [n for n in model.graph.node if n.op_type == "MoE"
             and n.domain == "com.microsoft"]
    if len(model.graph.node) != 1 or len(nodes) != 1:
        sys.exit("check_moe.py: error: expected a model with one com.microsoft.MoE node")
    return nodes[0]


def reference(model, x, r):
    node = moe_node(model)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    kw = {}
    for role, name in zip(ROLES, node.input):
        if role in ("input", "router_probs") or not name:
            continue
        if name not in inits:
            sys.exit(f"check_moe.py: error: {role} '{name}' is not an initializer")
        kw[role] = inits[name]
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    act = attrs.get("activation_type", b"relu")
    act = act.decode() if isinstance(act, bytes) else act
    return moe_reference(
        x, r, k=attrs.get("k", 1), activation=act,
        normalize=bool(attrs.get("normalize_routing_weights", 0)),
        swiglu_fusion=attrs.get("swiglu_fusion", 0),
        alpha=attrs.get("activation_alpha", 1.0),
        beta=attrs.get("activation_beta", 0.0),
        limit=attrs.get("swiglu_limit", np.inf), **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("inputs", "check"))
    ap.add_argument("model")
    ap.add_argument("dir")
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    model = onnx.load(args.model)
    node = moe_node(model)
    inits = {t.name: t for t in model.graph.initializer}
    experts, hidden = inits[node.input[4]].dims[0], inits[node.input[4]].dims[1]
    if args.mode == "inputs":
        seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
        rng = np.random.default_rng(seed)
        np.save(os.path.join(args.dir, "input.npy"),
                rng.standard_normal((args.tokens, hidden)).astype(np.float32))
        np.save(os.path.join(args.dir, "router_probs.npy"),
                rng.standard_normal((args.tokens, experts)).astype(np.float32))
        print(f"random inputs (seed {seed}): input [{args.tokens}, {hidden}], "
              f"router_probs [{args.tokens}, {experts}]")
        return 0
    x = np.load(os.path.join(args.dir, "input.npy"))
    r = np.load(os.path.join(args.dir, "router_probs.npy"))
    y = np.load(os.path.join(args.dir, "output.npy"))
    ref = reference(model, x, r)
    if y.shape != ref.shape:
        print(f"output shape {list(y.shape)} != reference {list(ref.shape)}")
        return 1
    max_abs = float(np.max(np.abs(y.astype(np.float64) - ref)))
    err = rel_l2(y, ref)
    ok = err <= args.tol
    print(f"output {y.dtype}{list(y.shape)} vs float64 numpy reference "
          f"(examples/moe_reference.py): max abs error {max_abs:.3e}, "
          f"relative L2 error {err:.3e} -> {'OK' if ok else 'MISMATCH'} "
          f"(tolerance {args.tol:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
