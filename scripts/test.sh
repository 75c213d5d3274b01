#!/usr/bin/env bash
# Set up (if needed) and run the test suite: `bash scripts/test.sh [pytest args]`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# One pytest-xdist worker per core (two on the 2-core CI machine); FASHIONSEG_TEST_WORKERS=0 runs in one process.
exec .venv/bin/python -m pytest -n "${FASHIONSEG_TEST_WORKERS:-auto}" "$@"
