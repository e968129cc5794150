#!/usr/bin/env bash
#===- scripts/demo.sh - set up, build and run the bundled example ---------===#
#
# Lowers examples/mixtral_layer.mlir (a Mixtral-style moe.layer) through the
# reference pipeline and prints the resulting upstream-dialect IR.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/build.sh

echo
echo "== build/bin/moe-opt examples/mixtral_layer.mlir --moe-reference"
build/bin/moe-opt examples/mixtral_layer.mlir --moe-reference
