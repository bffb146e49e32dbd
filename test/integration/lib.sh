# test/integration/lib.sh - shared by the integration scripts: a scratch
# directory removed on exit, TAP-like checks, bounded waits, events.
set -u
: "${BUILD_DIR:?run through test/run.sh or set BUILD_DIR}"
SP="$BUILD_DIR/spoolship"
TOOL="$BUILD_DIR/spool-tool"
T=$(mktemp -d "${TMPDIR:-/tmp}/spoolship-it-XXXXXX")
_pids=()
_fails=0
# A failed script leaves its scratch directory (logs, spool) for a look,
# and says where.
cleanup() {
	for p in "${_pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
	if [ "$_fails" -gt 0 ]; then
		for l in "$T"/*.log; do
			[ -f "$l" ] && { echo "--- last lines of $l"; tail -n 12 "$l"; }
		done
		echo "kept for a look: $T"
	else rm -rf "$T"; fi
}
trap cleanup EXIT

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; _fails=$((_fails + 1)); }
# check NAME COMMAND...: passes when the command succeeds.
check() { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n"; fi; }
# expect_exit NAME CODE COMMAND...: passes when the command exits CODE.
expect_exit() {
	local n=$1 want=$2 rc; shift 2
	"$@"; rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$n"; else not_ok "$n (exit $rc, want $want)"; fi
}
finish() { [ "$_fails" -eq 0 ] || { echo "$_fails check(s) failed"; exit 1; }; exit 0; }
skip() { echo "$1"; exit 77; }

now_iso() { date -u +%Y-%m-%dT%H:%M:%S.000Z; }
# gen_events FIRST N [PAD]: NDJSON with ids FIRST.., the current time.
gen_events() {
	local t; t=$(now_iso)
	awk -v f="$1" -v n="$2" -v t="$t" -v pad="${3:-xxxxxxxxxxxxxxxxxxxx}" \
		'BEGIN { for (i = f; i < f + n; i++)
			printf "{\"__time\":\"%s\",\"id\":%d,\"pad\":\"%s\"}\n", t, i, pad }'
}
# wait_for SECONDS COMMAND...: polls the command until it succeeds.
wait_for() {
	local end=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.05
	done
}
# with_tmpfs SIZE: a size-limited tmpfs at $MNT for a full-filesystem
# test, unmounted on exit after the test's processes are killed (a busy
# mount point cannot be unmounted); skips without root or mount.
with_tmpfs() {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a size-limited tmpfs"
	MNT="$T/mnt"
	mkdir -p "$MNT"
	mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$MNT" 2>"$T/mount.err" ||
		skip "cannot mount a tmpfs here: $(head -n 1 "$T/mount.err")"
	trap _unmount_tmpfs EXIT
}
_unmount_tmpfs() {
	for p in "${_pids[@]:-}"; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	umount "$MNT" 2>/dev/null || umount -l "$MNT"
	cleanup
}
