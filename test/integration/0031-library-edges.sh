#!/usr/bin/env bash
# 0031: the library keeps its edges.  libspoolship.a (defined global
# symbols) and libspoolship.so (dynamic defined symbols) hold only
# spoolship_* names, each one declared in spoolship.h and listed in
# debian/libspoolship0.symbols; neither carries the command's offline
# maintenance (salvage, compact) nor calls fork or signal handling; and a
# program that defines its own errf, array_grow and put_be32 (names the
# library used internally) links statically against libspoolship.a and
# appends.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
A="$BUILD_DIR/libspoolship.a"
SO="$BUILD_DIR/libspoolship.so"
[ -f "$A" ] && [ -f "$SO" ] || skip "build the libraries first (make all)"
command -v nm >/dev/null || skip "nm missing (binutils)"

# Defined global names of the archive, dynamic ones of the shared library.
nm -g --defined-only "$A" | awk 'NF == 3 { print $3 }' | sort -u >"$T/a"
nm -D --defined-only "$SO" | awk 'NF == 3 { print $3 }' | sort -u >"$T/so"
for f in a so; do
	grep -v '^spoolship_' "$T/$f" >"$T/$f.leak"
	head -n 20 "$T/$f.leak"
	check "$f: only spoolship_* symbols ($(wc -l <"$T/$f.leak") others)" \
		test ! -s "$T/$f.leak"
	check "$f: exports something" test -s "$T/$f"
done
check "the archive and the shared library export the same names" \
	cmp -s "$T/a" "$T/so"
missing=
for s in $(cat "$T/so"); do
	grep -q "\\b$s(" "$top/include/spoolship.h" || missing="$missing $s"
done
check "every export is declared in spoolship.h:${missing:- yes}" \
	test -z "$missing"
sed -n 's/^ \(spoolship_[a-z0-9_]*\)@Base .*/\1/p' \
	"$top/debian/libspoolship0.symbols" | sort -u >"$T/deb"
check "debian/libspoolship0.symbols lists exactly the exports" \
	cmp -s "$T/deb" "$T/so"

# Offline maintenance lives in the command only (src/maint).
for f in "$A" "$SO"; do
	n=$(basename "$f")
	nm "$f" 2>/dev/null | awk '{ print $NF }' |
		grep -Ei 'salvage|compact' >"$T/maint"
	check "$n: no salvage or compact code" test ! -s "$T/maint"
	nm -u "$f" | awk '{ print $NF }' | sed 's/@.*//' |
		grep -Ex 'fork|vfork|waitpid|sigaction|signal|kill|raise' \
		>"$T/proc"
	cat "$T/proc"
	check "$n: no fork or signal calls" test ! -s "$T/proc"
done

# A program with its own errf, array_grow and put_be32.  Built with the
# sanitizers when the library was.
cat >"$T/clash.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <spoolship.h>

int errf(void) { return 7; }
int array_grow(int x) { return x + 1; }
void put_be32(unsigned char *p) { p[0] = 42; }

int main(int argc, char **argv)
{
	static const char ev[] =
		"{\"__time\":\"2030-01-01T00:00:00Z\",\"id\":1}";
	struct spoolship_options o;
	spoolship_spool *s;
	unsigned char b[1] = { 0 };
	int rc;

	if (argc != 2)
		return 2;
	spoolship_options_init(&o);
	o.max_age_ms = 0;
	if ((rc = spoolship_spool_open(argv[1], &o, &s)) != 0 ||
	    (rc = spoolship_append(s, "clash", ev, strlen(ev), NULL, 0)) ||
	    (rc = spoolship_spool_close(s)) != 0) {
		fprintf(stderr, "%s\n", spoolship_strerror(rc));
		return 1;
	}
	put_be32(b);
	printf("%s %d %d %d\n", spoolship_version(), errf(), array_grow(1),
	       b[0]);
	return 0;
}
EOF
san=
nm -u "$A" | grep -q '__asan_' && san="-fsanitize=address,undefined"
libs=$(pkg-config --libs lmdb libcjson zlib libcrypto)
if cc -std=c11 $san -I"$top/include" -o "$T/clash" "$T/clash.c" "$A" \
	$libs -pthread 2>"$T/ld.err"; then
	ok "a program defining errf, array_grow, put_be32 links with libspoolship.a"
	out=$("$T/clash" "$T/spool")
	check "it runs and keeps its own functions (got: $out)" \
		test "$out" = "$("$SP" --version | awk 'NR == 1 { print $2 }') 7 2 42"
	check "its event is in the spool" \
		test "$("$SP" -s "$T/spool" peek -n 0 | wc -l)" -eq 1
else
	head -n 5 "$T/ld.err"
	not_ok "a program defining errf, array_grow, put_be32 links with libspoolship.a"
fi
finish
