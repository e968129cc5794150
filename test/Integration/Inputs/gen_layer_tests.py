#!/usr/bin/env python3
"""Generates test/Integration/layer-*.mlir: whole moe.layer ops executed
through moe-reference-to-llvm, checked against a float64 numpy model of
MISSION.md section 4 (onnxruntime's com.microsoft.MoE semantics).

Run from this directory: python3 Inputs/gen_layer_tests.py
The expected values are computed here, never copied from compiler output."""

import numpy as np

RUN = ("// RUN: moe-opt %s --moe-reference-to-llvm | mlir-runner -e main "
       "-entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,"
       "%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s")


def softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


def route(row, k, sigmoid, topk_first, renorm, scale):
    p = 1 / (1 + np.exp(-row)) if sigmoid else softmax(row)
    key = row if topk_first else p
    order = sorted(range(len(row)), key=lambda e: (-key[e], e))[:k]
    w = np.array([p[e] for e in order])
    if topk_first and not sigmoid:
        w = softmax(np.array([row[e] for e in order]))
    if renorm:
        w = w / w.sum()
    return order, w * scale


def act(kind, h, alpha=1.0, beta=0.0, limit=np.inf, layout="interleaved"):
    if kind == "relu":
        return np.maximum(h, 0)
    if kind == "silu":
        return h / (1 + np.exp(-h))
    if kind == "gelu_tanh":
        return 0.5 * h * (1 + np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h**3)))
    if kind == "identity":
        return h
    if kind == "swiglu":
        i = h.shape[0] // 2
        gate, lin = (h[0::2], h[1::2]) if layout == "interleaved" else (h[:i], h[i:])
        gate = np.minimum(gate, limit)
        lin = np.clip(lin, -limit, limit)
        return gate / (1 + np.exp(-alpha * gate)) * (lin + beta)
    raise ValueError(kind)


def layer(x, logits, w1, b1, w2, b2, w3, cfg):
    y = np.zeros_like(x)
    for t in range(x.shape[0]):
        experts, weights = route(logits[t], cfg["k"], cfg.get("sigmoid", False),
                                 cfg.get("topk_first", False),
                                 cfg.get("renorm", False), cfg.get("scale", 1.0))
        for e, w in zip(experts, weights):
            h = w1[e] @ x[t] + (b1[e] if b1 is not None else 0)
            a = act(cfg["act"], h, **cfg.get("act_args", {}))
            if w3 is not None:
                a = a * (w3[e] @ x[t])
            y[t] += w * (w2[e] @ a + (b2[e] if b2 is not None else 0))
    return y


def dense(a):
    return np.array2string(a.astype(np.float32), separator=", ", threshold=10**6,
                           floatmode="unique", max_line_width=10**6)


def ttype(a):
    return "tensor<" + "x".join(map(str, a.shape)) + "xf32>"


