#!/usr/bin/env python3
"""Prints the table of `scripts/bench.sh http` from the raw figures of one run (medians over rounds).

    http_report.py RUN_DIR POOL MISS_CACHE_SIZE

RUN_DIR/results.tsv: config round requests duration_us p50_us p99_us status_errors socket_errors
                     server_cpu_ticks clk_tck client_cpu_ticks other_cpu_ticks machine_busy_percent_before
RUN_DIR/speed.tsv:   round rsa2048_verify_per_s ecdsap256_verify_per_s
RUN_DIR/memory.tsv:  server stage vmrss_kib rssanon_kib (server: plain, gatehouse; stage: start, wrk, tokens)
"""
import os
import statistics
import sys

run, pool, miss_cache = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

LABELS = {
    "plain": "lighttpd, static 1 KiB file",
    "plain-token": "lighttpd, same, token header sent, unchecked",
    "basic": "lighttpd + mod_auth (basic, plain file)",
    "gh-rs-hit": "lighttpd + gatehouse RS256, 1 token (hit)",
    "gh-rs-miss": f"lighttpd + gatehouse RS256, {pool} tokens (miss)",
    "gh-es-hit": "lighttpd + gatehouse ES256, 1 token (hit)",
    "gh-es-miss": f"lighttpd + gatehouse ES256, {pool} tokens (miss)",
    "gh-session": "lighttpd + gatehouse, browser session cookie",
    "apache-rs-one": "Apache + mod_auth_openidc RS256, 1 token",
    "apache-rs-pool": f"Apache + mod_auth_openidc RS256, {pool} tokens",
}


