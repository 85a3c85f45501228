#!/bin/bash
# make vm: an interactive shell in the test VM, with dm-cowsnap loaded,
# the cowsnap tool on the PATH and three disks (vda, vdb, vdc) attached.
# Leave with 'poweroff -f' (or Ctrl-A X).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
k=${1:-6.12}
make -s -C "$top/userspace" >/dev/null
"$top/qemu/build-module.sh" "$k"
exec "$top/qemu/run.sh" "$k" shell
