#!/usr/bin/env python3
"""Sends hostile tokens to the real lighttpd with mod_gatehouse for SECONDS and checks that it
never dies: mutations of a valid token (bytes changed, inserted, deleted, repeated; control
and non-ASCII bytes included) and tokens built from odd JOSE headers and claims, in the
Authorization header, a cookie or the query string. For the second half of the time, a
second lighttpd signs browsers in (docs/browser-sign-in.md) and gets mutated session cookies
(split over chunk cookies too), login cookies, and sign-in callbacks with mutated code and
state (each one that passes the checks is a job for the worker threads, which find the token
endpoint closed). Prints the count of each status.

    PYTHONPATH=Tests python3 scripts/fuzz/fuzz_http.py [SECONDS]   (after scripts/build.sh)
"""
import base64
import json
import os
import random
import socket
import sys
import tempfile
import time

from gatehouse_testkit.lighttpd import POLICY, Lighttpd
from gatehouse_testkit.sign_in import seal, write_key_file
from gatehouse_testkit.tokens import Keys

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ,\t\x00\x7f\xff\"\\"


def mutate(token, rnd):
    data = bytearray(token)
    for _ in range(rnd.randint(1, 8)):
        operation, index = rnd.randint(0, 3), rnd.randrange(len(data)) if data else 0
        if operation == 0 and data:
            data[index] = rnd.choice(ALPHABET)
        elif operation == 1:
            data.insert(index, rnd.choice(ALPHABET))
        elif operation == 2 and data:
            del data[index]
        else:
            data = data[:index] + data[index:index + rnd.randint(0, 50)] * rnd.randint(1, 3) + data[index:]
    return bytes(data)


def odd_token(rnd):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")
    header = {"alg": rnd.choice(["RS256", "none", "HS256", 1, None]), "kid": rnd.choice(["rsa-1", 1, [], "x"]),
              "crit": rnd.choice([None, ["exp"]])}
    claims = {"exp": rnd.choice([1e308, -1, "x", 2**63, None]), "aud": rnd.choice(["gatehouse-api", 5, [None]]),
              "roles": rnd.choice([["admin"], "admin", {"a": 1}])}
    signature = base64.urlsafe_b64encode(os.urandom(rnd.randint(0, 300))).rstrip(b"=")
    return part(header) + b"." + part(claims) + b"." + signature


def send(port, request):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=15) as connection:
            connection.sendall(request + b"\r\n")
            reply = connection.recv(100)
        return reply.split(b" ")[1].decode() if reply else "no answer"
    except OSError as error:
        return type(error).__name__


SIGN_IN = """
gatehouse.login = "enable"
gatehouse.client-id = "fuzz"
gatehouse.session-key-file = "{keys}"
gatehouse.provider-metadata = "{metadata}"
gatehouse.sign-in-timeout = 2
gatehouse.require = ( "/api/" => "role:admin", "/" => "anonymous" )
"""


