#!/usr/bin/env bash
# Builds build/mod_gatehouse.so (the lighttpd module, Swift runtime linked in
# statically) and the gatehouse CLI. Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(dpkg-query -W -f='${Version}' lighttpd)
upstream=${version%%-*}
lighttpd_source="build/lighttpd-src/lighttpd-${upstream}"
src="$lighttpd_source/src"
[ -f "$src/plugin.h" ] || { echo "build: $src/plugin.h missing: run scripts/setup.sh" >&2; exit 1; }
# lighttpd's configure: LIGHTTPD_VERSION_ID=0x%x%02x%02x of major.minor.patch (1.4.69 -> 0x10445).
IFS=. read -r major minor patch <<<"$upstream"
version_id=$(printf '0x%x%02x%02x' "$major" "$minor" "$patch")

swift_bin=$(dirname "$(readlink -f "$(command -v swift)")")
swift_static="$swift_bin/../lib/swift_static/linux"
arch=$(uname -m)

# The CLI's lighttpd.conf reader runs lighttpd's own grammar tables, committed (so that
# `swift build` works without the lighttpd source): they must be those of the fetched source.
tables=Sources/LighttpdConfig/Generated/ParserTables.swift
fresh=$(mktemp)
python3 scripts/build/gen_parser_tables.py "$lighttpd_source" "$fresh"
if ! cmp -s "$fresh" "$tables"; then
    rm -f "$fresh"
    echo "build: $tables is not lighttpd $upstream's grammar: run" >&2
    echo "  python3 scripts/build/gen_parser_tables.py $lighttpd_source $tables" >&2
    echo "and commit it" >&2
    exit 1
fi
rm -f "$fresh"

# The module's copy of the core, release, under its own scratch path so that
# `swift test` (which rebuilds with testing enabled) never touches it.
swift build -c release --scratch-path .build-module --product GatehouseCore
# The CLI with the Swift runtime and Foundation linked in, so that it runs on a server
# without a Swift toolchain (cron's `gatehouse jwks fetch`): it needs only Debian's
# libcurl4, libssl3 and libpcre2-8.
swift build -c release --product gatehouse --static-swift-stdlib

mkdir -p build
cc -std=gnu11 -O2 -g -fPIC -Wall -Wextra -Werror -Wno-unused-parameter \
    -DHAVE_CONFIG_H -DLIGHTTPD_VERSION_ID="$version_id" \
    -ICModule -ISources/CGatehouse/include -I"$src" \
    -c CModule/mod_gatehouse.c -o build/mod_gatehouse.o

printf '{ global: mod_gatehouse_plugin_init; local: *; };\n' > build/exports.map
# gold, the linker swiftc uses here: GNU ld cannot make the Swift metadata sections read-only
# after relocation (no RELRO segment, so lintian's hardening-no-relro).
cc -shared -fuse-ld=gold -o build/mod_gatehouse.so \
    build/mod_gatehouse.o \
    .build-module/release/libGatehouseCore.a \
    "$swift_static/$arch/swiftrt.o" \
    -L"$swift_static" -lswiftGlibc -lswiftSynchronization -lswiftCore \
    -lcurl -lcrypto -lpcre2-8 -lstdc++ -lm -ldl -lpthread \
    -Wl,--version-script=build/exports.map \
    -Wl,--exclude-libs,ALL -Wl,-z,nodelete \
    -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack

# A module directory for `lighttpd -m`: Debian's modules plus ours.
# (never a link to an installed mod_gatehouse.so: the copy would overwrite the package's file)
rm -rf build/modules && mkdir -p build/modules
for module in /usr/lib/lighttpd/*.so; do
    [ "$(basename "$module")" = mod_gatehouse.so ] || ln -s "$module" build/modules/
done
cp build/mod_gatehouse.so build/modules/

exported=$(nm -D --defined-only build/mod_gatehouse.so | awk '{print $3}' | grep -v '^_' || true)
[ "$exported" = "mod_gatehouse_plugin_init" ] || { echo "build: unexpected exports: $exported" >&2; exit 1; }
ln -sf "$(swift build -c release --static-swift-stdlib --show-bin-path)/gatehouse" build/gatehouse
echo "built build/mod_gatehouse.so ($(du -h build/mod_gatehouse.so | cut -f1)) and build/gatehouse"
