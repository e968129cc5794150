#!/usr/bin/env bash
#===- scripts/device/bench_run.sh - the GPU benchmark, on the GPU ----------===#
#
# On a lent GPU (device tool, carry=["build-device"] built by
# scripts/device/bench_build.sh): the tiny shapes first (a quick end-to-end
# check of every column), then Mixtral-8x7B and DeepSeek-V3 layer shapes at
# T = 1, 16, 512, 4096. Tables also go to $OUT (when set) for the record.
#
#===----------------------------------------------------------------------===#
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
nvidia-smi -L || true
out=${OUT:-/tmp}
status=0
python3 python/benchmarks/bench_cuda_moe.py --tiny --runs 5 --out "$out/bench_tiny.md" || status=1
python3 python/benchmarks/bench_cuda_moe.py --max-seconds 20 --out "$out/bench_cuda_moe.md" || status=1
exit "$status"
