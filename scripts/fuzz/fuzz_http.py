#!/usr/bin/env python3
"""Sends hostile tokens to the real lighttpd with mod_gatehouse for SECONDS and checks that it
never dies: mutations of a valid token (bytes changed, inserted, deleted, repeated; control
and non-ASCII bytes included) and tokens built from odd JOSE headers and claims, in the
Authorization header, a cookie or the query string. Prints the count of each status.

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


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    folder = tempfile.mkdtemp(prefix="gatehouse-fuzz-")
    keys = Keys(folder)
    server = Lighttpd(folder, backend_port=9, jwks_path=keys.jwks_path)  # no backend: allowed requests get 503
    server.start(POLICY + 'gatehouse.token-sources = ( "header:Authorization", "cookie:s", "query:t" )\n')
    valid = keys.mint(roles=["admin"]).encode()
    rnd = random.Random(7)
    statuses, sent, end = {}, 0, time.time() + seconds
    try:
        while time.time() < end and server.process.poll() is None:
            token = mutate(valid, rnd) if rnd.random() < 0.7 else odd_token(rnd)
            token = token.replace(b"\r", b"").replace(b"\n", b"")
            where = rnd.randint(0, 2)
            request = b"GET /api/x" + (b"?t=" + token.replace(b" ", b"") if where == 2 else b"") + b" HTTP/1.1\r\n"
            request += b"Host: x\r\nConnection: close\r\n"
            carriers = {0: b"Authorization: Bearer " + token + b"\r\n", 1: b"Cookie: s=" + token + b"\r\n"}
            request += carriers.get(where, b"")
            try:
                with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
                    connection.sendall(request + b"\r\n")
                    reply = connection.recv(100)
                status = reply.split(b" ")[1].decode() if reply else "no answer"
            except OSError as error:
                status = type(error).__name__
            statuses[status] = statuses.get(status, 0) + 1
            sent += 1
    finally:
        alive = server.process.poll() is None
        server.stop()
    print(f"{sent} requests in {seconds:.0f} s, statuses {dict(sorted(statuses.items()))}, lighttpd "
          + ("still running" if alive else "DIED"))
    sys.exit(0 if alive else 1)


if __name__ == "__main__":
    main()
