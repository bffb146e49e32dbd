#!/usr/bin/env bash
# 0005: `make install DESTDIR=... PREFIX=...` puts the command, both
# libraries, the header and a pkg-config file in place, and an application
# builds against them with pkg-config alone and appends durably.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
D="$T/dest"
make -s -C "$top" install DESTDIR="$D" PREFIX=/opt/sp >"$T/log" 2>&1 ||
	{ cat "$T/log"; not_ok "make install"; finish; }
for f in bin/spoolship lib/libspoolship.a lib/libspoolship.so \
	lib/libspoolship.so.0 include/spoolship.h lib/pkgconfig/spoolship.pc; do
	check "installed $f" test -e "$D/opt/sp/$f"
done
check "pc file names the prefix" grep -qx 'prefix=/opt/sp' "$D/opt/sp/lib/pkgconfig/spoolship.pc"
# Build the example against the installed tree (pkg-config with a sysroot).
export PKG_CONFIG_PATH="$D/opt/sp/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$D"
flags=$(pkg-config --cflags --libs --static spoolship)
check "example builds from the installed tree" \
	cc -std=c11 -o "$T/example" "$top/docs/examples/append-example.c" $flags
check "example appends" env LD_LIBRARY_PATH="$D/opt/sp/lib" "$T/example" "$T/spool" clicks 50
check "its events are there" test "$("$D/opt/sp/bin/spoolship" -s "$T/spool" peek -n 0 | wc -l)" -eq 50
finish
