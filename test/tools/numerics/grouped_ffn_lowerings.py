#!/usr/bin/env python3
"""The tiled grouped_ffn lowering against the reference lowering, for every
expert form, on random data.

One MLIR module holds a moe.grouped_ffn function per case: every element-wise
activation (relu, gelu_tanh, gelu_erf, silu, identity), swiglu interleaved
and concatenated (default and gpt-oss alpha/beta/limit), fc3 gates, with
and without biases. The sizes tile
(H = 32, I = 16); offsets leave an expert without rows, a row before
offsets[0] and a padding row at the end (those must be exactly zero). The
module is lowered with `moe-opt --moe-cpu-to-llvm` (optionally after
`--convert-moe-grouped-ffn-to-tiled=OPTIONS`) and with
`--moe-reference-to-llvm`, both run by mlir-runner; prints one line per case
and passes when every case has rel-L2 <= --tol and the zero rows are zero.

Usage: grouped_ffn_lowerings.py --moe-opt PATH --mlir-runner PATH
           --runner-libs DIR [--tiling OPTIONS] [--seed N] [--tol 1e-5]
"""

import argparse
import os
import re
import subprocess
import sys

import numpy as np

ROWS, HIDDEN, INTER, EXPERTS = 13, 32, 16, 3
OFFSETS = [1, 6, 6, 12]  # row 0 and row 12 belong to no expert

# name: (activation attribute, fc1 rows per unit, fc3, biases)
CASES = {
    "relu_bias": ("kind = relu", 1, False, True),
    "gelu_tanh": ("kind = gelu_tanh", 1, False, False),
    "gelu_erf_bias": ("kind = gelu_erf", 1, False, True),
    "silu_fc3_bias": ("kind = silu", 1, True, True),
    "identity_fc3": ("kind = identity", 1, True, False),
    "swiglu_interleaved": ("kind = swiglu", 2, False, False),
    "swiglu_interleaved_gptoss_bias":
        ("kind = swiglu, alpha = 1.702, beta = 1.0, limit = 0.6", 2, False, True),
    "swiglu_concatenated_bias":
        ("kind = swiglu, layout = concatenated", 2, False, True),
    "swiglu_concatenated_gptoss":
        ("kind = swiglu, layout = concatenated, alpha = 1.702, beta = 1.0, "
         "limit = 0.6", 2, False, False),
}


def literal(a):
    return np.array2string(a, separator=", ", threshold=sys.maxsize,
                           formatter={"float_kind": lambda v: f"{v:.9e}"}).replace("\n", "")


def tensor_type(shape, elem="f32"):
    return "tensor<" + "x".join(str(d) for d in shape) + f"x{elem}>"


