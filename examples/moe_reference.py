#!/usr/bin/env python3
"""A float64 numpy reference of com.microsoft.MoE (MISSION §4), written
independently of the compiler, for checking compiled artifacts.

    y = moe_reference(x, router_logits, fc1_weights=..., fc2_weights=..., k=2,
                      activation="swiglu", swiglu_fusion=1)

Semantics, per token row x (input [T, H] or [B, S, H], router [T, E]):
  p = softmax(router row); take the k largest (ties: the lower expert index
  first, as ONNX TopK); w = p_topk / sum(p_topk) if normalize else p_topk.
  For each selected expert e: h = W1[e] x + b1[e] ([f*I], f = 2 for fused
  swiglu);
    relu / gelu (tanh approximation) / silu / identity: a = act(h), times
      (W3[e] x + b3[e]) when fc3 is given;
    swiglu: gate and lin are h[0::2] and h[1::2] (swiglu_fusion 1,
      interleaved), h[:I] and h[I:] (2, concatenated), or h and
      W3[e] x + b3[e] (0, separate); gate = min(gate, limit),
      lin = clamp(lin, -limit, limit), a = gate * sigmoid(alpha * gate) *
      (lin + beta).
  y = sum over the k experts of w * (W2[e] a + b2[e]).
Weights: fc1 [E, f*I, H], fc2 [E, H, I], fc3 [E, I, H]; biases [E, rows].
"""

import numpy as np


def softmax(z):
    z = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def top_k(p, k):
    """Indices [T, k] of the k largest entries per row, largest first, ties
    to the lower index (a stable sort of -p)."""
    order = np.argsort(-p, axis=-1, kind="stable")
    return order[:, :k]


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free


def activate(h, activation):
    if activation == "relu":
        return np.maximum(h, 0.0)
    if activation == "gelu":  # tanh approximation
        return 0.5 * h * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (h + 0.044715 * h ** 3)))
    if activation == "silu":
        return h * sigmoid(h)
    if activation == "identity":
        return h
    raise ValueError(f"unknown activation {activation!r}")


def swiglu(gate, lin, alpha, beta, limit):
    gate = np.minimum(gate, limit)
    lin = np.clip(lin, -limit, limit)
    return gate * sigmoid(alpha * gate) * (lin + beta)


def moe_reference(x, router_logits, *, fc1_weights, fc2_weights, k,
                  activation="relu", fc1_bias=None, fc2_bias=None,
                  fc3_weights=None, fc3_bias=None, normalize=True,
                  swiglu_fusion=1, alpha=1.0, beta=0.0, limit=np.inf):
    """The MoE output (float64), shaped like x."""
    x = np.asarray(x, np.float64)
    shape = x.shape
    x = x.reshape(-1, shape[-1])
    r = np.asarray(router_logits, np.float64).reshape(x.shape[0], -1)
    w1 = np.asarray(fc1_weights, np.float64)
    w2 = np.asarray(fc2_weights, np.float64)
    w3 = None if fc3_weights is None else np.asarray(fc3_weights, np.float64)
    n_exp, hidden = w1.shape[0], x.shape[1]
    inter = w2.shape[2]
    zeros = lambda *s: np.zeros(s)
    b1 = zeros(n_exp, w1.shape[1]) if fc1_bias is None else np.asarray(fc1_bias, np.float64)
    b2 = zeros(n_exp, hidden) if fc2_bias is None else np.asarray(fc2_bias, np.float64)
    b3 = zeros(n_exp, inter) if fc3_bias is None else np.asarray(fc3_bias, np.float64)

    p = softmax(r)
    idx = top_k(p, k)
    w = np.take_along_axis(p, idx, axis=-1)
    if normalize:
        w = w / np.sum(w, axis=-1, keepdims=True)

    y = np.zeros_like(x)
    for t in range(x.shape[0]):
        for j in range(k):
            e = idx[t, j]
            h = w1[e] @ x[t] + b1[e]
            if activation == "swiglu":
                if swiglu_fusion == 1:
                    gate, lin = h[0::2], h[1::2]
                elif swiglu_fusion == 2:
                    gate, lin = h[:inter], h[inter:]
                elif swiglu_fusion == 0:
                    if w3 is None:
                        raise ValueError("swiglu_fusion 0 needs fc3 (the linear half)")
                    gate, lin = h, w3[e] @ x[t] + b3[e]
                else:
                    raise ValueError(f"bad swiglu_fusion {swiglu_fusion}")
                a = swiglu(gate, lin, alpha, beta, limit)
            else:
                a = activate(h, activation)
                if w3 is not None:
                    a = a * (w3[e] @ x[t] + b3[e])
            y[t] += w[t, j] * (w2[e] @ a + b2[e])
    return y.reshape(shape)


def rel_l2(got, ref):
    """||got - ref|| / ||ref|| in float64 (0 when both are zero)."""
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    den = np.linalg.norm(ref)
    num = np.linalg.norm(got - ref)
    return float(num / den) if den else float(num)


def _self_test():
    # Ties go to the lower index; a uniform router picks experts 0..k-1.
    assert top_k(np.zeros((1, 4)), 2).tolist() == [[0, 1]]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    w1 = rng.standard_normal((2, 8, 4))
    w2 = rng.standard_normal((2, 4, 4))
    # Interleaved and concatenated swiglu agree after permuting fc1's rows.
    perm = np.concatenate([np.arange(0, 8, 2), np.arange(1, 8, 2)])
    r = rng.standard_normal((3, 2))
    a = moe_reference(x, r, fc1_weights=w1, fc2_weights=w2, k=1,
                      activation="swiglu", swiglu_fusion=1, limit=0.7, beta=1.0)
    b = moe_reference(x, r, fc1_weights=w1[:, perm], fc2_weights=w2, k=1,
                      activation="swiglu", swiglu_fusion=2, limit=0.7, beta=1.0)
    assert np.allclose(a, b)
    print("moe_reference self-test ok")


if __name__ == "__main__":
    _self_test()
