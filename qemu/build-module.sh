#!/bin/bash
# Build dm-cowsnap for a named kernel (6.1, 6.12, debug) in
# build/mod/<kernel>/, with W=1 and sparse (C=2).  The compiler's and
# sparse's diagnostics go to build/mod/<kernel>.log; any "warning:" or
# "error:" there fails the build.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
k=${1:?usage: build-module.sh 6.1|6.12|debug}
eval "$("$top/qemu/kernel-info.sh" "$k")"
dir="$top/build/mod/$k"
# shellcheck source=qemu/kernel-stamp.sh
. "$top/qemu/kernel-stamp.sh"
log="$top/build/mod/$k.log"

rm -rf "$dir" && mkdir -p "$dir"
cp -r "$top/Kbuild" "$top/dm-cowsnap" "$dir/"
if ! make -s -C "$KDIR" M="$dir" W=1 C=2 modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-module: build against $k ($KVER) failed" >&2
	exit 1
fi
if grep -E 'warning:|error:' "$log" >&2; then
	echo "build-module: $k ($KVER) build has diagnostics (see $log)" >&2
	exit 1
fi
# Which kernel tree this build is for: mkinitramfs.sh refuses a module
# built for another one (a rebuilt debug kernel has the same release).
kernel_stamp "$KDIR" >"$dir/kernel.stamp"
echo "build-module: $k ($KVER) clean under W=1 and sparse" >&2
