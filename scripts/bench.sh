#!/usr/bin/env bash
# Benchmarks. Figures go into BENCHMARKS.md as ratios measured in one run.
#   scripts/bench.sh verify   token verification per second, cold and cached, per algorithm,
#                             beside `openssl speed` and OpenSSL's bare verify on the same core
#   scripts/bench.sh rules    decisions per second with 10 and with 10,000 rules
#   scripts/bench.sh http [--smoke]
#                             wrk against plain lighttpd, lighttpd + mod_auth, lighttpd + mod_gatehouse
#                             (RS256, ES256; cache hit and miss; session cookie; behind mod_proxy),
#                             the module of the previous commit, Apache + mod_auth_openidc and
#                             Apache + mod_oauth2 on 127.0.0.1, at 16 and 64 connections, in
#                             alternating rounds; req/s, latency, ratios, goals, memory, the flood
#                             (settings: scripts/bench/http.sh; uses the built build/mod_gatehouse.so;
#                             --smoke: 1 s runs, one round, to see every row produce numbers)
#   scripts/bench.sh http-profile [CONFIG...]   perf record of the server during wrk runs
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-verify}
seconds=${SECONDS_PER_FIGURE:-3}
core=$(( $(nproc) - 1 ))   # one core for everything measured, the same for each figure

bash scripts/setup.sh >/dev/null
case "$mode" in
verify | rules) bash scripts/build.sh >/dev/null ;;
esac

case "$mode" in
verify)
    out=build/bench
    mkdir -p "$out"
    PYTHONPATH=Tests python3 scripts/bench/bench_tokens.py "$out" 1000
    cc -O2 -o "$out/openssl_verify" scripts/bench/openssl_verify.c -lcrypto
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), pinned to core $core"
    echo "openssl: $(openssl version)"
    echo
    echo "== openssl speed -seconds $seconds rsa2048 ecdsap256 ed25519 (verify/s)"
    speed=$(taskset -c "$core" openssl speed -seconds "$seconds" rsa2048 ecdsap256 ed25519 2>/dev/null)
    rsa=$(awk '/^rsa 2048 bits/ {print $NF}' <<<"$speed")
    ecdsa=$(awk '/nistp256/ {print $NF}' <<<"$speed")
    eddsa=$(awk '/Ed25519/ {print $NF}' <<<"$speed")
    echo "RS256 $rsa"; echo "ES256 $ecdsa"; echo "EdDSA $eddsa"
    echo
    echo "== OpenSSL's bare verify through the calls Gatehouse makes (scripts/bench/openssl_verify.c)"
    bare=$(taskset -c "$core" "$out/openssl_verify" "$seconds")
    echo "$bare"
    echo
    echo "== gatehouse bench (1000 distinct tokens per algorithm, minted by PyJWT)"
    ours=$(taskset -c "$core" build/gatehouse bench verify --jwks "$out/jwks.json" --tokens "$out/tokens.txt" \
        --seconds "$seconds")
    echo "$ours"
    echo
    echo "== ratios (cold Gatehouse verify / reference)"
    for alg in RS256 ES256 EdDSA; do
        cold=$(awk -v a="$alg" '$1 == a {print $3}' <<<"$ours")
        cached=$(awk -v a="$alg" '$1 == a {print $4}' <<<"$ours")
        ref_speed=$(case $alg in RS256) echo "$rsa";; ES256) echo "$ecdsa";; EdDSA) echo "$eddsa";; esac)
        ref_bare=$(awk -v a="$alg" '$1 == a {print $2}' <<<"$bare")
        awk -v a="$alg" -v c="$cold" -v s="$ref_speed" -v b="$ref_bare" -v k="$cached" \
            'BEGIN { printf "%-6s cold/openssl-speed %.2f   cold/bare-verify %.2f   cached %.2f M/s\n", a, c/s, c/b, k/1e6 }'
    done
    ;;
rules)
    taskset -c "$core" build/gatehouse bench rules --counts 10,100,1000,10000 --seconds "$seconds"
    ;;
http)
    case ${2:-} in
    "") ;;
    --smoke) export HTTP_SMOKE=1 ;;
    *) echo "usage: scripts/bench.sh http [--smoke]" >&2; exit 2 ;;
    esac
    source scripts/bench/http.sh
    http_main
    ;;
http-profile)
    source scripts/bench/http.sh
    shift
    http_profile "$@"
    ;;
*)
    echo "usage: scripts/bench.sh verify|rules|http [--smoke]|http-profile [CONFIG...]" >&2
    exit 2
    ;;
esac