def build_module(rng):
    funcs, calls = [], []
    rows = rng.standard_normal((ROWS, HIDDEN)).astype(np.float32)
    consts = [f"  %rows = arith.constant dense<{literal(rows)}> : "
              f"{tensor_type(rows.shape)}",
              f"  %off = arith.constant dense<{OFFSETS}> : tensor<{len(OFFSETS)}xi32>"]
    for name, (act, f, fc3, bias) in CASES.items():
        # In operand order: fc1, fc1 bias, fc2, fc2 bias, fc3, fc3 bias.
        shapes = {"1": (f * INTER, HIDDEN), "2": (HIDDEN, INTER), "3": (INTER, HIDDEN)}
        weights = {}
        for i in ("1", "2", "3") if fc3 else ("1", "2"):
            rows_i, k = shapes[i]
            weights["w" + i] = rng.standard_normal((EXPERTS, rows_i, k)) / np.sqrt(k)
            if bias:
                weights["b" + i] = rng.standard_normal((EXPERTS, rows_i)) * 0.1
        weights = {k: v.astype(np.float32) for k, v in weights.items()}
        for k, v in weights.items():
            consts.append(f"  %{name}_{k} = arith.constant dense<{literal(v)}> : "
                          f"{tensor_type(v.shape)}")
        args = ["%rows", "%off"] + [f"%{k}" for k in weights]
        types = [tensor_type(rows.shape), f"tensor<{len(OFFSETS)}xi32>"] + \
            [tensor_type(v.shape) for v in weights.values()]
        params = ", ".join(f"{a}: {t}" for a, t in zip(args, types))
        operands = "%rows, %off " + " ".join(
            f"fc{i}(%w{i}, %b{i})" if bias else f"fc{i}(%w{i})"
            for i in ((1, 2, 3) if fc3 else (1, 2)))
        out = tensor_type(rows.shape)
        funcs.append(
            f"func.func @{name}({params}) -> {out} {{\n"
            f"  %y = moe.grouped_ffn {operands} {{activation = #moe.activation<{act}>}}"
            f" : ({', '.join(types)}) -> {out}\n"
            f"  return %y : {out}\n}}")
        call_args = ", ".join(["%rows", "%off"] + [f"%{name}_{k}" for k in weights])
        calls.append(
            f"  %{name} = call @{name}({call_args}) : ({', '.join(types)}) -> {out}\n"
            f"  %{name}_buf = bufferization.to_buffer %{name} : {out} to "
            f"memref<{ROWS}x{HIDDEN}xf32>\n"
            f"  %{name}_any = memref.cast %{name}_buf : memref<{ROWS}x{HIDDEN}xf32> "
            f"to memref<*xf32>\n"
            f"  call @printMemrefF32(%{name}_any) : (memref<*xf32>) -> ()")
    main = ("func.func @main() {\n" + "\n".join(consts) + "\n" + "\n".join(calls) +
            "\n  return\n}")
    return ("func.func private @printMemrefF32(memref<*xf32>)\n\n" +
            "\n\n".join(funcs) + "\n\n" + main + "\n")


def run(module, passes, args):
    lowered = subprocess.run([args.moe_opt] + passes, input=module, text=True,
                             capture_output=True, check=True).stdout
    libs = [os.path.join(args.runner_libs, lib) for lib in
            ("libmlir_c_runner_utils.so", "libmlir_runner_utils.so", "libomp.so")]
    out = subprocess.run([args.mlir_runner, "-e", "main", "-entry-point-result=void",
                          "-shared-libs=" + ",".join(libs)],
                         input=lowered, text=True, capture_output=True, check=True).stdout
    blocks = out.split("Unranked Memref")[1:]
    results = []
    for block in blocks:
        numbers = re.findall(r"[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf)",
                             block.split("data =", 1)[1])
        results.append(np.array([float(v) for v in numbers]).reshape(ROWS, HIDDEN))
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moe-opt", required=True)
    ap.add_argument("--mlir-runner", required=True)
    ap.add_argument("--runner-libs", required=True)
    ap.add_argument("--tiling", default=None,
                    help="options of convert-moe-grouped-ffn-to-tiled run first")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--tol", type=float, default=1e-5)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    print(f"seed {seed} (rerun with --seed {seed})")
    module = build_module(np.random.default_rng(seed))

    tiled_passes = ["--moe-cpu-to-llvm"]
    if args.tiling is not None:
        tiled_passes.insert(0, f"--convert-moe-grouped-ffn-to-tiled={args.tiling}")
    # Every case must take the tiled lowering (with the given options): no
    # grouped_ffn is left for the reference lowering.
    tiled_only = tiled_passes[:-1] or ["--convert-moe-grouped-ffn-to-tiled"]
    tensor_level = subprocess.run([args.moe_opt] + tiled_only, input=module,
                                  text=True, capture_output=True, check=True).stdout
    if "moe.grouped_ffn" in tensor_level:
        print("FAIL: a grouped_ffn took the reference lowering")
        return 1

    tiled = run(module, tiled_passes, args)
    reference = run(module, ["--moe-reference-to-llvm"], args)
    owned = np.zeros(ROWS, bool)
    owned[OFFSETS[0]:OFFSETS[-1]] = True
    failures = 0
    for name, y, ref in zip(CASES, tiled, reference):
        err = np.linalg.norm(y - ref) / max(np.linalg.norm(ref), 1e-30)
        zeros = not np.any(y[~owned])
        ok = err <= args.tol and zeros and np.all(np.isfinite(y))
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'} {name}: rel-L2 {err:.2e}"
              f"{'' if zeros else ', non-zero rows outside the experts'}")
    print(f"{len(CASES) - failures}/{len(CASES)} cases passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
