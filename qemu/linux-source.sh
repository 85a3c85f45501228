#!/bin/bash
# Print the directory of Debian's linux-source-6.12, extracted under
# build/src/ (once per package version).  checkpatch.pl, kunit.py and the
# debug kernel come from it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tarball=/usr/src/linux-source-6.12.tar.xz
[ -r "$tarball" ] || { echo "linux-source: $tarball missing (run 'make deps')" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
src="$top/build/src/linux-source-6.12-$srcver"
if [ ! -f "$src/.cowsnap-extracted" ]; then
	echo "linux-source: extracting $srcver" >&2
	rm -rf "$src" && mkdir -p "$src"
	tar -xaf "$tarball" -C "$src" --strip-components=1
	touch "$src/.cowsnap-extracted"
fi
echo "$src"
