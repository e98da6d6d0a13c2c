#!/bin/sh
# deps.sh - install the Debian packages lkit builds and tests with, when
# missing.  As root it runs apt-get; otherwise it prints the line to run.
set -u
# the README lists the same packages (tests/0910-docs.t compares them)
build_pkgs="build-essential pkg-config libmsgpack-dev libjq-dev libpcre2-dev
zlib1g-dev libdeflate-dev libzstd-dev libssl-dev libcurl4-openssl-dev"
test_pkgs="python3-msgpack mandoc xxd procps zsh fish curl openssl nodejs
systemd dpkg-dev debhelper lintian clickhouse-server rsyslog prometheus
prometheus-node-exporter"
[ "${1:-}" = --list ] && { echo $build_pkgs; echo $test_pkgs; exit 0; }
pkgs="$build_pkgs $test_pkgs"
missing=""
for p in $pkgs; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	# wait for a package lock another apt or unattended-upgrades holds
	lock="-o DPkg::Lock::Timeout=300"
	# apt-get update may not wait for the lists lock itself: retry
	tries=0
	# shellcheck disable=SC2086
	until apt-get $lock update -qq >/dev/null 2>"${TMPDIR:-/tmp}/deps.$$"; do
		tries=$((tries + 1))
		if [ $tries -ge 30 ] || ! grep -qi lock "${TMPDIR:-/tmp}/deps.$$"; then
			cat "${TMPDIR:-/tmp}/deps.$$" >&2
			rm -f "${TMPDIR:-/tmp}/deps.$$"
			echo "deps: apt-get update failed" >&2
			exit 1
		fi
		sleep 10
	done
	rm -f "${TMPDIR:-/tmp}/deps.$$"
	# shellcheck disable=SC2086
	apt-get $lock install -y -qq --no-install-recommends $missing \
		>/dev/null || { echo "deps: apt-get install failed" >&2; exit 1; }
	exit 0
fi
echo "deps: missing packages; run as root:" >&2
echo "  apt-get install -y$missing" >&2
exit 1
