#!/usr/bin/env bash
# Memory check of mod_gatehouse inside the real lighttpd (see scripts/valgrind.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec python3 scripts/valgrind.py "$@"
