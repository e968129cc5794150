#!/usr/bin/env python3
"""GPU benchmark of one MoE layer against PyTorch (MISSION §7, issue 5).

One layer, bf16: router (x @ Wr) -> softmax -> top-k (renormalised) ->
experts' SwiGLU FFN (silu(x W1^T) * (x W3^T)) W2^T -> weighted combine, at
the layer shapes of Mixtral-8x7B (H=4096, I=14336, E=8, k=2) and
DeepSeek-V3 (H=7168, I=2048, E=256, k=8; routed experts only, softmax
routing instead of V3's sigmoid with group-limited selection and bias: the
same GEMM shapes), at T = 1, 16, 512, 4096 tokens. Implementations:

  (a) eager: the HF-style PyTorch loop over experts (torch.where per
      expert, index_add_ combine), as transformers' MixtralSparseMoeBlock;
  (b) grouped_mm: tokens sorted by expert, three torch._grouped_mm calls
      (2-D activations x 3-D weights with int32 end offsets; needs a
      PyTorch that has it and sm_80+; reported as absent otherwise);
  (c) dense cuBLAS: torch.matmul of the three expert GEMMs as one dense
      [T*k, H] x [H, I] (x2) and [T*k, I] x [I, H] problem: equal FLOPs,
      the yardstick of the grouped GEMM's TFLOP/s;
  (d) ours: the artifact `moe-compile --target=cuda --external-weights`
      built on the compile machine (scripts/device/bench_build.sh; the GPU
      machine has no moe-compile), run through moe_compiler.InferenceSession
      with its weights bound from the same torch tensors (borrowed host
      copies; the runtime uploads them once).

Times are medians of --runs runs after --warmup runs: (a)-(c) with CUDA
events around the layer on the device; (d) with a host clock around the
synchronous moe_run, so ours also pays the input upload and the output
download (a few MB at T=4096) — stated in the table. Correctness: (b) and
(d) against (a) on the same input, relative L2 <= --tol (default 2e-2: bf16
operands, different summation orders). Decode (T <= 16): % of the measured
HBM bandwidth (a 1 GiB device-to-device copy: 2 bytes moved per byte) that
the activated experts' weight bytes (distinct experts hit x 3*H*I*2 B, plus
the router) take in the measured time.

A case whose first run exceeds --max-seconds, or whose estimate from the
previous T does, is skipped and reported as such.

Modes that need no GPU or torch (run on the compile machine):
  --write-models DIR   the ONNX models of --shapes (weights declared as
                       initializers whose data is not included: compile them
                       with --external-weights), for bench_build.sh;
  --dry-run            the plan (cases, FLOPs, bytes, memory), and each
                       artifact's external weights checked against what the
                       script binds (CUDA artifacts load without a GPU);
  --cpu-smoke          the tiny shapes, end to end on the CPU: compile with
                       --moe-compile (f32 by default, --dtype), bind numpy
                       weights, run ours and compare with a float64 numpy
                       reference; prints the table with ours only.

Usage:
  bench_cuda_moe.py [--shapes mixtral,deepseek|--tiny] [--tokens 1,16,512,4096]
      [--artifact-dir build-device/bench] [--runs 20] [--warmup 3]
      [--max-seconds 30] [--tol 2e-2] [--seed 0]
  bench_cuda_moe.py --write-models DIR [--shapes ...|--tiny] [--dtype bf16]
  bench_cuda_moe.py --dry-run [--artifact-dir DIR]
  bench_cuda_moe.py --cpu-smoke --moe-compile build/bin/moe-compile
"""

import argparse
import datetime
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

import numpy as np  # noqa: E402

# name -> (H, I, E, k)
SHAPES = {
    "mixtral": (4096, 14336, 8, 2),
    "deepseek": (7168, 2048, 256, 8),
}
TINY = {
    "tiny_mixtral": (128, 256, 8, 2),
    "tiny_deepseek": (128, 64, 32, 8),
}
DTYPES = {"bf16": 16, "f32": 1}  # ONNX TensorProto codes
WEIGHTS = ("router_w", "w1", "w2", "w3")  # initializer names in the models


def weight_shapes(h, i, e):
    """ONNX initializer shapes: the router [H, E] (MatMul operand), and the
    com.microsoft.MoE layouts fc1 = W1 [E, I, H] (gate), fc2 = W2 [E, H, I],
    fc3 = W3 [E, I, H] (up): torch's nn.Linear (out, in) weights stacked."""
    return {"router_w": (h, e), "w1": (e, i, h), "w2": (e, h, i),
            "w3": (e, i, h)}


