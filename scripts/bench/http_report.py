#!/usr/bin/env python3
"""Prints the tables, same-run ratios and goals of `scripts/bench.sh http` from the raw figures of
one run (medians over rounds), and writes RUN_DIR/report.md, the block to paste into BENCHMARKS.md.

    http_report.py RUN_DIR POOL MISS_CACHE_SIZE

RUN_DIR/results.tsv: config round connections requests duration_us p50_us p99_us status_errors
                     socket_errors server_cpu_ticks clk_tck client_cpu_ticks other_cpu_ticks
                     machine_busy_percent_before backend_cpu_ticks (the proxied runs' backend)
                     (config base-X: X with the module of BASE)
RUN_DIR/speed.tsv:   round rsa2048_verify_per_s ecdsap256_verify_per_s
RUN_DIR/verify.tsv:  round bare_openssl_rs256_per_s gatehouse_cold_rs256_per_s base_cold_rs256_per_s
RUN_DIR/memory.tsv:  server stage vmrss_kib rssanon_kib (server: plain, gatehouse, base-gatehouse;
                     stage: start, wrk, tokens)
RUN_DIR/flood.tsv:   pool_size key=value… (scripts/bench/flood.py's RESULT line)
"""
import os
import statistics
import sys

run, pool, miss_cache = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

LABELS = {
    "plain": "lighttpd, static 1 KiB file",
    "plain-token": "lighttpd, same, token header sent, unchecked",
    "plain-cookie": "lighttpd, same, session cookie sent, unchecked",
    "basic": "lighttpd + mod_auth (basic, plain file)",
    "gh-rs-hit": "lighttpd + gatehouse RS256, 1 token (hit)",
    "gh-rs-miss": f"lighttpd + gatehouse RS256, {pool} tokens (miss)",
    "gh-es-hit": "lighttpd + gatehouse ES256, 1 token (hit)",
    "gh-es-miss": f"lighttpd + gatehouse ES256, {pool} tokens (miss)",
    "gh-session": "lighttpd + gatehouse, browser session cookie",
    "apache-rs-one": "Apache + mod_auth_openidc RS256, 1 token",
    "apache-rs-pool": f"Apache + mod_auth_openidc RS256, {pool} tokens",
    "oauth2-rs-one": "Apache + mod_oauth2 RS256, 1 token (cached)",
    "oauth2-rs-pool": f"Apache + mod_oauth2 RS256, {pool} tokens (uncached)",
    "proxy-plain": "lighttpd proxy -> backend, token unchecked",
    "proxy-gh-hit": "lighttpd proxy + gatehouse RS256 (hit)",
    "proxy-gh-miss": f"lighttpd proxy + gatehouse RS256 (miss)",
}
# The peer row each configuration is compared with: one token, or the pool.
POOLED = {"gh-rs-miss", "gh-es-miss", "apache-rs-pool", "oauth2-rs-pool", "proxy-gh-miss"}
ALLOWED_SLOWDOWN = 0.97


