# `scripts/bench.sh http` and `scripts/bench.sh http-profile`: wrk against real servers on
# 127.0.0.1, one server at a time. Sourced by scripts/bench.sh, from the repository root.
#
# Servers (each a foreground process of this script, stopped by its PID; a trap stops whatever
# is still running when the script exits):
#   plain           lighttpd serving a 1 KiB static file (plain-token: the same, sent the RS256
#                   token that the gatehouse runs send, which nothing checks: the cost of the header)
#   basic           lighttpd + mod_auth, basic auth, auth.backend = "plain"
#   gh-rs-*         lighttpd + mod_gatehouse, RS256 policy (gatehouse.require ( "/" => "role:viewer" ))
#   gh-es-*         the same with an ES256 key and policy
#   gh-session      gh-rs with browser sign-in on, sent a session cookie (docs/browser-sign-in.md)
#   apache-rs-*     Apache 2.4 + mod_auth_openidc, AuthType oauth20, the same RSA key and check
# Runs ("configurations"): *-hit / *-one send one token again and again; *-miss / *-pool rotate
# POOL distinct tokens. The gatehouse miss runs set gatehouse.cache-size = MISS_CACHE_SIZE
# (1000): rotating 10,000 tokens in order through a 1,000-entry cache that drops its oldest
# entry first, no token is ever still cached when it comes round again, so every request
# verifies a signature.
#
# Settings (environment):
#   ROUNDS=3 DURATION=10 WARMUP=2   rounds; seconds measured, and warmed up, per run
#   CONNECTIONS=16                  wrk connections (one wrk thread)
#   POOL=10000 MISS_CACHE_SIZE=1000 distinct tokens of the pool runs; gatehouse cache of the miss runs
#   SPEED_SECONDS=3                 `openssl speed` seconds per algorithm and round
#   PORT=18480                      lighttpd's port; Apache listens on PORT+1
#   CONFIGS="plain gh-rs-hit …"     run only these configurations (for trials)
#   QUIET_WAIT=60                   seconds to wait, before each run, for the machine to be idle
#   PROFILE_SECONDS=8               http-profile: seconds of perf record per configuration

HTTP_ALL_CONFIGS="plain plain-token basic gh-rs-hit gh-rs-miss gh-es-hit gh-es-miss gh-session apache-rs-one apache-rs-pool"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-16}
POOL=${POOL:-10000}
MISS_CACHE_SIZE=${MISS_CACHE_SIZE:-1000}
SPEED_SECONDS=${SPEED_SECONDS:-3}
PORT=${PORT:-18480}
APACHE_PORT=$((PORT + 1))
CONFIGS=${CONFIGS:-$HTTP_ALL_CONFIGS}
PROFILE_SECONDS=${PROFILE_SECONDS:-8}
QUIET_WAIT=${QUIET_WAIT:-60}

HTTP_DIR=$PWD/build/bench/http   # everything generated: material, configurations, logs, results
MAT=$HTTP_DIR/material           # what http_material.py mints
RUN=$HTTP_DIR/run                # configurations and logs of this run
MODS=$HTTP_DIR/modules           # lighttpd -m: Debian's modules + a copy of build/mod_gatehouse.so
ISSUER="https://idp.example.test/"
AUDIENCE="gatehouse-api"
URL_PATH=/1k.txt

SERVER_PID=""
SERVER_KIND=""
PIN_SERVER=()
PIN_CLIENT=()

# ---- setup -------------------------------------------------------------------------------