# --- models (onnx only) -------------------------------------------------------

def make_model(name, h, i, e, k, dtype="bf16"):
    """input [T, H] -> MatMul(router_w) -> com.microsoft.MoE (swiglu with a
    separate fc3: silu(gate) * up, no biases, renormalised top-k). The
    initializers carry no data (external data in a file that is never
    written): compile with --external-weights, bind at load time."""
    import onnx
    from onnx import TensorProto, helper

    code = DTYPES[dtype]
    inits = []
    for wname, shape in weight_shapes(h, i, e).items():
        t = TensorProto()
        t.name, t.data_type = wname, code
        t.dims.extend(shape)
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "weights-not-included.bin"),
                           ("offset", "0"),
                           ("length", str(int(np.prod(shape)) * (2 if code == 16 else 4)))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        inits.append(t)
    nodes = [
        helper.make_node("MatMul", ["input", "router_w"], ["router_logits"],
                         name="router"),
        helper.make_node("MoE", ["input", "router_logits", "w1", "", "w2", "",
                                 "w3"], ["output"], name="moe",
                         domain="com.microsoft", k=k, activation_type="swiglu",
                         swiglu_fusion=0, normalize_routing_weights=1),
    ]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", code, ["T", h])],
        [helper.make_tensor_value_info("output", code, ["T", h])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)],
        producer_name="bench_cuda_moe.py")
    model.ir_version = 10
    return model


def write_models(directory, shapes, dtype):
    import onnx
    os.makedirs(directory, exist_ok=True)
    paths = []
    for name, (h, i, e, k) in shapes.items():
        path = os.path.join(directory, f"{name}.onnx")
        onnx.save(make_model(name, h, i, e, k, dtype), path)
        paths.append(path)
        print(path)
    return paths


# --- numbers -----------------------------------------------------------------

def expert_flops(t, h, i, k):
    """The activated experts' GEMMs: 2 * (T*k rows) * (2*H*I + I*H)."""
    return 2 * t * k * 3 * h * i


def weight_bytes(h, i, e, bytes_per=2):
    return (3 * h * i * e + h * e) * bytes_per


def activated_bytes(distinct_experts, h, i, e, bytes_per=2):
    """Bytes a decode step must stream: each activated expert's three
    matrices once, and the router."""
    return (distinct_experts * 3 * h * i + h * e) * bytes_per


def bf16_bits(array_f32):
    """float32 -> bfloat16 bit patterns (round to nearest even) as uint16."""
    a = np.ascontiguousarray(array_f32, np.float32).view(np.uint32)
    rounded = a + 0x7FFF + ((a >> 16) & 1)
    return (rounded >> 16).astype(np.uint16)


def bf16_to_f32(bits):
    return (np.asarray(bits, np.uint16).astype(np.uint32) << 16).view(np.float32)


def rel_l2(got, ref):
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.float64)
    return float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))


def numpy_layer(x, w):
    """float64 reference of the layer; `w` holds float arrays."""
    x = np.asarray(x, np.float64)
    logits = x @ w["router_w"]
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    k = w["k"]
    idx = np.argsort(-p, axis=-1, kind="stable")[:, :k]
    top = np.take_along_axis(p, idx, -1)
    top /= top.sum(-1, keepdims=True)
    y = np.zeros_like(x)
    for t in range(x.shape[0]):
        for j in range(k):
            e = idx[t, j]
            g = w["w1"][e] @ x[t]
            u = w["w3"][e] @ x[t]
            a = g / (1.0 + np.exp(-g)) * u
            y[t] += top[t, j] * (w["w2"][e] @ a)
    return y


# --- torch implementations (GPU machine) --------------------------------------

def torch_route(x, wr, k):
    import torch
    logits = x @ wr
    probs = torch.softmax(logits.float(), dim=-1)
    top_w, top_i = torch.topk(probs, k, dim=-1)
    top_w = (top_w / top_w.sum(-1, keepdim=True)).to(x.dtype)
    return top_w, top_i


