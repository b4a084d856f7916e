#!/usr/bin/env bash
# Memory check of mod_gatehouse inside the real lighttpd (see scripts/evidence/valgrind.py and
# scripts/evidence/valgrind_sign_in.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/Tests"   # the helper package scripts and tests share (Tests/gatehouse_testkit)
bash scripts/setup.sh
bash scripts/build.sh
python3 scripts/evidence/valgrind.py "$@"
# browser sign-in: 200 sign-ins (off-loop jobs) and 10,000 session requests
exec python3 scripts/evidence/valgrind_sign_in.py
