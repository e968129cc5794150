#!/usr/bin/env python3
"""Numerical check of compiled com.microsoft.MoE models over every MISSION §4
attribute combination.

One ONNX model per input rank holds one MoE node per combination of
activation (relu, gelu, silu, identity, swiglu interleaved / concatenated /
separate), biases on/off, fc3 on/off (non-swiglu), normalize on/off and
default / non-default swiglu alpha, beta, limit, all on the same `input` and
`router_probs`; it is compiled once with moe-compile and run through
moe_compiler.InferenceSession for each token count, on fresh random data.
Every output is compared with examples/moe_reference.py (float64), always,
and with onnxruntime's CPU MoE where that kernel supports the variant (no
fc3, interleaved swiglu only). Passes when rel-L2 <= --tol for all.

The default sizes (H=16, I=24) take the reference lowering of the expert
FFNs; `--hidden 32 --inter 48` (multiples of the vector width) take the
tiled vector lowering with its fused activation epilogues.

Usage: moe_numerics.py --moe-compile PATH --workdir DIR [--rank 2|3]
           [--model-only (write the model, compile nothing)]
           [--tokens 1,7,64] [--seed N] [--tol 1e-4] [--hidden H] [--inter I]
           [--compile-arg ARG ...] [--discrimination D]
"""

import argparse
import itertools
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path[:0] = [os.path.join(ROOT, "python"), os.path.join(ROOT, "examples")]

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

import moe_compiler as mc  # noqa: E402
from moe_compiler import models  # noqa: E402
from moe_reference import moe_reference, rel_l2  # noqa: E402

E, K = 6, 2
GPT_OSS = dict(alpha=1.702, beta=1.0, limit=0.6)  # the limit clamps often here


def combinations():
    """(name, MoESpec kwargs) for every attribute combination."""
    for act in ("relu", "gelu", "silu", "identity"):
        for bias, fc3, norm in itertools.product((True, False), repeat=3):
            yield (f"{act}_b{int(bias)}_fc3{int(fc3)}_n{int(norm)}",
                   dict(variant=act, bias=bias, fc3=fc3, normalize=norm))
    for variant, tag in (("swiglu-interleaved", "swiglu_il"),
                         ("swiglu-concatenated", "swiglu_cat"),
                         ("swiglu-separate", "swiglu_sep")):
        for bias, norm, custom in itertools.product((True, False), repeat=3):
            params = GPT_OSS if custom else {}
            yield (f"{tag}_b{int(bias)}_n{int(norm)}_{'gptoss' if custom else 'default'}",
                   dict(variant=variant, bias=bias, normalize=norm, **params))


def combinations_per_variant():
    """One combination per activation variant (with biases, fc3 on every
    other non-swiglu variant, normalize alternating, gpt-oss swiglu
    parameters): the rank-3 input's coverage."""
    picks = {"relu_b1_fc31_n1", "gelu_b1_fc30_n0", "silu_b1_fc31_n0",
             "identity_b0_fc30_n1", "swiglu_il_b1_n1_gptoss",
             "swiglu_cat_b1_n0_gptoss", "swiglu_sep_b0_n1_gptoss"}
    return [(n, kw) for n, kw in combinations() if n in picks]


def ort_supports(spec):
    """What onnxruntime 1.3x's CPU MoE kernel implements."""
    return not spec.fc3 and spec.fusion in (None, 1)