def read(name):
    path = os.path.join(run, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


runs = {}
for row in read("results.tsv"):
    config = row[0]
    requests, duration, p50, p99, status_errors, socket_errors, ticks, clk, client, others, _ = map(int, row[2:])
    runs.setdefault(config, []).append({
        "rps": requests / (duration / 1e6),
        "p50": p50 / 1000,
        "p99": p99 / 1000,
        "cpu": ticks / clk * 1e6 / requests,
        "busy": ticks / clk / (duration / 1e6) * 100,
        "others": max(0, others) / clk / (duration / 1e6) * 100,
        "errors": status_errors + socket_errors,
    })
med = {c: {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99", "cpu", "busy", "others")} | {
    "errors": sum(r["errors"] for r in rs), "rounds": len(rs)} for c, rs in runs.items()}


def ratio(config, reference):
    if config in med and reference in med:
        return f"{med[config]['rps'] / med[reference]['rps']:.2f}"
    return "-"


header = f"{'configuration':<48} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10} {'busy %':>6} {'others %':>8} {'x plain':>8} {'x Apache':>8}"
print("== HTTP, 127.0.0.1, GET /1k.txt: medians over rounds")
print("   (CPU us/req: the server process's user+system time per request; busy %: that time over the run's wall time,")
print("    % of one core; others %: CPU the machine spent on anything but the server and wrk during the run)")
print(header)
print("-" * len(header))
for config, label in LABELS.items():
    if config not in med:
        continue
    m = med[config]
    note = f"  ({m['errors']} errors)" if m["errors"] else ""
    print(f"{label:<48} {m['rps']:>8.0f} {m['p50']:>7.2f} {m['p99']:>7.2f} {m['cpu']:>10.1f} {m['busy']:>6.0f} {m['others']:>8.0f} "
          f"{ratio(config, 'plain'):>8} {ratio(config, 'apache-rs-one'):>8}{note}")
print(f"(x Apache: against Apache + mod_auth_openidc with one token; gatehouse miss runs: cache-size {miss_cache},"
      f" {pool} tokens rotated in order, so none is still cached when it comes round)")

speed = read("speed.tsv")
rsa = statistics.median(float(r[1]) for r in speed) if speed else None
ecdsa = statistics.median(float(r[2]) for r in speed) if speed else None
if rsa:
    print()
    print(f"openssl speed on the server's core (median of {len(speed)}): rsa2048 verify {rsa:.0f}/s ({1e6 / rsa:.1f} us),"
          f" ecdsap256 verify {ecdsa:.0f}/s ({1e6 / ecdsa:.1f} us)")


def goal(text, value, target):
    if value is None:
        return
    verdict = "met" if value >= target else "MISSED"
    print(f"  {text:<62} {value:6.2f}  (goal >= {target})  {verdict}")


def rps_ratio(a, b):
    return med[a]["rps"] / med[b]["rps"] if a in med and b in med else None


print()
print("goals (ratios of medians from this run)")
goal("cached gatehouse RS256 / plain lighttpd", rps_ratio("gh-rs-hit", "plain"), 0.9)
goal("cached gatehouse ES256 / plain lighttpd", rps_ratio("gh-es-hit", "plain"), 0.9)
goal("cached gatehouse RS256 / Apache + mod_auth_openidc", rps_ratio("gh-rs-hit", "apache-rs-one"), 3)
goal("cache-miss gatehouse RS256 / Apache + mod_auth_openidc (pool)", rps_ratio("gh-rs-miss", "apache-rs-pool"), 3)
if rsa and "gh-rs-miss" in med:
    goal("cache-miss gatehouse RS256 req/s / openssl speed rsa2048 verify/s", med["gh-rs-miss"]["rps"] / rsa, 0.8)
if "gh-session" in med and "gh-rs-hit" in med:
    print()
    extra = med["gh-session"]["cpu"] - med["gh-rs-hit"]["cpu"]
    verdict = "met" if extra <= 1.0 else "MISSED"
    print(f"  {'session cookie - cached RS256 token, server CPU per request':<62} {extra:+6.2f} us  (goal <= +1)  {verdict}")
if "plain" in med:
    print()
    print("server CPU per request added to plain lighttpd's")
    for config in ("plain-token", "basic", "gh-rs-hit", "gh-rs-miss", "gh-es-hit", "gh-es-miss", "gh-session",
                   "apache-rs-one", "apache-rs-pool"):
        if config in med:
            extra = med[config]["cpu"] - med["plain"]["cpu"]
            ref = ""
            if config == "gh-rs-miss" and rsa:
                ref = f"   (an rsa2048 verify alone: {1e6 / rsa:.1f} us)"
            if config == "gh-es-miss" and ecdsa:
                ref = f"   (an ecdsap256 verify alone: {1e6 / ecdsa:.1f} us)"
            print(f"  {LABELS[config]:<48} {extra:+7.1f} us{ref}")

memory = {(r[0], r[1]): (int(r[2]), int(r[3])) for r in read("memory.tsv")}
if memory:
    print()
    print("lighttpd resident memory, KiB: VmRSS (RssAnon: private heap and stacks; the rest is mapped code and data)")
    print(f"  {'':<42} {'after start':>15} {'after 1 s of wrk':>17} {'after 10000 tokens':>19}")

    def cell(key):
        return f"{memory[key][0]} ({memory[key][1]})" if key in memory else ""
    print(f"  {'plain lighttpd':<42} {cell(('plain', 'start')):>15} {cell(('plain', 'wrk')):>17}")
    print(f"  {'+ mod_gatehouse (RS256, cache-size 10000)':<42} {cell(('gatehouse', 'start')):>15} "
          f"{cell(('gatehouse', 'wrk')):>17} {cell(('gatehouse', 'tokens')):>19}")
    if ("plain", "wrk") in memory and ("gatehouse", "wrk") in memory and ("gatehouse", "tokens") in memory:
        p, g, t = memory[("plain", "wrk")], memory[("gatehouse", "wrk")], memory[("gatehouse", "tokens")]
        print(f"  the module: +{g[0] - p[0]} KiB VmRSS (+{g[1] - p[1]} KiB RssAnon);"
              f" 10000 cached tokens: +{t[0] - g[0]} KiB ({(t[0] - g[0]) * 1024 / 10000:.0f} bytes a token)")
