#!/usr/bin/env bash
# Instructions per request of lighttpd, counted by valgrind's callgrind: repeatable on a busy
# machine, where timings are not. Prints, for N requests over one keep-alive connection:
#   plain-token   lighttpd serving 1k.txt, sent the RS256 token, which nothing checks
#   gh-rs-hit     lighttpd + mod_gatehouse (the bench's gh-rs policy), the same token (cache hit)
#   gh-rs-miss    the same server, N distinct tokens (each verified in full), and of that the
#                 instructions inside EVP_PKEY_verify (the RSA signature) and outside it
#   gh-session    the gh-rs server with browser sign-in on, sent a session cookie of the same
#                 claims instead of the token (opened once, then taken from the session memory)
# and the differences: what a hit adds to plain-token, a miss's own work besides the RSA, and
# what a session cookie costs over the cached token.
#
#   scripts/bench/callgrind_hit.sh            # N=2000 by default (REQUESTS=…, PORT=…)
#
# Uses build/mod_gatehouse.so as built (a copy) and the material of scripts/bench/http_material.py
# in build/bench/callgrind/ (minted again after a day).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${REQUESTS:-2000}
PORT=${PORT:-18680}
DIR=$PWD/build/bench/callgrind
MAT=$DIR/material
MODS=$DIR/modules
[ -f build/mod_gatehouse.so ] || { echo "callgrind_hit: build/mod_gatehouse.so is missing (scripts/build.sh)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind_hit: valgrind is missing (scripts/setup.sh)" >&2; exit 1; }
rm -rf "$MODS" "$DIR"/run
mkdir -p "$MODS" "$DIR/run"
ln -s /usr/lib/lighttpd/*.so "$MODS/"
cp build/mod_gatehouse.so "$MODS/mod_gatehouse.so"
if [ -z "$(find "$MAT/headers/rs-pool.txt" -mmin -1440 2>/dev/null)" ] \
    || [ "$(wc -l <"$MAT/headers/rs-pool.txt")" -ne "$N" ]; then
    rm -rf "$MAT"
    PYTHONPATH=Tests python3 scripts/bench/http_material.py "$MAT" "$N" >/dev/null
fi

write_conf() {   # name, extra lines
    cat >"$DIR/run/$1.conf" <<EOF
server.document-root = "$MAT/www"
server.bind = "127.0.0.1"
server.port = $PORT
server.errorlog = "$DIR/run/$1.log"
server.max-keep-alive-requests = 1000000
mimetype.assign = ( ".txt" => "text/plain" )
$2
EOF
}
write_conf plain ""
write_conf gh-rs "server.modules += ( \"mod_gatehouse\" )
gatehouse.issuer = \"https://idp.example.test/\"
gatehouse.audience = \"gatehouse-api\"
gatehouse.jwks = \"$MAT/rsa-jwks.json\"
gatehouse.algorithms = ( \"RS256\" )
gatehouse.require = ( \"/\" => \"role:viewer\" )"
write_conf gh-session "$(sed -n '/^server.modules/,$p' "$DIR/run/gh-rs.conf")
gatehouse.login = \"enable\"
gatehouse.client-id = \"bench\"
gatehouse.token-endpoint-auth = \"none\"
gatehouse.session-key-file = \"$MAT/session.keys\"
gatehouse.provider-metadata = \"$MAT/provider.json\""

# Sends COUNT requests (Authorization: the lines of FILE in turn, or the line itself when it is
# a "Cookie: …" header) over one connection; fails unless every answer is 200.
send() {   # file, count
    python3 - "$PORT" "$1" "$2" <<'EOF'
import http.client, sys
port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
values = [line.rstrip("\n") for line in open(path) if line.strip()]
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for i in range(count):
    value = values[i % len(values)]
    header = value.split(": ", 1) if value.startswith("Cookie: ") else ("Authorization", value)
    connection.request("GET", "/1k.txt", headers={header[0]: header[1]})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"callgrind_hit: answer {response.status}")
EOF
}

PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; true' EXIT

# Prints the total instructions of N requests, and those inside EVP_PKEY_verify.
measure() {   # conf, headers file of the warm-up, headers file measured
    local out=$DIR/run/callgrind.$1.$(basename "$3" .txt)
    rm -f "$out".*
    valgrind --tool=callgrind --callgrind-out-file="$out.%p" /usr/sbin/lighttpd -D -m "$MODS" \
        -f "$DIR/run/$1.conf" 2>"$DIR/run/valgrind.log" &
    PID=$!
    for _ in $(seq 600); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null && break
        sleep 0.1
    done
    send "$2" 200
    callgrind_control -z "$PID" >/dev/null 2>&1
    send "$3" "$N"
    callgrind_control -d "$PID" >/dev/null 2>&1
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
    local dump
    dump=$(ls "$out".*.1 2>/dev/null || ls "$out".*.2 | head -1)
    local total verify
    total=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")
    verify=$(callgrind_annotate --inclusive=yes "$dump" 2>/dev/null \
        | awk '/:EVP_PKEY_verify / && !n++ {gsub(",", "", $1); print $1}')
    echo "$total ${verify:-0}"
}

read -r plain _ < <(measure plain "$MAT/headers/rs-one.txt" "$MAT/headers/rs-one.txt")
read -r hit _ < <(measure gh-rs "$MAT/headers/rs-one.txt" "$MAT/headers/rs-one.txt")
read -r miss rsa < <(measure gh-rs "$MAT/headers/rs-one.txt" "$MAT/headers/rs-pool.txt")
read -r session _ < <(measure gh-session "$MAT/headers/session-one.txt" "$MAT/headers/session-one.txt")
awk -v n="$N" -v plain="$plain" -v hit="$hit" -v miss="$miss" -v rsa="$rsa" -v session="$session" 'BEGIN {
    printf "instructions per request (callgrind, %d requests over one connection)\n", n
    printf "  plain-token                         %8.0f\n", plain / n
    printf "  gh-rs-hit                           %8.0f   +%.0f over plain-token\n", hit / n, (hit - plain) / n
    printf "  gh-rs-miss                          %8.0f   +%.0f over plain-token\n", miss / n, (miss - plain) / n
    printf "    of which inside EVP_PKEY_verify   %8.0f\n", rsa / n
    printf "    the module besides it             %8.0f   (miss - plain-token - EVP_PKEY_verify)\n", (miss - plain - rsa) / n
    printf "  gh-session                          %8.0f   %+.0f over gh-rs-hit\n", session / n, (session - hit) / n
}'
