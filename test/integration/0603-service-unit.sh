#!/usr/bin/env bash
# 0603: `make install` puts the systemd unit (paths filled in from PREFIX
# and SYSCONFDIR), both man pages and the example configuration (its spool
# in the unit's state directory) in place, and never touches a real
# spoolship.ini; the unit passes
# `systemd-analyze verify` (when systemd-analyze is installed) with its man
# pages found, and the pages render.
# test-serial: runs make install in the tree (as 0005 does)
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

# DESTDIR staging, as a package build would do it.
D="$T/dest"
mkdir -p "$D/etc/spoolship"
echo "# the operator's own file" > "$D/etc/spoolship/spoolship.ini"
make -s -C "$top" install DESTDIR="$D" PREFIX=/opt/sp SYSCONFDIR=/etc \
	>"$T/log" 2>&1 ||
	{ cat "$T/log"; not_ok "make install"; finish; }
U="$D/opt/sp/lib/systemd/system/spoolship.service"
for f in opt/sp/lib/systemd/system/spoolship.service \
	opt/sp/share/man/man1/spoolship.1 opt/sp/share/man/man5/spoolship.ini.5 \
	etc/spoolship/spoolship.ini.example; do
	check "installed $f" test -f "$D/$f"
done
check "the real config is left alone" \
	grep -qx "# the operator's own file" "$D/etc/spoolship/spoolship.ini"
check "the example's spool is the state directory" \
	grep -qx 'path = /var/lib/spoolship' "$D/etc/spoolship/spoolship.ini.example"
check "the example is otherwise config.example.ini" sh -c \
	"sed '/^path = \/var\/lib\/spoolship\$/d' '$D/etc/spoolship/spoolship.ini.example' |
	cmp -s '$top/config.example.ini' -"
check "unit: ExecStart from PREFIX and SYSCONFDIR" grep -qx \
	'ExecStart=/opt/sp/bin/spoolship run -c /etc/spoolship/spoolship.ini' "$U"
check "unit: no @placeholder@ left" sh -c "! grep -E '@[A-Z]+@' '$U'"
for want in 'Type=notify' 'ExecReload=/bin/kill -HUP $MAINPID' \
	'Restart=on-failure' 'User=spoolship' 'StateDirectory=spoolship' \
	'StateDirectoryMode=0700' 'ProtectSystem=strict' \
	'ReadWritePaths=/var/lib/spoolship' 'NoNewPrivileges=yes' \
	'PrivateTmp=yes' 'ProtectHome=yes' \
	'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'; do
	check "unit: $want" grep -qxF "$want" "$U"
done
check "unit: a watchdog" grep -qE '^WatchdogSec=[0-9]+' "$U"
check "unit file mode 0644" test "$(stat -c %a "$U")" = 644

# The pages render and name what they must.
if command -v mandoc >/dev/null 2>&1; then
	mandoc -Tascii "$D/opt/sp/share/man/man1/spoolship.1" | col -b >"$T/man1"
	for cmd in append stats peek verify dead compact run; do
		check "spoolship(1) documents $cmd" grep -qE "^   $cmd\$" "$T/man1"
	done
	check "spoolship(1) has EXIT STATUS" grep -q '^EXIT STATUS' "$T/man1"
	check "spoolship(1) has SIGNALS" grep -q '^SIGNALS' "$T/man1"
	mandoc -Tascii "$D/opt/sp/share/man/man5/spoolship.ini.5" | col -b >"$T/man5"
	check "spoolship.ini(5) lists [ship] max_events" grep -q 'max_events' "$T/man5"
else
	echo "# mandoc not installed: rendering not checked"
fi

# systemd-analyze verify needs ExecStart to exist: install for real
# under a scratch PREFIX, then verify that unit with its man pages.
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "# systemd-analyze not installed: unit verification skipped"
	finish
fi
R="$T/root"
make -s -C "$top" install PREFIX="$R" SYSCONFDIR="$R/etc" >"$T/log2" 2>&1 ||
	{ cat "$T/log2"; not_ok "make install PREFIX=$R"; finish; }
RU="$R/lib/systemd/system/spoolship.service"
MANPATH="$R/share/man" systemd-analyze verify "$RU" >"$T/verify" 2>&1
rc=$?
cat "$T/verify"
check "systemd-analyze verify: exit 0 (got $rc)" test "$rc" -eq 0
check "systemd-analyze verify: no complaint" test ! -s "$T/verify"
# A unit with a typo must not pass, or the check above proves nothing.
sed 's/^ProtectHome=yes/ProtectHome=yes\nProtectHom=yes/' "$RU" >"$T/spoolship.service"
MANPATH="$R/share/man" systemd-analyze verify "$T/spoolship.service" >"$T/verify2" 2>&1
check "systemd-analyze verify catches a typo" grep -q 'ProtectHom' "$T/verify2"
if systemd-analyze security --offline=yes "$RU" >"$T/security" 2>&1; then
	level=$(sed -n 's/.*Overall exposure level for spoolship.service: \([0-9.]*\).*/\1/p' "$T/security")
	check "systemd-analyze security: exposure $level below 3.0" \
		awk -v l="$level" 'BEGIN { exit !(l != "" && l < 3.0) }'
else
	echo "# systemd-analyze security --offline not supported here"
fi
finish