http_install() {
    local need=() pkg
    for pkg in wrk apache2 libapache2-mod-auth-openidc "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
    done
    if [ ${#need[@]} -gt 0 ]; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
    # Debian enables apache2 on port 80 when installing it; we never use that instance.
    if command -v systemctl >/dev/null && systemctl is-active -q apache2 2>/dev/null; then
        systemctl stop apache2 || true
    fi
}

http_prepare() {
    [ -f build/mod_gatehouse.so ] || bash scripts/build.sh >/dev/null
    mkdir -p "$HTTP_DIR"
    rm -rf "$RUN" "$MODS"
    mkdir -p "$RUN" "$MODS"
    # A copy, so that a rebuild during the run (which recreates build/modules) changes nothing here.
    ln -s /usr/lib/lighttpd/*.so "$MODS/"
    cp build/mod_gatehouse.so "$MODS/mod_gatehouse.so"

    # Tokens live two days: minted material is reused for a day (minting 10,000 RS256 tokens
    # takes a while), then minted afresh.
    if [ -z "$(find "$MAT/headers/rs-pool.txt" -mmin -1440 2>/dev/null)" ] \
        || [ "$(wc -l <"$MAT/headers/rs-pool.txt")" -ne "$POOL" ] || [ ! -f "$MAT/headers/session-one.txt" ]; then
        rm -rf "$MAT"
        PYTHONPATH=Tests python3 scripts/bench/http_material.py "$MAT" "$POOL"
    fi
    # Apache's worker runs as www-data: it reads the document root and writes its run folder.
    chmod -R a+rX "$HTTP_DIR"
    mkdir -p "$RUN/apache"
    chown www-data:www-data "$RUN/apache"

    if [ "$(nproc)" -ge 2 ]; then
        PIN_SERVER=(taskset -c 1)
        PIN_CLIENT=(taskset -c 0)
    fi
    http_write_lighttpd_conf plain
    http_write_lighttpd_conf basic
    http_write_lighttpd_conf gh-rs
    http_write_lighttpd_conf gh-rs-small
    http_write_lighttpd_conf gh-es
    http_write_lighttpd_conf gh-es-small
    http_write_lighttpd_conf gh-rs-session
    http_write_apache_conf
}

# lighttpd.conf for one server: plain, basic, gh-rs, gh-es, and gh-*-small (the small cache).
http_write_lighttpd_conf() {
    local name=$1 alg jwks
    {
        cat <<EOF
server.document-root = "$MAT/www"
server.bind = "127.0.0.1"
server.port = $PORT
server.errorlog = "$RUN/lighttpd-$name.log"
server.max-keep-alive-requests = 1000
mimetype.assign = ( ".txt" => "text/plain" )
EOF
        case $name in
        plain) ;;
        basic)
            cat <<EOF
server.modules += ( "mod_auth", "mod_authn_file" )
auth.backend = "plain"
auth.backend.plain.userfile = "$MAT/users.plain"
auth.require = ( "/" => ( "method" => "basic", "realm" => "bench", "require" => "valid-user" ) )
EOF
            ;;
        gh-*)
            case $name in gh-rs*) alg=RS256 jwks=rsa-jwks.json ;; *) alg=ES256 jwks=ec-jwks.json ;; esac
            cat <<EOF
server.modules += ( "mod_gatehouse" )
gatehouse.issuer = "$ISSUER"
gatehouse.audience = "$AUDIENCE"
gatehouse.jwks = "$MAT/$jwks"
gatehouse.algorithms = ( "$alg" )
gatehouse.require = ( "/" => "role:viewer" )
EOF
            case $name in *-small) echo "gatehouse.cache-size = $MISS_CACHE_SIZE" ;; esac
            case $name in *-session)
                cat <<EOF
gatehouse.login = "enable"
gatehouse.client-id = "bench"
gatehouse.token-endpoint-auth = "none"
gatehouse.session-key-file = "$MAT/session.keys"
gatehouse.provider-metadata = "$MAT/provider.json"
EOF
                ;;
            esac
            ;;
        esac
    } >"$RUN/lighttpd-$name.conf"
}

http_write_apache_conf() {
    sed -e "s|@RUN@|$RUN/apache|g" -e "s|@DIR@|$MAT|g" -e "s|@PORT@|$APACHE_PORT|g" \
        -e "s|@ISSUER@|$ISSUER|g" -e "s|@AUDIENCE@|$AUDIENCE|g" \
        -e "s|@PASSPHRASE@|$(head -c 18 /dev/urandom | base64)|g" \
        scripts/bench/apache.conf.in >"$RUN/apache2.conf"
}

# ---- configurations: which server, which Authorization values, what must be refused -------

http_server_of() {   # configuration -> server name
    case $1 in
    plain | basic) echo "$1" ;;
    plain-token) echo plain ;;
    gh-rs-hit) echo gh-rs ;;
    gh-rs-miss) echo gh-rs-small ;;
    gh-es-hit) echo gh-es ;;
    gh-es-miss) echo gh-es-small ;;
    gh-session) echo gh-rs-session ;;
    apache-*) echo apache ;;
    *) echo "bench: unknown configuration $1" >&2; return 1 ;;
    esac
}

http_headers_of() {   # configuration -> the Authorization values wrk rotates
    case $1 in
    plain) echo none ;;
    basic) echo basic ;;
    plain-token | gh-rs-hit | apache-rs-one) echo rs-one ;;
    gh-rs-miss | apache-rs-pool) echo rs-pool ;;
    gh-es-hit) echo es-one ;;
    gh-es-miss) echo es-pool ;;
    gh-session) echo session-one ;;
    esac
}

http_refused_of() {   # server -> Authorization values it must answer with 401 or 403
    case $1 in
    plain) ;;
    basic) echo none ;;
    gh-rs*) echo none rs-norole rs-wrongaud es-one ;;
    gh-es*) echo none es-norole rs-one ;;
    apache) echo none rs-norole rs-wrongaud es-one ;;
    esac
}

http_url_of() {   # server -> URL of the 1 KiB file
    case $1 in
    apache) echo "http://127.0.0.1:$APACHE_PORT$URL_PATH" ;;
    *) echo "http://127.0.0.1:$PORT$URL_PATH" ;;
    esac
}

# ---- servers -----------------------------------------------------------------------------

http_port_open() { (: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

http_wait_port() {   # port log: waits until the server listens, or fails with its log
    local port=$1 log=$2 i
    for i in $(seq 100); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "bench: $SERVER_KIND exited at startup:" >&2
            tail -n 20 "$log" "$RUN/$SERVER_KIND.out" >&2 2>/dev/null || true
            SERVER_PID=""
            exit 1
        fi
        http_port_open "$port" && return 0
        sleep 0.1
    done
    echo "bench: $SERVER_KIND does not listen on $port" >&2
    exit 1
}

http_start_lighttpd() {   # name
    local port=$PORT
    http_port_open "$port" && { echo "bench: port $port is already in use (set PORT=…)" >&2; exit 1; }
    SERVER_KIND=lighttpd-$1
    "${PIN_SERVER[@]}" /usr/sbin/lighttpd -D -m "$MODS" -f "$RUN/lighttpd-$1.conf" >>"$RUN/$SERVER_KIND.out" 2>&1 &
    SERVER_PID=$!
    http_wait_port "$port" "$RUN/lighttpd-$1.log"
}

http_start_apache() {
    local port=$APACHE_PORT
    http_port_open "$port" && { echo "bench: port $port is already in use (set PORT=…)" >&2; exit 1; }
    SERVER_KIND=apache
    rm -f "$RUN/apache/apache2.pid"
    # -X: one process, in the foreground (its event-MPM threads serve the connections).
    "${PIN_SERVER[@]}" /usr/sbin/apache2 -X -f "$RUN/apache2.conf" >>"$RUN/apache.out" 2>&1 &
    SERVER_PID=$!
    http_wait_port "$port" "$RUN/apache/error.log"
}

http_start() {   # server name
    case $1 in
    apache) http_start_apache ;;
    *) http_start_lighttpd "$1" ;;
    esac
}

http_stop() {   # stops the running server by its PID: SIGTERM, then SIGKILL after 10 s
    local pid=$SERVER_PID i
    [ -n "$pid" ] || return 0
    SERVER_PID=""
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

http_cleanup() {
    [ -z "${WRK_PID:-}" ] || kill -TERM "$WRK_PID" 2>/dev/null || true
    http_stop
}

# ---- measuring ---------------------------------------------------------------------------

http_get() {   # url headers-name -> "STATUS BYTES" of one GET with the file's first value
    local value args=()
    value=$(head -n 1 "$MAT/headers/$2.txt")
    case $value in
    "") ;;
    Cookie:*) args=(-H "$value") ;;
    *) args=(-H "Authorization: $value") ;;
    esac
    curl -s -o /dev/null -w '%{http_code} %{size_download}' "${args[@]}" "$1" || true
}

# The server must serve the file (1024 bytes) to the configuration's first value, and refuse
# what it should (a benchmark of refusals would be meaningless). Prints what it saw.
http_check() {   # configuration server
    local url headers refused answer seen
    url=$(http_url_of "$2")
    headers=$(http_headers_of "$1")
    answer=$(http_get "$url" "$headers")
    if [ "$answer" != "200 1024" ]; then
        echo "bench: $1: $url answered \"$answer\" (status, bytes) to $headers (expected 200 1024)" >&2
        tail -n 5 "$RUN"/*.log "$RUN"/*.out "$RUN/apache/error.log" >&2 2>/dev/null || true
        exit 1
    fi
    seen="$headers: 200"
    for refused in $(http_refused_of "$2"); do
        answer=$(http_get "$url" "$refused")
        case ${answer%% *} in
        401 | 403) seen="$seen, $refused: ${answer%% *}" ;;
        *) echo "bench: $1: $url answered ${answer%% *} to $refused (expected 401 or 403)" >&2; exit 1 ;;
        esac
    done
    echo "$seen"
}

http_cpu_ticks() {   # pid -> user + system clock ticks of the process (all its threads)
    sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

http_rss_kib() {   # pid -> "VmRSS RssAnon" in KiB (all resident pages; the private, anonymous ones)
    awk '/^VmRSS:/ { rss = $2 } /^RssAnon:/ { anon = $2 } END { print rss "\t" anon }' "/proc/$1/status"
}

http_wrk() {   # url headers-name seconds -> rotate.lua's RESULT line, plus client_ticks=N (wrk's CPU)
    local out
    out=$("${PIN_CLIENT[@]}" wrk -t1 -c"$CONNECTIONS" -d"$3s" --timeout 5s -s scripts/bench/rotate.lua \
        "$1" -- "$MAT/headers/$2.txt")
    printf '%s' "$(grep '^RESULT' <<<"$out")"
    # user + system time of this subshell's children (wrk), as `times` prints it: 0m1.230s 0m0.450s
    # (into a file: in a pipeline, `times` would run in a new process, with no children)
    times >"$RUN/wrk.times"
    awk -v hz="$(getconf CLK_TCK)" 'NR == 2 {
        split($1, u, /[ms]/); split($2, s, /[ms]/)
        printf " client_ticks=%d\n", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * hz }' "$RUN/wrk.times"
}

http_machine_ticks() {   # busy clock ticks of all cores: user nice system irq softirq
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

# Waits (at most QUIET_WAIT seconds) for a second in which the machine, both cores together,
# is less than 10% busy; prints that share, so a run that started on a busy machine shows.
http_wait_quiet() {
    local waited=0 a b busy idle_a idle_b
    while :; do
        read -r a idle_a < <(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
        sleep 1
        read -r b idle_b < <(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
        busy=$(( 100 * (b - a) / (b - a + idle_b - idle_a + 1) ))
        if [ "$busy" -lt 10 ] || [ "$waited" -ge "$QUIET_WAIT" ]; then
            echo "$busy"
            return 0
        fi
        waited=$((waited + 1))
    done
}

http_field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$2"; }

# One run: wait for a quiet machine, start the server, check it, warm up, measure, stop.
# Appends a line to results.tsv (the columns http_report.py reads).
http_measure() {   # configuration round
    local config=$1 round=$2 server url headers checked quiet before after machine_before machine_after result
    server=$(http_server_of "$config")
    url=$(http_url_of "$server")
    headers=$(http_headers_of "$config")
    quiet=$(http_wait_quiet)
    http_start "$server"
    checked=$(http_check "$config" "$server")
    [ "$round" != 1 ] || echo "  checked $config: $checked"
    http_wrk "$url" "$headers" "$WARMUP" >/dev/null
    machine_before=$(http_machine_ticks)
    before=$(http_cpu_ticks "$SERVER_PID")
    result=$(http_wrk "$url" "$headers" "$DURATION")
    after=$(http_cpu_ticks "$SERVER_PID")
    machine_after=$(http_machine_ticks)
    http_stop
    # others: what the machine did besides this server and wrk (another build or test, say);
    # /proc/stat and the processes' own times disagree by a few per cent of a core, so it can
    # come out slightly negative (kept so in results.tsv, shown as 0)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$config" "$round" \
        "$(http_field requests "$result")" "$(http_field duration_us "$result")" \
        "$(http_field p50_us "$result")" "$(http_field p99_us "$result")" \
        "$(http_field status_errors "$result")" "$(http_field socket_errors "$result")" \
        "$((after - before))" "$(getconf CLK_TCK)" "$(http_field client_ticks "$result")" \
        "$((machine_after - machine_before - (after - before) - $(http_field client_ticks "$result")))" \
        "$quiet" >>"$RUN/results.tsv"
    awk -v c="$config" -v r="$round" -F'\t' 'END {
        s = $4 / 1e6
        printf "  round %s  %-15s %7.0f req/s  p50 %5.2f ms  p99 %5.2f ms  server %5.1f us/req, busy %3.0f%%;" \
            " wrk %3.0f%%, others %3.0f%% of a core (machine %d%% busy before)%s\n",
            r, c, $3 / s, $5 / 1000, $6 / 1000, $9 / $10 * 1e6 / $3, $9 / $10 / s * 100,
            $11 / $10 / s * 100, ($12 > 0 ? $12 : 0) / $10 / s * 100, $13,
            ($7 + $8 > 0) ? sprintf("  (%d status, %d socket errors)", $7, $8) : "" }' "$RUN/results.tsv"
}

http_openssl_speed() {   # round: `openssl speed` verify/s on the server's core, into speed.tsv
    local out rsa ecdsa
    out=$("${PIN_SERVER[@]}" openssl speed -seconds "$SPEED_SECONDS" rsa2048 ecdsap256 2>/dev/null)
    rsa=$(awk '/^rsa 2048 bits/ { print $NF }' <<<"$out")
    ecdsa=$(awk '/nistp256/ { print $NF }' <<<"$out")
    printf '%s\t%s\t%s\n' "$1" "$rsa" "$ecdsa" >>"$RUN/speed.tsv"
    echo "  round $1  openssl speed   rsa2048 verify/s $rsa   ecdsap256 verify/s $ecdsa"
}

# lighttpd's resident memory: plain, and with the module (RS256 policy, default cache size of
# 10,000 tokens), after start, after 1 s of wrk with one token, and after 10,000 distinct tokens.
http_memory() {
    local url
    : >"$RUN/memory.tsv"
    http_start_lighttpd plain
    url=$(http_url_of plain)
    printf 'plain\tstart\t%s\n' "$(http_rss_kib "$SERVER_PID")" >>"$RUN/memory.tsv"
    http_wrk "$url" none 1 >/dev/null
    printf 'plain\twrk\t%s\n' "$(http_rss_kib "$SERVER_PID")" >>"$RUN/memory.tsv"
    http_stop

    http_start_lighttpd gh-rs
    url=$(http_url_of gh-rs)
    printf 'gatehouse\tstart\t%s\n' "$(http_rss_kib "$SERVER_PID")" >>"$RUN/memory.tsv"
    http_wrk "$url" rs-one 1 >/dev/null
    printf 'gatehouse\twrk\t%s\n' "$(http_rss_kib "$SERVER_PID")" >>"$RUN/memory.tsv"
    python3 scripts/bench/send_tokens.py "$url" "$MAT/headers/rs-pool.txt" 10000
    printf 'gatehouse\ttokens\t%s\n' "$(http_rss_kib "$SERVER_PID")" >>"$RUN/memory.tsv"
    http_stop
}

http_machine() {
    echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "software: $(/usr/sbin/lighttpd -v 2>&1 | head -n 1 | cut -d' ' -f1), $(/usr/sbin/apache2 -v | head -n 1 | cut -d' ' -f3)," \
        "mod_auth_openidc $(dpkg-query -W -f='${Version}' libapache2-mod-auth-openidc)," \
        "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), $(openssl version | cut -d' ' -f1-2)"
    echo "module: copy of build/mod_gatehouse.so built $(date -r build/mod_gatehouse.so '+%F %T'), sha256 $(sha256sum "$MODS/mod_gatehouse.so" | cut -c1-16)"
    if [ ${#PIN_SERVER[@]} -gt 0 ]; then
        echo "pinning: server on core 1, wrk on core 0 (wrk -t1 -c$CONNECTIONS)"
    else
        echo "pinning: none (one core)"
    fi
    echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
}

http_main() {
    local round config
    http_install
    http_prepare
    trap http_cleanup EXIT
    trap 'exit 130' INT TERM
    http_machine
    echo "runs: $ROUNDS rounds x (${WARMUP} s warm-up + ${DURATION} s) per configuration, alternating;" \
        "pool $POOL tokens, miss-run cache-size $MISS_CACHE_SIZE"
    echo
    for round in $(seq "$ROUNDS"); do
        http_openssl_speed "$round"
        for config in $CONFIGS; do
            http_measure "$config" "$round"
        done
    done
    echo
    echo "memory: lighttpd with and without the module, and with 10000 tokens cached"
    http_memory
    echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    python3 scripts/bench/http_report.py "$RUN" "$POOL" "$MISS_CACHE_SIZE"
    echo
    echo "raw figures: $RUN/results.tsv, speed.tsv, memory.tsv"
}

# `scripts/bench.sh http-profile [CONFIG…]`: perf record -g of the server during a wrk run
# (default: gh-rs-miss gh-rs-hit), then where the server's time goes by DSO and by symbol.
http_profile() {
    local config server url headers data
    WRK_PID=""
    RUN=$HTTP_DIR/profile   # (keeps the figures of the last `http` run in $HTTP_DIR/run)
    http_install linux-perf
    http_prepare
    trap http_cleanup EXIT
    trap 'exit 130' INT TERM
    for config in ${*:-gh-rs-miss gh-rs-hit}; do
        server=$(http_server_of "$config")
        url=$(http_url_of "$server")
        headers=$(http_headers_of "$config")
        data=$RUN/perf-$config.data
        http_start "$server"
        http_check "$config" "$server" >/dev/null
        http_wrk "$url" "$headers" "$WARMUP" >/dev/null
        "${PIN_CLIENT[@]}" wrk -t1 -c"$CONNECTIONS" -d"$((PROFILE_SECONDS + 2))s" -s scripts/bench/rotate.lua \
            "$url" -- "$MAT/headers/$headers.txt" >"$RUN/perf-$config.wrk" &
        WRK_PID=$!
        sleep 1
        perf record -q -g -p "$SERVER_PID" -o "$data" -- sleep "$PROFILE_SECONDS" 2>/dev/null
        wait "$WRK_PID" || true
        WRK_PID=""
        http_stop
        echo "== $config: $(grep '^RESULT' "$RUN/perf-$config.wrk")"
        perf report -i "$data" --no-children --sort dso --stdio -g none >"$data.dso.txt" 2>/dev/null
        perf report -i "$data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | http_demangle >"$data.sym.txt"
        echo "-- by shared object (self time)"
        grep -v -e '^#' -e '^$' "$data.dso.txt" | head -n 12 || true
        echo "-- by symbol (self time, top 40; all in $data.sym.txt)"
        grep -v -e '^#' -e '^$' "$data.sym.txt" | head -n 40 || true
        echo
    done
}

http_demangle() {
    if command -v swift >/dev/null; then swift demangle --simplified --compact; else cat; fi
}
