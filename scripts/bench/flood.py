#!/usr/bin/env python3
"""Issue 15's flood: while one client sends 10,000 distinct RS256 tokens (every one a cache miss),
a second client sends a token already in the cache at a steady pace and times each answer.
Prints what the flood achieved (misses per second, and lighttpd's CPU time per miss, every thread
counted, in clock ticks: 10 ms each) and the second client's latencies, as one JSON
line; run it once per pool size, alternating, to compare.

    scripts/bench/flood.py --pool N [--tokens 10000] [--connections 32] [--probe-interval-ms 0.5]
                           [--work-dir DIR] [--runs 1]

--pool N sets gatehouse.verify-threads (0: every signature verified on lighttpd's event loop).
lighttpd runs as Debian ships it (server.max-worker unset: one process), serving a small static
file behind `gatehouse.require = ( "/" => "authenticated" )`, from build/modules (scripts/build.sh).
The flood is wrk (scripts/bench/flood.lua, one thread); the second client is this script in a
process of its own, one keep-alive connection, one request every --probe-interval-ms.
Tokens are minted by PyJWT once into --work-dir (default build/bench-flood) and reused.

Output (one line per run):
  {"pool": N, "tokens": 10000, "connections": 32, "flood_seconds": S, "misses_per_second": R, "flood_non_200": 0,
   "server_cpu_us_per_miss": C,
   "probe": {"requests": N, "p50_ms": X, "p99_ms": X, "max_ms": X, "non_200": 0}}
"""
import argparse
import json
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests"))

ISSUER = "https://idp.example.test/"
AUDIENCE = "gatehouse-api"
LIGHTTPD = "/usr/sbin/lighttpd"


def mint(folder, count):
    """The key's JWKS, `count` distinct tokens (flood.txt, "Bearer …" lines) and one more (probe.txt)."""
    flood = os.path.join(folder, "flood.txt")
    if os.path.exists(flood) and sum(1 for _ in open(flood)) >= count:
        return
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    from gatehouse_testkit.tokens import public_jwk
    os.makedirs(folder, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(os.path.join(folder, "jwks.json"), "w") as f:
        json.dump({"keys": [public_jwk(key, "flood", "RS256")]}, f)
    now = int(time.time())

    def token(i):
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": f"user-{i}", "iat": now, "exp": now + 30 * 86400,
                  "roles": ["viewer"], "jti": f"flood-{i}"}
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "flood"})

    with open(os.path.join(folder, "probe.txt"), "w") as f:
        f.write(f"Bearer {token('probe')}\n")
    with open(flood, "w") as f:
        for i in range(count):
            f.write(f"Bearer {token(i)}\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lighttpd(folder, pool, queue, cache):
    port = free_port()
    docroot = os.path.join(folder, "www")
    os.makedirs(docroot, exist_ok=True)
    with open(os.path.join(docroot, "index.html"), "w") as f:
        f.write("x" * 1024)
    config = os.path.join(folder, f"lighttpd-{pool}.conf")
    with open(config, "w") as f:
        f.write(f"""server.document-root = "{docroot}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{folder}/error-{pool}.log"
server.max-request-field-size = 32768
index-file.names = ( "index.html" )
server.modules += ( "mod_gatehouse" )
gatehouse.issuer = "{ISSUER}"
gatehouse.audience = "{AUDIENCE}"
gatehouse.jwks = "{folder}/jwks.json"
gatehouse.cache-size = {cache}
gatehouse.verify-threads = {pool}
gatehouse.verify-queue = {queue}
gatehouse.require = ( "/" => "authenticated" )
""")
    process = subprocess.Popen([LIGHTTPD, "-D", "-m", os.path.join(ROOT, "build", "modules"), "-f", config],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as probe:
                probe.sendall(b"STARTED? / HTTP/1.0\r\n\r\n")
                if probe.recv(1):
                    return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    sys.exit("flood: lighttpd did not start")


def get(connection, request):
    """Sends `request` on a keep-alive connection; returns the status (reads the whole answer)."""
    connection.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("lighttpd closed the connection")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"\r\nContent-Length: (\d+)", head, re.I).group(1))
    while len(body) < length:
        body += connection.recv(65536)
    return int(head.split(b" ", 2)[1])


