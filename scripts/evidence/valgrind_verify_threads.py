#!/usr/bin/env python3
"""Runs the real lighttpd with mod_gatehouse under valgrind's memcheck with signatures verified
off the event loop (gatehouse.verify-threads = 2, gatehouse.verify-queue = 16): ROUNDS bursts of
distinct tokens sent at once (some answered 503: the queue is small), the same token from many
clients at once, clients that reset their connection while their token waits, and halfway a
graceful restart (SIGUSR1) while tokens wait. Exits 1 on any definite leak or memory error.

    PYTHONPATH=Tests python3 scripts/evidence/valgrind_verify_threads.py [ROUNDS]
"""
import os
import signal
import socket
import sys
import tempfile
import time

from gatehouse_testkit.valgrind import verdict
from gatehouse_testkit.lighttpd import POLICY, Lighttpd
from gatehouse_testkit.tokens import Keys

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
folder = tempfile.mkdtemp(prefix="gatehouse-valgrind-verify-")
keys = Keys(folder)
log = os.path.join(folder, "valgrind.log")
server = Lighttpd(folder, backend_port=9, jwks_path=keys.jwks_path)
server.start(POLICY + "gatehouse.verify-threads = 2\ngatehouse.verify-queue = 16\n", wrapper=[
    "valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=definite",
    f"--log-file={log}"], timeout=120)
statuses = {}


def burst(tokens, leave=False):
    """One request per token, each on its own connection, sent at once; with `leave`, each
    connection is reset right after its request instead of read."""
    sockets = []
    for token in tokens:
        s = socket.create_connection(("127.0.0.1", server.port), timeout=120)
        s.sendall(f"GET /index.html HTTP/1.1\r\nHost: v\r\nConnection: close\r\n"
                  f"Authorization: Bearer {token}\r\n\r\n".encode())
        sockets.append(s)
    for s in sockets:
        if leave:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        else:
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            status = int(data.split(b" ", 2)[1]) if data else 0
            statuses[status] = statuses.get(status, 0) + 1
        s.close()


try:
    for round in range(rounds):
        if round == rounds // 2:
            burst([keys.mint(sub=f"restart-{n}") for n in range(20)], leave=True)
            server.process.send_signal(signal.SIGUSR1)
            time.sleep(5)
        burst([keys.mint(sub=f"user-{round}-{n}", alg="RS256" if n % 2 else "ES256") for n in range(40)])
        burst([keys.mint(sub=f"same-{round}")] * 20)
        burst([keys.mint(sub=f"gone-{round}-{n}") for n in range(30)], leave=True)
        burst([keys.mint(key=keys.other, sub=f"forged-{round}-{n}") for n in range(5)])
finally:
    server.stop(timeout=300)

summary, clean = verdict(log)
print(f"{rounds} rounds, statuses {dict(sorted(statuses.items()))}, "
      f"graceful restarts: {server.log().count('graceful shutdown started')}")
print("\n".join(summary))
if not clean:
    print(f"valgrind found problems: see {log}")
    sys.exit(1)
