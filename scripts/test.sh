#!/usr/bin/env bash
#===- scripts/test.sh - set up, build and run the whole test suite --------===#
#
# check-moe: the lit suite (test/); check-moe-unit: the GoogleTest units
# through CTest. Both run even if the first fails; exits non-zero on any
# failure.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/build.sh

status=0
ninja -C build check-moe || status=1
ninja -C build check-moe-unit || status=1
if ((status)); then
  echo "test.sh: FAILED (see above)" >&2
fi
exit "$status"