def fuzz_sign_in(seconds, rnd):
    """The sign-in server's half: returns (requests sent, statuses, still alive)."""
    folder = tempfile.mkdtemp(prefix="gatehouse-fuzz-sign-in-")
    keys = Keys(folder)
    key_file = write_key_file(os.path.join(folder, "session.keys"))
    with open(key_file) as f:
        key = base64.b64decode(f.readline())
    metadata = os.path.join(folder, "provider.json")
    with open(metadata, "w") as f:  # a provider whose token endpoint nothing listens on
        json.dump({"issuer": "http://127.0.0.1:9", "authorization_endpoint": "http://127.0.0.1:9/authorize",
                   "token_endpoint": "http://127.0.0.1:9/token"}, f)
    server = Lighttpd(folder, backend_port=9, jwks_path=keys.jwks_path)
    server.start(SIGN_IN.format(keys=key_file, metadata=metadata))
    now = int(time.time())
    session = seal(key, "__Host-gatehouse", {"v": 1, "exp": now + 3600, "idle": now + 3600, "claims": {
        "sub": "fuzz", "roles": ["admin"], "big": "x" * rnd.randint(0, 6000)}}).encode()
    statuses, sent, end = {}, 0, time.time() + seconds
    try:
        while time.time() < end and server.process.poll() is None:
            state = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=")
            login = seal(key, "__Host-gatehouse-login", {"s": state.decode(), "n": "n", "v": "v" * 43,
                                                         "t": "/api/x", "exp": now + 600}).encode()
            kind = rnd.randint(0, 2)
            if kind == 0:  # a session cookie, mutated, maybe split over chunk cookies
                value = mutate(session, rnd) if rnd.random() < 0.8 else session
                value = value.replace(b"\r", b"").replace(b"\n", b"").replace(b";", b"")
                cut = rnd.randint(0, len(value))
                cookie = (b"__Host-gatehouse=" + value[:cut] + b"; __Host-gatehouse-1=" + value[cut:]
                          if rnd.random() < 0.3 else b"__Host-gatehouse=" + value)
                method = rnd.choice([b"GET", b"POST", b"HEAD"])
                origin = rnd.choice([b"", b"Origin: http://x\r\n", b"Sec-Fetch-Site: same-origin\r\n"])
                request = method + b" /api/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: " + cookie + b"\r\n"
                request += origin + (b"Content-Length: 0\r\n" if method == b"POST" else b"")
            else:  # a callback: code and state mutated, the login cookie intact or mutated
                code = mutate(b"a-code-from-the-provider", rnd) if rnd.random() < 0.7 else b"code"
                given = mutate(state, rnd) if rnd.random() < 0.5 else state
                query = b"code=" + code + b"&state=" + given + rnd.choice([b"", b"&state=x", b"&error=access_denied"])
                query = bytes(b for b in query if 0x21 <= b < 0x7F and b != ord("#"))
                cookie = mutate(login, rnd) if kind == 2 else login
                cookie = cookie.replace(b"\r", b"").replace(b"\n", b"")
                request = (b"GET /.gatehouse/callback?" + query + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                           b"Cookie: __Host-gatehouse-login=" + cookie + b"\r\n")
            status = send(server.port, request)
            statuses[status] = statuses.get(status, 0) + 1
            sent += 1
    finally:
        alive = server.process.poll() is None
        server.stop()
    return sent, statuses, alive


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    folder = tempfile.mkdtemp(prefix="gatehouse-fuzz-")
    keys = Keys(folder)
    server = Lighttpd(folder, backend_port=9, jwks_path=keys.jwks_path)  # no backend: allowed requests get 503
    server.start(POLICY + 'gatehouse.token-sources = ( "header:Authorization", "cookie:s", "query:t" )\n')
    valid = keys.mint(roles=["admin"]).encode()
    rnd = random.Random(7)
    statuses, sent, end = {}, 0, time.time() + seconds / 2
    try:
        while time.time() < end and server.process.poll() is None:
            token = mutate(valid, rnd) if rnd.random() < 0.7 else odd_token(rnd)
            token = token.replace(b"\r", b"").replace(b"\n", b"")
            where = rnd.randint(0, 2)
            request = b"GET /api/x" + (b"?t=" + token.replace(b" ", b"") if where == 2 else b"") + b" HTTP/1.1\r\n"
            request += b"Host: x\r\nConnection: close\r\n"
            carriers = {0: b"Authorization: Bearer " + token + b"\r\n", 1: b"Cookie: s=" + token + b"\r\n"}
            request += carriers.get(where, b"")
            status = send(server.port, request)
            statuses[status] = statuses.get(status, 0) + 1
            sent += 1
    finally:
        alive = server.process.poll() is None
        server.stop()
    print(f"tokens: {sent} requests in {seconds / 2:.0f} s, statuses {dict(sorted(statuses.items()))}, lighttpd "
          + ("still running" if alive else "DIED"))
    signed_sent, signed_statuses, signed_alive = fuzz_sign_in(seconds / 2, rnd)
    print(f"sign-in: {signed_sent} requests in {seconds / 2:.0f} s, statuses {dict(sorted(signed_statuses.items()))}, "
          + "lighttpd " + ("still running" if signed_alive else "DIED"))
    sys.exit(0 if alive and signed_alive else 1)


if __name__ == "__main__":
    main()
