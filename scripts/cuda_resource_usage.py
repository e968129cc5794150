#!/usr/bin/env python3
"""ptxas resource usage of the kernels in a CUDA artifact.

Extracts every embedded PTX module of MODEL.so (built by `moe-compile
--target=cuda`) with cuobjdump, compiles it again with `ptxas -v` for the
architecture it was built for, and prints one table row per kernel:
registers, stack frame, spill stores/loads (bytes), shared and constant
memory. Needs the CUDA toolkit's ptxas and a cuobjdump (scripts/setup.sh
installs one when the toolkit lacks it); no GPU.

Usage: cuda_resource_usage.py MODEL.so [--ptxas PATH] [--max-spill-bytes N]
  --max-spill-bytes N: exit 1 when a kernel spills more than N bytes (a
  check for CI or a lit test).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from find_cuobjdump import find_cuobjdump  # noqa: E402

ENTRY = re.compile(r"Compiling entry function '([^']+)' for '([^']+)'")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, "
                   r"(\d+) bytes spill loads")
USED = re.compile(r"Used (\d+) registers(?:, used \d+ barriers)?"
                  r"(?:, (\d+) bytes smem)?(?:, (\d+) bytes cmem\[0\])?")


def extract_ptx(cuobjdump, model, directory):
    """(ptx path, ptxas arch option) for every PTX module of `model`."""
    out = subprocess.run([cuobjdump, "-xptx", "all", os.path.abspath(model)],
                         cwd=directory, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"cuda_resource_usage.py: cuobjdump failed: {out.stderr.strip()}")
    modules = []
    for line in out.stdout.splitlines():
        match = re.search(r":\s+(\S+\.ptx)\s*(.*)$", line)
        if match:
            modules.append((os.path.join(directory, match.group(1)),
                            match.group(2).split()))
    return modules


def ptxas_usage(ptxas, ptx, options):
    """One dict per kernel of `ptx`, from `ptxas -v`."""
    out = subprocess.run([ptxas, "-v", "-O3", *options, ptx, "-o", os.devnull],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"cuda_resource_usage.py: ptxas failed on {ptx}: "
                 f"{out.stderr.strip()}")
    kernels, current = [], None
    for line in out.stderr.splitlines():
        if m := ENTRY.search(line):
            current = {"kernel": m.group(1), "arch": m.group(2),
                       "module": os.path.basename(ptx)}
            kernels.append(current)
        elif current and (m := FRAME.search(line)):
            current.update(stack=int(m.group(1)), spill_stores=int(m.group(2)),
                           spill_loads=int(m.group(3)))
        elif current and (m := USED.search(line)):
            current.update(registers=int(m.group(1)),
                           smem=int(m.group(2) or 0),
                           cmem=int(m.group(3) or 0))
    return kernels


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--ptxas", default=os.path.join(
        os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin", "ptxas"))
    parser.add_argument("--max-spill-bytes", type=int, default=None)
    args = parser.parse_args()

    cuobjdump = find_cuobjdump()
    if not cuobjdump:
        sys.exit("cuda_resource_usage.py: no cuobjdump (run scripts/setup.sh)")
    with tempfile.TemporaryDirectory() as directory:
        modules = extract_ptx(cuobjdump, args.model, directory)
        if not modules:
            sys.exit(f"cuda_resource_usage.py: {args.model} embeds no PTX "
                     "(not a CUDA artifact?)")
        kernels = [k for ptx, options in modules
                   for k in ptxas_usage(args.ptxas, ptx, options)]

    print("| module | kernel | arch | registers | stack B | spill stores B "
          "| spill loads B | smem B | cmem[0] B |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for k in kernels:
        print(f"| {k['module']} | {k['kernel']} | {k['arch']} | "
              f"{k.get('registers', '?')} | {k.get('stack', '?')} | "
              f"{k.get('spill_stores', '?')} | {k.get('spill_loads', '?')} | "
              f"{k.get('smem', 0)} | {k.get('cmem', 0)} |")
    print(f"\n{len(kernels)} kernels in {len(modules)} modules")

    if args.max_spill_bytes is not None:
        worst = max(k.get("spill_stores", 0) + k.get("spill_loads", 0)
                    for k in kernels)
        if worst > args.max_spill_bytes:
            sys.exit(f"cuda_resource_usage.py: a kernel spills {worst} bytes "
                     f"(more than {args.max_spill_bytes})")


if __name__ == "__main__":
    main()
