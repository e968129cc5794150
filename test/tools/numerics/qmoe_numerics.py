#!/usr/bin/env python3
"""Numerical check of compiled com.microsoft.QMoE models with row-wise int8
and int4 weights (asymmetric with zero points, and symmetric with the
default zero point 2^(bits-1)) against examples/moe_reference.py on the
weights dequantised in numpy (float64), and against onnxruntime's CPU QMoE
where it runs the node. One model holds all four nodes; it is compiled once
and run for each token count on fresh random data.

Usage: qmoe_numerics.py --moe-compile PATH --workdir DIR [--tokens 1,7,64]
           [--seed N] [--tol 1e-4]
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path[:0] = [os.path.join(ROOT, "python"), os.path.join(ROOT, "examples")]

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import moe_compiler as mc  # noqa: E402
from moe_compiler import models  # noqa: E402
from moe_reference import moe_reference, rel_l2  # noqa: E402

H, I, E, K = 16, 24, 6, 2
CASES = [  # name, bits, activation, zero points, bias
    ("int8_zp_silu", 8, "silu", True, True),
    ("int8_sym_swiglu", 8, "swiglu", False, True),
    ("int4_zp_gelu", 4, "gelu", True, False),
    ("int4_sym_relu", 4, "relu", False, True),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moe-compile", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--tokens", default="1,7,64")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    print(f"seed {seed} (rerun with --seed {seed})")
    rng = np.random.default_rng(seed)
    ort.set_default_logger_severity(3)
    os.makedirs(args.workdir, exist_ok=True)

    nodes, inits, refs, ort_sessions = [], [], {}, {}
    for name, bits, act, zp, bias in CASES:
        node, ini, ref = models.qmoe_node(name, H, I, E, K, bits, activation=act,
                                          zero_points=zp, bias=bias, rng=rng,
                                          output=name)
        nodes.append(node)
        inits += ini
        refs[name] = ref
        single = models.make_model(
            [node], ini, models.input_infos(H, E, False),
            [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["T", H])], name)
        try:
            ort_sessions[name] = ort.InferenceSession(
                single.SerializeToString(), providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime lacks some variants
            ort_sessions[name] = f"n/a ({str(e).splitlines()[0][:80]})"
    outputs = [helper.make_tensor_value_info(c[0], TensorProto.FLOAT, ["T", H])
               for c in CASES]
    model = models.make_model(nodes, inits, models.input_infos(H, E, False),
                              outputs, "qmoe_matrix")
    path = models.save(model, os.path.join(args.workdir, "qmoe.onnx"))
    start = time.time()
    sess = mc.InferenceSession(mc.compile(path, moe_compile=args.moe_compile))
    print(f"compiled {len(CASES)} QMoE nodes in {time.time() - start:.1f} s")

    worst = {c[0]: [0.0, None] for c in CASES}
    failures = []
    for t in (int(v) for v in args.tokens.split(",")):
        x = rng.standard_normal((t, H)).astype(np.float32)
        r = (rng.standard_normal((t, E)) * 2).astype(np.float32)
        outs = sess.run(None, {"input": x, "router_probs": r})
        for (name, *_), y in zip(CASES, outs):
            e_ref = rel_l2(y, moe_reference(x, r, **refs[name]))
            worst[name][0] = max(worst[name][0], e_ref)
            if not e_ref <= args.tol:
                failures.append(f"{name} T={t}: rel-L2 vs dequantised reference {e_ref:.3g}")
            o = ort_sessions[name]
            if not isinstance(o, str):
                try:
                    e_ort = rel_l2(y, o.run(None, {"input": x, "router_probs": r})[0])
                except Exception as e:
                    ort_sessions[name] = f"n/a ({str(e).splitlines()[0][:80]})"
                    continue
                worst[name][1] = max(worst[name][1] or 0.0, e_ort)
                if not e_ort <= args.tol:
                    failures.append(f"{name} T={t}: rel-L2 vs onnxruntime {e_ort:.3g}")
    for name, *_ in CASES:
        e_ref, e_ort = worst[name]
        ok = not any(f.startswith(name + " ") for f in failures)
        o = ort_sessions[name]
        ort_text = o if isinstance(o, str) else f"{e_ort:.2e}"
        print(f"{'PASS' if ok else 'FAIL'} qmoe {name}: ref {e_ref:.2e} ort {ort_text}")
    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
