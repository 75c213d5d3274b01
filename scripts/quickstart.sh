#!/usr/bin/env bash
# Set up (if needed) and run the default recipe end to end: `bash scripts/quickstart.sh [overrides]`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/fashionseg train fashion-fast "$@"
