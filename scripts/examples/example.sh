#!/usr/bin/env bash
# Runs one of the examples/ configurations on this machine: an OpenID Connect provider
# (oidc-provider-mock) on 127.0.0.1:9400, its keys fetched with `gatehouse jwks fetch`, the
# backend on loopback, and lighttpd + mod_gatehouse on 127.0.0.1:8080 with examples/NAME.conf
# (its var. lines pointed at all this). Prints tokens from the provider and curl commands.
#   scripts/examples/example.sh luigi|prefect|pulsar|cassandra-api|dataflow-trigger
#   scripts/examples/example.sh stop
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/Tests"   # the helper package scripts and tests share (Tests/gatehouse_testkit)
run="$PWD/build/example"
issuer="http://127.0.0.1:9400"

stop() {
    local process
    for process in lighttpd backend provider; do
        if [ -f "$run/$process.pid" ]; then
            kill -- "-$(cat "$run/$process.pid")" 2>/dev/null || true
            rm -f "$run/$process.pid"
        fi
    done
}
name="${1:-}"
if [ "$name" = "stop" ]; then stop; echo "example stopped"; exit 0; fi

case "$name" in
luigi)
    audience=luigi port=8082
    backend=(luigid --address 127.0.0.1 --port 8082 --logdir "$run" --state-path "$run/luigi-state.pickle")
    allowed=(otto '{"roles": ["operator"]}')
    refused=(vera '{"roles": ["viewer"]}')
    try="curl -i http://127.0.0.1:8080/api/add_task --data-urlencode 'data={\"task_id\": \"T1\", \"worker\": \"w1\"}'" ;;
prefect)
    audience=prefect port=4200
    backend=(env PREFECT_HOME="$run/prefect" PREFECT_UI_API_URL=/api PREFECT_UI_STATIC_DIRECTORY="$run/prefect/ui"
             PREFECT_SERVER_ANALYTICS_ENABLED=false build/venv-prefect/bin/prefect server start --host 127.0.0.1 --port 4200)
    allowed=(ada '{"roles": ["admin"]}')
    refused=(vera '{"roles": ["viewer"]}')
    try="curl -i http://127.0.0.1:8080/api/flows/ -H 'Content-Type: application/json' -d '{\"name\": \"etl\"}'" ;;
pulsar)
    audience=pulsar-admin port=8081
    backend=(python3 examples/backends/pulsar_admin_standin.py --port 8081)
    allowed=(ana '{"tenant": "acme", "roles": ["tenant-admin"]}')
    refused=(gil '{"tenant": "globex", "roles": ["tenant-admin"]}')
    try="curl -i -X PUT http://127.0.0.1:8080/admin/v2/persistent/acme/default/payments" ;;
cassandra-api)
    audience=orders-api port=8082
    backend=(python3 examples/backends/cassandra_rest_standin.py --port 8082 --db "$run/rows.db")
    allowed=(wanda '{"roles": ["writer"], "keyspaces": ["shop"]}')
    refused=(rita '{"roles": ["reader"], "keyspaces": ["shop"]}')
    try="curl -i http://127.0.0.1:8080/v2/keyspaces/shop/orders -H 'Content-Type: application/json' -d '{\"id\": \"o-1\"}'" ;;
dataflow-trigger)
    audience=pipelines port=8083
    backend=(python3 examples/backends/dataflow_trigger_standin.py --port 8083)
    allowed=(erin '{"flows": ["etl"]}')
    refused=(bill '{"flows": "nightly-billing"}')
    try="curl -i http://127.0.0.1:8080/flows/etl/runs -H 'Content-Type: application/json' -d '{\"parameters\": {}}'" ;;
*)
    echo "usage: scripts/examples/example.sh luigi|prefect|pulsar|cassandra-api|dataflow-trigger|stop" >&2
    exit 2 ;;
esac

bash scripts/setup.sh
bash scripts/build.sh
stop
mkdir -p "$run"
trap 'stop; echo "example.sh: failed; logs in $run" >&2' ERR

# Each process leads its own process group, so stop() ends it with its children.
start() {  # NAME PORT COMMAND...
    local what=$1 listen=$2
    shift 2
    if (exec 3<>"/dev/tcp/127.0.0.1/$listen") 2>/dev/null; then
        echo "example.sh: 127.0.0.1:$listen is already in use, needed for the $what" >&2
        return 1
    fi
    setsid "$@" >"$run/$what.out" 2>&1 &
    echo $! >"$run/$what.pid"
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$listen") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$what did not start; see $run/$what.out" >&2
    return 1
}
start provider 9400 python3 -m oidc_provider_mock -H 127.0.0.1 -p 9400
build/gatehouse jwks fetch --issuer "$issuer" --out "$run/jwks.json" --metadata-out "$run/provider.json"
start backend "$port" "${backend[@]}"
sign_in=()
if grep -q '^var\.session_keys' "examples/$name.conf"; then  # the example signs people in
    build/gatehouse session new-key --out "$run/session.keys" --force >/dev/null
    echo "oidc-provider-mock-accepts-any-secret" >"$run/client.secret"
    sign_in=("client_secret=$run/client.secret" "session_keys=$run/session.keys"
             "provider_metadata=$run/provider.json")
fi
python3 scripts/examples/examples.py config "$name" "$run/$name.conf" \
    listen_port=8080 "issuer=$issuer" "jwks=$run/jwks.json" "state_dir=$run" "${sign_in[@]}"
/usr/sbin/lighttpd -tt -m build/modules -f "$run/$name.conf"
start lighttpd 8080 /usr/sbin/lighttpd -D -m build/modules -f "$run/$name.conf"

token() { python3 scripts/examples/examples.py token --issuer "$issuer" --audience "$audience" --sub "$1" --claims "$2"; }
good=$(token "${allowed[@]}")
bad=$(token "${refused[@]}")
# The status lighttpd answers to $try with more curl arguments: sent, not written by hand.
status() { eval "curl -s -o /dev/null -w '%{http_code}' ${try#curl -i} $*"; }
cat <<MSG

examples/$name.conf running: lighttpd on http://127.0.0.1:8080 in front of the backend on
127.0.0.1:$port; provider $issuer; audit log $run/gatehouse-audit.log; error log $run/error.log.
The statuses below are what lighttpd just answered to each command.

# ${allowed[0]} ${allowed[1]}: answered $(status "-H 'Authorization: Bearer $good'")
$try -H 'Authorization: Bearer $good'

# ${refused[0]} ${refused[1]}: answered $(status "-H 'Authorization: Bearer $bad'")
$try -H 'Authorization: Bearer $bad'

# no token: answered $(status)
$try

More tokens (claims as JSON):
  PYTHONPATH=Tests python3 scripts/examples/examples.py token --issuer $issuer --audience $audience --sub SUB --claims '{"roles": ["…"]}'
Stop it with: scripts/examples/example.sh stop
MSG
if [ ${#sign_in[@]} -gt 0 ]; then
    cat <<SIGNIN

People sign in: open http://127.0.0.1:8080/ in a browser on this machine and type a user name
at the provider's page. Give the user a role first:
  curl -X PUT $issuer/users/NAME -H 'Content-Type: application/json' -d '{"roles": ["viewer"]}'
SIGNIN
fi