def token_shape(t, rank, hidden):
    if rank == 2:
        return (t, hidden)
    b = 4 if t % 4 == 0 and t > 4 else 1
    return (b, t // b, hidden)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moe-compile")
    ap.add_argument("--model-only", action="store_true",
                    help="write matrix<rank>.onnx into --workdir and stop "
                         "(for compile-only tests, e.g. CUDA artifacts)")
    ap.add_argument("--compile-arg", action="append", default=[],
                    help="extra moe-compile argument (repeatable)")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--rank", type=int, choices=(2, 3), default=2)
    ap.add_argument("--tokens", default="1,7,64")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--inter", type=int, default=24)
    ap.add_argument("--coverage", choices=("all", "per-variant"), default="all",
                    help="every combination, or one per activation variant")
    ap.add_argument("--discrimination", type=float, default=None,
                    help="also require rel-L2 >= this against the reference "
                         "of a wrong expert assignment (router logits rolled "
                         "by one expert): the tolerance is not trivially loose")
    args = ap.parse_args()
    if not args.model_only and not args.moe_compile:
        ap.error("--moe-compile is required unless --model-only")
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    print(f"seed {seed} (rerun with --seed {seed})")
    rng = np.random.default_rng(seed)
    ort.set_default_logger_severity(3)
    os.makedirs(args.workdir, exist_ok=True)

    specs = [models.MoESpec(name, args.hidden, args.inter, E, K, rng=rng, **kw)
             for name, kw in (combinations() if args.coverage == "all"
                              else combinations_per_variant())]
    model = models.multi_moe_model(specs, rank3=args.rank == 3,
                                   name=f"moe_matrix_rank{args.rank}")
    path = models.save(model, os.path.join(args.workdir, f"matrix{args.rank}.onnx"))
    if args.model_only:
        print(f"wrote {len(specs)} MoE nodes to {path}")
        return
    start = time.time()
    lib = mc.compile(path, moe_compile=args.moe_compile,
                     extra_args=args.compile_arg)
    print(f"compiled {len(specs)} MoE nodes (rank-{args.rank} input) in "
          f"{time.time() - start:.1f} s")
    sess = mc.InferenceSession(lib)
    ort_sessions = {}
    for s in specs:
        if ort_supports(s):
            m = models.single_moe_model(s, rank3=args.rank == 3)
            ort_sessions[s.name] = ort.InferenceSession(
                m.SerializeToString(), providers=["CPUExecutionProvider"])

    worst = {s.name: [0.0, None] for s in specs}
    closest_wrong = float("inf")
    failures = []
    for t in (int(v) for v in args.tokens.split(",")):
        x = rng.standard_normal(token_shape(t, args.rank, args.hidden)).astype(np.float32)
        r = (rng.standard_normal((t, E)) * 2).astype(np.float32)
        outs = sess.run(None, {"input": x, "router_probs": r})
        for s, y in zip(specs, outs):
            if y.shape != x.shape or y.dtype != np.float32:
                failures.append(f"{s.name} T={t}: output {y.dtype}{list(y.shape)}")
                continue
            ref = moe_reference(x, r, **s.reference_kwargs())
            e_ref = rel_l2(y, ref)
            worst[s.name][0] = max(worst[s.name][0], e_ref)
            if not e_ref <= args.tol:
                failures.append(f"{s.name} T={t}: rel-L2 vs reference {e_ref:.3g}")
            if args.discrimination is not None:
                wrong = moe_reference(x, np.roll(r, 1, axis=1),
                                      **s.reference_kwargs())
                e_wrong = rel_l2(y, wrong)
                closest_wrong = min(closest_wrong, e_wrong)
                if not e_wrong >= args.discrimination:
                    failures.append(f"{s.name} T={t}: rel-L2 vs a wrong expert "
                                    f"assignment only {e_wrong:.3g}")
            if s.name in ort_sessions:
                o = ort_sessions[s.name].run(None, {"input": x, "router_probs": r})[0]
                e_ort = rel_l2(y, o)
                prev = worst[s.name][1] or 0.0
                worst[s.name][1] = max(prev, e_ort)
                if not e_ort <= args.tol:
                    failures.append(f"{s.name} T={t}: rel-L2 vs onnxruntime {e_ort:.3g}")

    for s in specs:
        e_ref, e_ort = worst[s.name]
        ok = not any(f.startswith(s.name + " ") for f in failures)
        ort_text = f"{e_ort:.2e}" if e_ort is not None else "n/a (unsupported by onnxruntime CPU)"
        print(f"{'PASS' if ok else 'FAIL'} rank{args.rank} {s.name}: "
              f"ref {e_ref:.2e} ort {ort_text}")
    if args.discrimination is not None:
        print(f"closest wrong expert assignment: rel-L2 {closest_wrong:.2e} "
              f"(required >= {args.discrimination})")
    for f in failures:
        print("FAILED:", f)
    print(f"{len(specs) - len({f.split()[0] for f in failures})}/{len(specs)} "
          f"variants passed (tokens {args.tokens}, tol {args.tol})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