def torch_eager(x, w, k):
    """transformers' MixtralSparseMoeBlock loop: one pass per hit expert."""
    import torch
    import torch.nn.functional as F
    e_count = w["w1"].shape[0]
    top_w, top_i = torch_route(x, w["router_w"], k)
    out = torch.zeros_like(x)
    mask = F.one_hot(top_i, num_classes=e_count).permute(2, 1, 0)  # [E, k, T]
    hit = torch.greater(mask.sum(dim=(-1, -2)), 0).nonzero()
    for e in hit.flatten().tolist():
        slot, tok = torch.where(mask[e])
        h = x[tok]
        y = (F.silu(h @ w["w1"][e].T) * (h @ w["w3"][e].T)) @ w["w2"][e].T
        out.index_add_(0, tok, y * top_w[tok, slot, None])
    return out


def grouped_mm_available():
    import torch
    return hasattr(torch, "_grouped_mm")


def torch_grouped(x, w, k):
    """Sort the T*k (token, slot) rows by expert, three torch._grouped_mm
    calls with int32 end offsets (mat_b [E, K, N]: the transposed weights,
    column-major views), then a weighted scatter-add."""
    import torch
    import torch.nn.functional as F
    e_count = w["w1"].shape[0]
    top_w, top_i = torch_route(x, w["router_w"], k)
    flat = top_i.reshape(-1)
    order = torch.argsort(flat, stable=True)
    tok = order // k
    counts = torch.bincount(flat, minlength=e_count)
    offs = torch.cumsum(counts, 0).to(torch.int32)
    a = x[tok]
    g = torch._grouped_mm(a, w["w1"].transpose(1, 2), offs=offs)
    u = torch._grouped_mm(a, w["w3"].transpose(1, 2), offs=offs)
    y = torch._grouped_mm(F.silu(g) * u, w["w2"].transpose(1, 2), offs=offs)
    y = y * top_w.reshape(-1)[order, None]
    out = torch.zeros_like(x)
    out.index_add_(0, tok, y)
    return out


def torch_grouped_gemms_only(x, w, k):
    """The three grouped GEMMs of torch_grouped on pre-sorted rows, for its
    GEMM TFLOP/s."""
    import torch
    e_count = w["w1"].shape[0]
    rows = x.shape[0] * k
    counts = torch.full((e_count,), rows // e_count, dtype=torch.int64,
                        device=x.device)
    counts[: rows % e_count] += 1
    offs = torch.cumsum(counts, 0).to(torch.int32)
    a = x.repeat_interleave(k, dim=0)

    def run():
        g = torch._grouped_mm(a, w["w1"].transpose(1, 2), offs=offs)
        u = torch._grouped_mm(a, w["w3"].transpose(1, 2), offs=offs)
        return torch._grouped_mm(g * u, w["w2"].transpose(1, 2), offs=offs)
    return run


def dense_equal_flops(x, w, k):
    """cuBLAS dense at the experts' FLOPs: [T*k, H] x [H, I] twice and
    [T*k, I] x [I, H] (one expert's matrices, all rows)."""
    a = x.repeat_interleave(k, dim=0)
    w1, w3, w2 = w["w1"][0].T, w["w3"][0].T, w["w2"][0].T

    def run():
        g = a @ w1
        u = a @ w3
        return (g * u) @ w2
    return run


def timed_median(once_ms, runs, warmup, max_seconds):
    """Median of `once_ms()` (one run, its ms) over `runs` runs after
    `warmup`; None when the first run exceeds max_seconds."""
    t0 = time.perf_counter()
    once_ms()
    if time.perf_counter() - t0 > max_seconds:
        return None
    for _ in range(max(warmup - 1, 0)):
        once_ms()
    return statistics.median(once_ms() for _ in range(runs))


def time_cuda(fn, runs, warmup, max_seconds):
    """Median ms of `fn` on the device, with CUDA events."""
    import torch
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def once():
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end)
    torch.cuda.synchronize()
    return timed_median(once, runs, warmup, max_seconds)


def time_host(fn, runs, warmup, max_seconds):
    """Median ms of a synchronous call (ours: moe_run waits for the GPU)."""
    def once():
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1e3
    return timed_median(once, runs, warmup, max_seconds)


