#!/usr/bin/env python3
"""Runs the real lighttpd with mod_gatehouse under valgrind's memcheck, sends a
mix of allowed, denied, unauthenticated and malformed requests (halfway: the key
file is rewritten, so the module reloads it, and lighttpd gets SIGUSR1, a
graceful restart that unloads and reloads every module), stops lighttpd and
reports what valgrind found. Exits 1 on any definite leak or memory error.

    PYTHONPATH=Tests python3 scripts/evidence/valgrind.py [REQUESTS]   (scripts/evidence/valgrind.sh builds first)
"""
import os
import signal
import sys
import tempfile
import time

import requests

from gatehouse_testkit.valgrind import verdict
from gatehouse_testkit.lighttpd import POLICY, Lighttpd
from gatehouse_testkit.tokens import Keys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
folder = tempfile.mkdtemp(prefix="gatehouse-valgrind-")
keys = Keys(folder)
log = os.path.join(folder, "valgrind.log")
server = Lighttpd(folder, backend_port=9, jwks_path=keys.jwks_path)  # no backend: /api/ answers 503 when allowed
server.start(POLICY, wrapper=["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                              "--errors-for-leak-kinds=definite", f"--log-file={log}"], timeout=120)

admin, viewer = keys.mint(roles=["admin"]), keys.mint(alg="ES256", roles=["viewer"])
mixes = [
    ("/index.html", admin), ("/api/x", admin), ("/api/x", viewer), ("/api/x", None),
    ("/api/public/x", viewer), ("/api/x", keys.mint(key=keys.other)), ("/api/x", "a.b.c"),
    ("/api/x", "x" * 5000), ("/api/x", admin[:-4] + "AAAA"), ("/cgi/missing.py", None),
]
statuses = {}
session = requests.Session()
for i in range(count):
    if i == count // 2:
        with open(keys.jwks_path) as f:
            text = f.read()
        with open(keys.jwks_path + ".new", "w") as f:
            f.write(text)
        os.replace(keys.jwks_path + ".new", keys.jwks_path)  # a new file: the module reloads it
        time.sleep(3)
        server.process.send_signal(signal.SIGUSR1)
        time.sleep(3)
        session = requests.Session()
    path, token = mixes[i % len(mixes)]
    headers = {"X-Auth-Subject": "spoofed"}
    if token:
        headers["Authorization"] = "Bearer " + token
    status = session.get(f"http://127.0.0.1:{server.port}{path}", headers=headers, timeout=60).status_code
    statuses[status] = statuses.get(status, 0) + 1
server.stop(timeout=120)

summary, clean = verdict(log)
reloaded = "gatehouse: reloaded" in server.log()
print(f"{count} requests, statuses {dict(sorted(statuses.items()))}, key file reloaded: {reloaded}, "
      f"graceful restarts: {server.log().count('graceful shutdown started')}")
print("\n".join(summary))
if not clean:
    print(f"valgrind found problems: see {log}")
    sys.exit(1)
