#!/usr/bin/env bash
#===- scripts/demo.sh - set up, build and run the bundled examples --------===#
#
# 1. Compiles the bundled ONNX MoE layer (examples/moe_small.onnx: one
#    com.microsoft.MoE node, gpt-oss swiglu, H=64 I=128 E=8 k=2, symbolic
#    token count; regenerate with examples/gen_moe_small.py) into a shared
#    library with moe-compile, runs it with moe-run on random inputs (T=16),
#    and prints its error against a float64 numpy reference of the MoE
#    semantics (examples/moe_reference.py).
# 2. Lowers examples/mixtral_layer.mlir (a Mixtral-style moe.layer) through
#    the reference pipeline with moe-opt and prints the start of the result.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/build.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/moe-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo
echo "== 1. ONNX MoE model -> model.so -> run -> compare with numpy"
echo "\$ build/bin/moe-compile examples/moe_small.onnx -o $work/moe_small.so"
build/bin/moe-compile examples/moe_small.onnx -o "$work/moe_small.so"
python3 examples/check_moe.py inputs examples/moe_small.onnx "$work" --tokens 16
echo "\$ build/bin/moe-run $work/moe_small.so --input input=input.npy" \
     "--input router_probs=router_probs.npy --output output=output.npy"
build/bin/moe-run "$work/moe_small.so" --input "input=$work/input.npy" \
  --input "router_probs=$work/router_probs.npy" --output "output=$work/output.npy"
status=0
result=$(python3 examples/check_moe.py check examples/moe_small.onnx "$work") || status=1
echo "$result"

echo
echo "== 2. build/bin/moe-opt examples/mixtral_layer.mlir --moe-reference (first 25 lines)"
build/bin/moe-opt examples/mixtral_layer.mlir --moe-reference > "$work/lowered.mlir"
head -n 25 "$work/lowered.mlir"
echo "... ($(wc -l < "$work/lowered.mlir") lines in all)"

echo
echo "== result: $result"
exit "$status"
