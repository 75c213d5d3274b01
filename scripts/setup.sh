#!/usr/bin/env bash
# Create .venv at the repository root and install fashionseg with its test tools.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "fashionseg needs Python 3.11 or newer as \$PYTHON or python3" >&2
    exit 2
fi

if [ ! -x .venv/bin/python ]; then
    if ! "$PYTHON" -m venv .venv 2>/dev/null; then
        # Debian and Ubuntu ship venv support separately.
        rm -rf .venv
        SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo "sudo")
        ver=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq "python${ver}-venv" || $SUDO apt-get install -y -qq python3-venv
        "$PYTHON" -m venv .venv
    fi
fi

stamp=.venv/.fashionseg-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[test]"
    touch "$stamp"
fi

# Development data lives beside the checkout: record it as a data root of this environment, so
# `.venv/bin/fashionseg` and an activated venv find it without sourcing anything. Elsewhere
# fashionseg looks in $FASHIONSEG_DATA, the system location and its cache, and downloads only
# when asked (data_options.download=true).
mkdir -p .venv/etc/fashionseg
if [ -d ../shared/data ]; then
    (cd ../shared/data && pwd) > .venv/etc/fashionseg/data-roots
else
    : > .venv/etc/fashionseg/data-roots
fi
