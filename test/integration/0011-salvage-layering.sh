#!/usr/bin/env bash
# 0011: the files of `spoolship salvage` call one way only: spool_salvage.c
# (the entry point) calls the passes, salvage_walk.c and salvage_scan.c,
# and all three call the sink, salvage_sink.c, which calls none of them;
# the two passes do not call each other.  Read from the objects: each
# undefined symbol of one that another of the four defines must be
# defined by a file below it.
. "$(dirname "$0")/lib.sh"
O="$BUILD_DIR/obj/maint"
command -v nm >/dev/null || skip "nm missing (binutils)"
[ -f "$O/spool_salvage.o" ] || skip "build the command first (make all)"

# Each file and its level: a file may call only files of a lower level.
levels="spool_salvage 3 salvage_walk 2 salvage_scan 2 salvage_sink 1"
set -- $levels
while [ $# -gt 0 ]; do
	[ -f "$O/$1.o" ] || { not_ok "$O/$1.o exists"; shift 2; continue; }
	nm -g --defined-only "$O/$1.o" | awk -v f="$1" -v l="$2" \
		'NF == 3 { print $3, f, l }' >>"$T/defs"
	shift 2
done
set -- $levels
while [ $# -gt 0 ]; do
	[ -f "$O/$1.o" ] || { shift 2; continue; }
	nm -u "$O/$1.o" | awk '{ print $NF }' | sort -u >"$T/u"
	awk -v f="$1" -v l="$2" 'NR == FNR { u[$1] = 1; next }
		($1 in u) && $3 >= l { print f " -> " $2 " (" $1 ")" }' \
		"$T/u" "$T/defs" >"$T/up.$1"
	cat "$T/up.$1"
	check "$1.o calls only files below it ($(wc -l <"$T/up.$1") others)" \
		test ! -s "$T/up.$1"
	shift 2
done
finish
