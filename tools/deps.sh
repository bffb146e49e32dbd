#!/bin/sh
# tools/deps.sh - make sure the Debian 12 packages a build step needs are
# here.  Usage: tools/deps.sh build|test|bench|all
# Installs what is missing when run as root (apt-get); otherwise prints the
# exact apt-get line and fails.  Never removes or upgrades anything.
set -eu

need_build="pkg-config:pkg-config gcc:gcc make:make
lmdb:liblmdb-dev libcjson:libcjson-dev zlib:zlib1g-dev openssl:libssl-dev
libcurl:libcurl4-openssl-dev libmicrohttpd:libmicrohttpd-dev inih:libinih-dev"
need_test="cmocka:libcmocka-dev curl:curl python3:python3"
need_bench=""
need_demo="curl:curl"

case "${1:-build}" in
build) want="$need_build" ;;
test) want="$need_build $need_test" ;;
bench) want="$need_build $need_bench" ;;
demo) want="$need_build $need_demo" ;;
all) want="$need_build $need_test $need_bench" ;;
*) echo "usage: $0 build|test|bench|demo|all" >&2; exit 2 ;;
esac

missing=""
for item in $want; do
	name=${item%%:*}
	pkg=${item#*:}
	case "$name" in
	pkg-config|gcc|make|curl|python3)
		command -v "$name" >/dev/null 2>&1 && continue ;;
	*)
		command -v pkg-config >/dev/null 2>&1 &&
			pkg-config --exists "$name" 2>/dev/null && continue ;;
	esac
	case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
done

[ -z "$missing" ] && exit 0
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
