#!/usr/bin/env python3
"""Writes, into the directory given: moe.onnx (a com.microsoft.MoE with fc3
and biases, H=16, I=24, E=4, k=2; initializers of 1 KiB or more in
moe.onnx.data), inputs x.npy / r.npy (T=5), and fc2_w.npy (the model's own
fc2 weights) / fc2_w64.npy (as float64) for external-weights.test."""

import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4)
sys.path.insert(0, os.path.join(ROOT, "python"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402

from moe_compiler import models  # noqa: E402

out = sys.argv[1]
rng = np.random.default_rng(7)
spec = models.MoESpec("moe", 16, 24, 4, 2, variant="silu", fc3=True, rng=rng)
model = models.single_moe_model(spec)
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "moe.onnx"), save_as_external_data=True,
          all_tensors_to_one_file=True, location="moe.onnx.data",
          size_threshold=1024)
np.save(os.path.join(out, "x.npy"), rng.uniform(-1, 1, (5, 16)).astype(np.float32))
np.save(os.path.join(out, "r.npy"), rng.standard_normal((5, 4)).astype(np.float32))
np.save(os.path.join(out, "fc2_w.npy"), spec.fc2_w)
np.save(os.path.join(out, "fc2_w64.npy"), spec.fc2_w.astype(np.float64))
