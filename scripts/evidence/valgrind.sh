#!/usr/bin/env bash
# Memory check of mod_gatehouse inside the real lighttpd (see scripts/evidence/valgrind.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/Tests"   # the helper package scripts and tests share (Tests/gatehouse_testkit)
bash scripts/setup.sh
bash scripts/build.sh
exec python3 scripts/evidence/valgrind.py "$@"
