#!/usr/bin/env python3
"""InferenceSession's device handling on the hand-written models of
test/Runtime, one line per case for FileCheck.

Usage: device.test.py MODEL.so  (the driver of a CUDA model comes from the
environment: $MOE_CUDA_DRIVER)
"""

import sys

import numpy as np

import moe_compiler as mc

SCALE = np.float32([1, 2, 0.5, -1])  # fake_cuda_model's constant


def attempt(case, fn):
    try:
        result = fn()
    except Exception as e:  # the point is the type and the message
        print(f"{case}: {type(e).__name__}: {str(e).strip()}")
        return
    print(f"{case}: OK {result}")


def main():
    path = sys.argv[1]
    sess = mc.InferenceSession(path)
    print(f"kind {sess.device_kind} device {sess.device}")
    rng = np.random.default_rng()
    x = rng.standard_normal((5, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    want = x * SCALE + b if sess.device_kind == "cuda" else x + b

    def run(s):
        (y,) = s.run(None, {"x": x, "b": b})
        np.testing.assert_allclose(y, want, rtol=1e-6)
        return f"device {s.device} shape {list(y.shape)}"

    attempt("run", lambda: run(sess))
    attempt("device=1", lambda: run(mc.InferenceSession(path, device=1)))
    attempt("device=2", lambda: mc.InferenceSession(path, device=2))
    attempt("device='0'", lambda: mc.InferenceSession(path, device="0"))
    attempt("set_device(0)", lambda: (sess.set_device(0), run(sess))[1])


if __name__ == "__main__":
    main()
