#!/usr/bin/env python3
"""CPU benchmark of a com.microsoft.MoE layer: onnxruntime's CPU MoE kernel
vs the artifact moe-compile builds, measured in the same run (MISSION §7).

Cases: mixtral_s (H=1024, I=3584, E=8, k=2, swiglu) and olmoe_s (H=1024,
I=512, E=64, k=8, swiglu), at T = 1, 64, 512 tokens. For each shape the
script writes a com.microsoft.MoE model with random f32 weights (interleaved
swiglu, no biases) into a temporary directory, compiles it once with
moe-compile, and times

  - onnxruntime: InferenceSession on the CPU provider, --threads intra-op
    threads, one warm-up run;
  - ours: `moe-run model.so --bench=N --threads=T` (one warm-up run, median
    of N), in a subprocess with a time limit per case and round
    (--case-timeout): a case that does not finish is reported as "> X ms";

alternately, in --rounds rounds of --runs runs each (so that both see the
same machine: on a shared machine the load changes within seconds); each
side's time is the median of its rounds' medians.

It also measures this machine's practical f32 peak (a large numpy/BLAS
matmul on --threads threads: a proxy for the FMA peak, below the theoretical
one) and read bandwidth (numpy max over a 1 GiB array, one chunk per
thread), and prints a table: median ms of both, the ratio ort/ours (> 1:
ours is faster), our GFLOP/s (2*T*k*(f*I*H + H*I) FLOPs: the activated
experts' GEMMs) and % of the matmul peak, and for T=1 the activated
experts' weight bytes per second. Not a test.

Usage: bench_cpu_moe.py [--quick] [--runs N] [--rounds R] [--threads 2]
           [--case-timeout S] [--cases mixtral_s:1,olmoe_s:512,...]
           [--moe-compile PATH] [--moe-run PATH] [--keep DIR]
"""

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))


def _threads_arg(argv, default=2):
    for i, a in enumerate(argv):
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
    return str(default)


# numpy's BLAS (the peak measurement) uses --threads threads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads_arg(sys.argv[1:])

import numpy as np  # noqa: E402

SHAPES = {  # name: (H, I, E, k)
    "mixtral_s": (1024, 3584, 8, 2),
    "olmoe_s": (1024, 512, 64, 8),
}
TOKENS = (1, 64, 512)


def find_tool(name, given):
    if given:
        return given
    env = os.environ.get(name.upper().replace("-", "_"))
    if env:
        return env
    for candidate in (shutil.which(name), os.path.join(ROOT, "build", "bin", name)):
        if candidate and os.path.isfile(candidate):
            return candidate
    sys.exit(f"bench_cpu_moe.py: error: {name} not found (build it, or pass --{name})")


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        if m:
            return m.group(1).strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def matmul_peak(threads, seconds=3.0):
    """Best GFLOP/s of an n x n f32 matmul over `seconds` (BLAS threads as
    numpy was started with; see main)."""
    n = 2048
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        a @ b
        best = max(best, 2 * n ** 3 / (time.perf_counter() - t) / 1e9)
    return best


