#!/usr/bin/env python3
"""moe_compiler refuses bad use with a clear message: one line per case,
`<case>: <ExceptionType>: <message>`, checked by FileCheck.

Usage: refusals.py --moe-compile PATH --workdir DIR
"""

import argparse
import os
import sys

import numpy as np
from onnx import TensorProto, helper

import moe_compiler as mc
from moe_compiler import models


def attempt(case, fn):
    try:
        fn()
    except Exception as e:  # the point is the type and the message
        first = str(e).strip().splitlines()
        print(f"{case}: {type(e).__name__}: {' | '.join(first)}")
        return
    print(f"{case}: NO ERROR")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moe-compile", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    rng = np.random.default_rng()

    spec = models.MoESpec("moe", 16, 24, 4, 2, "silu", rng=rng)
    path = models.save(models.single_moe_model(spec),
                       os.path.join(args.workdir, "moe.onnx"))
    sess = mc.InferenceSession(mc.compile(path, moe_compile=args.moe_compile))
    x = rng.standard_normal((3, 16)).astype(np.float32)
    r = rng.standard_normal((3, 4)).astype(np.float32)

    attempt("unknown input", lambda: sess.run(None, {"input": x, "router_probs": r, "bogus": x}))
    attempt("missing input", lambda: sess.run(None, {"input": x}))
    attempt("wrong dtype", lambda: sess.run(None, {"input": x.astype(np.float64), "router_probs": r}))
    attempt("wrong dtype int", lambda: sess.run(None, {"input": x.astype(np.int64), "router_probs": r}))
    attempt("wrong rank", lambda: sess.run(None, {"input": x[None], "router_probs": r}))
    attempt("wrong static dim", lambda: sess.run(None, {"input": x[:, :8], "router_probs": r}))
    attempt("symbolic dims disagree", lambda: sess.run(None, {"input": x, "router_probs": r[:2]}))
    attempt("unknown output", lambda: sess.run(["nope"], {"input": x, "router_probs": r}))
    attempt("feeds not a dict", lambda: sess.run(None, [x, r]))
    attempt("not convertible", lambda: sess.run(None, {"input": "text", "router_probs": r}))
    # Still usable after the refusals.
    (y,) = sess.run(None, {"input": x, "router_probs": r})
    print("after refusals: output", list(y.shape))

    attempt("missing library", lambda: mc.InferenceSession(os.path.join(args.workdir, "none.so")))
    attempt("not a model library", lambda: mc.InferenceSession(_libm()))

    # The runtime's own check and moe_last_error(), with the Python-side
    # check of symbolic dimensions bypassed.
    sess._check_symbolic = lambda arrays: None
    attempt("runtime refusal", lambda: sess.run(None, {"input": x, "router_probs": r[:2]}))

    bad = helper.make_model(helper.make_graph(
        [helper.make_node("Hardmax", ["a"], ["b"])], "bad",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("b", TensorProto.FLOAT, [2, 3])]),
        opset_imports=[helper.make_opsetid("", 17)])
    bad_path = os.path.join(args.workdir, "bad.onnx")
    with open(bad_path, "wb") as f:
        f.write(bad.SerializeToString())
    attempt("compile unsupported op", lambda: mc.compile(bad_path, moe_compile=args.moe_compile))
    attempt("compile missing model", lambda: mc.compile(os.path.join(args.workdir, "no.onnx"),
                                                        moe_compile=args.moe_compile))
    attempt("compile bad emit", lambda: mc.compile(path, emit="exe", moe_compile=args.moe_compile))
    attempt("compile no executable", lambda: mc.compile(path, moe_compile="/nonexistent/moe-compile"))
    return 0


def _libm():
    import ctypes.util
    name = ctypes.util.find_library("m") or "libm.so.6"
    for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return name


if __name__ == "__main__":
    sys.exit(main())
