# `scripts/bench.sh http` and `scripts/bench.sh http-profile`: wrk against real servers on
# 127.0.0.1, one server at a time. Sourced by scripts/bench.sh, from the repository root.
#
# Servers (each a foreground process of this script, stopped by its PID; a trap stops whatever
# is still running when the script exits):
#   plain           lighttpd serving a 1 KiB static file (plain-token: the same, sent the RS256
#                   token that the gatehouse runs send, which nothing checks: the cost of the header;
#                   plain-cookie: sent the session cookie of gh-session, the same for the cookie)
#   basic           lighttpd + mod_auth, basic auth, auth.backend = "plain"
#   gh-rs-*         lighttpd + mod_gatehouse, RS256 policy (gatehouse.require ( "/" => "role:viewer" ))
#   gh-es-*         the same with an ES256 key and policy
#   gh-rs-session   gh-rs with browser sign-in on, sent a session cookie (docs/browser-sign-in.md)
#   apache-openidc  Apache 2.4 + mod_auth_openidc, AuthType oauth20, the same RSA key and check
#   apache-oauth2   Apache 2.4 + mod_oauth2, AuthType oauth2, the same RSA key and check
#   proxy-*         lighttpd + mod_proxy (plain, or behind gh-rs) to the backend: a second
#                   lighttpd serving the same file on PORT+2, running for the whole run
# Runs ("configurations"): *-hit / *-one send one token again and again; *-miss / *-pool rotate
# POOL distinct tokens. The gatehouse miss runs set gatehouse.cache-size = MISS_CACHE_SIZE
# (1000): rotating 10,000 tokens in order through a 1,000-entry cache that drops its oldest
# entry first, no token is ever still cached when it comes round again, so every request
# verifies a signature (mod_oauth2's cache, 1,000 entries dropped oldest first, the same).
# base-*: the same configuration with the module built from the commit BASE, run right after
# the current module's (right before it in even rounds), so that "nothing got slower" is a
# ratio from one run.
# Every configuration runs at each of CONNECTIONS, in every round.
#
# Settings (environment):
#   ROUNDS=2 DURATION=4 WARMUP=1    rounds; seconds measured, and warmed up, per run
#   CONNECTIONS="16 64"             wrk connections of each run (one wrk thread)
#   BASE=HEAD~1                     the commit to compare with (none: no base-* runs); built in
#                                   build/bench-base (a git worktree) with its own scripts/build.sh,
#                                   holding the flock(1) lock GATEHOUSE_SWIFT_LOCK if set; its module
#                                   must know every directive of the base-* configurations run
#                                   (an older one: CONFIGS without base-gh-session, say)
#   POOL=10000 MISS_CACHE_SIZE=1000 distinct tokens of the pool runs; gatehouse cache of the miss runs
#   SPEED_SECONDS=3                 `openssl speed` seconds per algorithm and round
#   VERIFY_SECONDS=2                `gatehouse bench verify` and the bare OpenSSL verify, per figure and round
#   FLOOD_RUNS=3 FLOOD_TOKENS=10000 FLOOD_POOLS="0 2"   scripts/bench/flood.py: runs per pool size,
#                                   distinct tokens per flood, gatehouse.verify-threads of each
#   PORT=18480                      lighttpd's port; Apache listens on PORT+1, the proxied backend on PORT+2
#   CONFIGS="plain gh-rs-hit …"     run only these configurations (for trials)
#   QUIET_WAIT=60                   seconds to wait, before each run, for the machine to be idle
#                                   (on a machine that others use, a few: else every run waits a minute)
#   PROFILE_SECONDS=8               http-profile: seconds of perf record per configuration
# `scripts/bench.sh http --smoke`: ROUNDS=1 DURATION=1 WARMUP=1 and short figures elsewhere, to
# see every row produce numbers (the figures mean nothing).
#
# The signature-off-loop demonstration is scripts/bench/flood.py (its --help says what it does),
# run FLOOD_RUNS times per pool size of FLOOD_POOLS, alternating; the report takes the medians.

HTTP_ALL_CONFIGS="plain plain-token plain-cookie basic
    gh-rs-hit base-gh-rs-hit gh-session base-gh-session gh-rs-miss base-gh-rs-miss gh-es-hit base-gh-es-hit
    gh-es-miss base-gh-es-miss apache-rs-one apache-rs-pool oauth2-rs-one oauth2-rs-pool
    proxy-plain proxy-gh-hit base-proxy-gh-hit proxy-gh-miss base-proxy-gh-miss"
