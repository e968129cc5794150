#!/usr/bin/env python3
"""Generates the PyTorch-exported, decomposed MoE fixtures next to this file:

  torch_moe_block_opset17.onnx  TorchScript exporter (dynamo=False), opset 17
  torch_moe_block_dynamo.onnx   dynamo exporter (dynamo=True), opset 18

The block is an HF-style sparse MoE (Mixtral's routing loop and SiLU-gated
experts) plus a Qwen2-MoE sigmoid-gated shared expert, so the graphs contain
what real exports contain: Softmax/TopK/NonZero/Gather/ScatterND rather than
a fused com.microsoft.MoE. Each file is checked against torch with
onnxruntime, then its op-type histogram (what the importer must cover) is
printed.

Committed files were generated with torch 2.15.0, onnxscript 0.7.2,
onnx 1.23.2, onnxruntime 1.31.1 (CPU), from the repo root:

  /tmp/torchenv/bin/python test/Target/ONNX/Inputs/gen_torch_moe_block.py

(a venv with torch, onnx, onnxscript and onnxruntime; output is
byte-identical across runs with the same versions).
"""

import collections
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from torch import nn

HIDDEN, INTER, EXPERTS, TOP_K, SHARED_INTER = 16, 32, 4, 2, 24
SEED = 0
TOL = 1e-5
DROP_PROPS = {"pkg.torch.onnx.stack_trace", "pkg.torch.onnx.fx_node"}
HERE = os.path.dirname(os.path.abspath(__file__))


class ExpertMLP(nn.Module):
    """Mixtral's block_sparse_moe expert: w2(silu(w1 x) * w3 x)."""

    def __init__(self, hidden, inter):
        super().__init__()
        self.w1 = nn.Linear(hidden, inter, bias=False)
        self.w2 = nn.Linear(inter, hidden, bias=False)
        self.w3 = nn.Linear(hidden, inter, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class SparseMoeBlock(nn.Module):
    """Mixtral SparseMoeBlock routing + Qwen2-MoE shared expert, unfused."""

    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(HIDDEN, EXPERTS, bias=False)
        self.experts = nn.ModuleList(
            ExpertMLP(HIDDEN, INTER) for _ in range(EXPERTS))
        self.shared_expert = ExpertMLP(HIDDEN, SHARED_INTER)
        self.shared_expert_gate = nn.Linear(HIDDEN, 1, bias=False)

    def forward(self, hidden_states):
        batch, seq, hidden = hidden_states.shape
        hidden_states = hidden_states.view(-1, hidden)

        # Route in float32 like HF, renormalise the top-k, cast back.
        router_logits = self.gate(hidden_states)
        routing_weights = F.softmax(router_logits, dim=1, dtype=torch.float)
        routing_weights, selected = torch.topk(routing_weights, TOP_K, dim=-1)
        routing_weights /= routing_weights.sum(dim=-1, keepdim=True)
        routing_weights = routing_weights.to(hidden_states.dtype)

        final = torch.zeros((batch * seq, hidden), dtype=hidden_states.dtype,
                            device=hidden_states.device)
        # [E, k, T]: expert_mask[e][slot, token] is 1 if token picked e there.
        expert_mask = F.one_hot(selected, num_classes=EXPERTS).permute(2, 1, 0)
        for e, expert in enumerate(self.experts):
            # Data-dependent token lists: this is what exports NonZero.
            slot, top_x = torch.where(expert_mask[e])
            current = hidden_states[None, top_x].reshape(-1, hidden)
            out = expert(current) * routing_weights[top_x, slot, None]
            final.index_add_(0, top_x, out.to(hidden_states.dtype))

        shared = self.shared_expert(hidden_states)
        shared = torch.sigmoid(self.shared_expert_gate(hidden_states)) * shared
        final = final + shared
        return final.reshape(batch, seq, hidden)


def export_torchscript(model, example, path):
    torch.onnx.export(
        model, (example,), path, dynamo=False, opset_version=17,
        input_names=["hidden_states"], output_names=["output"],
        dynamic_axes={"hidden_states": {0: "batch", 1: "seq"},
                      "output": {0: "batch", 1: "seq"}})


def export_dynamo(model, example, path):
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    # 18 is torchlib's native opset; the default (20 in torch 2.15) only adds
    # an onnx version-converter pass on top, which we do not want to test.
    program = torch.onnx.export(
        model, (example,), dynamo=True, opset_version=18,
        input_names=["hidden_states"], output_names=["output"],
        dynamic_shapes={"hidden_states": {0: batch, 1: seq}},
        external_data=False)
    program.save(path, external_data=False)
    # Per-node stack traces hold this checkout's absolute path and FX dumps
    # are bulky; drop both so the fixture is small and reproducible. The
    # namespace/class_hierarchy/name_scopes props stay: real exports have them.
    m = onnx.load(path)
    for node in m.graph.node:
        keep = [p for p in node.metadata_props if p.key not in DROP_PROPS]
        del node.metadata_props[:]
        node.metadata_props.extend(keep)
    onnx.save(m, path)


def verify(model, path):
    """Max abs error vs torch over shapes that exercise the dynamic axes,
    including (1, 1) where some experts receive no tokens."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(SEED + 1)
    worst = 0.0
    for shape in [(2, 5), (1, 1), (3, 7)]:
        x = torch.randn(*shape, HIDDEN, generator=gen)
        with torch.no_grad():
            want = model(x).numpy()
        (got,) = sess.run(None, {"hidden_states": x.numpy()})
        assert got.shape == want.shape, (path, got.shape, want.shape)
        err = float(np.abs(got - want).max())
        print(f"  B,S={shape}: max abs err {err:.3e}")
        worst = max(worst, err)
    return worst


def describe(path):
    m = onnx.load(path)
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL
                   for t in m.graph.initializer), "external data leaked"
    print(f"  size {os.path.getsize(path)} bytes, ir_version {m.ir_version}")
    print("  opsets", {o.domain or "ai.onnx": o.version for o in m.opset_import})
    print(f"  nodes {len(m.graph.node)}"
          + (f", functions {len(m.functions)}" if m.functions else ""))
    hist = collections.Counter(
        f"{n.domain or 'ai.onnx'}.{n.op_type}" for n in m.graph.node)
    for op, count in sorted(hist.items()):
        print(f"    {op:32s} {count}")


def main():
    torch.manual_seed(SEED)
    model = SparseMoeBlock().eval()
    example = torch.randn(2, 5, HIDDEN)
    print(f"torch {torch.__version__}")

    exporters = [("torch_moe_block_opset17.onnx", export_torchscript),
                 ("torch_moe_block_dynamo.onnx", export_dynamo)]
    failed = False
    for name, export in exporters:
        path = os.path.join(HERE, name)
        print(f"{name}:")
        try:
            export(model, example, path)
        except Exception as exc:  # keep the other fixture if one exporter breaks
            print(f"  export FAILED: {type(exc).__name__}: {exc}")
            failed = True
            continue
        err = verify(model, path)
        if err >= TOL:
            print(f"  MISMATCH: {err:.3e} >= {TOL}")
            failed = True
        describe(path)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