def probe(port, header, interval, stop, results):
    """The second client: one request every `interval` seconds until `stop` is set (each timed, with
    when it started), on a keep-alive
    connection (opened again, untimed, when lighttpd closes it after server.max-keep-alive-requests)."""
    request = f"GET / HTTP/1.1\r\nHost: probe\r\nAuthorization: {header}\r\n\r\n".encode()
    latencies, non_200 = [], 0
    connection = None
    next_at = time.perf_counter()
    while not stop.is_set():
        if connection is None:
            connection = socket.create_connection(("127.0.0.1", port))
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.perf_counter()
        try:
            status = get(connection, request)
        except ConnectionError:
            connection.close()
            connection = None
            continue
        latencies.append((started, time.perf_counter() - started))
        non_200 += status != 200
        next_at += interval
        time.sleep(max(0.0, next_at - time.perf_counter()))
    connection.close()
    results.put((latencies, non_200))


def cpu_seconds(pid):
    """The user and system CPU time of process `pid`, all its threads together."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else float("nan")


def run(args, folder):
    process, port = start_lighttpd(folder, args.pool, args.queue, args.tokens * 2)
    try:
        header = open(os.path.join(folder, "probe.txt")).read().strip()
        with socket.create_connection(("127.0.0.1", port)) as warm:  # the probe's token into the cache
            assert get(warm, f"GET / HTTP/1.1\r\nHost: w\r\nAuthorization: {header}\r\n\r\n".encode()) == 200
        stop, results = multiprocessing.Event(), multiprocessing.Queue()
        client = multiprocessing.Process(target=probe, args=(port, header, args.probe_interval_ms / 1000, stop,
                                                             results))
        client.start()
        time.sleep(0.2)
        tokens = os.path.join(folder, "tokens-run.txt")
        with open(os.path.join(folder, "flood.txt")) as f, open(tokens, "w") as out:
            out.writelines(f.readlines()[:args.tokens])
        cpu_before = cpu_seconds(process.pid)
        wrk = subprocess.Popen(
            ["wrk", "-t1", f"-c{args.connections}", "-d600s", "-s", os.path.join(ROOT, "scripts", "bench", "flood.lua"),
             f"http://127.0.0.1:{port}/", "--", tokens], stdout=subprocess.PIPE, text=True)
        started = finished = None
        for line in wrk.stdout:
            if line.startswith("START"):
                started = time.perf_counter()
            elif line.startswith("DONE"):
                finished = time.perf_counter()
                flood_non_200 = int(line.split("=")[1])
                break
        cpu = cpu_seconds(process.pid) - cpu_before
        wrk.kill()
        wrk.wait()
        stop.set()
        samples, non_200 = results.get(timeout=60)
        client.join()
        if started is None or finished is None:
            sys.exit("flood: wrk did not finish the flood")
        seconds = finished - started
        # (perf_counter is CLOCK_MONOTONIC: the same clock in both processes)
        latencies = [latency for at, latency in samples if started <= at <= finished]
        return {
            "pool": args.pool, "tokens": args.tokens, "connections": args.connections,
            "flood_seconds": round(seconds, 3), "misses_per_second": round(args.tokens / seconds),
            "flood_non_200": flood_non_200,
            "server_cpu_us_per_miss": round(cpu / args.tokens * 1e6, 1),
            "probe": {"requests": len(latencies), "interval_ms": args.probe_interval_ms,
                      "p50_ms": round(percentile(latencies, 50) * 1e3, 3),
                      "p99_ms": round(percentile(latencies, 99) * 1e3, 3),
                      "max_ms": round(max(latencies) * 1e3, 3), "non_200": non_200},
        }
    finally:
        process.terminate()
        process.wait(timeout=15)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", type=int, required=True, help="gatehouse.verify-threads")
    parser.add_argument("--queue", type=int, default=256, help="gatehouse.verify-queue")
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--probe-interval-ms", type=float, default=0.5)
    parser.add_argument("--work-dir", default=os.path.join(ROOT, "build", "bench-flood"))
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    folder = os.path.abspath(args.work_dir)
    mint(folder, args.tokens)
    for _ in range(args.runs):
        print(json.dumps(run(args, folder)), flush=True)


if __name__ == "__main__":
    main()
