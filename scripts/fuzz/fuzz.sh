#!/usr/bin/env bash
# libFuzzer (with AddressSanitizer) over the token verifier, the rule language and the
# lighttpd.conf reader, FUZZ_SECONDS each (default 600), in parallel. Seeds come from the
# test fixtures; corpora and crash files stay under build/fuzz/ (never committed).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-600}
bash scripts/setup.sh >/dev/null
(cd Fuzz && swift build -c release --scratch-path ../.build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld)

rm -rf build/fuzz && mkdir -p build/fuzz/{token,policy,conf}/corpus
python3 - <<'PY'
import json, pathlib
root = pathlib.Path("build/fuzz")
cases = json.load(open("Tests/GatehouseCoreTests/Fixtures/tokens.json"))["cases"]
for i, case in enumerate(cases):
    (root / "token/corpus" / f"seed-{i}").write_text(case["token"])
for i, rule in enumerate(["/api/\nrole:admin or scope:write", "/t/{tenant}/\nclaims.tenant == path.tenant",
                          "/\nrequest.ip in ['10.0.0.0/8', '::1'] and claims.email matches '@example[.]com$'",
                          "GET,HEAD /x\nnot (claims.level >= 3 or claims.flows contains 'etl')"]):
    (root / "policy/corpus" / f"seed-{i}").write_text(rule)
for i, path in enumerate(pathlib.Path("Tests/LighttpdConfigTests/Fixtures").rglob("*.conf")):
    (root / "conf/corpus" / f"seed-{i}").write_bytes(path.read_bytes())
PY

run() {
    local target=$1 dir=$2
    (cd "build/fuzz/$dir" && "../../../.build-fuzz/release/$target" -max_total_time="$seconds" -max_len=16384 \
        -print_final_stats=1 corpus > run.log 2>&1) &
}
run FuzzToken token
run FuzzPolicy policy
run FuzzLighttpdConf conf
wait || true
status=0
for dir in token policy conf; do
    runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "build/fuzz/$dir/run.log" | grep -o '[0-9]*$' || echo 0)
    if ls build/fuzz/$dir/crash-* build/fuzz/$dir/leak-* >/dev/null 2>&1 || grep -q "ERROR: \|Deadly signal" "build/fuzz/$dir/run.log"; then
        echo "$dir: FAILED after $runs runs (see build/fuzz/$dir/run.log)"; status=1
    else
        echo "$dir: $runs runs in ${seconds} s, no crash"
    fi
done
exit $status
