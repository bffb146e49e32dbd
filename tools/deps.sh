#!/bin/sh
# tools/deps.sh - make sure the Debian 12 packages a build step needs are
# here.  Usage: tools/deps.sh build|test|bench|demo|deb|all
# Installs what is missing when run as root (apt-get); otherwise prints the
# exact apt-get line and fails.  Never removes or upgrades anything.
set -eu

need_build="pkg-config:pkg-config gcc:gcc make:make
lmdb:liblmdb-dev libcjson:libcjson-dev zlib:zlib1g-dev openssl:libssl-dev
libcurl:libcurl4-openssl-dev libmicrohttpd:libmicrohttpd-dev inih:libinih-dev"
need_test="cmocka:libcmocka-dev curl:curl python3:python3 mandoc:mandoc"
need_bench=""
# Optional for `test` (command:package): tried when root, never fatal; the
# tests that use them skip with a message when they are missing.
# libfuzzer: clang's runtime, without which clang cannot link a fuzzer.
# dpkg-buildpackage, dh, lintian, fakeroot: `make deb` and its test.
opt_test="chromium:chromium promtool:prometheus clang:clang
libfuzzer:libclang-rt-dev dpkg-buildpackage:dpkg-dev dh:debhelper
lintian:lintian fakeroot:fakeroot"
need_demo="curl:curl"
# `make deb`: dpkg-buildpackage with debhelper (debian/), then lintian.
need_deb="dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian
fakeroot:fakeroot"

case "${1:-build}" in
build) want="$need_build" ;;
test) want="$need_build $need_test" ;;
bench) want="$need_build $need_bench" ;;
demo) want="$need_build $need_demo" ;;
deb) want="$need_build $need_deb" ;;
all) want="$need_build $need_test $need_bench" ;;
*) echo "usage: $0 build|test|bench|demo|deb|all" >&2; exit 2 ;;
esac

# 0 when optional tool $1 is here (libfuzzer: clang links a fuzzer).
have() {
	case "$1" in
	libfuzzer)
		printf '%s\n' 'int LLVMFuzzerTestOneInput(const char *d,' \
			'long n) { (void)d; (void)n; return 0; }' |
			clang -x c -fsanitize=fuzzer -o /dev/null - \
			>/dev/null 2>&1 ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

# Installs the optional test packages that are missing, once: a failed
# try is remembered for a day so that every `make check` does not retry.
optional() {
	case "$1" in test|all) ;; *) return 0 ;; esac
	opt=""
	for item in $opt_test; do
		have "${item%%:*}" || opt="$opt ${item#*:}"
	done
	[ -z "$opt" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "spoolship: optional test packages missing (their tests" \
			"skip):$opt" >&2
		return 0
	fi
	mark=/var/tmp/spoolship-deps-optional.failed
	if [ -n "$(find "$mark" -mmin -1440 2>/dev/null)" ]; then
		return 0
	fi
	echo "spoolship: installing optional test packages$opt" >&2
	# shellcheck disable=SC2086
	if DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $opt >&2; then
		rm -f "$mark"
	else
		echo "spoolship: could not install$opt; the tests that need" \
			"them will skip" >&2
		touch "$mark" 2>/dev/null || true
	fi
}

missing=""
for item in $want; do
	name=${item%%:*}
	pkg=${item#*:}
	case "$name" in
	pkg-config|gcc|make|curl|python3|mandoc|dpkg-buildpackage|dh|\
	lintian|fakeroot)
		command -v "$name" >/dev/null 2>&1 && continue ;;
	*)
		command -v pkg-config >/dev/null 2>&1 &&
			pkg-config --exists "$name" 2>/dev/null && continue ;;
	esac
	case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
done

if [ -z "$missing" ]; then
	optional "${1:-build}"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "spoolship: missing packages; as root run:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "spoolship: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
optional "${1:-build}"
