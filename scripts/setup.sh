#!/usr/bin/env bash
#===- scripts/setup.sh - install what the project needs (Debian 12) -------===#
#
# Idempotent: checks the Debian packages with dpkg-query and the Python
# modules with importlib (no import, so it stays fast), and installs only what
# is missing. With everything present it prints one line and takes about a
# second. apt-get runs as root, through sudo when not root.
#
#===----------------------------------------------------------------------===#
set -euo pipefail

# LLVM/MLIR 22 (find_package(MLIR), mlir-tblgen, FileCheck, lit), the ONNX C++
# library and protobuf (importer), LLVM's OpenMP runtime (parallel loops of
# compiled models), Ninja; cmake, g++ and GoogleTest ship with
# the CI image and are listed so a plainer Debian 12 gets them too.
APT_PACKAGES=(libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
              libonnx-dev libprotobuf-dev protobuf-compiler ninja-build
              libomp-22-dev
              cmake g++ libgtest-dev)
# Test generators and the onnxruntime oracle. Module name == PyPI name.
PIP_PACKAGES=(numpy onnx onnxruntime lit)

die() {
  echo "setup.sh: error: $*" >&2
  exit 1
}
trap 'echo "setup.sh: error: command failed at line $LINENO" >&2' ERR

# Runs "$@" with its output in a log that is shown only when it fails.
run_logged() {
  local what=$1
  shift
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    die "$what failed (command: $*)"
  fi
  rm -f "$log"
}

missing_apt_packages() {
  local p status
  for p in "${APT_PACKAGES[@]}"; do
    # dpkg -s succeeds for removed-but-not-purged packages too; require "ii".
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ $status == ii* ]] || echo "$p"
  done
}

missing_pip_packages() {
  python3 - "${PIP_PACKAGES[@]}" <<'PY'
import importlib.util
import sys
for name in sys.argv[1:]:
    if importlib.util.find_spec(name) is None:
        print(name)
PY
}

command -v dpkg-query >/dev/null || die "this script expects Debian (dpkg-query not found)"
command -v python3 >/dev/null || die "python3 not found: install python3 and python3-pip"

#--- Debian packages ---------------------------------------------------------#
mapfile -t missing_apt < <(missing_apt_packages)
if ((${#missing_apt[@]})); then
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null ||
      die "need root to install: ${missing_apt[*]} (run as root or install sudo)"
    # Without a terminal, fail instead of waiting for a password.
    if [[ -t 0 ]]; then sudo=(sudo); else sudo=(sudo -n); fi
  fi
  apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y
       -o DPkg::Lock::Timeout=300)
  echo "setup.sh: installing Debian packages: ${missing_apt[*]}"
  run_logged "apt-get update" "${apt[@]}" update
  run_logged "apt-get install" "${apt[@]}" install --no-install-recommends \
    "${missing_apt[@]}"
  mapfile -t still < <(missing_apt_packages)
  ((${#still[@]} == 0)) || die "still not installed after apt-get: ${still[*]}"
fi

#--- Python packages ---------------------------------------------------------#
mapfile -t missing_pip < <(missing_pip_packages)
if ((${#missing_pip[@]})); then
  python3 -m pip --version >/dev/null 2>&1 ||
    die "pip is missing for $(command -v python3): install python3-pip"
  echo "setup.sh: installing Python packages for $(command -v python3): ${missing_pip[*]}"
  log=$(mktemp)
  if ! PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
      python3 -m pip install --quiet "${missing_pip[@]}" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    if grep -q externally-managed-environment "$log"; then
      rm -f "$log"
      die "this python3 is managed by Debian (PEP 668): activate a virtual" \
          "environment (python3 -m venv .venv && . .venv/bin/activate) or set" \
          "PIP_BREAK_SYSTEM_PACKAGES=1, then run this script again"
    fi
    rm -f "$log"
    die "pip install ${missing_pip[*]} failed"
  fi
  rm -f "$log"
  mapfile -t still < <(missing_pip_packages)
  ((${#still[@]} == 0)) || die "still not importable after pip: ${still[*]}"
fi

#--- cuobjdump --------------------------------------------------------------#
# Lists the kernels of CUDA artifacts (tests of moe-compile --target=cuda).
# Some CUDA toolkit installs lack it; NVIDIA publishes it on PyPI.
if [[ ! -x ${CUDA_HOME:-/usr/local/cuda}/bin/cuobjdump ]] &&
   ! python3 "$(dirname "${BASH_SOURCE[0]}")/find_cuobjdump.py" >/dev/null 2>&1; then
  echo "setup.sh: installing nvidia-cuda-cuobjdump for $(command -v python3)"
  run_logged "pip install nvidia-cuda-cuobjdump" env \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
    python3 -m pip install --quiet nvidia-cuda-cuobjdump
  python3 "$(dirname "${BASH_SOURCE[0]}")/find_cuobjdump.py" >/dev/null ||
    die "cuobjdump not found after installing nvidia-cuda-cuobjdump"
fi
# `cuobjdump -sass` (the HMMA checks of tensor-core artifacts) runs nvdisasm,
# which the wheel's cuobjdump looks for beside itself.
if [[ ! -x ${CUDA_HOME:-/usr/local/cuda}/bin/nvdisasm ]]; then
  cuobjdump=$(python3 "$(dirname "${BASH_SOURCE[0]}")/find_cuobjdump.py" 2>/dev/null || true)
  if [[ -n $cuobjdump && ! -e $(dirname "$cuobjdump")/nvdisasm ]]; then
    echo "setup.sh: installing nvidia-cuda-nvdisasm for $(command -v python3)"
    run_logged "pip install nvidia-cuda-nvdisasm" env \
      PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
      python3 -m pip install --quiet nvidia-cuda-nvdisasm
    python3 "$(dirname "${BASH_SOURCE[0]}")/find_cuobjdump.py" >/dev/null
  fi
fi

echo "setup.sh: ok (${#APT_PACKAGES[@]} Debian and ${#PIP_PACKAGES[@]} Python packages present)"
