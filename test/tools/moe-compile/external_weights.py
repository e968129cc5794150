#!/usr/bin/env python3
"""External weights (moe-compile --external-weights) end to end.

Builds com.microsoft.MoE models with python/moe_compiler/models.py, saved
with their weights in an external data file (as large models are), compiles
each twice (weights embedded / external), binds the external artifact's
weights from the ONNX file (InferenceSession(weights=...)), and compares its
outputs on fresh random inputs with the embedded artifact (rel-L2 <= 1e-6:
same arithmetic) and with onnxruntime or the float64 reference
(rel-L2 <= 1e-4). Also: the external artifact is much smaller (--min-ratio),
set_weight with borrowed memory, binding other weights again, and the
session's refusals. Prints one line per check and "ALL OK".

With --target=cuda (needs a GPU) the external artifact is a CUDA one
(--cuda-arch), compared with the embedded CPU artifact at rel-L2 <= 1e-4.

Usage: external_weights.py --moe-compile PATH --workdir DIR [--seed N]
           [--tokens 1,7,64] [--min-ratio R] [--model large|small|all]
           [--target cpu|cuda] [--cuda-arch sm_80]
"""

import argparse
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path[:0] = [os.path.join(ROOT, "python"), os.path.join(ROOT, "examples")]

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

import moe_compiler as mc  # noqa: E402
from moe_compiler import models  # noqa: E402
from moe_reference import moe_reference, rel_l2  # noqa: E402

TOL_SAME, TOL = 1e-6, 1e-4
failures = []


def check(ok, line):
    print(("ok   " if ok else "FAIL ") + line)
    if not ok:
        failures.append(line)


def save_external(model, path):
    """Saves `model` with every initializer of at least 1 KiB in
    <path>.data, beside it."""
    onnx.checker.check_model(model)
    onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location=os.path.basename(path) + ".data", size_threshold=1024)
    return path


def specs(which, rng):
    """(tag, MoESpec, whether onnxruntime runs it): a model the tiled CPU
    lowering takes (H, I multiples of 16; weights of ~12 MB, for the size
    ratio), and a small one with fc3 the reference lowering takes."""
    out = []
    if which in ("large", "all"):
        out.append(("large", models.MoESpec("large", 256, 512, 8, 2,
                                            variant="swiglu-interleaved",
                                            bias=True, rng=rng), True))
    if which in ("small", "all"):
        out.append(("small", models.MoESpec("small", 16, 24, 4, 2, variant="silu",
                                            bias=True, fc3=True, rng=rng), False))
    return out


