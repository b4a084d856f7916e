#!/usr/bin/env python3
"""Runs the real lighttpd with mod_gatehouse under valgrind's memcheck with browser sign-in on:
SIGN_INS sign-ins through oidc-provider-mock's login form (each one a job on the off-loop worker
threads), SESSION_REQUESTS requests decided with the session cookies they set, a few refused
callbacks and tampered cookies, and halfway a graceful restart (SIGUSR1: the worker threads are
stopped and started again). Exits 1 on any definite leak or memory error.

    PYTHONPATH=Tests python3 scripts/evidence/valgrind_sign_in.py [SIGN_INS [SESSION_REQUESTS]]
"""
import os
import signal
import sys
import tempfile
import time

import requests

from gatehouse_testkit.valgrind import verdict
from gatehouse_testkit.provider import Provider
from gatehouse_testkit.sign_in import NAVIGATE, Browser, SignInSite

sign_ins = int(sys.argv[1]) if len(sys.argv) > 1 else 200
session_requests = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
folder = tempfile.mkdtemp(prefix="gatehouse-valgrind-sign-in-")
log = os.path.join(folder, "valgrind.log")
os.makedirs(os.path.join(folder, "provider"))
provider = Provider(os.path.join(folder, "provider"))
os.makedirs(os.path.join(folder, "site"))
server = SignInSite(os.path.join(folder, "site"), 9, provider)
server.start(server.policy(), timeout=120, wrapper=[
    "valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=definite",
    f"--log-file={log}"])
statuses = {}


def count(status):
    statuses[status] = statuses.get(status, 0) + 1


try:
    cookies = []
    for i in range(sign_ins):
        if i == sign_ins // 2:
            server.process.send_signal(signal.SIGUSR1)
            time.sleep(5)
        browser = Browser(server)
        answer = browser.sign_in("/private/page.html", f"user{i}", {"roles": ["viewer"]})
        count(answer.status_code)
        cookies.append(browser.cookie_header())
        if i % 20 == 0:  # a replayed callback, a callback without a login, a tampered session
            count(browser.get("/.gatehouse/callback?code=x&state=y", NAVIGATE).status_code)
            count(requests.get(server.url("/api/x"), timeout=60,
                               headers={"Cookie": cookies[-1][:-3] + "AAA"}).status_code)
    with requests.Session() as client:
        for i in range(session_requests):
            count(client.get(server.url("/private/page.html"), timeout=60,
                             headers={"Cookie": cookies[i % len(cookies)]}).status_code)
finally:
    server.stop(timeout=300)
    provider.stop()

summary, clean = verdict(log)
print(f"{sign_ins} sign-ins, {session_requests} session requests, statuses {dict(sorted(statuses.items()))}, "
      f"graceful restarts: {server.log().count('graceful shutdown started')}")
print("\n".join(summary))
if not clean:
    print(f"valgrind found problems: see {log}")
    sys.exit(1)