def measure_bandwidth():
    """Device-to-device copy of 1 GiB: bytes read + written per second."""
    import torch
    n = 1 << 30
    src = torch.empty(n, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    ms = time_cuda(lambda: dst.copy_(src), 10, 3, 60)
    del src, dst
    torch.cuda.empty_cache()
    return 2 * n / (ms * 1e-3)


# --- ours ---------------------------------------------------------------------

def artifact_path(directory, name):
    return os.path.join(directory, f"{name}.sm_90a.so")


def check_artifact_weights(session, h, i, e, dtype_code):
    """Errors (strings) where the artifact's external weights are not what
    this script binds."""
    want = weight_shapes(h, i, e)
    got = {w.name: (tuple(w.shape), w.dtype_code) for w in session.get_weights()}
    problems = []
    for name, shape in want.items():
        if name not in got:
            problems.append(f"no external weight '{name}'")
        elif got[name] != (shape, dtype_code):
            problems.append(f"weight '{name}' is {got[name]}, expected "
                            f"{(shape, dtype_code)}")
    extra = sorted(set(got) - set(want))
    if extra:
        problems.append(f"unexpected weights {extra}")
    return problems


def bind_from_torch(session, w):
    """Borrowed host copies of the torch weights, as bf16 bit patterns."""
    import torch
    for name in WEIGHTS:
        host = w[name].detach().to("cpu").contiguous()
        if host.dtype == torch.bfloat16:
            array = host.view(torch.int16).numpy().view(np.uint16)
        else:
            array = host.numpy()
        session.set_weight(name, array, copy=False)


# --- the benchmark -------------------------------------------------------------

def fmt(value, spec=".3f", none="—"):
    return none if value is None else format(value, spec)


def run_gpu(args, shapes):
    import torch
    import moe_compiler as mc

    device = torch.cuda.get_device_name(0)
    bandwidth = measure_bandwidth()
    has_grouped = grouped_mm_available()
    lines = [f"device: {device}; torch {torch.__version__}; measured HBM "
             f"{bandwidth / 1e9:.0f} GB/s (1 GiB device copy)",
             f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"command: {' '.join(shlex.quote(a) for a in sys.argv)}"]
    if not has_grouped:
        lines.append("torch._grouped_mm: absent in this PyTorch; column (b) "
                     "not measured")
    lines += ["", "| shape | T | eager ms | grouped_mm ms | ours ms | ours vs "
              "grouped_mm | ours vs eager | ours expert TFLOP/s | grouped_mm "
              "GEMM TFLOP/s | cuBLAS dense TFLOP/s | ours decode HBM % | "
              "check (rel-L2 vs eager) |", "|" + "---|" * 12]
    gen = torch.Generator(device="cuda").manual_seed(args.seed)
    dt = torch.bfloat16
    for name, (h, i, e, k) in shapes.items():
        w = {"router_w": torch.randn(h, e, generator=gen, device="cuda", dtype=dt) / h ** 0.5,
             "w1": torch.randn(e, i, h, generator=gen, device="cuda", dtype=dt) / h ** 0.5,
             "w3": torch.randn(e, i, h, generator=gen, device="cuda", dtype=dt) / h ** 0.5,
             "w2": torch.randn(e, h, i, generator=gen, device="cuda", dtype=dt) / i ** 0.5}
        ours, ours_note = None, None
        path = artifact_path(args.artifact_dir, name)
        if os.path.isfile(path):
            try:
                ours = mc.InferenceSession(path, device=0)
                problems = check_artifact_weights(ours, h, i, e, 16)
                if problems:
                    ours_note = "; ".join(problems)
                    ours = None
                else:
                    bind_from_torch(ours, w)
            except Exception as err:  # noqa: BLE001 - reported in the table
                ours, ours_note = None, f"{type(err).__name__}: {err}"
        else:
            ours_note = f"no artifact {path} (scripts/device/bench_build.sh)"
        if ours_note:
            lines.insert(3, f"ours ({name}): {ours_note}")
        estimate = {}
        prev_t = None
        for t in args.tokens:
            x = torch.randn(t, h, generator=gen, device="cuda", dtype=dt)

            def skip(key):
                return prev_t is not None and estimate.get(key) is not None and \
                    estimate[key] * t / prev_t > args.max_seconds * 1e3

            eager_ms = None if skip("eager") else time_cuda(
                lambda: torch_eager(x, w, k), args.runs, args.warmup, args.max_seconds)
            ref = torch_eager(x, w, k).float().cpu().numpy()
            grouped_ms = gemm_ms = None
            checks = []
            if has_grouped and not skip("grouped"):
                try:
                    grouped_ms = time_cuda(lambda: torch_grouped(x, w, k), args.runs,
                                           args.warmup, args.max_seconds)
                    gemm_ms = time_cuda(torch_grouped_gemms_only(x, w, k), args.runs,
                                        args.warmup, args.max_seconds)
                    err = rel_l2(torch_grouped(x, w, k).float().cpu().numpy(), ref)
                    checks.append(f"grouped_mm {err:.1e}"
                                  + ("" if err <= args.tol else " FAIL"))
                except RuntimeError as err:
                    checks.append(f"grouped_mm failed: {err}".splitlines()[0])
            dense_ms = time_cuda(dense_equal_flops(x, w, k), args.runs, args.warmup,
                                 args.max_seconds)
            ours_ms = None
            if ours is not None and not skip("ours"):
                xb = x.to("cpu").view(torch.int16).numpy().view(np.uint16)
                feed = {"input": xb}
                try:
                    ours_ms = time_host(lambda: ours.run(None, feed), args.runs,
                                        args.warmup, args.max_seconds)
                    (yb,) = ours.run(None, feed)
                    err = rel_l2(bf16_to_f32(yb), ref)
                    checks.append(f"ours {err:.1e}" + ("" if err <= args.tol else " FAIL"))
                except Exception as err:  # noqa: BLE001
                    checks.append(f"ours failed: {err}".splitlines()[0])
            for key, ms in (("eager", eager_ms), ("grouped", grouped_ms), ("ours", ours_ms)):
                estimate[key] = ms if ms is not None else float("inf")
            prev_t = t
            flops = expert_flops(t, h, i, k)
            tflops = lambda ms: None if ms is None else flops / (ms * 1e-3) / 1e12  # noqa: E731
            distinct = int(torch.unique(torch_route(x, w["router_w"], k)[1]).numel())
            decode = None
            if t <= 16 and ours_ms is not None:
                decode = 100 * activated_bytes(distinct, h, i, e) / (ours_ms * 1e-3) / bandwidth
            ratio = lambda a, b: None if a is None or b is None else a / b  # noqa: E731
            lines.append(
                f"| {name} | {t} | {fmt(eager_ms)} | {fmt(grouped_ms)} | "
                f"{fmt(ours_ms)} | {fmt(ratio(grouped_ms, ours_ms), '.2f')}× | "
                f"{fmt(ratio(eager_ms, ours_ms), '.2f')}× | {fmt(tflops(ours_ms), '.1f')} | "
                f"{fmt(tflops(gemm_ms), '.1f')} | {fmt(tflops(dense_ms), '.1f')} | "
                f"{fmt(decode, '.0f')} | {'; '.join(checks) or '—'} |")
            print(lines[-1], flush=True)
        del w, ours
        torch.cuda.empty_cache()
    lines += ["", "ms: medians of --runs runs after --warmup; (a)-(c) CUDA events, "
              "ours host clock around moe_run (input upload and output download "
              "included). '—': not measured (absent, failed, or over "
              "--max-seconds). Ratios > 1: ours faster. TFLOP/s on the "
              "activated experts' GEMM FLOPs (ours: whole-layer time, a lower "
              "bound of its grouped GEMM's)."]
    return "\n".join(lines)


def run_cpu_smoke(args):
    """Tiny shapes on the CPU: model -> compile -> bind numpy weights ->
    run -> compare with the float64 reference; the table with ours only."""
    with tempfile.TemporaryDirectory(prefix="bench_cuda_smoke_") as workdir:
        return _cpu_smoke(args, workdir)


def _cpu_smoke(args, workdir):
    import moe_compiler as mc
    rng = np.random.default_rng(args.seed)
    code = DTYPES[args.dtype]
    lines = [f"cpu smoke ({args.dtype}; {platform.node()}): no GPU, no torch",
             "", "| shape | T | ours ms (CPU) | rel-L2 vs float64 |", "|---|---|---|---|"]
    failed = False
    for name, (h, i, e, k) in TINY.items():
        (onnx_path,) = write_models(workdir, {name: (h, i, e, k)}, args.dtype)
        so = mc.compile(onnx_path, os.path.join(workdir, f"{name}.so"),
                        moe_compile=args.moe_compile, external_weights=True)
        sess = mc.InferenceSession(so)
        problems = check_artifact_weights(sess, h, i, e, code)
        if problems:
            raise SystemExit(f"{name}: " + "; ".join(problems))
        scale = {"router_w": h ** -0.5, "w1": h ** -0.5, "w3": h ** -0.5, "w2": i ** -0.5}
        w64 = {"k": k}
        for wname, shape in weight_shapes(h, i, e).items():
            f32 = (rng.standard_normal(shape) * scale[wname]).astype(np.float32)
            if code == 16:
                bits = bf16_bits(f32)
                sess.set_weight(wname, bits, copy=False)
                w64[wname] = bf16_to_f32(bits).astype(np.float64)
            else:
                sess.set_weight(wname, f32, copy=False)
                w64[wname] = f32.astype(np.float64)
        for t in args.tokens:
            x = rng.standard_normal((t, h)).astype(np.float32)
            feed_x = bf16_bits(x) if code == 16 else x
            x64 = bf16_to_f32(feed_x) if code == 16 else x
            ms = time_host(lambda: sess.run(None, {"input": feed_x}), args.runs,
                           args.warmup, args.max_seconds)
            (y,) = sess.run(None, {"input": feed_x})
            y = bf16_to_f32(y) if code == 16 else y
            err = rel_l2(y, numpy_layer(x64, w64))
            ok = err <= (args.tol if code == 16 else min(args.tol, 1e-4))
            failed |= not ok
            lines.append(f"| {name} | {t} | {fmt(ms)} | {err:.1e}{'' if ok else ' FAIL'} |")
    return "\n".join(lines), failed


def dry_run(args, shapes):
    lines = ["dry run: plan and artifacts (no GPU, no torch)", "",
             "| shape | H | I | E | k | weights GB (bf16) | T | expert GFLOP | "
             "decode bytes (k*T experts hit, at most E) MB |",
             "|" + "---|" * 9]
    for name, (h, i, e, k) in shapes.items():
        for t in args.tokens:
            distinct = min(e, t * k)
            lines.append(
                f"| {name} | {h} | {i} | {e} | {k} | {weight_bytes(h, i, e) / 1e9:.2f} | "
                f"{t} | {expert_flops(t, h, i, k) / 1e9:.1f} | "
                f"{activated_bytes(distinct, h, i, e) / 1e6:.0f} |")
    lines.append("")
    problems = 0
    import moe_compiler as mc
    for name, (h, i, e, k) in shapes.items():
        path = artifact_path(args.artifact_dir, name)
        if not os.path.isfile(path):
            lines.append(f"{name}: no artifact {path} (scripts/device/bench_build.sh)")
            problems += 1
            continue
        sess = mc.InferenceSession(path)
        errs = check_artifact_weights(sess, h, i, e, 16)
        size = os.path.getsize(path) / 2**20
        lines.append(f"{name}: {path} ({size:.1f} MiB, device {sess.device_kind}, "
                     f"{len(sess.get_weights())} external weights, "
                     f"{weight_bytes(h, i, e) / 2**30:.2f} GiB bound at load time): "
                     + ("; ".join(errs) if errs else "ok"))
        problems += bool(errs)
    return "\n".join(lines), problems > 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default="mixtral,deepseek")
    ap.add_argument("--tiny", action="store_true", help="the tiny shapes instead")
    ap.add_argument("--tokens", default=None, help="default 1,16,512,4096 (tiny, "
                    "cpu smoke: 1,16,64)")
    ap.add_argument("--artifact-dir", default=os.path.join(ROOT, "build-device", "bench"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=30.0)
    ap.add_argument("--tol", type=float, default=2e-2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=sorted(DTYPES), default=None,
                    help="model dtype (default bf16; cpu smoke: f32)")
    ap.add_argument("--write-models", metavar="DIR")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--cpu-smoke", action="store_true")
    ap.add_argument("--moe-compile", default=None)
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args()

    small = args.tiny or args.cpu_smoke
    if args.tokens is None:
        args.tokens = "1,16,64" if small else "1,16,512,4096"
    args.tokens = [int(t) for t in args.tokens.split(",")]
    if args.dtype is None:
        args.dtype = "f32" if args.cpu_smoke else "bf16"
    shapes = TINY if args.tiny else {n: SHAPES[n] for n in args.shapes.split(",")}

    failed = False
    if args.write_models:
        write_models(args.write_models, shapes, args.dtype)
        return 0
    if args.dry_run:
        text, failed = dry_run(args, shapes)
    elif args.cpu_smoke:
        text, failed = run_cpu_smoke(args)
    else:
        try:
            import torch
        except ImportError:
            raise SystemExit("torch is needed for the GPU benchmark "
                             "(--dry-run / --cpu-smoke run without it)")
        if not torch.cuda.is_available():
            raise SystemExit("no CUDA device (--dry-run / --cpu-smoke run without one)")
        text = run_gpu(args, shapes)
        failed = " FAIL" in text
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