def torch_block(args, rng):
    """The PyTorch-exported MoE block (MatMul per expert, initializers named
    after the module's parameters): external weights give the embedded
    artifact's outputs."""
    onnx_path = os.path.join(ROOT, "test", "Target", "ONNX", "Inputs",
                             "torch_moe_block_dynamo.onnx")
    embedded = mc.compile(onnx_path, os.path.join(args.workdir, "torch.so"),
                          moe_compile=args.moe_compile)
    external = mc.compile(onnx_path, os.path.join(args.workdir, "torch-ext.so"),
                          moe_compile=args.moe_compile, external_weights=True)
    s_emb = mc.InferenceSession(embedded)
    s_ext = mc.InferenceSession(external, weights=onnx_path)
    check(len(s_ext.get_weights()) == 15,
          f"torch block: {len(s_ext.get_weights())} external weights")
    for seq in (1, 5):
        feed = {"hidden_states": rng.standard_normal((2, seq, 16)).astype(np.float32)}
        e = rel_l2(s_ext.run(None, feed)[0], s_emb.run(None, feed)[0])
        check(e <= TOL_SAME, f"torch block seq={seq}: external vs embedded rel-L2 {e:.2e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moe-compile", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--tokens", default="1,7,64")
    ap.add_argument("--min-ratio", type=float, default=10.0)
    ap.add_argument("--model", default="all", choices=("large", "small", "all"))
    ap.add_argument("--target", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--cuda-arch", default="sm_80")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    print(f"seed {seed}")
    rng = np.random.default_rng(seed)
    tokens = [int(t) for t in args.tokens.split(",")]

    for tag, spec, with_ort in specs(args.model, rng):
        onnx_path = save_external(models.single_moe_model(spec),
                                  os.path.join(args.workdir, f"{tag}.onnx"))
        embedded = mc.compile(onnx_path, os.path.join(args.workdir, f"{tag}.so"),
                              moe_compile=args.moe_compile)
        external = mc.compile(onnx_path, os.path.join(args.workdir, f"{tag}-ext.so"),
                              moe_compile=args.moe_compile, external_weights=True,
                              target=args.target,
                              extra_args=[f"--cuda-arch={args.cuda_arch}"]
                              if args.target == "cuda" else [])
        tol_same = TOL_SAME if args.target == "cpu" else TOL
        size_e, size_x = os.path.getsize(embedded), os.path.getsize(external)
        if tag == "large":
            check(size_e >= args.min_ratio * size_x,
                  f"{tag}: artifact {size_x} bytes with external weights, "
                  f"{size_e} embedded (ratio {size_e / size_x:.1f} >= {args.min_ratio})")
        names = sorted(w.name for w in mc.InferenceSession(external).get_weights())
        want = sorted(n for n in (f"{tag}_fc1_w", f"{tag}_fc1_b", f"{tag}_fc2_w",
                                  f"{tag}_fc2_b", f"{tag}_fc3_w", f"{tag}_fc3_b")
                      if getattr(spec, n[len(tag) + 1:]) is not None
                      and getattr(spec, n[len(tag) + 1:]).nbytes >= 1024)
        check(names == want, f"{tag}: external weights {names}")

        s_emb = mc.InferenceSession(embedded)
        s_ext = mc.InferenceSession(external, weights=onnx_path)
        check(s_ext.unbound_weights() == [], f"{tag}: all weights bound from the .onnx")
        ort_sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"]) \
            if with_ort else None
        for t in tokens:
            x = rng.uniform(-1, 1, (t, spec.H)).astype(np.float32)
            r = rng.standard_normal((t, spec.E)).astype(np.float32)
            feed = {"input": x, "router_probs": r}
            (y_ext,) = s_ext.run(None, feed)
            (y_emb,) = s_emb.run(None, feed)
            e = rel_l2(y_ext, y_emb)
            check(e <= tol_same, f"{tag} T={t}: external vs embedded rel-L2 {e:.2e}")
            if ort_sess is not None:
                (y_ort,) = ort_sess.run(None, feed)
                e = rel_l2(y_ext, y_ort)
                check(e <= TOL, f"{tag} T={t}: external vs onnxruntime rel-L2 {e:.2e}")
            y_ref = moe_reference(x.astype(np.float64), r.astype(np.float64),
                                  **spec.reference_kwargs())
            e = rel_l2(y_ext, y_ref)
            check(e <= TOL, f"{tag} T={t}: external vs float64 reference rel-L2 {e:.2e}")

        # Other weights, borrowed: the outputs follow them.
        other = {"fc1_w": spec.fc1_w * -0.5, "fc2_w": spec.fc2_w[:, ::-1, :] * 2}
        for key, value in other.items():
            s_ext.set_weight(f"{tag}_{key}", np.ascontiguousarray(value), copy=False)
            setattr(spec, key, np.ascontiguousarray(value))
        x = rng.uniform(-1, 1, (5, spec.H)).astype(np.float32)
        r = rng.standard_normal((5, spec.E)).astype(np.float32)
        (y_ext,) = s_ext.run(None, {"input": x, "router_probs": r})
        y_ref = moe_reference(x.astype(np.float64), r.astype(np.float64),
                              **spec.reference_kwargs())
        e = rel_l2(y_ext, y_ref)
        check(e <= TOL, f"{tag}: weights bound again (borrowed) rel-L2 {e:.2e}")

        # Refusals, through the session. Weights belong to the loaded library
        # (sessions of one file share them): a fresh copy has none bound.
        fresh_path = os.path.join(args.workdir, f"{tag}-ext-fresh.so")
        shutil.copyfile(external, fresh_path)
        fresh = mc.InferenceSession(fresh_path)
        check(mc.InferenceSession(external).unbound_weights() == [],
              f"{tag}: a second session of the same file shares its weights")
        w0 = fresh.get_weights()[0]
        for what, call in (
                ("unknown name", lambda: fresh.set_weight("nope", np.zeros(3, np.float32))),
                ("wrong shape", lambda: fresh.set_weight(w0.name, np.zeros(3, np.float32))),
                ("wrong dtype", lambda: fresh.set_weight(w0.name, np.zeros(w0.shape))),
                ("unbound", lambda: fresh.run(None, {"input": x, "router_probs": r}))):
            try:
                call()
                check(False, f"{tag}: {what} accepted")
            except mc.MoEInvalidArgument as err:
                print(f"refused {what}: {err}")

    if args.model == "all" and args.target == "cpu":
        torch_block(args, rng)
    print("ALL OK" if not failures else f"{len(failures)} FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
