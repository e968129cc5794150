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
# reference on fresh random inputs (test/Target/CUDA/check_cuda_artifact.py;
# the --precision=bf16/f16 tensor-core artifacts with their tolerance)
# and prints nvidia-smi's view of the device first. Output ends with one
# "ok" or an error per model.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

out=build-device
models=(examples/moe_small.onnx test/Target/ONNX/Inputs/torch_moe_block_dynamo.onnx)
archs=(sm_90a sm_80)
# Tensor-core artifacts (--precision): checked with the precision's tolerance.
mma_models=(examples/moe_small.onnx)
precisions=(bf16 f16)

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
  for model in "${mma_models[@]}"; do
    name=$(basename "$model" .onnx)
    for arch in "${archs[@]}"; do
      for precision in "${precisions[@]}"; do
        build/bin/moe-compile "$model" --target=cuda --cuda-arch="$arch" \
          --precision="$precision" -o "$out/$name.$arch.$precision.so"
      done
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
  for model in "${mma_models[@]}"; do
    name=$(basename "$model" .onnx)
    for arch in "${archs[@]}"; do
      for precision in "${precisions[@]}"; do
        python3 test/Target/CUDA/check_cuda_artifact.py "$model" \
          --cuda-artifact "$out/$name.$arch.$precision.so" --arch "$arch" \
          --precision "$precision" --tokens 1,7,64,512 || status=1
      done
    done
  done
  exit "$status"
  ;;
*)
  echo "usage: $0 build|run" >&2
  exit 2
  ;;
esac
