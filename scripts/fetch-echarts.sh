#!/bin/sh
# fetch-echarts.sh downloads Apache ECharts from the npm registry, verifies
# it against pinned checksums, and copies the files the UI embeds into
# ui/assets/echarts/. The result is committed; run this only to re-check or
# to upgrade (then update the pinned values below).
#
# Usage: scripts/fetch-echarts.sh            (from the repository root)
set -eu

VERSION=5.6.0
# npm's dist.integrity of echarts-$VERSION.tgz (sha512, base64).
TARBALL_SHA512=oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA==
# sha256 of package/dist/echarts.min.js inside that tarball.
MIN_JS_SHA256=bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/ui/assets/echarts"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
if command -v npm >/dev/null 2>&1; then
	npm pack --silent "echarts@$VERSION" >/dev/null
else
	curl -fsSLo "echarts-$VERSION.tgz" "https://registry.npmjs.org/echarts/-/echarts-$VERSION.tgz"
fi
tgz="echarts-$VERSION.tgz"

got=$(openssl dgst -sha512 -binary "$tgz" | base64 | tr -d '\n')
if [ "$got" != "$TARBALL_SHA512" ]; then
	echo "fetch-echarts: tarball integrity mismatch: got sha512-$got" >&2
	exit 1
fi

tar -xzf "$tgz" package/dist/echarts.min.js package/LICENSE package/NOTICE
got=$(sha256sum package/dist/echarts.min.js | cut -d' ' -f1)
if [ "$got" != "$MIN_JS_SHA256" ]; then
	echo "fetch-echarts: echarts.min.js sha256 mismatch: got $got" >&2
	exit 1
fi

mkdir -p "$dest"
cp package/dist/echarts.min.js package/LICENSE package/NOTICE "$dest/"
echo "fetch-echarts: echarts $VERSION verified and copied to ui/assets/echarts/"
