#!/usr/bin/env bash
# Set up (if needed) and run the test suite: `bash scripts/test.sh [pytest args]`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The tests' temporary folders (about 3 GB of run folders and checkpoints over the suite, written and read back)
# go to memory (/dev/shm) when it has 8 GB free, and are removed at the end; on disk they cost a third of the
# ResNet-101 test's time. FASHIONSEG_TEST_TMPFS=0 keeps pytest's default (its own --basetemp wins too).
basetemp=()
if [ "${FASHIONSEG_TEST_TMPFS:-1}" != 0 ] && [ -d /dev/shm ] && [ -w /dev/shm ] \
    && [ "$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')" -gt $((8 * 1024 * 1024)) ]; then
    tmp="$(mktemp -d /dev/shm/fashionseg-tests.XXXXXX)"
    trap 'rm -rf "$tmp"' EXIT
    basetemp=(--basetemp "$tmp/pytest")
fi
# One pytest-xdist worker per core (two on the 2-core CI machine); FASHIONSEG_TEST_WORKERS=0 runs in one process.
.venv/bin/python -m pytest -n "${FASHIONSEG_TEST_WORKERS:-auto}" "${basetemp[@]}" "$@"