def read_bandwidth(threads, gib=1.0, repeats=5):
    """Best GB/s of np.max over a `gib` GiB f32 array, one chunk per thread
    (numpy releases the GIL in the reduction; max is cheaper per byte than
    sum, so closer to a streaming read)."""
    x = np.ones(int(gib * (1 << 30)) // 4, np.float32)
    chunks = np.array_split(x, threads)
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        ts = [threading.Thread(target=np.max, args=(c,)) for c in chunks]
        for th in ts:
            th.start()
        for th in ts:
            th.join()
        best = max(best, x.nbytes / (time.perf_counter() - t) / 1e9)
    del x, chunks
    return best


def flops(shape, t):
    h, i, e, k = shape
    return 2.0 * t * k * (2 * i * h + h * i)  # fused swiglu fc1 is [2I, H]


def activated_weight_bytes(shape, t=1):
    h, i, e, k = shape
    return min(e, t * k) * (2 * i * h + h * i) * 4


def ort_session(model_path, feeds, threads):
    """An onnxruntime CPU session on `threads` intra-op threads, warmed up."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    sess.run(None, feeds)  # warm-up
    return sess


def time_ort(sess, feeds, runs, budget_s):
    """Median ms of up to `runs` runs (fewer when `budget_s` runs out), runs."""
    times, start = [], time.perf_counter()
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t) * 1e3)
        if time.perf_counter() - start > budget_s:
            break
    return statistics.median(times), len(times)


class OursRunner:
    """`moe-run LIB --bench=N`: one warm-up run, median ms of N."""

    def __init__(self, moe_run, lib, inputs, threads):
        self.args = [moe_run, lib] + [f"--input={n}={p}" for n, p in inputs.items()] + \
            [f"--threads={threads}"]

    def time(self, n, limit):
        proc = subprocess.run(self.args + [f"--bench={n}"], capture_output=True,
                              text=True, timeout=limit)
        if proc.returncode != 0:
            raise RuntimeError(f"moe-run failed: {proc.stderr.strip()}")
        return float(re.search(r"median_ms=([0-9.]+)", proc.stdout).group(1))

    def bench(self, runs, timeout_s):
        """(median ms, runs) of up to `runs` runs within `timeout_s`, or
        (None, lower bound ms) when not even two runs fit."""
        start = time.perf_counter()
        try:
            median = self.time(1, timeout_s)  # warm-up + 1 run (+ loading)
        except subprocess.TimeoutExpired:
            return None, timeout_s * 1e3 / 2
        left = timeout_s - (time.perf_counter() - start)
        n = min(runs, int(left / max(median / 1e3, 1e-6)) - 2)  # warm-up, margin
        if n >= 3:
            try:
                return self.time(n, left), n
            except subprocess.TimeoutExpired:
                pass
        return median, 1


def bench_case(make_ort, feeds, ours, runs, rounds, timeout_s):
    """onnxruntime and ours alternately, `rounds` rounds of `runs` runs
    each, so that both see the same machine (on a shared machine the load
    changes within seconds); each side's result is the median of its rounds'
    medians. Each round creates (and warms up) its own onnxruntime session
    and drops it before our runs: its idle threads keep spinning for a while
    and would take our cores. Our time limit is per round. Returns (ort ms,
    ort runs, ours ms or None when a single run did not fit, ours runs or a
    lower bound in ms)."""
    ort_medians, ours_medians, ort_n, ours_n = [], [], 0, 0
    for _ in range(rounds):
        sess = make_ort()
        ort_ms, n = time_ort(sess, feeds, runs, timeout_s)
        del sess
        ort_medians.append(ort_ms)
        ort_n += n
        ours_ms, n = ours.bench(runs, timeout_s)
        if ours_ms is None:  # n is a lower bound in ms
            return statistics.median(ort_medians), ort_n, None, n
        ours_medians.append(ours_ms)
        ours_n += n
    print(f"#   round medians ms: ort {', '.join(f'{m:.2f}' for m in ort_medians)}; "
          f"ours {', '.join(f'{m:.2f}' for m in ours_medians)}", flush=True)
    return (statistics.median(ort_medians), ort_n, statistics.median(ours_medians),
            ours_n)


def make_case(workdir, name, shape, moe_compile):
    from moe_compiler import compile as moe_compile_model
    from moe_compiler import models
    h, i, e, k = shape
    spec = models.MoESpec(name, h, i, e, k, "swiglu-interleaved", bias=False,
                          rng=np.random.default_rng(0))
    path = os.path.join(workdir, f"{name}.onnx")
    models.save(models.single_moe_model(spec), path)
    del spec
    t = time.perf_counter()
    lib = moe_compile_model(path, moe_compile=moe_compile)
    return path, lib, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="5 runs, 30 s per case for ours, T = 1 and 64 only")
    ap.add_argument("--runs", type=int, default=None, help="timed runs (default 10, quick 5)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating rounds of onnxruntime and our runs per case")
    ap.add_argument("--case-timeout", type=float, default=None,
                    help="seconds for ours per case and round (default 60, quick 30)")
    ap.add_argument("--cases", default=None,
                    help="comma-separated shape:T, e.g. mixtral_s:1,olmoe_s:512")
    ap.add_argument("--moe-compile", default=None)
    ap.add_argument("--moe-run", default=None)
    ap.add_argument("--keep", default=None, help="keep models and libraries in DIR")
    args = ap.parse_args()
    runs = args.runs or (5 if args.quick else 10)
    timeout_s = args.case_timeout or (30.0 if args.quick else 60.0)
    if args.cases:
        cases = []
        for c in args.cases.split(","):
            name, t = c.split(":")
            if name not in SHAPES:
                sys.exit(f"bench_cpu_moe.py: error: unknown shape {name!r} ({sorted(SHAPES)})")
            cases.append((name, int(t)))
    else:
        tokens = (1, 64) if args.quick else TOKENS
        cases = [(n, t) for n in SHAPES for t in tokens]
    moe_compile = find_tool("moe-compile", args.moe_compile)
    moe_run = find_tool("moe-run", args.moe_run)

    print(f"# CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; threads {args.threads}")
    import onnxruntime
    print(f"# onnxruntime {onnxruntime.__version__}, numpy {np.__version__}; "
          f"load average {os.getloadavg()[0]:.1f} at start")
    print(f"# moe-compile: {moe_compile}; moe-run: {moe_run}")
    peak = matmul_peak(args.threads)
    bw = read_bandwidth(args.threads)
    print(f"# practical f32 peak (numpy/BLAS 2048^3 matmul, {args.threads} threads): "
          f"{peak:.0f} GFLOP/s; read bandwidth (numpy max over 1 GiB, "
          f"{args.threads} threads): {bw:.1f} GB/s")

    workdir = args.keep or tempfile.mkdtemp(prefix="bench_cpu_moe.")
    os.makedirs(workdir, exist_ok=True)
    rows = []
    try:
        built = {}
        for name, t in cases:
            shape = SHAPES[name]
            if name not in built:
                path, lib, secs = make_case(workdir, name, shape, moe_compile)
                print(f"# {name}: model {os.path.getsize(path) / 1e6:.0f} MB, "
                      f"moe-compile {secs:.1f} s", flush=True)
                built[name] = (path, lib)
            path, lib = built[name]
            h, i, e, k = shape
            rng = np.random.default_rng(t)
            feeds = {"input": rng.standard_normal((t, h)).astype(np.float32),
                     "router_probs": rng.standard_normal((t, e)).astype(np.float32)}
            inputs = {}
            for n, v in feeds.items():
                inputs[n] = os.path.join(workdir, f"{name}_T{t}_{n}.npy")
                np.save(inputs[n], v)
            ort_ms, ort_n, ours_ms, ours_n = bench_case(
                lambda: ort_session(path, feeds, args.threads), feeds,
                OursRunner(moe_run, lib, inputs, args.threads), runs, args.rounds,
                timeout_s)
            rows.append((name, t, ort_ms, ort_n, ours_ms, ours_n))
            ours_text = f"{ours_ms:.2f} ms ({ours_n} runs)" if ours_ms is not None \
                else f"> {ours_n:.0f} ms (timed out)"
            print(f"# {name} T={t}: ort {ort_ms:.2f} ms ({ort_n} runs), ours {ours_text}",
                  flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"# load average {os.getloadavg()[0]:.1f} at the end")
    print("| case | ort median ms | ours median ms | ratio ort/ours | ours GFLOP/s "
          "| % of peak | ours weight GB/s (T=1) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, t, ort_ms, ort_n, ours_ms, ours_n in rows:
        shape = SHAPES[name]
        if ours_ms is None:  # ours_n is a lower bound in ms
            ours, ratio = f"> {ours_n:.0f}", f"< {ort_ms / ours_n:.4f}"
            gf = f"< {flops(shape, t) / (ours_n * 1e-3) / 1e9:.2f}"
            pct = f"< {100 * flops(shape, t) / (ours_n * 1e-3) / 1e9 / peak:.3f}"
            wbw = f"< {activated_weight_bytes(shape) / (ours_n * 1e-3) / 1e9:.3f}" if t == 1 else ""
        else:
            g = flops(shape, t) / (ours_ms * 1e-3) / 1e9
            ours, ratio = f"{ours_ms:.2f}", f"{ort_ms / ours_ms:.4f}"
            gf, pct = f"{g:.2f}", f"{100 * g / peak:.3f}"
            wbw = f"{activated_weight_bytes(shape) / (ours_ms * 1e-3) / 1e9:.3f}" if t == 1 else ""
        print(f"| {name} T={t} | {ort_ms:.2f} | {ours} | {ratio} | {gf} | {pct} | {wbw} |")
    print()
    print(f"peak = practical matmul peak above ({peak:.0f} GFLOP/s); weight GB/s = "
          "activated experts' f32 weight bytes / time; ort: onnxruntime "
          f"CPU MoE, {args.threads} intra-op threads; ours: moe-run --bench "
          f"--threads={args.threads}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
