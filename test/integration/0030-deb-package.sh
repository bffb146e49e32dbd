#!/usr/bin/env bash
# 0030: `make deb` builds spoolship, libspoolship0 and libspoolship-dev
# from debian/ with dpkg-buildpackage, lintian clean of errors and
# warnings; dpkg -i installs them on this machine (the system user
# spoolship, /var/lib/spoolship 0700); the installed command prints its
# version and, as the service user with the installed example
# configuration, ships events from the state directory to a mock receiver
# (every id once); a program builds against the installed library with
# pkg-config; installing again and dpkg -r keep the configuration and the
# spool with its pending events, --purge removes both.  The packages are
# purged on every exit, failures included.
# Root only, and skipped when dpkg already has spoolship or the machine
# has /var/lib/spoolship (the purge would delete either).
# test-serial: installs and purges packages (/etc, /var/lib), builds
# test-timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
PKGS="libspoolship-dev libspoolship0 spoolship"

[ "$(id -u)" -eq 0 ] || skip "needs root to install a package with dpkg -i"
# One run at a time on a machine (two checkouts' make check at once):
# each would install and purge the other's packages.
exec 9>/run/lock/spoolship-test-0030.lock
flock -w 240 9 ||
	skip "another 0030 held /run/lock/spoolship-test-0030.lock 240 s"
for cmd in dpkg-buildpackage dh lintian fakeroot; do
	command -v "$cmd" >/dev/null 2>&1 ||
		skip "$cmd missing: as root, tools/deps.sh deb installs it"
done
for p in $PKGS; do
	if dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null |
	    grep -qv '^not-installed$'; then
		skip "dpkg has $p on this machine: this test would remove it"
	fi
done
[ -e /var/lib/spoolship ] &&
	skip "/var/lib/spoolship exists: this test's purge would delete it"
had_user=0
getent passwd spoolship >/dev/null && had_user=1

# On every exit: the packages purged, a user the package made removed,
# then lib.sh's cleanup.
pkg_cleanup() {
	for p in "${_pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	# shellcheck disable=SC2086
	dpkg --purge $PKGS >/dev/null 2>&1
	if [ "$had_user" -eq 0 ] && getent passwd spoolship >/dev/null; then
		deluser --system --quiet spoolship >/dev/null 2>&1
		getent group spoolship >/dev/null &&
			delgroup --system --quiet spoolship >/dev/null 2>&1
	fi
	cleanup
}
trap pkg_cleanup EXIT

# dpkg_do ARGS...: dpkg, waiting up to 60 s for a lock held by another
# apt or dpkg on this machine.
dpkg_do() {
	local i
	for i in $(seq 60); do
		dpkg "$@" >"$T/dpkg.log" 2>&1 && return 0
		grep -q 'lock' "$T/dpkg.log" || break
		sleep 1
	done
	cat "$T/dpkg.log"
	return 1
}

version=$(sed -n 's/.*VERSION_STRING "\(.*\)"/\1/p' "$top/include/spoolship.h")
arch=$(dpkg --print-architecture)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
OUT="$T/deb"
make -s -C "$top" deb DEBDIR="$OUT" >"$T/build.log" 2>&1
rc=$?
tail -n 30 "$T/build.log"
check "make deb: exit 0 (got $rc)" test "$rc" -eq 0
check "lintian: no error or warning" sh -c "! grep -E '^[EW]: ' '$T/build.log'"
for p in spoolship libspoolship0 libspoolship-dev; do
	check "built ${p}_${version}_$arch.deb" \
		test -f "$OUT/${p}_${version}_$arch.deb"
done
[ "$_fails" -eq 0 ] || finish
deb() { echo "$OUT/${1}_${version}_$arch.deb"; }

# What each package holds.
dpkg-deb -c "$(deb spoolship)" >"$T/c.spoolship"
for f in ./usr/bin/spoolship ./lib/systemd/system/spoolship.service \
	./usr/share/man/man1/spoolship.1.gz ./usr/share/man/man5/spoolship.ini.5.gz \
	./etc/spoolship/spoolship.ini.example; do
	check "spoolship holds $f" grep -q " $f\$" "$T/c.spoolship"
done
check "spoolship: the example is a conffile" sh -c \
	"dpkg-deb --ctrl-tarfile '$(deb spoolship)' | tar -xOf - ./conffiles |
	grep -qx /etc/spoolship/spoolship.ini.example"
dpkg-deb -c "$(deb libspoolship0)" >"$T/c.lib"
check "libspoolship0 holds libspoolship.so.0" \
	grep -q " ./usr/lib/$ma/libspoolship.so.0 -> " "$T/c.lib"
dpkg-deb -c "$(deb libspoolship-dev)" >"$T/c.dev"
for f in ./usr/include/spoolship.h "./usr/lib/$ma/libspoolship.a" \
	"./usr/lib/$ma/pkgconfig/spoolship.pc"; do
	check "libspoolship-dev holds $f" grep -q " $f\$" "$T/c.dev"
done
check "libspoolship-dev holds the libspoolship.so link" \
	grep -q " ./usr/lib/$ma/libspoolship.so -> libspoolship.so.0\$" "$T/c.dev"

# Installed.
check "dpkg -i" dpkg_do -i "$(deb spoolship)" "$(deb libspoolship0)" \
	"$(deb libspoolship-dev)"