if [ "${HTTP_SMOKE:-}" = 1 ]; then
    : "${ROUNDS:=1}" "${DURATION:=1}" "${WARMUP:=1}" "${QUIET_WAIT:=0}" "${SPEED_SECONDS:=1}"
    : "${VERIFY_SECONDS:=0.5}" "${FLOOD_RUNS:=1}" "${FLOOD_TOKENS:=2000}"
fi
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-4}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-16 64}
BASE=${BASE:-HEAD~1}
POOL=${POOL:-10000}
MISS_CACHE_SIZE=${MISS_CACHE_SIZE:-1000}
SPEED_SECONDS=${SPEED_SECONDS:-3}
VERIFY_SECONDS=${VERIFY_SECONDS:-2}
FLOOD_RUNS=${FLOOD_RUNS:-3}
FLOOD_TOKENS=${FLOOD_TOKENS:-10000}
FLOOD_POOLS=${FLOOD_POOLS:-0 2}
PORT=${PORT:-18480}
APACHE_PORT=$((PORT + 1))
BACKEND_PORT=$((PORT + 2))
CONFIGS=${CONFIGS:-$HTTP_ALL_CONFIGS}
PROFILE_SECONDS=${PROFILE_SECONDS:-8}
QUIET_WAIT=${QUIET_WAIT:-60}

HTTP_DIR=$PWD/build/bench/http   # everything generated: material, configurations, logs, results
MAT=$HTTP_DIR/material           # what http_material.py mints
RUN=$HTTP_DIR/run                # configurations and logs of this run
MODS=$HTTP_DIR/modules           # lighttpd -m: Debian's modules + a copy of build/mod_gatehouse.so
MODS_BASE=$HTTP_DIR/modules-base # the same with the module of BASE
BIN=$HTTP_DIR/bin                # copies of the gatehouse CLIs, the bare OpenSSL verify
BASE_TREE=$PWD/build/bench-base  # the git worktree BASE is built in
ISSUER="https://idp.example.test/"
AUDIENCE="gatehouse-api"
URL_PATH=/1k.txt

SERVER_PID=""
SERVER_KIND=""
BACKEND_PID=""
PIN_SERVER=()
PIN_CLIENT=()
PIN_BACKEND=()

# ---- setup -------------------------------------------------------------------------------

