#!/bin/sh
# make deb: a Debian package built in a copy of the tree, with every
# program, man page, completion, systemd template and example, no unit
# enabled or started on install, and no lintian error; make install puts
# the same files in the same places.
. "${0%/*}/lib.sh"
top=$(cd "$TESTS_DIR/.." && pwd)

# the package is a normal build made in its own copy: no sanitizer flags,
# build directory or jobserver of the make that runs the tests
unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE
mk() { make -s -C "$top" --no-print-directory "$@"; }
tools=$(mk --eval '_lkit_tools: ; @echo $(TOOLS)' _lkit_tools 2>/dev/null)
version=$(mk --eval '_lkit_v: ; @echo $(VERSION)' _lkit_v 2>/dev/null)
plan 15

missing=
for c in dpkg-buildpackage dh lintian dpkg-deb; do
	command -v $c >/dev/null || missing="$missing $c"
done
[ -z "$missing" ] ||
	echo "# missing:$missing (dpkg-dev, debhelper, lintian: make deps)"

# Build-Depends: what tests/deps.sh installs to build, but build-essential
build_deps() {
	sed -n '/^Build-Depends:/,/^[A-Z]/p' "$top/debian/control" |
		sed -e 's/^Build-Depends://' -e '/^[A-Z]/d' | tr ',' '\n' |
		sed -e 's/(.*)//' -e 's/[[:space:]]//g' | grep . |
		grep -v '^debhelper-compat$' | sort
}
check_same "debian/control builds with the packages of tests/deps.sh" \
	"build_deps" \
	"sh '$TESTS_DIR/deps.sh' --list | head -n 1 | tr ' ' '\n' |
		grep -v '^build-essential$' | sort"

# what the build could leave in the tree: debian/'s files, ../lkit_*
snap() {
	(cd "$top" && find debian | sort)
	ls "$top/.." | grep '^lkit_' || :
}
snap >"$T/before"
D=$T/deb
mk deb DEB_DIR="$D" >"$T/build.log" 2>&1
echo $? >"$T/build.rc"
deb=$(ls "$D"/lkit_"$version"_*.deb 2>/dev/null | head -n 1)
check "make deb builds lkit_${version}_ARCH.deb in DEB_DIR" \
	"test \"\$(cat $T/build.rc)\" = 0 && test -f '$deb' ||
		{ tail -n 20 $T/build.log; exit 1; }"
check_same "make deb leaves no file in the source tree" \
	"snap" "cat $T/before"
check "make deb leaves no copy of the tree behind" \
	"! test -e '$D/lkit-$version'"

dpkg-deb -c "$deb" 2>/dev/null | awk '{ print $6 }' | sed 's|^\./|/|' |
	grep -v '/$' | sort >"$T/files"
# has NAME FILE: passes if the package has every path of FILE
has() {
	check "$1" "sort $2 | comm -23 - $T/files >$T/lacks; ! test -s $T/lacks ||
		{ echo lacks:; cat $T/lacks; exit 1; }"
}
# want: the paths the package must have
for t in $tools; do
	echo "/usr/bin/$t"
	echo "/usr/share/man/man1/$t.1.gz"
	echo "/usr/share/bash-completion/completions/$t"
	echo "/usr/share/fish/vendor_completions.d/$t.fish"
done >"$T/want.tools"
for m in "$top"/man/*.5 "$top"/man/*.7; do
	s=${m##*.}
	echo "/usr/share/man/man$s/${m##*/}.gz"
done >"$T/want.man"
echo /usr/share/zsh/vendor-completions/_lkit >"$T/want.zsh"
for u in "$top"/contrib/systemd/*.service; do
	echo "/lib/systemd/system/${u##*/}"
done >"$T/want.units"
for x in "$top"/contrib/examples/*.pipeline; do
	echo "/usr/share/doc/lkit/examples/${x##*/}"
done >"$T/want.examples"
has "every program, its man page and bash and fish completions" \
	"$T/want.tools"
has "the man pages of sections 5 and 7" "$T/want.man"
has "the zsh completions" "$T/want.zsh"
has "the systemd templates, in /lib/systemd/system" "$T/want.units"
has "the example pipelines, in /usr/share/doc/lkit/examples" \
	"$T/want.examples"
check_out "the version is the Makefile's" \
	"dpkg-deb -f '$deb' Version" "$version"

# no unit enabled or started: no links in .wants, no maintainer script
# that enables or starts one
mkdir -p "$T/ctl"
dpkg-deb -e "$deb" "$T/ctl" 2>/dev/null
check "no unit is enabled or started on install" \
	"! grep -q '\.wants/' $T/files &&
	 ! cat $T/ctl/*inst $T/ctl/*rm 2>/dev/null |
		grep -E 'systemctl .*(enable|start)|deb-systemd-invoke|deb-systemd-helper .*enable'"

mkdir -p "$T/x"
dpkg-deb -x "$deb" "$T/x" 2>/dev/null
check "the programs in the package run, built without sanitizers" \
	"for t in $tools; do $T/x/usr/bin/\$t --version || exit 1; done &&
	 ! dpkg-deb -f '$deb' Depends | grep -E 'lib(a|ub)san'"

# lintian: errors fail, warnings are listed
lintian --fail-on error "${deb%.deb}.changes" >"$T/lint" 2>"$T/lint.err"
echo $? >"$T/lint.rc"
check "lintian reports no error" \
	"test \"\$(cat $T/lint.rc)\" = 0 || { cat $T/lint $T/lint.err; exit 1; }"
grep -v '^E:' "$T/lint" | sed 's/^/# lintian: /'

# make install with the Debian paths: the same files as the package, but
# for the files of /usr/share/doc, lintian's overrides and the compression
# of man pages.  -o all: the programs already built in the tests' build
# directory, perhaps with sanitizers, are installed as they are, not
# rebuilt with other flags
mk -o all install DESTDIR="$T/inst" PREFIX=/usr \
	ZSHCOMPDIR=/usr/share/zsh/vendor-completions \
	SYSTEMDUNITDIR=/lib/systemd/system >"$T/inst.log" 2>&1
echo $? >"$T/inst.rc"
check "make install DESTDIR=D PREFIX=/usr works" \
	"test \"\$(cat $T/inst.rc)\" = 0 || { tail -n 20 $T/inst.log; exit 1; }"
debfiles() {
	grep -v -e '^/usr/share/doc/lkit/[^/]*$' -e '^/usr/share/lintian/' \
		"$T/files" | sed 's/\.gz$//'
}
check_same "make install installs what the package does" \
	"cd $T/inst && find . ! -type d | sed 's|^\.||' | sort" "debfiles"
