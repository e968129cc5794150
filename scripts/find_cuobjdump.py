#!/usr/bin/env python3
"""Prints the path of cuobjdump: the CUDA toolkit's ($CUDA_HOME or
/usr/local/cuda), else the one of NVIDIA's PyPI wheel nvidia-cuda-cuobjdump
(installed by scripts/setup.sh). Exits 1 when there is none."""

import importlib.util
import os
import sys


def find_cuobjdump():
    toolkit = os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"),
                           "bin", "cuobjdump")
    if os.access(toolkit, os.X_OK):
        return toolkit
    spec = importlib.util.find_spec("nvidia")
    for root in (spec.submodule_search_locations or []) if spec else []:
        for entry in sorted(os.listdir(root)):
            candidate = os.path.join(root, entry, "bin", "cuobjdump")
            if os.path.isfile(candidate):
                # nvdisasm (wheel nvidia-cuda-nvdisasm), which `cuobjdump
                # -sass` runs, lands beside it, also without the x bit.
                for tool in (candidate, os.path.join(root, entry, "bin", "nvdisasm")):
                    if os.path.isfile(tool) and not os.access(tool, os.X_OK):
                        os.chmod(tool, 0o755)
                return candidate
    return None


if __name__ == "__main__":
    path = find_cuobjdump()
    if not path:
        sys.exit("find_cuobjdump.py: no cuobjdump (run scripts/setup.sh)")
    print(path)
