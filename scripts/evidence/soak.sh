#!/usr/bin/env bash
# Load soak: wrk against the real lighttpd with the module guarding a static file, for DURATION seconds (default 60)
# at CONNECTIONS (default 256), rotating good, badly signed, expired, role-less and missing
# tokens; fails if any response has a status other than the expected 200, 401 and 403, or
# if lighttpd does not survive.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/Tests"   # the helper package scripts and tests share (Tests/gatehouse_testkit)
DURATION=${DURATION:-60}
CONNECTIONS=${CONNECTIONS:-256}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
[ -f build/mod_gatehouse.so ] || bash scripts/build.sh
exec python3 - "$DURATION" "$CONNECTIONS" <<'PY'
import os, subprocess, sys, tempfile
from gatehouse_testkit.lighttpd import Lighttpd
from gatehouse_testkit.tokens import Keys
duration, connections = sys.argv[1], sys.argv[2]
folder = tempfile.mkdtemp(prefix="gatehouse-soak-")
keys = Keys(folder)
server = Lighttpd(folder, backend_port=9, jwks_path=keys.jwks_path)  # lighttpd serves a static file
server.start('gatehouse.require = ( "/" => "role:admin" )\nserver.max-connections = 1024\n')
lines = [f"Bearer {keys.mint(roles=['admin'], jti=f'ok-{i}')}" for i in range(50)]
lines += [f"Bearer {keys.mint(key=keys.other, roles=['admin'])}", f"Bearer {keys.mint(lifetime=-300, roles=['admin'])}",
          f"Bearer {keys.mint(roles=['viewer'])}", "Bearer not.a.token", "-"]
requests_file = os.path.join(folder, "requests.txt")
with open(requests_file, "w") as f:
    f.write("\n".join(lines) + "\n")
result = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "-s", "scripts/evidence/soak.lua",
                         f"http://127.0.0.1:{server.port}/"], capture_output=True, text=True,
                        env=dict(os.environ, SOAK_REQUESTS=requests_file))
alive = server.process.poll() is None
server.stop()
print(result.stdout)
statuses = {int(l.split()[1].rstrip(":")): int(l.split()[2]) for l in result.stdout.splitlines() if l.startswith("status ")}
unexpected = {s: n for s, n in statuses.items() if s not in (200, 401, 403)}
print(f"statuses {dict(sorted(statuses.items()))}; unexpected {unexpected or 'none'}; lighttpd "
      + ("survived" if alive else "DIED"))
sys.exit(0 if alive and not unexpected and statuses else 1)
PY
