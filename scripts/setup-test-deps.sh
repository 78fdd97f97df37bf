#!/usr/bin/env bash
# Installs what the tests use beyond Go and libchdb: Debian's
# clickhouse-server (the ClickHouse server tests), chromium (browser tests
# and PDF briefs), poppler-utils (reading the PDF briefs back).
# Idempotent; needs root (or sudo) and the Debian package archive.
set -euo pipefail
need=()
command -v /usr/sbin/clickhouse-server >/dev/null 2>&1 || need+=(clickhouse-server)
command -v /usr/bin/chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
if ((${#need[@]} == 0)); then
	exit 0
fi
sudo=""
if [[ $(id -u) != 0 ]]; then
	command -v sudo >/dev/null || { echo "setup-test-deps: need root to install ${need[*]}" >&2; exit 1; }
	sudo=sudo
fi
echo "setup-test-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The package starts a system server on the default ports; tests start their own.
if command -v service >/dev/null && service clickhouse-server status >/dev/null 2>&1; then
	$sudo service clickhouse-server stop >/dev/null 2>&1 || true
fi