def read(name):
    path = os.path.join(run, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


runs = {}   # (config, connections) -> {round: figures}
for row in read("results.tsv"):
    config, rnd, conns = row[0], int(row[1]), int(row[2])
    requests, duration, p50, p99, status_errors, socket_errors, ticks, clk, client, others, _, backend = map(
        int, row[3:])
    runs.setdefault((config, conns), {})[rnd] = {
        "rps": requests / (duration / 1e6),
        "p50": p50 / 1000,
        "p99": p99 / 1000,
        "cpu": ticks / clk * 1e6 / max(requests, 1),
        "backend": backend / clk * 1e6 / max(requests, 1),
        "busy": ticks / clk / (duration / 1e6) * 100,
        "others": max(0, others) / clk / (duration / 1e6) * 100,
        "errors": status_errors + socket_errors,
    }
FIGURES = ("rps", "p50", "p99", "cpu", "backend", "busy", "others")
med = {key: {k: statistics.median(r[k] for r in rs.values()) for k in FIGURES}
       | {"errors": sum(r["errors"] for r in rs.values()), "rounds": len(rs)} for key, rs in runs.items()}
connections = sorted({conns for _, conns in runs})
rounds = max((m["rounds"] for m in med.values()), default=0)
markdown = []


def rps_ratio(a, b, conns):
    if (a, conns) in med and (b, conns) in med:
        return med[(a, conns)]["rps"] / med[(b, conns)]["rps"]
    return None


def cpu_extra(a, b, conns):
    """What a request of configuration a costs the server over one of b: the median over rounds of
    the difference within each round (the two run minutes apart at most, so a drift of the machine's
    speed between rounds cancels out)."""
    mine, theirs = runs.get((a, conns)), runs.get((b, conns))
    common = sorted(set(mine or {}) & set(theirs or {}))
    if not common:
        return None
    return statistics.median(mine[r]["cpu"] - theirs[r]["cpu"] for r in common)


def base_ratio(config, conns, figure="cpu"):
    """How much faster the current module is than BASE's, per round from two runs made one after the
    other: BASE's server CPU per request over the current one's (figure "cpu"), or current req/s
    over BASE's ("rps"). Returns the median over rounds and the best round, or None."""
    mine, theirs = runs.get((config, conns)), runs.get(("base-" + config, conns))
    if not mine or not theirs:
        return None
    if figure == "cpu":
        ratios = [theirs[r]["cpu"] / mine[r]["cpu"] for r in mine if r in theirs]
    else:
        ratios = [mine[r]["rps"] / theirs[r]["rps"] for r in mine if r in theirs]
    return (statistics.median(ratios), max(ratios)) if ratios else None


def peer_of(config, server):
    return f"{server}-rs-pool" if config in POOLED else f"{server}-rs-one"


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


# ---- the tables ---------------------------------------------------------------------------

print(f"== HTTP, 127.0.0.1, GET /1k.txt: medians over {rounds} round(s)")
print("   (CPU us/req: the server process's user+system time per request; busy %: that time over the run's wall time,")
print("    % of one core; others %: CPU the machine spent on anything but the server, the backend and wrk during")
print("    the run (the proxied runs' backend, lighttpd serving the file, is reported with them below);")
print("    x base: BASE's module's server CPU per request over the current one's (above 1: the current one is")
print("    cheaper), the median of the rounds' ratios of runs made one after the other;")
print("    x openidc, x oauth2: against that Apache peer sent the same kind of tokens, one or the pool)")
header = (f"{'configuration':<50} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10} {'busy %':>6} "
          f"{'others %':>8} {'x plain':>7} {'x base':>7} {'x openidc':>9} {'x oauth2':>8}")
markdown += ["| configuration | conns | req/s | p50 ms | p99 ms | server CPU µs/req | × plain | × previous commit |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
for conns in connections:
    print()
    print(f"-- {conns} connections")
    print(header)
    print("-" * len(header))
    for config, label in LABELS.items():
        for name, text in ((config, label), ("base-" + config, "  the same, module of BASE")):
            if (name, conns) not in med:
                continue
            m = med[(name, conns)]
            note = f"  ({m['errors']} errors)" if m["errors"] else ""
            base = base_ratio(name, conns)
            print(f"{text:<50} {m['rps']:>8.0f} {m['p50']:>7.2f} {m['p99']:>7.2f} {m['cpu']:>10.1f} {m['busy']:>6.0f} "
                  f"{m['others']:>8.0f} {fmt(rps_ratio(name, 'plain', conns), '.2f'):>7} "
                  f"{fmt(base and base[0], '.2f'):>7} "
                  f"{fmt(rps_ratio(name, peer_of(config, 'apache'), conns), '.2f'):>9} "
                  f"{fmt(rps_ratio(name, peer_of(config, 'oauth2'), conns), '.2f'):>8}{note}")
            if name == config:
                markdown.append(f"| {label} | {conns} | {m['rps']:,.0f} | {m['p50']:.2f} | {m['p99']:.2f} | "
                                f"{m['cpu']:.1f} | {fmt(rps_ratio(name, 'plain', conns), '.2f')} | "
                                f"{fmt(base and base[0], '.2f')} |")
print(f"(gatehouse miss runs: cache-size {miss_cache}, {pool} tokens rotated in order, so none is still cached when"
      f" it comes round; mod_oauth2's cache holds 1000)")

speed = read("speed.tsv")
rsa = statistics.median(float(r[1]) for r in speed) if speed else None
ecdsa = statistics.median(float(r[2]) for r in speed) if speed else None
if rsa:
    print()
    print(f"openssl speed on the server's core (median of {len(speed)}): rsa2048 verify {rsa:.0f}/s ({1e6 / rsa:.1f} us),"
          f" ecdsap256 verify {ecdsa:.0f}/s ({1e6 / ecdsa:.1f} us)")
verify = [[float(x) if x else None for x in r[1:]] + [None] * (4 - len(r)) for r in read("verify.tsv")]


def median_of(column):
    values = [r[column] for r in verify if r[column]]
    return statistics.median(values) if values else None


bare, cold, base_cold = median_of(0), median_of(1), median_of(2)
if bare and cold:
    print(f"RS256 cold verify/s on the server's core (median of {len(verify)}): bare OpenSSL {bare:.0f},"
          f" gatehouse bench verify {cold:.0f}" + (f", BASE's {base_cold:.0f}" if base_cold else ""))

# ---- the goals ----------------------------------------------------------------------------

print()
print("goals (issue 15; from this run: ratios of medians, CPU differences as medians of the rounds' differences)")
markdown += ["", "Goals (same-run figures):", ""]


def goal(text, value, unit, target, met, show_target):
    if value is None:
        line = f"  {text:<66} {'-':>8}        ({show_target})  no figure"
        md = f"- {text.strip()}: no figure ({show_target})"
    else:
        verdict = "met" if met else "MISSED"
        line = f"  {text:<66} {value:>8.2f} {unit:<5} ({show_target})  {verdict}"
        md = f"- {text.strip()}: **{value:.2f} {unit}** ({show_target}): {verdict}"
    print(line)
    markdown.append(md)


def info(text, value, unit, note=""):
    if value is not None:
        print(f"  {text:<66} {value:>8.2f} {unit:<5} {note}")
        markdown.append(f"- {text.strip()}: {value:.2f} {unit} {note}".rstrip())


for conns in connections:
    extra = cpu_extra("gh-rs-hit", "plain-token", conns)
    goal(f"1. hit: gatehouse RS256 hit - plain-token, CPU/request, c{conns}", extra, "us", 1.0,
         extra is not None and extra <= 1.0, "goal <= +1.0")
    info(f"   ES256 hit - plain-token, c{conns}", cpu_extra("gh-es-hit", "plain-token", conns), "us",
         "(an ES256 token is shorter than the RS256 one plain-token sends)")
    info(f"   BASE's RS256 hit - plain-token, c{conns}", cpu_extra("base-gh-rs-hit", "plain-token", conns), "us")
own = 1e6 / cold - 1e6 / bare if cold and bare else None
goal("2. miss: own work besides the signature (1/cold - 1/bare verify)", own, "us", 5, own is not None and own <= 5,
     "goal <= 5")
goal("   cold RS256 gatehouse bench verify / bare OpenSSL verify", cold / bare if cold and bare else None, "x", 0.9,
     bool(cold and bare and cold / bare >= 0.9), "goal >= 0.9")
for conns in connections:
    if rsa:
        miss = cpu_extra("gh-rs-miss", "gh-rs-hit", conns)
        info(f"   HTTP: RS256 miss - hit - one rsa2048 verify, c{conns}",
             None if miss is None else miss - 1e6 / rsa, "us", "(includes the kernel's cost of waking wrk at the lower rate)")

flood = {}
for row in read("flood.tsv"):
    fields = dict(item.split("=", 1) for item in row[1].split() if "=" in item)
    flood[int(row[0])] = {k: float(v) for k, v in fields.items() if v.replace(".", "", 1).isdigit()}
pooled = [n for n in flood if n > 0]
if not flood:
    print("  3. off the loop: no figures (scripts/bench/flood.py absent or failed: see above)")
    markdown.append("- 3. off the loop: no figures (scripts/bench/flood.py absent or failed)")
for n in sorted(pooled):
    p99 = flood[n].get("cached_p99_us")
    goal(f"3. off the loop: cached client's p99 during the flood, pool {n}", p99 and p99 / 1000, "ms", 2,
         p99 is not None and p99 < 2000, "goal < 2")
if 0 in flood:
    p99 = flood[0].get("cached_p99_us")
    info("   the same, inline (pool 0)", p99 and p99 / 1000, "ms")
    for n in sorted(pooled):
        a, b = flood[n].get("miss_per_s"), flood[0].get("miss_per_s")
        info(f"   miss throughput, pool {n} / inline", a / b if a and b else None, "x",
             f"({a:.0f} / {b:.0f} per s)" if a and b else "")

memory = {(r[0], r[1]): (int(r[2]), int(r[3])) for r in read("memory.tsv")}


def per_token(server):
    if (server, "wrk") in memory and (server, "tokens") in memory:
        return (memory[(server, "tokens")][0] - memory[(server, "wrk")][0]) * 1024 / 10000
    return None


mine = per_token("gatehouse")
goal("4. memory per cached RS256 token (VmRSS delta / 10000)", mine, "bytes", 1024, mine is not None and mine <= 1024,
     "goal <= 1024")
info("   BASE's module", per_token("base-gatehouse"), "bytes")

for conns in connections:
    info(f"5. proxied: gatehouse hit / plain proxy, req/s, c{conns}", rps_ratio("proxy-gh-hit", "proxy-plain", conns),
         "x", f"(+{fmt(cpu_extra('proxy-gh-hit', 'proxy-plain', conns), '.1f')} us CPU/request)")
    if ("proxy-plain", conns) in med:
        info(f"   proxied: the backend's CPU/request, c{conns}", med[("proxy-plain", conns)]["backend"], "us",
             "(the same in every proxied run: front + backend is what a request costs the machine)")
    info(f"   proxied: gatehouse miss / plain proxy, req/s, c{conns}",
         rps_ratio("proxy-gh-miss", "proxy-plain", conns), "x",
         f"(+{fmt(cpu_extra('proxy-gh-miss', 'proxy-plain', conns), '.1f')} us CPU/request)")

for conns in connections:
    extra = cpu_extra("gh-session", "gh-rs-hit", conns)
    goal(f"session cookie - cached RS256 token, CPU/request, c{conns}", extra, "us", 1.0,
         extra is not None and extra <= 1.0, "issue 14: goal <= +1.0")
    info(f"   plain lighttpd sent the cookie - sent the token, c{conns}",
         cpu_extra("plain-cookie", "plain-token", conns), "us",
         "(the two requests' own difference, without the module)")

for conns in connections:
    for server, name in (("oauth2", "mod_oauth2"), ("apache", "mod_auth_openidc")):
        info(f"peers: gatehouse RS256 hit / Apache + {name} 1 token, c{conns}",
             rps_ratio("gh-rs-hit", f"{server}-rs-one", conns), "x")
        info(f"peers: gatehouse RS256 miss / Apache + {name} {pool} tokens, c{conns}",
             rps_ratio("gh-rs-miss", f"{server}-rs-pool", conns), "x")

print()
print("nothing slower than BASE: BASE's server CPU per request / the current module's (and current / BASE req/s),")
print(f"  medians of the rounds' ratios of runs made one after the other; met at >= {ALLOWED_SLOWDOWN}; below that,")
print("  'within noise' when at least one round has the current module at least as cheap (ratio >= 1.00: the rounds")
print("  disagree on the sign), else MISSED. CPU per request, not req/s, decides: it does not depend on whether the")
print("  server or the client's core (wrk, and the proxied runs' backend on two cores) is the bottleneck")
markdown += ["", "Against the previous commit (BASE's server CPU per request / the current one's, and current / BASE "
                 f"req/s; medians of per-round ratios; met at ≥ {ALLOWED_SLOWDOWN}, within noise when a round has the "
                 "CPU ratio ≥ 1.00):", ""]
compared = False
for conns in connections:
    for config, label in LABELS.items():
        ratio = base_ratio(config, conns)
        if ratio is None:
            continue
        compared = True
        middle, best = ratio
        rps = base_ratio(config, conns, "rps")[0]
        verdict = "met" if middle >= ALLOWED_SLOWDOWN else "within noise" if best >= 1.0 else "MISSED"
        print(f"  {label + f', c{conns}':<66} {middle:>8.2f} x     (best round {best:.2f}; req/s {rps:.2f})  {verdict}")
        markdown.append(f"- {label}, c{conns}: {middle:.2f}× (best round {best:.2f}; req/s {rps:.2f}×): {verdict}")
if base_cold and cold:
    verdict = "met" if cold / base_cold >= ALLOWED_SLOWDOWN else "MISSED"
    print(f"  {'gatehouse bench verify, cold RS256':<66} {cold / base_cold:>8.2f} x     {verdict}")
    markdown.append(f"- gatehouse bench verify, cold RS256: {cold / base_cold:.2f}×: {verdict}")
if not compared:
    print("  no base-* runs (BASE=none, or CONFIGS without them)")

# ---- CPU and memory detail ----------------------------------------------------------------

for conns in connections:
    if ("plain", conns) not in med:
        continue
    print()
    print(f"server CPU per request added to plain lighttpd's, c{conns}")
    for config in LABELS:
        if config != "plain" and (config, conns) in med:
            extra = cpu_extra(config, "plain", conns)
            ref = ""
            if config == "gh-rs-miss" and rsa:
                ref = f"   (an rsa2048 verify alone: {1e6 / rsa:.1f} us)"
            if config == "gh-es-miss" and ecdsa:
                ref = f"   (an ecdsap256 verify alone: {1e6 / ecdsa:.1f} us)"
            print(f"  {LABELS[config]:<50} {extra:+7.1f} us{ref}")

if memory:
    print()
    print("lighttpd resident memory, KiB: VmRSS (RssAnon: private heap and stacks; the rest is mapped code and data)")
    print(f"  {'':<42} {'after start':>15} {'after 1 s of wrk':>17} {'after 10000 tokens':>19}")

    def cell(key):
        return f"{memory[key][0]} ({memory[key][1]})" if key in memory else ""
    for server, label in (("plain", "plain lighttpd"), ("gatehouse", "+ mod_gatehouse (RS256, cache-size 10000)"),
                          ("base-gatehouse", "+ BASE's mod_gatehouse")):
        if (server, "start") in memory:
            print(f"  {label:<42} {cell((server, 'start')):>15} {cell((server, 'wrk')):>17}"
                  f" {cell((server, 'tokens')):>19}")
    for server in ("gatehouse", "base-gatehouse"):
        if ("plain", "wrk") in memory and (server, "wrk") in memory and (server, "tokens") in memory:
            p, g, t = memory[("plain", "wrk")], memory[(server, "wrk")], memory[(server, "tokens")]
            print(f"  {server}: the module +{g[0] - p[0]} KiB VmRSS (+{g[1] - p[1]} KiB RssAnon);"
                  f" 10000 cached tokens +{t[0] - g[0]} KiB ({(t[0] - g[0]) * 1024 / 10000:.0f} bytes a token)")

with open(os.path.join(run, "report.md"), "w") as f:
    f.write("\n".join(markdown) + "\n")
print()
print("---- markdown for BENCHMARKS.md (also in report.md) ----")
print("\n".join(markdown))
print("---- end ----")
