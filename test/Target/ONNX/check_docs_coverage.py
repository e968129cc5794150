#!/usr/bin/env python3
"""Checks that the coverage table of docs/ONNXImport.md has a row for every
operator the importer registers (`moe-translate --list-onnx-operators`), and
no row for one it does not. Usage: check_docs_coverage.py OPS_FILE DOC."""

import re
import sys


def main():
    ops_file, doc = sys.argv[1], sys.argv[2]
    registered = set()
    for line in open(ops_file):
        domain, _, op = line.strip().partition("::")
        if op:
            registered.add(f"{domain}.{op}" if domain else op)
    # The section "## Operator coverage", up to the next "## " heading; its
    # table rows start with the operator in backquotes: | `Op` | ... |
    text = open(doc).read()
    section = text.split("\n## Operator coverage", 1)[-1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\|\s*`([\w.]+)`", section, re.M))
    missing = sorted(registered - documented)
    extra = sorted(documented - registered)
    for op in missing:
        print(f"{doc}: no coverage row for supported operator {op}")
    for op in extra:
        print(f"{doc}: coverage row for {op}, which the importer does not register")
    sys.exit(1 if missing or extra else 0)


if __name__ == "__main__":
    main()
