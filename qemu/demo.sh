#!/bin/bash
# make demo: build the module and the tool, boot the VM with a Debian
# kernel (default 6.12) and run the narrated demo.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
k=${1:-6.12}
make -s -C "$top/userspace" >/dev/null
"$top/qemu/build-module.sh" "$k"
echo "demo: booting the $k kernel under QEMU (TCG); this takes a few seconds" >&2
set +e
COWSNAP_TIMEOUT=${COWSNAP_TIMEOUT:-600} "$top/qemu/run.sh" "$k" demo |
	grep --line-buffered -v -e '^COWSNAP-STATUS' -e '^# guest'
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] || echo "demo: failed (exit $rc); logs in build/vm/$k-demo/" >&2
exit "$rc"
