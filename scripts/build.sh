#!/usr/bin/env bash
#===- scripts/build.sh - set up, configure (once) and build everything ----===#
#
# Tools land in build/bin/, unit tests in build/unittests/.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh

build=build
if [[ -f $build/CMakeCache.txt ]] &&
   ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$build/CMakeCache.txt"; then
  echo "build.sh: error: $build/ was configured with another generator;" \
       "remove it (rm -rf $build) and run this script again" >&2
  exit 1
fi

if [[ ! -f $build/build.ninja ]]; then
  # Debian's lit matches the installed LLVM; pip's is the fallback.
  lit=/usr/lib/llvm-22/bin/lit
  if [[ ! -x $lit ]]; then
    lit="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/lit"
    [[ -x $lit ]] || { echo "build.sh: error: lit not found (run scripts/setup.sh)" >&2; exit 1; }
  fi
  cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DLLVM_EXTERNAL_LIT="$lit"
fi

ninja -C "$build"
