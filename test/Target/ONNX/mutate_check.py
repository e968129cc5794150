#!/usr/bin/env python3
"""Feeds randomly damaged copies of a model to `moe-translate --import-onnx`
and checks that each run ends with exit 0, or exit 1 and an `error:` line —
never a signal (crash, abort) and never a hang.

Usage: mutate_check.py MOE_TRANSLATE MODEL [--runs N] [--seed S]
Damage: flipped bytes, truncation, duplicated or deleted byte ranges.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile


def damage(data, rng):
    data = bytearray(data)
    kind = rng.choice(["flip", "truncate", "duplicate", "delete"])
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == "truncate":
        del data[rng.randrange(len(data)):]
    else:
        start = rng.randrange(len(data))
        end = min(len(data), start + rng.randint(1, 64))
        if kind == "duplicate":
            data[start:start] = data[start:end]
        else:
            del data[start:end]
    return bytes(data), kind


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("translate")
    parser.add_argument("model")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    original = open(args.model, "rb").read()
    failures = 0
    counts = {0: 0, 1: 0}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "damaged.onnx")
        for run in range(args.runs):
            data, kind = damage(original, rng)
            with open(path, "wb") as f:
                f.write(data)
            try:
                result = subprocess.run(
                    [args.translate, "--import-onnx", path, "-o", os.devnull],
                    capture_output=True, text=True, errors="replace",
                    timeout=60)
            except subprocess.TimeoutExpired:
                print(f"run {run} ({kind}): hang")
                failures += 1
                continue
            code = result.returncode
            if code == 0 or (code == 1 and "error:" in result.stderr):
                counts[code] += 1
                continue
            failures += 1
            keep = os.path.join(os.getcwd(), f"crash-{seed}-{run}.onnx")
            with open(keep, "wb") as f:
                f.write(data)
            print(f"run {run} ({kind}): exit {code}; kept {keep}\n"
                  f"{result.stderr[-2000:]}")
    print(f"seed={seed}: {counts[0]} imported, {counts[1]} refused, "
          f"{failures} crashed or hung")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
