#!/usr/bin/env python3
"""Runs a model's CUDA artifact on the GPU and checks it against independent
oracles on fresh random inputs: the CPU artifact of the same model,
onnxruntime (when it can run the model) and, for a one-node
com.microsoft.MoE model, the float64 numpy reference
(examples/moe_reference.py).

    check_cuda_artifact.py MODEL.onnx --moe-compile PATH [--arch sm_90a]
        [--tokens 1,7,64] [--dim NAME=V ...] [--seed N] [--rtol R]
        [--precision f32|bf16|f16]
    check_cuda_artifact.py MODEL.onnx --cuda-artifact MODEL_CUDA.so ...

The second form checks an artifact built elsewhere (a GPU machine without
moe-compile: build it here, carry it there), against onnxruntime and the
float64 reference only.

Symbolic dims: the first one takes each --tokens value, --dim fixes others.
Prints one line per case with the relative L2 errors; exits 1 when one is
above --rtol (default by --precision: f32 1e-4, the same arithmetic as the
CPU path up to summation order; bf16 2e-2 and f16 3e-3, tensor-core operands
rounded once; see docs/CUDA.md). With --precision bf16/f16 and
--moe-compile, the GPU's output is also compared with the CPU emulation of
the same lowering (--gpu-lowering-on-cpu), rel-L2 <= 1e-3.
"""

import argparse
import os
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "examples"))

import moe_compiler as mc  # noqa: E402
from moe_reference import rel_l2  # noqa: E402


def float64_reference(model, feeds):
    """The numpy float64 reference, for a one-node MoE model (else None)."""
    nodes = model.graph.node
    if len(nodes) != 1 or nodes[0].op_type != "MoE":
        return None
    import check_moe
    return check_moe.reference(model, feeds[nodes[0].input[0]],
                               feeds[nodes[0].input[1]])


def onnxruntime_reference(path, feeds):
    try:
        import onnxruntime as ort
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        return session.run(None, feeds)[0]
    except Exception as e:  # a contrib op variant onnxruntime lacks
        print(f"  (onnxruntime cannot run it: {str(e).splitlines()[0]})")
        return None


# rel-L2 tolerance per --precision: f32 differs from the references by the
# summation order only; bf16/f16 round every product operand once (rows,
# weights, activation): about 5e-3 / 6e-4 expected, 4x margin.
RTOL = {"f32": 1e-4, "bf16": 2e-2, "f16": 3e-3}
# The GPU against the CPU emulation of the same 16-bit lowering
# (--gpu-lowering-on-cpu): the same roundings, only f32 summation order (and
# the rare 16-bit rounding it flips) differ.
EMULATION_RTOL = 1e-3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--moe-compile")
    ap.add_argument("--cuda-artifact",
                    help="a CUDA model.so built elsewhere (no CPU comparison)")
    ap.add_argument("--arch", default="sm_90a")
    ap.add_argument("--tokens", default="1,7,64")
    ap.add_argument("--dim", action="append", default=[])
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--rtol", type=float, default=None,
                    help="default: the precision's tolerance (docs/CUDA.md)")
    ap.add_argument("--precision", choices=sorted(RTOL), default="f32",
                    help="the artifact's --precision (bf16/f16: tensor cores)")
    args = ap.parse_args()
    if args.rtol is None:
        args.rtol = RTOL[args.precision]

    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    rng = np.random.default_rng(seed)
    fixed = dict(d.split("=") for d in args.dim)
    model = onnx.load(args.model)
    print(f"model {args.model}, seed {seed}, arch {args.arch}")

    if not args.moe_compile and not args.cuda_artifact:
        ap.error("give --moe-compile or --cuda-artifact")
    with tempfile.TemporaryDirectory() as tmp:
        cpu_session = emulation = None
        precision = [f"--precision={args.precision}"]
        if args.cuda_artifact:
            gpu = args.cuda_artifact
        else:
            cpu_session = mc.InferenceSession(mc.compile(
                args.model, os.path.join(tmp, "cpu.so"),
                moe_compile=args.moe_compile))
            if args.precision != "f32":
                emulation = mc.InferenceSession(mc.compile(
                    args.model, os.path.join(tmp, "emulation.so"),
                    moe_compile=args.moe_compile,
                    extra_args=["--gpu-lowering-on-cpu", *precision]))
            gpu = mc.compile(args.model, os.path.join(tmp, "cuda.so"),
                             target="cuda", moe_compile=args.moe_compile,
                             extra_args=[f"--cuda-arch={args.arch}", *precision])
        gpu_session = mc.InferenceSession(gpu)
        assert gpu_session.device_kind == "cuda", gpu_session.device_kind
        worst = 0.0
        for tokens in (int(t) for t in args.tokens.split(",")):
            feeds = {}
            for arg in gpu_session.get_inputs():
                symbols = [d for d in arg.shape if isinstance(d, str)]
                shape = [int(fixed.get(d, tokens if d == symbols[0] else 1))
                         if isinstance(d, str) else d for d in arg.shape]
                feeds[arg.name] = rng.standard_normal(shape).astype(arg.dtype)
            ours = gpu_session.run(None, feeds)[0]
            errors = {}
            if cpu_session:
                errors["cpu artifact"] = rel_l2(ours, cpu_session.run(None, feeds)[0])
            for name, ref in (("float64", float64_reference(model, feeds)),
                              ("onnxruntime", onnxruntime_reference(args.model, feeds))):
                if ref is not None:
                    errors[name] = rel_l2(ours, ref)
            worst = max(worst, *errors.values())
            if emulation:
                e = rel_l2(ours, emulation.run(None, feeds)[0])
                errors["cpu emulation"] = e
                if e > EMULATION_RTOL:
                    worst = max(worst, args.rtol * e / EMULATION_RTOL)
            print(f"  tokens {tokens}: " + ", ".join(
                f"rel-L2 vs {k} {v:.2e}" for k, v in errors.items()))
    if worst > args.rtol:
        sys.exit(f"check_cuda_artifact.py: error {worst:.2e} above {args.rtol:.0e}")
    print("ok")


if __name__ == "__main__":
    main()
