#!/bin/bash
# Build (or reuse) the debug kernel from Debian's linux-source-6.12.
#
# The result is cached under build/debug-kernel/<key>/, where <key> is a
# hash of qemu/debug.config's options and the linux-source-6.12 version, so
# a second run with the same inputs rebuilds nothing.  On success the
# directory holds a full O= build tree (bzImage, Module.symvers, the
# prepared headers out-of-tree modules build against) and
# build/debug-kernel/current points at it.
#
# Usage: qemu/build-debug-kernel.sh [--print-dir]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
frag="$top/qemu/debug.config"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
# The key covers the options, not the comments, of the fragment.
key=$( (grep -E '^(CONFIG_|# CONFIG_)' "$frag" | sort; echo "$srcver") | sha256sum | cut -c1-12)
out="$top/build/debug-kernel/$key"

if [ -f "$out/.cowsnap-ok" ]; then
	ln -sfn "$key" "$top/build/debug-kernel/current"
	[ "${1:-}" = --print-dir ] && echo "$out"
	echo "debug kernel: cached $out" >&2
	exit 0
fi

src=$("$top/qemu/linux-source.sh")

rm -rf "$out" && mkdir -p "$out"
echo "debug kernel: configuring in $out" >&2
make -s -C "$src" O="$out" tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
make -s -C "$src" O="$out" olddefconfig >/dev/null

# Tinyconfig silently drops options whose dependencies are missing: every
# line of the fragment must be in the final .config.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF -- "$line" "$out/.config" || {
			echo "debug kernel: fragment wants '$line', .config has '$(grep -E "^(# )?${line%%=*}[= ]" "$out/.config" || echo absent)'" >&2
			missing=1
		} ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		if grep -q "^$opt=" "$out/.config"; then
			echo "debug kernel: fragment wants $opt unset, .config has '$(grep "^$opt=" "$out/.config")'" >&2
			missing=1
		fi ;;
	esac
done < "$frag"
[ "$missing" = 0 ] || { echo "debug kernel: config fragment not honoured" >&2; exit 1; }

echo "debug kernel: building (several minutes)" >&2
make -s -C "$src" O="$out" -j"$(nproc)" bzImage modules >"$out/build.log" 2>&1 || {
	tail -40 "$out/build.log" >&2; exit 1; }
[ -f "$out/Module.symvers" ] || { echo "debug kernel: no Module.symvers" >&2; exit 1; }
touch "$out/.cowsnap-ok"
ln -sfn "$key" "$top/build/debug-kernel/current"
[ "${1:-}" = --print-dir ] && echo "$out"
exit 0
