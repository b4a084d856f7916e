#!/usr/bin/env bash
# Memory check of mod_gatehouse inside the real lighttpd (see scripts/evidence/valgrind.py,
# scripts/evidence/valgrind_verify_threads.py and scripts/evidence/valgrind_sign_in.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/Tests"   # the helper package scripts and tests share (Tests/gatehouse_testkit)
bash scripts/setup.sh
bash scripts/build.sh
python3 scripts/evidence/valgrind.py "$@"
# signatures off the event loop: bursts of tokens, a full queue, clients that leave, a graceful restart
python3 scripts/evidence/valgrind_verify_threads.py
# browser sign-in: 200 sign-ins (off-loop jobs) and 10,000 session requests
exec python3 scripts/evidence/valgrind_sign_in.py
