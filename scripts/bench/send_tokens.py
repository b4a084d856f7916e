#!/usr/bin/env python3
"""Sends one GET per Authorization header value (the first COUNT lines of FILE) over keep-alive
connections, and fails unless every answer is 200. Used by `scripts/bench.sh http` to fill
gatehouse's token cache with COUNT distinct tokens before reading lighttpd's memory.

    send_tokens.py URL FILE COUNT
"""
import http.client
import sys
import urllib.parse

url, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
parts = urllib.parse.urlsplit(url)
with open(path) as f:
    values = [line.rstrip("\n") for line in f if line.strip()][:count]
if len(values) < count:
    sys.exit(f"send_tokens: {path} has only {len(values)} values, {count} wanted")
if len(set(values)) != len(values):
    sys.exit(f"send_tokens: {path} repeats values")

connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
statuses = {}
for value in values:
    connection.request("GET", parts.path, headers={"Authorization": value})
    response = connection.getresponse()
    response.read()
    statuses[response.status] = statuses.get(response.status, 0) + 1
    if response.getheader("Connection", "").lower() == "close":
        connection.close()
connection.close()
if statuses != {200: count}:
    sys.exit(f"send_tokens: expected {count} × 200, got {statuses}")
print(f"sent {count} distinct tokens, all answered 200")
