#!/usr/bin/env bash
# Builds build/lighttpd-mod-gatehouse_VERSION_ARCH.deb for the lighttpd installed here (a module
# loads only into the lighttpd version it was built for): the module, the gatehouse CLI, their
# man pages, the conf-available file, the key refresh timer and the docs, put together with
# dpkg-deb from packaging/ (see docs/install.md).
# Usage: scripts/package.sh [--version VERSION]   (default: the VERSION file)
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

version=$(cat VERSION)
if [ $# -gt 0 ]; then
    [ $# -eq 2 ] && [ "$1" = --version ] || { echo "usage: scripts/package.sh [--version VERSION]" >&2; exit 2; }
    version=$2
fi

bash scripts/setup.sh
bash scripts/build.sh

name=lighttpd-mod-gatehouse
arch=$(dpkg --print-architecture)
lighttpd_version=$(dpkg-query -W -f='${Version}' lighttpd)
maintainer=$(sed -n 's/^Maintainer: //p' packaging/control)
# Dates from the last commit, so that one commit always gives the same pages and changelog.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
stage=build/package
root=$stage/root
doc=$root/usr/share/doc/$name
rm -rf "$stage"
mkdir -p "$root/DEBIAN" "$stage/man" "$root/usr/share/man/man1" "$root/usr/share/man/man5"

# The module and the CLI, stripped as dh_strip does.
install -D -m 644 build/mod_gatehouse.so "$root/usr/lib/lighttpd/mod_gatehouse.so"
install -D -m 755 build/gatehouse "$root/usr/bin/gatehouse"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/lib/lighttpd/mod_gatehouse.so"
strip --remove-section=.comment --remove-section=.note "$root/usr/bin/gatehouse"

install -D -m 644 packaging/05-gatehouse.conf "$root/etc/lighttpd/conf-available/05-gatehouse.conf"
install -D -m 644 -t "$root/lib/systemd/system" packaging/gatehouse-jwks-fetch@.service \
    packaging/gatehouse-jwks-fetch@.timer

# gatehouse(1) and a page per subcommand, from the CLI's own help (swift-argument-parser's
# generate-manual plugin; its scratch folder is its own because it rebuilds the CLI without the
# static Swift runtime), and mod_gatehouse(5) from docs/configuration.md.
swift package --scratch-path .build-manual --allow-writing-to-directory "$stage/man" generate-manual \
    --multi-page --date "$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)" --output-directory "$stage/man"
for page in "$stage"/man/*.1; do
    gzip -9n < "$page" > "$root/usr/share/man/man1/${page##*/}.gz"
done
python3 scripts/package/man_mod_gatehouse.py docs/configuration.md "$version" "$(date -u -d "@$SOURCE_DATE_EPOCH" '+%B %Y')" \
    | gzip -9n > "$root/usr/share/man/man5/mod_gatehouse.5.gz"

# The docs, laid out as in the repository so that their links between each other hold.
install -D -m 644 -t "$doc" README.md BENCHMARKS.md lighttpd.conf.example packaging/copyright
install -D -m 644 -t "$doc/docs" docs/*.md
install -D -m 644 -t "$doc/docs/recipes" docs/recipes/*.md
install -D -m 644 -t "$doc/examples" examples/*.conf
{
    printf '%s (%s) unstable; urgency=medium\n\n' "$name" "$version"
    printf '  * Gatehouse at commit %s, built for lighttpd %s.\n\n' "$(git rev-parse --short HEAD)" "$lighttpd_version"
    printf ' -- %s  %s\n' "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n > "$doc/changelog.gz"  # (a native package: no upstream changelog beside it)

# Depends: exactly this lighttpd, and the libraries the module and the CLI load (dpkg-shlibdeps
# reads a debian/control, hence the folder of its own).
mkdir -p "$stage/shlibs/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" > "$stage/shlibs/debian/control"
shlibs=$(cd "$stage/shlibs" && dpkg-shlibdeps -O "../root/usr/lib/lighttpd/mod_gatehouse.so" "../root/usr/bin/gatehouse")
depends="lighttpd (= $lighttpd_version), ${shlibs#shlibs:Depends=}"

install -m 755 -t "$root/DEBIAN" packaging/postinst packaging/prerm packaging/postrm
echo /etc/lighttpd/conf-available/05-gatehouse.conf > "$root/DEBIAN/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
    > "$root/DEBIAN/md5sums"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
    -e "s/@SIZE@/$(du -sk --exclude=DEBIAN "$root" | cut -f1)/" packaging/control > "$root/DEBIAN/control"

deb="build/${name}_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb"
echo "built $deb"