http_install() {
    local need=() pkg
    for pkg in wrk apache2 libapache2-mod-auth-openidc libapache2-mod-oauth2 "$@"; do
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

http_wants_base() { [ "$BASE" != none ] && grep -qw 'base-[a-z-]*' <<<"$CONFIGS"; }

# The module and CLI of BASE: a git worktree in build/bench-base at that commit, built by its own
# scripts/build.sh (with the lighttpd source of this tree); swift builds incrementally there when
# the same worktree is used again.
http_build_base() {
    local rev
    rev=$(git rev-parse --verify -q "$BASE^{commit}") || { echo "bench: BASE=$BASE is not a commit" >&2; exit 1; }
    if [ -e "$BASE_TREE/.git" ]; then
        git -C "$BASE_TREE" checkout -q --detach "$rev"
    else
        rm -rf "$BASE_TREE"
        git worktree prune
        git worktree add -q --detach "$BASE_TREE" "$rev"
    fi
    mkdir -p "$BASE_TREE/build"
    ln -sfn "$PWD/build/lighttpd-src" "$BASE_TREE/build/lighttpd-src"
    echo "base: $(git log -1 --format='%h %s' "$rev" | cut -c1-100)"
    echo "base: building in $BASE_TREE (its scripts/build.sh; log: $RUN/base-build.log)"
    if [ -n "${GATEHOUSE_SWIFT_LOCK:-}" ]; then
        (cd "$BASE_TREE" && flock "$GATEHOUSE_SWIFT_LOCK" bash scripts/build.sh) >"$RUN/base-build.log" 2>&1
    else
        (cd "$BASE_TREE" && bash scripts/build.sh) >"$RUN/base-build.log" 2>&1
    fi || {
        tail -n 20 "$RUN/base-build.log" >&2
        echo "bench: the build of BASE=$BASE failed (BASE=none skips it)" >&2
        exit 1
    }
    mkdir -p "$MODS_BASE"
    ln -s /usr/lib/lighttpd/*.so "$MODS_BASE/"
    cp "$BASE_TREE/build/mod_gatehouse.so" "$MODS_BASE/mod_gatehouse.so"
    cp "$BASE_TREE/build/gatehouse" "$BIN/gatehouse-base"
}

http_prepare() {
    [ -f build/mod_gatehouse.so ] || bash scripts/build.sh >/dev/null
    mkdir -p "$HTTP_DIR"
    rm -rf "$RUN" "$MODS" "$MODS_BASE" "$BIN"
    mkdir -p "$RUN" "$MODS" "$BIN"
    # Copies, so that a rebuild during the run (which recreates build/modules) changes nothing here.
    ln -s /usr/lib/lighttpd/*.so "$MODS/"
    cp build/mod_gatehouse.so "$MODS/mod_gatehouse.so"
    cp build/gatehouse "$BIN/gatehouse"
    cc -O2 -o "$BIN/openssl_verify" scripts/bench/openssl_verify.c -lcrypto
    if http_wants_base; then http_build_base; fi

    # Tokens live two days: minted material is reused for a day (minting 10,000 RS256 tokens
    # takes a while), then minted afresh.
    if [ -z "$(find "$MAT/headers/rs-pool.txt" -mmin -1440 2>/dev/null)" ] \
        || [ "$(wc -l <"$MAT/headers/rs-pool.txt")" -ne "$POOL" ] || [ ! -f "$MAT/headers/session-one.txt" ]; then
        rm -rf "$MAT"
        PYTHONPATH=Tests python3 scripts/bench/http_material.py "$MAT" "$POOL"
    fi
    # `gatehouse bench verify` reads "ALG TOKEN" lines: the first 1,000 tokens of the pool.
    head -n 1000 "$MAT/headers/rs-pool.txt" | sed 's/^Bearer /RS256 /' >"$RUN/verify-tokens.txt"
    # Apache's worker runs as www-data: it reads the document root and writes its run folders.
    chmod -R a+rX "$HTTP_DIR"

    if [ "$(nproc)" -ge 2 ]; then
        PIN_SERVER=(taskset -c 1)
        PIN_CLIENT=(taskset -c 0)
        if [ "$(nproc)" -ge 3 ]; then PIN_BACKEND=(taskset -c 2); else PIN_BACKEND=(taskset -c 0); fi
    fi
    local name
    for name in plain basic gh-rs gh-rs-small gh-es gh-es-small gh-rs-session \
        proxy-plain proxy-gh-rs proxy-gh-rs-small backend; do
        http_write_lighttpd_conf "$name"
    done
    http_write_apache_conf apache-openidc
    http_write_apache_conf apache-oauth2
}

# lighttpd.conf for one server: plain, basic, gh-rs, gh-es, gh-*-small (the small cache),
# gh-rs-session, proxy-X (X in front of the backend), and backend (plain, on BACKEND_PORT).
http_write_lighttpd_conf() {
    local name=$1 auth=${1#proxy-} port=$PORT alg jwks
    [ "$name" != backend ] || port=$BACKEND_PORT
    {
        cat <<EOF
server.document-root = "$MAT/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$RUN/lighttpd-$name.log"
server.max-keep-alive-requests = 1000
mimetype.assign = ( ".txt" => "text/plain" )
EOF
        case $auth in
        plain | backend) ;;
        basic)
            cat <<EOF
server.modules += ( "mod_auth", "mod_authn_file" )
auth.backend = "plain"
auth.backend.plain.userfile = "$MAT/users.plain"
auth.require = ( "/" => ( "method" => "basic", "realm" => "bench", "require" => "valid-user" ) )
EOF
            ;;
        gh-*)
            case $auth in gh-rs*) alg=RS256 jwks=rsa-jwks.json ;; *) alg=ES256 jwks=ec-jwks.json ;; esac
            cat <<EOF
server.modules += ( "mod_gatehouse" )
gatehouse.issuer = "$ISSUER"
gatehouse.audience = "$AUDIENCE"
gatehouse.jwks = "$MAT/$jwks"
gatehouse.algorithms = ( "$alg" )
gatehouse.require = ( "/" => "role:viewer" )
EOF
            case $auth in *-small) echo "gatehouse.cache-size = $MISS_CACHE_SIZE" ;; esac
            case $auth in *-session)
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
        case $name in proxy-*)
            cat <<EOF
server.modules += ( "mod_proxy" )
proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => $BACKEND_PORT ) ) )
EOF
            ;;
        esac
    } >"$RUN/lighttpd-$name.conf"
}

http_write_apache_conf() {   # apache-openidc | apache-oauth2
    local jwk
    jwk=$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["keys"][0]))' "$MAT/rsa-jwks.json")
    mkdir -p "$RUN/$1"
    chown www-data:www-data "$RUN/$1"
    sed -e "/^@AUTH@\$/r scripts/bench/$1.conf.in" -e "/^@AUTH@\$/d" scripts/bench/apache.conf.in \
        | sed -e "s|@RUN@|$RUN/$1|g" -e "s|@DIR@|$MAT|g" -e "s|@PORT@|$APACHE_PORT|g" \
            -e "s|@ISSUER@|$ISSUER|g" -e "s|@AUDIENCE@|$AUDIENCE|g" -e "s|@JWK@|$jwk|g" \
            -e "s|@PASSPHRASE@|$(head -c 18 /dev/urandom | base64)|g" >"$RUN/$1.conf"
}

# ---- configurations: which server, which Authorization values, what must be refused -------

http_server_of() {   # configuration -> server name (a base-* configuration: that of the rest)
    case ${1#base-} in
    plain | basic | proxy-plain) echo "${1#base-}" ;;
    plain-token | plain-cookie) echo plain ;;
    gh-rs-hit) echo gh-rs ;;
    gh-rs-miss) echo gh-rs-small ;;
    gh-es-hit) echo gh-es ;;
    gh-es-miss) echo gh-es-small ;;
    gh-session) echo gh-rs-session ;;
    apache-*) echo apache-openidc ;;
    oauth2-*) echo apache-oauth2 ;;
    proxy-gh-hit) echo proxy-gh-rs ;;
    proxy-gh-miss) echo proxy-gh-rs-small ;;
    *) echo "bench: unknown configuration $1" >&2; return 1 ;;
    esac
}

http_modules_of() {   # configuration -> lighttpd's -m folder
    case $1 in base-*) echo "$MODS_BASE" ;; *) echo "$MODS" ;; esac
}

http_headers_of() {   # configuration -> the Authorization values wrk rotates
    case ${1#base-} in
    plain) echo none ;;
    basic) echo basic ;;
    plain-token | gh-rs-hit | apache-rs-one | oauth2-rs-one | proxy-plain | proxy-gh-hit) echo rs-one ;;
    gh-rs-miss | apache-rs-pool | oauth2-rs-pool | proxy-gh-miss) echo rs-pool ;;
    gh-es-hit) echo es-one ;;
    gh-es-miss) echo es-pool ;;
    gh-session | plain-cookie) echo session-one ;;
    esac
}

http_refused_of() {   # server -> Authorization values it must answer with 401 or 403
    case ${1#proxy-} in
    plain) ;;
    basic) echo none ;;
    gh-rs*) echo none rs-norole rs-wrongaud es-one ;;
    gh-es*) echo none es-norole rs-one ;;
    apache-*) echo none rs-norole rs-wrongaud es-one ;;
    esac
}

http_url_of() {   # server -> URL of the 1 KiB file
    case $1 in
    apache-*) echo "http://127.0.0.1:$APACHE_PORT$URL_PATH" ;;
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

http_start_lighttpd() {   # name [modules folder]
    local port=$PORT
    http_port_open "$port" && { echo "bench: port $port is already in use (set PORT=…)" >&2; exit 1; }
    SERVER_KIND=lighttpd-$1
    "${PIN_SERVER[@]}" /usr/sbin/lighttpd -D -m "${2:-$MODS}" -f "$RUN/lighttpd-$1.conf" >>"$RUN/$SERVER_KIND.out" 2>&1 &
    SERVER_PID=$!
    http_wait_port "$port" "$RUN/lighttpd-$1.log"
}

http_start_apache() {   # apache-openidc | apache-oauth2
    local port=$APACHE_PORT
    http_port_open "$port" && { echo "bench: port $port is already in use (set PORT=…)" >&2; exit 1; }
    SERVER_KIND=$1
    rm -f "$RUN/$1/apache2.pid"
    # -X: one process, in the foreground (its event-MPM threads serve the connections).
    "${PIN_SERVER[@]}" /usr/sbin/apache2 -X -f "$RUN/$1.conf" >>"$RUN/$1.out" 2>&1 &
    SERVER_PID=$!
    http_wait_port "$port" "$RUN/$1/error.log"
}

http_start() {   # server name, modules folder
    case $1 in
    apache-*) http_start_apache "$1" ;;
    *) http_start_lighttpd "$1" "$2" ;;
    esac
}

http_stop_pid() {   # pid: SIGTERM, then SIGKILL after 10 s
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

http_stop() {   # stops the running server
    local pid=$SERVER_PID
    [ -n "$pid" ] || return 0
    SERVER_PID=""
    http_stop_pid "$pid"
}

# The proxied runs' backend: plain lighttpd on BACKEND_PORT, on a core of its own when there
# are three (else on wrk's), for the whole run.
http_start_backend() {
    http_port_open "$BACKEND_PORT" && { echo "bench: port $BACKEND_PORT is already in use (set PORT=…)" >&2; exit 1; }
    "${PIN_BACKEND[@]}" /usr/sbin/lighttpd -D -m "$MODS" -f "$RUN/lighttpd-backend.conf" \
        >>"$RUN/lighttpd-backend.out" 2>&1 &
    BACKEND_PID=$!
    local i
    for i in $(seq 100); do
        http_port_open "$BACKEND_PORT" && return 0
        kill -0 "$BACKEND_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench: the backend does not listen on $BACKEND_PORT:" >&2
    tail -n 20 "$RUN/lighttpd-backend.log" "$RUN/lighttpd-backend.out" >&2 2>/dev/null || true
    exit 1
}

http_cleanup() {
    [ -z "${WRK_PID:-}" ] || kill -TERM "$WRK_PID" 2>/dev/null || true
    http_stop
    if [ -n "$BACKEND_PID" ]; then
        http_stop_pid "$BACKEND_PID"
        BACKEND_PID=""
    fi
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
        tail -n 5 "$RUN"/*.log "$RUN"/*.out "$RUN"/apache-*/error.log >&2 2>/dev/null || true
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

# url headers-name seconds [connections] -> rotate.lua's RESULT line, plus client_ticks=N (wrk's CPU)
http_wrk() {
    local out
    out=$("${PIN_CLIENT[@]}" wrk -t1 -c"${4:-16}" -d"$3s" --timeout 5s -s scripts/bench/rotate.lua \
        "$1" -- "$MAT/headers/$2.txt")
    printf '%s' "$(grep '^RESULT' <<<"$out")"
    # user + system time of this subshell's children (wrk), as `times` prints it: 0m1.230s 0m0.450s
    # (into a file: in a pipeline, `times` would run in a new process, with no children)
    times >"$RUN/wrk.times"
    awk -v hz="$(getconf CLK_TCK)" 'NR == 2 {
        split($1, u, /[ms]/); split($2, s, /[ms]/)
        printf " client_ticks=%d\n", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * hz }' "$RUN/wrk.times"
}

http_backend_ticks() {   # the proxied runs' backend's CPU clock ticks (0 when there is none)
    if [ -n "$BACKEND_PID" ]; then http_cpu_ticks "$BACKEND_PID"; else echo 0; fi
}

http_machine_ticks() {   # busy clock ticks of all cores: user nice system irq softirq
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

# Waits (at most QUIET_WAIT seconds) for a second in which the machine, all cores together,
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
http_measure() {   # configuration round connections
    local config=$1 round=$2 conns=$3 server url headers checked quiet before after machine_before machine_after
    local result backend_before backend
    server=$(http_server_of "$config")
    url=$(http_url_of "$server")
    headers=$(http_headers_of "$config")
    quiet=$(http_wait_quiet)
    http_start "$server" "$(http_modules_of "$config")"
    checked=$(http_check "$config" "$server")
    [ "$round$conns" != "1${CONNECTIONS%% *}" ] || echo "  checked $config: $checked"
    http_wrk "$url" "$headers" "$WARMUP" "$conns" >/dev/null
    machine_before=$(http_machine_ticks)
    backend_before=$(http_backend_ticks)
    before=$(http_cpu_ticks "$SERVER_PID")
    result=$(http_wrk "$url" "$headers" "$DURATION" "$conns")
    after=$(http_cpu_ticks "$SERVER_PID")
    backend=$(( $(http_backend_ticks) - backend_before ))
    machine_after=$(http_machine_ticks)
    http_stop
    # others: what the machine did besides this server, the backend and wrk (another build or
    # test, say); /proc/stat and the processes' own times disagree by a few per cent of a core, so
    # it can come out slightly negative (kept so in results.tsv, shown as 0)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$config" "$round" "$conns" \
        "$(http_field requests "$result")" "$(http_field duration_us "$result")" \
        "$(http_field p50_us "$result")" "$(http_field p99_us "$result")" \
        "$(http_field status_errors "$result")" "$(http_field socket_errors "$result")" \
        "$((after - before))" "$(getconf CLK_TCK)" "$(http_field client_ticks "$result")" \
        "$((machine_after - machine_before - (after - before) - backend - $(http_field client_ticks "$result")))" \
        "$quiet" "$backend" >>"$RUN/results.tsv"
    awk -v c="$config" -F'\t' 'END {
        s = $5 / 1e6
        printf "  round %s  c%-3s %-18s %7.0f req/s  p50 %5.2f ms  p99 %5.2f ms  server %5.1f us/req, busy %3.0f%%;" \
            " wrk %3.0f%%, others %3.0f%% of a core (machine %d%% busy before)%s\n",
            $2, $3, c, $4 / s, $6 / 1000, $7 / 1000, $10 / $11 * 1e6 / $4, $10 / $11 / s * 100,
            $12 / $11 / s * 100, ($13 > 0 ? $13 : 0) / $11 / s * 100, $14,
            ($8 + $9 > 0) ? sprintf("  (%d status, %d socket errors)", $8, $9) : "" }' "$RUN/results.tsv"
}

http_openssl_speed() {   # round: `openssl speed` verify/s on the server's core, into speed.tsv
    local out rsa ecdsa
    out=$("${PIN_SERVER[@]}" openssl speed -seconds "$SPEED_SECONDS" rsa2048 ecdsap256 2>/dev/null)
    rsa=$(awk '/^rsa 2048 bits/ { print $NF }' <<<"$out")
    ecdsa=$(awk '/nistp256/ { print $NF }' <<<"$out")
    printf '%s\t%s\t%s\n' "$1" "$rsa" "$ecdsa" >>"$RUN/speed.tsv"
    echo "  round $1  openssl speed   rsa2048 verify/s $rsa   ecdsap256 verify/s $ecdsa"
}

# round: cold RS256 verifications per second on the server's core, into verify.tsv: OpenSSL's
# bare verify (scripts/bench/openssl_verify.c), `gatehouse bench verify` of 1,000 pool tokens,
# and the same with BASE's gatehouse (empty when there is none, or it cannot)
http_verify_speed() {
    local bare ours base=""
    bare=$("${PIN_SERVER[@]}" "$BIN/openssl_verify" "$VERIFY_SECONDS" | awk '$1 == "RS256" { print $2 }')
    ours=$(http_gatehouse_cold "$BIN/gatehouse")
    [ ! -x "$BIN/gatehouse-base" ] || base=$(http_gatehouse_cold "$BIN/gatehouse-base" || true)
    printf '%s\t%s\t%s\t%s\n' "$1" "$bare" "$ours" "$base" >>"$RUN/verify.tsv"
    echo "  round $1  RS256 cold verify/s: bare OpenSSL $bare   gatehouse $ours${base:+   base $base}"
}

http_gatehouse_cold() {   # gatehouse binary -> its cold RS256 verify/s
    "${PIN_SERVER[@]}" "$1" bench verify --jwks "$MAT/rsa-jwks.json" --tokens "$RUN/verify-tokens.txt" \
        --seconds "$VERIFY_SECONDS" | awk '$1 == "RS256" { print $3 }'
}

# lighttpd's resident memory: plain, and with the module (RS256 policy, default cache size of
# 10,000 tokens; BASE's module too), after start, after 1 s of wrk with one token, and after
# 10,000 distinct tokens.
http_memory() {
    local url server mods
    : >"$RUN/memory.tsv"
    http_start_lighttpd plain
    url=$(http_url_of plain)
    printf 'plain\tstart\t%s\n' "$(http_rss_kib "$SERVER_PID")" >>"$RUN/memory.tsv"
    http_wrk "$url" none 1 >/dev/null
    printf 'plain\twrk\t%s\n' "$(http_rss_kib "$SERVER_PID")" >>"$RUN/memory.tsv"
    http_stop

    for server in gatehouse base-gatehouse; do
        mods=$(http_modules_of "$server")
        [ -f "$mods/mod_gatehouse.so" ] || continue
        http_start_lighttpd gh-rs "$mods"
        url=$(http_url_of gh-rs)
        printf '%s\tstart\t%s\n' "$server" "$(http_rss_kib "$SERVER_PID")" >>"$RUN/memory.tsv"
        http_wrk "$url" rs-one 1 >/dev/null
        printf '%s\twrk\t%s\n' "$server" "$(http_rss_kib "$SERVER_PID")" >>"$RUN/memory.tsv"
        python3 scripts/bench/send_tokens.py "$url" "$MAT/headers/rs-pool.txt" 10000
        printf '%s\ttokens\t%s\n' "$server" "$(http_rss_kib "$SERVER_PID")" >>"$RUN/memory.tsv"
        http_stop
    done
}

# The signature-off-loop demonstration (scripts/bench/flood.py), FLOOD_RUNS runs per pool size of
# FLOOD_POOLS, alternating, into flood.tsv: pool size, then the medians over its runs as key=value
# (cached_p99_us, cached_requests, miss_per_s, status_503, cpu_us_per_miss).
http_flood() {
    local pool run
    : >"$RUN/flood.tsv"
    : >"$RUN/flood.jsonl"
    for run in $(seq "$FLOOD_RUNS"); do
        for pool in $FLOOD_POOLS; do
            PYTHONPATH=Tests python3 scripts/bench/flood.py --pool "$pool" --tokens "$FLOOD_TOKENS" \
                >>"$RUN/flood.jsonl" 2>"$RUN/flood-$pool.err" || {
                echo "flood: scripts/bench/flood.py --pool $pool failed:"; tail -n 5 "$RUN/flood-$pool.err"; }
            tail -n 1 "$RUN/flood.jsonl" | sed "s/^/  flood, run $run: /"
        done
    done
    python3 - "$RUN/flood.jsonl" >"$RUN/flood.tsv" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    if line.startswith("{"):
        r = json.loads(line)
        runs.setdefault(r["pool"], []).append(r)
for pool, rs in sorted(runs.items()):
    med = lambda f: statistics.median(f(r) for r in rs)
    print(f"{pool}\tcached_p99_us={med(lambda r: r['probe']['p99_ms'] * 1000):.0f}"
          f" cached_requests={med(lambda r: r['probe']['requests']):.0f}"
          f" miss_per_s={med(lambda r: r['misses_per_second']):.0f}"
          f" status_503={med(lambda r: r['flood_non_200']):.0f}"
          f" cpu_us_per_miss={med(lambda r: r['server_cpu_us_per_miss']):.1f} runs={len(rs)}")
PY
    sed 's/^/  flood medians, pool /' "$RUN/flood.tsv"
}

http_machine() {
    echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "software: $(/usr/sbin/lighttpd -v 2>&1 | head -n 1 | cut -d' ' -f1), $(/usr/sbin/apache2 -v | head -n 1 | cut -d' ' -f3)," \
        "mod_auth_openidc $(dpkg-query -W -f='${Version}' libapache2-mod-auth-openidc)," \
        "mod_oauth2 $(dpkg-query -W -f='${Version}' libapache2-mod-oauth2)," \
        "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), $(openssl version | cut -d' ' -f1-2)"
    echo "module: copy of build/mod_gatehouse.so built $(date -r build/mod_gatehouse.so '+%F %T')," \
        "sha256 $(sha256sum "$MODS/mod_gatehouse.so" | cut -c1-16)," \
        "tree $(git log -1 --format=%h)$(git diff --quiet HEAD -- Sources CModule || echo ' + uncommitted changes')"
    if [ -f "$MODS_BASE/mod_gatehouse.so" ]; then
        echo "base module: BASE=$BASE, sha256 $(sha256sum "$MODS_BASE/mod_gatehouse.so" | cut -c1-16)"
    fi
    if [ ${#PIN_SERVER[@]} -gt 0 ]; then
        echo "pinning: server on core 1, wrk on core 0 (wrk -t1 -c{$CONNECTIONS})," \
            "proxied backend on core ${PIN_BACKEND[2]}"
    else
        echo "pinning: none (one core)"
    fi
    echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# round -> CONFIGS in the order of that round: in even rounds each base-X runs before its X
# (alternating which of the two goes first, so that a drift of the machine's speed cancels out)
http_round_order() {
    local list=($CONFIGS) i=0 order=()
    while [ "$i" -lt ${#list[@]} ]; do
        if [ $(($1 % 2)) = 0 ] && [ "${list[i + 1]:-}" = "base-${list[i]}" ]; then
            order+=("${list[i + 1]}" "${list[i]}")
            i=$((i + 2))
        else
            order+=("${list[i]}")
            i=$((i + 1))
        fi
    done
    echo "${order[@]}"
}

http_main() {
    local round config conns runs started=$SECONDS
    http_install
    trap http_cleanup EXIT
    trap 'exit 130' INT TERM
    http_prepare
    http_machine
    runs=$(( ROUNDS * $(wc -w <<<"$CONFIGS") * $(wc -w <<<"$CONNECTIONS") ))
    echo "runs: $ROUNDS rounds x $(wc -w <<<"$CONFIGS") configurations x connections {$CONNECTIONS}," \
        "(${WARMUP} s warm-up + ${DURATION} s) each, alternating: $runs runs, about" \
        "$(((runs * (WARMUP + DURATION + 2) + ROUNDS * (2 * SPEED_SECONDS + 8 * ${VERIFY_SECONDS%.*} + 2)) / 60 + 2))" \
        "minutes in all;" \
        "pool $POOL tokens, miss-run cache-size $MISS_CACHE_SIZE"
    echo
    if grep -qw 'proxy-[a-z-]*' <<<"$CONFIGS"; then http_start_backend; fi
    for round in $(seq "$ROUNDS"); do
        http_openssl_speed "$round"
        http_verify_speed "$round"
        for conns in $CONNECTIONS; do
            for config in $(http_round_order "$round"); do
                http_measure "$config" "$round" "$conns"
            done
        done
    done
    echo
    echo "memory: lighttpd with and without the module, and with 10000 tokens cached"
    http_memory
    echo
    echo "flood: a cached-token client's latency while another floods distinct tokens (FLOOD_POOLS {$FLOOD_POOLS})"
    http_flood
    echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    python3 scripts/bench/http_report.py "$RUN" "$POOL" "$MISS_CACHE_SIZE"
    echo
    echo "the run took $(( (SECONDS - started + 30) / 60 )) minutes (the base commit's build included)"
    echo "raw figures: $RUN/results.tsv, speed.tsv, verify.tsv, memory.tsv, flood.tsv;" \
        "the markdown block: $RUN/report.md"
}

# `scripts/bench.sh http-profile [CONFIG…]`: perf record -g of the server during a wrk run
# (default: gh-rs-miss gh-rs-hit) at the first of CONNECTIONS, then where the server's time goes
# by DSO and by symbol.
http_profile() {
    local config server url headers data conns=${CONNECTIONS%% *}
    WRK_PID=""
    RUN=$HTTP_DIR/profile   # (keeps the figures of the last `http` run in $HTTP_DIR/run)
    BASE=none
    http_install linux-perf
    trap http_cleanup EXIT
    trap 'exit 130' INT TERM
    http_prepare
    if grep -qw 'proxy-[a-z-]*' <<<"${*:-}"; then http_start_backend; fi
    for config in ${*:-gh-rs-miss gh-rs-hit}; do
        server=$(http_server_of "$config")
        url=$(http_url_of "$server")
        headers=$(http_headers_of "$config")
        data=$RUN/perf-$config.data
        http_start "$server" "$MODS"
        http_check "$config" "$server" >/dev/null
        http_wrk "$url" "$headers" "$WARMUP" "$conns" >/dev/null
        "${PIN_CLIENT[@]}" wrk -t1 -c"$conns" -d"$((PROFILE_SECONDS + 2))s" -s scripts/bench/rotate.lua \
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
