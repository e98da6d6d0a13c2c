#!/bin/sh
# deps.sh - install the Debian packages lkit builds and tests with, when
# missing.  As root it runs apt-get; otherwise it prints the line to run.
set -u
pkgs="build-essential pkg-config libmsgpack-dev libjq-dev libpcre2-dev
zlib1g-dev libssl-dev python3-msgpack mandoc xxd procps zsh fish curl openssl nodejs"
missing=""
for p in $pkgs; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ echo "deps: apt-get install failed" >&2; exit 1; }
	exit 0
fi
echo "deps: missing packages; run as root:" >&2
echo "  apt-get install -y$missing" >&2
exit 1
