#!/usr/bin/env bash
#===- scripts/device/cuda_checks.sh - CUDA artifacts on a lent GPU --------===#
#
# Two halves, because the GPU machine has no moe-compile (no Debian MLIR):
#
#   scripts/device/cuda_checks.sh build      # here: compile into build-device/
#   scripts/device/cuda_checks.sh run        # on the GPU machine (device tool,
#                                            # carry build-device): checks
#
# `run` checks each CUDA artifact against onnxruntime and the float64 numpy
# reference on fresh random inputs (test/Target/CUDA/check_cuda_artifact.py)
# and prints nvidia-smi's view of the device first. Output ends with one
# "ok" or an error per model.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

out=build-device
models=(examples/moe_small.onnx test/Target/ONNX/Inputs/torch_moe_block_dynamo.onnx)
archs=(sm_90a sm_80)

case "${1:-}" in
build)
  mkdir -p "$out"
  for model in "${models[@]}"; do
    name=$(basename "$model" .onnx)
    for arch in "${archs[@]}"; do
      build/bin/moe-compile "$model" --target=cuda --cuda-arch="$arch" \
        -o "$out/$name.$arch.so"
    done
  done
  ls -la "$out"
  ;;
run)
  nvidia-smi -L || true
  status=0
  for model in "${models[@]}"; do
    name=$(basename "$model" .onnx)
    for arch in "${archs[@]}"; do
      extra=()
      [[ $name == torch_moe_block_dynamo ]] && extra=(--tokens 1,5 --dim seq=3)
      python3 test/Target/CUDA/check_cuda_artifact.py "$model" \
        --cuda-artifact "$out/$name.$arch.so" --arch "$arch" "${extra[@]}" ||
        status=1
    done
  done
  exit "$status"
  ;;
*)
  echo "usage: $0 build|run" >&2
  exit 2
  ;;
esac
