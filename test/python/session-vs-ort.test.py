#!/usr/bin/env python3
"""moe_compiler.compile + InferenceSession against onnxruntime on fresh
random data: a fused com.microsoft.MoE model (swiglu, interleaved) and a
small standard-op model with two outputs of different dtypes.

Usage: session_vs_ort.py --moe-compile PATH --workdir DIR [--seed N]
"""

import argparse
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

import moe_compiler as mc
from moe_compiler import models


def rel_l2(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def mlp_model(rng):
    """y = softmax(relu(x @ W + b)); idx = TopK(y, 2) indices."""
    w = numpy_helper.from_array(rng.standard_normal((8, 5)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "b")
    k = numpy_helper.from_array(np.array([2], np.int64), "k")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["xw"]),
             helper.make_node("Add", ["xw", "b"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Softmax", ["r"], ["y"], axis=-1),
             helper.make_node("TopK", ["y", "k"], ["top", "idx"], axis=-1)]
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5]),
         helper.make_tensor_value_info("idx", TensorProto.INT64, ["N", 2])],
        initializer=[w, b, k])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def check(name, ok, detail=""):
    print(f"{'ok' if ok else 'FAIL'}: {name} {detail}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moe-compile", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    print(f"seed {seed}")
    rng = np.random.default_rng(seed)
    ort.set_default_logger_severity(3)
    os.makedirs(args.workdir, exist_ok=True)
    good = True

    # --- fused MoE ---------------------------------------------------------
    spec = models.MoESpec("moe", 32, 48, 8, 2, "swiglu-interleaved", rng=rng,
                          alpha=1.702, beta=1.0, limit=7.0)
    model = models.single_moe_model(spec)
    onnx_path = models.save(model, os.path.join(args.workdir, "moe.onnx"))
    so = mc.compile(onnx_path, moe_compile=args.moe_compile)
    good &= check("compile returns the .so path", so == os.path.join(args.workdir, "moe.so")
                  and os.path.isfile(so), so)
    sess = mc.InferenceSession(so)
    ins, outs = sess.get_inputs(), sess.get_outputs()
    print("inputs:", ins)
    print("outputs:", outs)
    good &= check("input signature",
                  [(i.name, i.shape, i.type) for i in ins] ==
                  [("input", ["T", 32], "tensor(float)"),
                   ("router_probs", ["T", 8], "tensor(float)")])
    good &= check("output signature",
                  [(o.name, o.shape, o.type) for o in outs] ==
                  [("output", ["T", 32], "tensor(float)")])
    ref_sess = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"])
    for t in (1, 5, 33):
        feeds = {"input": rng.standard_normal((t, 32)).astype(np.float32),
                 "router_probs": rng.standard_normal((t, 8)).astype(np.float32)}
        (ours,) = sess.run(None, feeds)
        (ref,) = ref_sess.run(None, feeds)
        err = rel_l2(ours, ref)
        good &= check(f"MoE T={t} vs onnxruntime", ours.shape == ref.shape and
                      ours.dtype == np.float32 and err <= 1e-5, f"rel-L2 {err:.2e}")
    # Non-contiguous input and a Python list are converted.
    x = rng.standard_normal((32, 6)).astype(np.float32).T  # (6, 32), F-order
    r = rng.standard_normal((6, 8)).astype(np.float32).tolist()
    (ours,) = sess.run(["output"], {"input": x, "router_probs": r})
    (ref,) = ref_sess.run(None, {"input": np.ascontiguousarray(x),
                                 "router_probs": np.asarray(r, np.float32)})
    good &= check("non-contiguous / list inputs", rel_l2(ours, ref) <= 1e-5)
    sess.set_num_threads(2)
    good &= check("set_num_threads", sess.get_num_threads() == 2)
    mc.set_num_threads(1)
    good &= check("module set_num_threads", sess.get_num_threads() == 1)
    (again,) = sess.run(None, {"input": x, "router_probs": r})
    good &= check("same result with 1 thread", np.array_equal(again, ours))

    # --- standard ops, two outputs ------------------------------------------
    model = mlp_model(rng)
    onnx_path = os.path.join(args.workdir, "mlp.onnx")
    onnx.save(model, onnx_path)
    so = mc.compile(onnx_path, os.path.join(args.workdir, "custom-name.so"),
                    moe_compile=args.moe_compile)
    sess = mc.InferenceSession(so)
    good &= check("two outputs", [(o.name, o.type) for o in sess.get_outputs()] ==
                  [("y", "tensor(float)"), ("idx", "tensor(int64)")],
                  str(sess.get_outputs()))
    ref_sess = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"])
    for n in (1, 9):
        feeds = {"x": rng.standard_normal((n, 8)).astype(np.float32)}
        y, idx = sess.run(None, feeds)
        ry, ridx = ref_sess.run(None, feeds)
        good &= check(f"MLP N={n} y", rel_l2(y, ry) <= 1e-5, f"rel-L2 {rel_l2(y, ry):.2e}")
        good &= check(f"MLP N={n} idx", idx.dtype == np.int64 and np.array_equal(idx, ridx))
        (only_idx, only_y) = sess.run(["idx", "y"], feeds)
        good &= check(f"MLP N={n} output_names order",
                      np.array_equal(only_idx, idx) and np.array_equal(only_y, y))
    print("ALL OK" if good else "SOME CHECKS FAILED")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
