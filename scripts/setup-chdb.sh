#!/usr/bin/env bash
# Installs libchdb.so (ClickHouse embedded, from the npm package
# @chdb/lib-linux-x64-gnu) into the project-local cache, idempotently.
# Prints the library's path on stdout; progress goes to stderr.
set -euo pipefail

version="${CHDB_VERSION:-26.5.3}"
pkg="@chdb/lib-linux-x64-gnu@${version}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${VEILLE_CACHE:-$root/.cache}/chdb/${version}"
lib="$dir/libchdb.so"
stamp="$dir/.verified"

say() { printf 'setup-chdb: %s\n' "$*" >&2; }

if [[ -f "$lib" && -f "$stamp" && "$(cat "$stamp")" == "$(stat -c %s "$lib")" ]]; then
	echo "$lib"
	exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
	say "npm is not installed: install Node.js and npm (Debian: apt-get install npm), or set CHDB_LIB_PATH to an existing libchdb.so"
	exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
say "downloading $pkg (about 170 MB, once)"
if ! (cd "$tmp" && npm pack "$pkg" --json --silent >pack.json 2>pack.err); then
	say "npm pack $pkg failed: $(tail -n 3 "$tmp/pack.err" | tr '\n' ' ')"
	say "check the npm registry is reachable, or set CHDB_LIB_PATH to an existing libchdb.so"
	exit 1
fi

tgz="$tmp/$(sed -n 's/.*"filename": *"\([^"]*\)".*/\1/p' "$tmp/pack.json" | head -n 1)"
want="$(sed -n 's/.*"integrity": *"sha512-\([^"]*\)".*/\1/p' "$tmp/pack.json" | head -n 1)"
registry="$(npm view "$pkg" dist.integrity 2>/dev/null | sed -n 's/^sha512-//p' || true)"
got="$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [[ -z "$want" || "$got" != "$want" ]] || [[ -n "$registry" && "$registry" != "$got" ]]; then
	say "integrity check failed for $tgz: got sha512-$got, want sha512-$want"
	exit 1
fi

mkdir -p "$dir"
tar -xzf "$tgz" -C "$tmp" package/libchdb.so
mv "$tmp/package/libchdb.so" "$lib.partial"
chmod 0755 "$lib.partial"
mv "$lib.partial" "$lib"
stat -c %s "$lib" >"$stamp"
say "installed $lib"
echo "$lib"
