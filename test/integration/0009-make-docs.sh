#!/usr/bin/env bash
# 0009: `make docs` (build/gen-docs) keeps the files written from the
# option table true: on a copy of the repository's three files, --check
# passes, then fails naming the stale file and `make docs` once the
# generated part of one is changed (text outside the markers is the
# author's and never counts); a run without --check writes the files
# back exactly as committed, keeping that outside text; a missing marker
# is an error.
. "$(dirname "$0")/lib.sh"
GEN="$BUILD_DIR/gen-docs"
[ -x "$GEN" ] || skip "no $GEN (make all builds it)"
top=$(cd "$(dirname "$0")/../.." && pwd)
R="$T/repo"
mkdir -p "$R/docs/man"
for f in config.example.ini docs/configuration.md docs/man/spoolship.ini.5
do
	cp "$top/$f" "$R/$f"
done
expect_exit "the committed files are up to date" 0 "$GEN" --check "$R"

# An option's text changed in the generated part only (what a table
# change without `make docs` leaves behind).
sed -i 's/^# Cap of the retry delay\.$/# Cap of the retry delay, stale./' \
	"$R/config.example.ini"
sed -i 's/^Cap of the retry delay\.$/Cap of the retry, stale./' \
	"$R/docs/man/spoolship.ini.5"
# Prose outside the markers is the author's.
echo "An author's closing line." >> "$R/docs/configuration.md"
check "the example was changed" grep -q "delay, stale" "$R/config.example.ini"
check "the man page was changed" grep -q "retry, stale" \
	"$R/docs/man/spoolship.ini.5"
expect_exit "--check finds the stale files" 1 "$GEN" --check "$R" \
	2>"$T/err"
want="gen-docs: config.example.ini differs from the option table"
want="$want (src/daemon/config.c): run \`make docs\`"
check "names the example and says make docs" grep -qxF "$want" "$T/err"
check "names the man page" grep -q "docs/man/spoolship.ini.5 differs" \
	"$T/err"
check "not the markdown (its change is outside the markers)" \
	test "$(grep -c configuration.md "$T/err")" -eq 0
check "--check wrote nothing" grep -q "delay, stale" "$R/config.example.ini"

"$GEN" "$R" >"$T/out"
rc=$?
check "make docs rewrites them" test "$rc" -eq 0
printf 'gen-docs: wrote %s\n' config.example.ini docs/man/spoolship.ini.5 \
	>"$T/want"
check "says what it wrote" cmp -s "$T/out" "$T/want"
check "the example is as committed" cmp -s "$R/config.example.ini" \
	"$top/config.example.ini"
check "the man page is as committed" cmp -s "$R/docs/man/spoolship.ini.5" \
	"$top/docs/man/spoolship.ini.5"
check "the author's line is kept" grep -qx "An author's closing line." \
	"$R/docs/configuration.md"
check "no temporary file is left" test ! -e "$R/config.example.ini.tmp"
expect_exit "up to date afterwards" 0 "$GEN" --check "$R"

sed -i '/END config_write_markdown/d' "$R/docs/configuration.md"
expect_exit "a missing marker is an error" 2 "$GEN" --check "$R" 2>"$T/err"
check "which marker" grep -qF "docs/configuration.md: no line starting \
'<!-- END config_write_markdown -->'" "$T/err"
finish
