"""Writes the small com.microsoft.MoE models of run-moe-tiled.test into the
directory given as the only argument (random weights, fixed seeds)."""

import sys

import numpy as np
from moe_compiler.models import MoESpec, save, single_moe_model

out = sys.argv[1]
save(single_moe_model(MoESpec("swiglu", hidden=32, inter=48, experts=4, k=2,
                              variant="swiglu-interleaved", bias=True,
                              rng=np.random.default_rng(1))),
     f"{out}/swiglu.onnx")
save(single_moe_model(MoESpec("gelu", hidden=32, inter=16, experts=3,
                              k=2, variant="gelu", bias=False,
                              rng=np.random.default_rng(2))),
     f"{out}/gelu.onnx")