def emit(name, desc, cfg, routing, activation, t, h, i, e, seed,
         bias=False, fc3=False, batch=None):
    rng = np.random.default_rng(seed)
    f = 2 if cfg["act"] == "swiglu" else 1
    x = rng.standard_normal((t, h)).astype(np.float32)
    logits = rng.standard_normal((t, e)).astype(np.float32)
    w1 = (rng.standard_normal((e, f * i, h)) * 0.5).astype(np.float32)
    w2 = (rng.standard_normal((e, h, i)) * 0.5).astype(np.float32)
    b1 = rng.standard_normal((e, f * i)).astype(np.float32) if bias else None
    b2 = rng.standard_normal((e, h)).astype(np.float32) if bias else None
    w3 = (rng.standard_normal((e, i, h)) * 0.5).astype(np.float32) if fc3 else None
    y = layer(*(None if a is None else a.astype(np.float64)
                for a in (x, logits, w1, b1, w2, b2, w3)), cfg)

    xin = x.reshape(batch + (h,)) if batch else x
    operands = [("x", xin), ("l", logits), ("w1", w1)]
    fc1 = "%w1"
    if bias:
        operands.append(("b1", b1))
        fc1 += ", %b1"
    operands.append(("w2", w2))
    fc2 = "%w2"
    if bias:
        operands.append(("b2", b2))
        fc2 += ", %b2"
    fc3_text = ""
    if fc3:
        operands.append(("w3", w3))
        fc3_text = " fc3(%w3)"
    lines = [RUN, "", "// " + desc, "",
             "func.func private @printMemrefF32(memref<*xf32>)", "",
             "func.func @main() {"]
    for n, a in operands:
        lines.append(f"  %{n} = arith.constant dense<{dense(a)}> : {ttype(a)}")
    types = ", ".join(ttype(a) for _, a in operands)
    lines.append(f"  %y = moe.layer %x, %l fc1({fc1}) fc2({fc2}){fc3_text}")
    lines.append(f"         {{routing = {routing}, activation = {activation}}}")
    lines.append(f"         : ({types}) -> {ttype(xin)}")
    flat = f"tensor<{t}x{h}xf32>"
    if batch:
        lines.append(f"  %flat = tensor.collapse_shape %y [[0, 1], [2]] : {ttype(xin)} into {flat}")
        lines.append(f"  %u = tensor.cast %flat : {flat} to tensor<*xf32>")
    else:
        lines.append(f"  %u = tensor.cast %y : {flat} to tensor<*xf32>")
    lines.append("  %m = bufferization.to_buffer %u : tensor<*xf32> to memref<*xf32>")
    lines.append("  call @printMemrefF32(%m) : (memref<*xf32>) -> ()")
    lines.append("  return")
    lines.append("}")
    lines.append("")
    lines.append(f"// CHECK: rank = 2 offset = 0 sizes = [{t}, {h}]")
    for row in y:
        # Values near zero only need to be numbers; others match within 0.2%.
        lines.append("// CHECK-NEXT: [" + ", ".join(
            "{{-?[0-9.e+-]+}}" if abs(v) < 5e-3 else
            "{{" + ("-" if v < 0 else "") + _pattern(abs(v)) + "}}" for v in row) + "]")
    open(name, "w").write("\n".join(lines) + "\n")


def _pattern(v):
    """A regex accepting printMemref's rendering of v within +-0.2%."""
    lo, hi = v * 0.998, v * 1.002
    # printMemref prints up to 6 significant digits; match the 3 leading ones
    # when lo and hi share them, else fall back to two alternatives.
    a, b = f"{lo:.6g}", f"{hi:.6g}"
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    prefix = a[:common]
    if "." not in prefix and len(prefix) < len(f"{v:.0f}"):
        return f"{v:.6g}".replace(".", "\\.")[:3] + "[0-9.e+-]*"
    return prefix.replace(".", "\\.") + "[0-9]*" if prefix else "[0-9.e+-]+"


emit("layer-mixtral.mlir",
     "Mixtral-style layer: softmax over the top-2 logits, silu gated by fc3.",
     {"k": 2, "topk_first": True, "act": "silu"},
     "#moe.routing<k = 2, order = topk_then_score>",
     "#moe.activation<kind = silu>", t=5, h=6, i=4, e=4, seed=1, fc3=True)
emit("layer-ort-swiglu.mlir",
     "onnxruntime com.microsoft.MoE: softmax, top-2, renormalised, fused "
     "interleaved swiglu with limit and biases.",
     {"k": 2, "renorm": True, "act": "swiglu",
      "act_args": {"alpha": 1.702, "beta": 1.0, "limit": 1.5}},
     "#moe.routing<k = 2, renormalize = true>",
     "#moe.activation<kind = swiglu, alpha = 1.702, beta = 1.0, limit = 1.5>",
     t=3, h=4, i=3, e=3, seed=2, bias=True)
emit("layer-batched-gelu.mlir",
     "[B, S, H] input, gelu (tanh), k = 1, biases.",
     {"k": 1, "act": "gelu_tanh"},
     "#moe.routing<k = 1>",
     "#moe.activation<kind = gelu_tanh>", t=6, h=4, i=5, e=3, seed=3,
     bias=True, batch=(2, 3))
emit("layer-sigmoid-scaled.mlir",
     "Sigmoid scores, top-3 of 5, renormalised and scaled (DeepSeek-style), "
     "relu experts.",
     {"k": 3, "sigmoid": True, "renorm": True, "scale": 2.5, "act": "relu"},
     "#moe.routing<k = 3, score = sigmoid, renormalize = true, scale = 2.5>",
     "#moe.activation<kind = relu>", t=4, h=5, i=3, e=5, seed=4)
emit("layer-all-experts.mlir",
     "k = E with identity experts: every token uses every expert.",
     {"k": 3, "act": "identity"},
     "#moe.routing<k = 3>",
     "#moe.activation<kind = identity>", t=3, h=4, i=2, e=3, seed=5,
     bias=True)
