#!/usr/bin/env bash
# 0005: `make install DESTDIR=... PREFIX=...` puts the command, both
# libraries (the shared one under its soname), the header and a pkg-config
# file in place, and an application builds against them with pkg-config
# alone and appends durably.  `make install PREFIX=DIR` writes nothing
# outside DIR: the configuration goes to DIR/etc unless SYSCONFDIR is
# given, and to /etc only for PREFIX=/usr (a package's layout).
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
# outside ROOT DIR...: what ROOT holds outside the directories DIR (and
# their parents), one path a line; empty when everything is inside.
outside() {
	local root=$1 d; shift
	local args=()
	for d in "$@"; do
		args+=(! -path "$root/$d" ! -path "$root/$d/*")
		while [ "${d%/*}" != "$d" ]; do
			d=${d%/*}
			args+=(! -path "$root/$d")
		done
	done
	find "$root" -mindepth 1 "${args[@]}"
}
D="$T/dest"
make -s -C "$top" install DESTDIR="$D" PREFIX=/opt/sp >"$T/log" 2>&1 ||
	{ cat "$T/log"; not_ok "make install"; finish; }
for f in bin/spoolship lib/libspoolship.a lib/libspoolship.so \
	lib/libspoolship.so.0 include/spoolship.h lib/pkgconfig/spoolship.pc \
	etc/spoolship/spoolship.ini.example lib/systemd/system/spoolship.service \
	share/man/man1/spoolship.1 share/man/man5/spoolship.ini.5; do
	check "installed $f" test -e "$D/opt/sp/$f"
done
outside "$D" opt/sp >"$T/outside"
cat "$T/outside"
check "PREFIX=/opt/sp: nothing written outside it" test ! -s "$T/outside"
check "the unit reads PREFIX/etc" grep -qx \
	'ExecStart=/opt/sp/bin/spoolship run -c /opt/sp/etc/spoolship/spoolship.ini' \
	"$D/opt/sp/lib/systemd/system/spoolship.service"
so=$(readelf -d "$D/opt/sp/lib/libspoolship.so.0" |
	sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "soname libspoolship.so.0 (got $so)" test "$so" = libspoolship.so.0
check "pc file names the prefix" grep -qx 'prefix=/opt/sp' "$D/opt/sp/lib/pkgconfig/spoolship.pc"
# Build the example against the installed tree (pkg-config with a sysroot).
export PKG_CONFIG_PATH="$D/opt/sp/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$D"
flags=$(pkg-config --cflags --libs --static spoolship)
check "example builds from the installed tree" \
	cc -std=c11 -o "$T/example" "$top/docs/examples/append-example.c" $flags
check "example appends" env LD_LIBRARY_PATH="$D/opt/sp/lib" "$T/example" "$T/spool" clicks 50
check "its events are there" test "$("$D/opt/sp/bin/spoolship" -s "$T/spool" peek -n 0 | wc -l)" -eq 50
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# PREFIX=/usr, as a package installs: the configuration in /etc.
U="$T/usr"
make -s -C "$top" install DESTDIR="$U" PREFIX=/usr >"$T/log" 2>&1 ||
	{ cat "$T/log"; not_ok "make install PREFIX=/usr"; finish; }
check "PREFIX=/usr: the example in /etc/spoolship" \
	test -f "$U/etc/spoolship/spoolship.ini.example"
outside "$U" usr etc/spoolship >"$T/outside"
cat "$T/outside"
check "PREFIX=/usr: nothing outside /usr and /etc/spoolship" test ! -s "$T/outside"

# SYSCONFDIR given: the configuration goes there, the unit reads it there.
S="$T/sysconf"
make -s -C "$top" install DESTDIR="$S" PREFIX=/opt/sp SYSCONFDIR=/etc \
	>"$T/log" 2>&1 || { cat "$T/log"; not_ok "make install SYSCONFDIR"; finish; }
check "SYSCONFDIR=/etc: the example there" \
	test -f "$S/etc/spoolship/spoolship.ini.example"
check "SYSCONFDIR=/etc: the unit reads it there" grep -qx \
	'ExecStart=/opt/sp/bin/spoolship run -c /etc/spoolship/spoolship.ini' \
	"$S/opt/sp/lib/systemd/system/spoolship.service"

# A real install (no DESTDIR) into a scratch PREFIX: nothing appears or
# changes in the system's directories.
touch "$T/marker"
R="$T/root"
make -s -C "$top" install PREFIX="$R" >"$T/log" 2>&1 ||
	{ cat "$T/log"; not_ok "make install PREFIX=$R"; finish; }
check "PREFIX=DIR: the example under DIR/etc" \
	test -f "$R/etc/spoolship/spoolship.ini.example"
find /etc /usr /lib/systemd -xdev -newer "$T/marker" -name '*spoolship*' \
	>"$T/touched" 2>/dev/null
cat "$T/touched"
check "PREFIX=DIR: nothing written in /etc, /usr or /lib/systemd" \
	test ! -s "$T/touched"
finish
