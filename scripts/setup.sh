#!/usr/bin/env bash
# Installs what building and testing Gatehouse needs on Debian 12, and fetches
# lighttpd's source (for the plugin headers) matching the installed package.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# chromium and chromium-driver: the browser sign-in tests drive a real, headless browser.
for pkg in lighttpd libssl-dev libjansson-dev libpcre2-dev libcurl4-openssl-dev dpkg-dev curl valgrind \
        lintian man-db iproute2 chromium chromium-driver; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt+=("$pkg")
done

# apt-get source needs deb-src entries; a fresh Debian 12 has only "Types: deb".
if [ ! -f /etc/apt/sources.list.d/gatehouse-src.sources ] && [ -f /etc/apt/sources.list.d/debian.sources ] \
    && ! grep -qs '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
        > /etc/apt/sources.list.d/gatehouse-src.sources
    need_update=1
fi

if [ ${#need_apt[@]} -gt 0 ] || [ -n "${need_update:-}" ]; then
    apt-get update -qq
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# Debian starts lighttpd on port 80 after installing it; we never use that instance.
if command -v systemctl >/dev/null && systemctl is-active -q lighttpd 2>/dev/null; then
    systemctl stop lighttpd || true
fi

# lighttpd's source, exactly the installed version, into the ignored build/ folder.
version=$(dpkg-query -W -f='${Version}' lighttpd)
upstream=${version%%-*}
src="build/lighttpd-src/lighttpd-${upstream}"
if [ ! -f "$src/src/plugin.h" ]; then
    rm -rf build/lighttpd-src && mkdir -p build/lighttpd-src
    (cd build/lighttpd-src && apt-get source -qq "lighttpd=${version}" >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get source -qq "lighttpd=${version}"; })
fi
[ -f "$src/src/plugin.h" ] || { echo "setup: lighttpd source not found in $src" >&2; exit 1; }

# Python test dependencies: an independent JOSE implementation mints the tokens.
python3 -c 'import jwt, cryptography, pytest, requests, flup' 2>/dev/null \
    || python3 -m pip install -q PyJWT cryptography pytest requests flup

# The end-to-end tests' identity provider and the real backends they guard.
python3 -c 'import oidc_provider_mock, luigi' 2>/dev/null \
    || python3 -m pip install -q "oidc-provider-mock==0.3.4" "luigi==3.8.1"
# Selenium drives Debian's chromium-driver in the browser sign-in tests.
python3 -c 'import selenium' 2>/dev/null || python3 -m pip install -q "selenium==4.51.0"
# Prefect's server pins much of its stack, so it gets a virtual environment of its own
# (fastapi 0.150: later releases dropped the Body(min_items=…) that prefect 3.8.8 still uses).
if [ ! -x build/venv-prefect/bin/prefect ]; then
    rm -rf build/venv-prefect
    python3 -m venv build/venv-prefect
    build/venv-prefect/bin/pip install -q "prefect==3.8.8" "fastapi==0.150.0"
fi