for p in $PKGS; do
	check "$p installed" sh -c \
		"dpkg-query -W -f '\${db:Status-Status}' $p | grep -qx installed"
done
[ "$_fails" -eq 0 ] || finish
SPI=/usr/bin/spoolship
"$SPI" --version >"$T/version" 2>&1
rc=$?
cat "$T/version"
check "spoolship --version: exit 0 (got $rc)" test "$rc" -eq 0
check "spoolship --version names $version" grep -qF "$version" "$T/version"
check "the system user spoolship" sh -c \
	"getent passwd spoolship | cut -d: -f6 | grep -qx /var/lib/spoolship"
check "/var/lib/spoolship: spoolship, 0700" test \
	"$(stat -c '%U:%G %a' /var/lib/spoolship)" = "spoolship:spoolship 700"
check "the unit runs it as spoolship" \
	grep -qx 'User=spoolship' /lib/systemd/system/spoolship.service
check "the unit runs the installed binary" grep -qx \
	"ExecStart=$SPI run -c /etc/spoolship/spoolship.ini" \
	/lib/systemd/system/spoolship.service
if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify /lib/systemd/system/spoolship.service \
		>"$T/verify" 2>&1
	rc=$?
	cat "$T/verify"
	check "the installed unit passes systemd-analyze verify (exit $rc)" \
		test "$rc" -eq 0 -a ! -s "$T/verify"
fi

# The service's layout without systemd: as the user spoolship, the
# installed example (its url pointed at the mock) ships events appended
# to the state directory.
start_mock --rpm 0
chmod 0711 "$T"
sed "s|^url = .*|url = http://127.0.0.1:$MOCK_PORT/v1/events/{table}|" \
	/etc/spoolship/spoolship.ini.example >"$T/svc.ini"
chmod 0644 "$T/svc.ini"
as_user() { runuser -u spoolship -- "$@"; }
expect_exit "the example passes --check-config" 0 \
	as_user "$SPI" run -c "$T/svc.ini" --check-config
gen_events 1 300 | as_user "$SPI" -s /var/lib/spoolship append -t t \
	>"$T/append.log" 2>&1
cat "$T/append.log"
check "300 appended as spoolship" grep -q 'accepted 300' "$T/append.log"
expect_exit "run --until-empty as spoolship: exit 0" 0 \
	timeout 60 runuser -u spoolship -- "$SPI" run -c "$T/svc.ini" \
	--until-empty 2>"$T/run.log"
check "every id arrived" ids_complete 1 300
check "300 events accepted" mock_stat_eq events_accepted 300
check "no duplicates" mock_stat_eq duplicates 0

# A program against the installed library (not one make install put in
# /usr/local: pkg-config and the loader pointed at the package's).
PKG_CONFIG_LIBDIR="/usr/lib/$ma/pkgconfig:/usr/lib/pkgconfig"
export PKG_CONFIG_LIBDIR="$PKG_CONFIG_LIBDIR:/usr/share/pkgconfig"
check "pkg-config: version $version" \
	test "$(pkg-config --modversion spoolship)" = "$version"
flags=$(pkg-config --cflags --libs spoolship)
check "the example builds against libspoolship.so" \
	cc -std=c11 -o "$T/example" \
	/usr/share/doc/libspoolship-dev/examples/append-example.c $flags
check "it loads the package's libspoolship.so.0" sh -c \
	"LD_LIBRARY_PATH=/usr/lib/$ma ldd '$T/example' |
	grep -q 'libspoolship.so.0 => /usr/lib/$ma/libspoolship.so.0'"
check "it appends" \
	env LD_LIBRARY_PATH="/usr/lib/$ma" "$T/example" "$T/lib" clicks 20
check "the installed command reads them" \
	test "$("$SPI" -s "$T/lib" peek -n 0 | wc -l)" -eq 20

# Installed again over itself (an upgrade's path through the maintainer
# scripts), then removed: configuration and spool, with the events still
# pending in it, stay.  Purged: both go.
gen_events 1000 5 | as_user "$SPI" -s /var/lib/spoolship append -t t \
	>/dev/null 2>&1
svc_pending() { # [BINARY]: pending events in /var/lib/spoolship
	"${1:-$SPI}" -s /var/lib/spoolship stats --json | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["pending_events"])'
}
check "5 events pending in the state directory" test "$(svc_pending)" -eq 5
check "dpkg -i again" dpkg_do -i "$(deb spoolship)" "$(deb libspoolship0)" \
	"$(deb libspoolship-dev)"
check "reinstalled: the 5 events still pending" test "$(svc_pending)" -eq 5
check "dpkg -r" dpkg_do -r $PKGS
check "removed: the command is gone" test ! -e "$SPI"
check "removed: the conffile stays" \
	test -f /etc/spoolship/spoolship.ini.example
check "removed: the spool stays, 5 events pending" \
	test "$(svc_pending "$BUILD_DIR/spoolship")" -eq 5
check "dpkg --purge" dpkg_do --purge $PKGS
check "purged: /etc/spoolship is gone" test ! -e /etc/spoolship
check "purged: /var/lib/spoolship is gone" test ! -e /var/lib/spoolship
for p in $PKGS; do
	check "purged: $p" sh -c "! dpkg-query -W -f '\${db:Status-Status}' \
		$p 2>/dev/null | grep -qv '^not-installed\$'"
done
check "purged: the user stays (docs/operations.md)" getent passwd spoolship
finish
