#!/usr/bin/env bash
# Demo: lighttpd + mod_gatehouse on 127.0.0.1:8080 with lighttpd.conf.example,
# an echo backend on 127.0.0.1:8081, and freshly minted tokens to try.
#   scripts/demo/demo.sh        install, build, start, print curl commands
#   scripts/demo/demo.sh stop   stop the demo
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/Tests"   # the helper package scripts and tests share (Tests/gatehouse_testkit)
demo="$PWD/build/demo"

stop() {
    for name in lighttpd backend; do
        if [ -f "$demo/$name.pid" ]; then
            kill "$(cat "$demo/$name.pid")" 2>/dev/null || true
            rm -f "$demo/$name.pid"
        fi
    done
}
if [ "${1:-}" = "stop" ]; then stop; echo "demo stopped"; exit 0; fi

bash scripts/setup.sh
bash scripts/build.sh
stop
mkdir -p "$demo/www/public"
python3 scripts/demo/demo_token.py init "$demo"
echo "<h1>Only for people with a valid token</h1>" > "$demo/www/index.html"
echo "<h1>Public</h1>" > "$demo/www/public/index.html"

export GATEHOUSE_DEMO="$demo"
/usr/sbin/lighttpd -tt -m build/modules -f lighttpd.conf.example
nohup python3 -m gatehouse_testkit.echo_backend 8081 >/dev/null 2>&1 &
echo $! > "$demo/backend.pid"
nohup /usr/sbin/lighttpd -D -m build/modules -f lighttpd.conf.example >"$demo/lighttpd.out" 2>&1 &
echo $! > "$demo/lighttpd.pid"
for _ in $(seq 50); do
    curl -s -o /dev/null http://127.0.0.1:8080/public/ && break
    sleep 0.1
done

admin=$(python3 scripts/demo/demo_token.py mint "$demo" alice admin)
viewer=$(python3 scripts/demo/demo_token.py mint "$demo" bob viewer)
cat <<MSG

Gatehouse demo running: lighttpd on http://127.0.0.1:8080 (error log: $demo/error.log)
Tokens are valid for one hour; mint more with:
  PYTHONPATH=Tests python3 scripts/demo/demo_token.py mint $demo SUBJECT ROLE[,ROLE]

# 200: alice is an admin; the backend echoes the X-Auth-Subject it received
curl -i http://127.0.0.1:8080/api/flows -d '{"flow":"etl"}' -H 'Authorization: Bearer $admin'

# 403: bob may read the API but not write to it
curl -i http://127.0.0.1:8080/api/flows -d '{"flow":"etl"}' -H 'Authorization: Bearer $viewer'

# 200: reading is allowed to viewers
curl -i http://127.0.0.1:8080/api/flows -H 'Authorization: Bearer $viewer'

# 401: no token
curl -i http://127.0.0.1:8080/api/flows

# 200: public pages need no token
curl -i http://127.0.0.1:8080/public/

Stop it with: scripts/demo/demo.sh stop
MSG
