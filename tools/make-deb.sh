#!/bin/sh
# tools/make-deb.sh - `make deb`: the Debian packages spoolship,
# libspoolship0 and libspoolship-dev (and their -dbgsym) in OUT, built by
# dpkg-buildpackage from debian/ in a copy of the tree, then checked by
# lintian.  Usage: tools/make-deb.sh [OUT]   (default build/deb)
# A copy because dpkg-buildpackage writes its results into the parent of
# the source directory and runs `debian/rules clean` in it: the copy is
# OUT/spoolship-VERSION, so the results land in OUT and the working tree
# (its build/ included) is left alone.  Exit 1 on any failure, lintian's
# errors and warnings included (docs/operations.md explains the tags that
# remain).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-build/deb}

version=$(sed -n 's/.*VERSION_STRING "\(.*\)"/\1/p' "$top/include/spoolship.h")
logged=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
if [ "$logged" != "$version" ]; then
	echo "make deb: debian/changelog is at $logged but include/spoolship.h" \
		"at $version: add an entry (dch -v $version)" >&2
	exit 1
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
src="$out/spoolship-$version"
rm -rf "$src"
rm -f "$out"/spoolship_* "$out"/spoolship-dbgsym_* "$out"/libspoolship*
mkdir -p "$src"
# The files of a clean clone plus new ones not ignored; without git, the
# tree but build/.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		tar -C "$top" --null --ignore-failed-read -T - -cf - |
		tar -C "$src" -xf -
else
	tar -C "$top" --exclude=./build --exclude=./.git -cf - . |
		tar -C "$src" -xf -
fi

# -b: binary packages only (a native package needs no source upload);
# -Jauto: one job a CPU unless DEB_BUILD_OPTIONS says otherwise.
(cd "$src" && dpkg-buildpackage -b -us -uc -Jauto)
rm -rf "$src"

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes="$out/spoolship_${version}_$arch.changes"
echo "make deb: lintian $changes"
lintian --fail-on error,warning --display-info "$changes"
echo "make deb: packages in $out:"
ls -1 "$out"/*.deb
