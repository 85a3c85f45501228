#!/bin/bash
# Host test of the DKMS packaging: dkms.conf names the package and the
# version of dm-cowsnap/cowsnap-version.h, and, when dkms is installed,
# "dkms add" and "dkms build" succeed for Debian's 6.12 headers in a
# scratch tree (--dkmstree, --sourcetree, --installtree), the way
# "make dkms-install" lays the sources out.  Nothing is installed into
# the machine's module tree and nothing is loaded.  TAP; a missing dkms
# or missing headers are SKIPs, not passes.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
echo "1..6"

version=$(sed -n 's/^#define COWSNAP_VERSION[[:space:]]*"\(.*\)"$/\1/p' \
	"$top/dm-cowsnap/cowsnap-version.h")
# dkms sources dkms.conf with bash, with these variables set
conf=$(kernel_source_dir=/k dkms_tree=/t bash -c '
	set -u
	. "$1" || exit 1
	echo "$PACKAGE_NAME|$PACKAGE_VERSION|${BUILT_MODULE_NAME[0]}|${BUILT_MODULE_LOCATION[0]}|$MAKE|$AUTOINSTALL"
' conf "$top/dkms.conf" 2>&1)
IFS='|' read -r name ver mod loc make auto <<<"$conf"
if [ "$name" = dm-cowsnap ] && [ "$mod" = dm-cowsnap ] && [ "$auto" = yes ]; then
	ok "dkms.conf sources cleanly: package dm-cowsnap, module dm-cowsnap"
else
	not_ok "dkms.conf sources cleanly (got: $conf)"
fi
if [ -n "$version" ] && [ "$ver" = "$version" ]; then
	ok "dkms.conf version $ver is cowsnap-version.h's"
else
	not_ok "dkms.conf version '$ver' differs from cowsnap-version.h's '$version'"
fi
if [ "$make" = "make -C /k M=/t/dm-cowsnap/$version/build modules" ] &&
   [ -f "$top/${loc}Kbuild" ] && grep -q 'obj-m += dm-cowsnap/' "$top/Kbuild"; then
	ok "dkms.conf builds ${loc}dm-cowsnap.ko through the top-level Kbuild"
else
	not_ok "dkms.conf MAKE or BUILT_MODULE_LOCATION wrong: '$make' '$loc'"
fi

kver=$(cd /lib/modules && ls -d 6.12.*+deb12-amd64 2>/dev/null | sort -V | tail -1)
if ! command -v dkms >/dev/null; then
	for d in "dkms add" "dkms build" "the built module"; do
		skip "$d" "dkms is not installed"
	done
	exit 0
fi
if [ -z "$kver" ] || [ ! -f "/lib/modules/$kver/build/Makefile" ]; then
	for d in "dkms add" "dkms build" "the built module"; do
		skip "$d" "no Debian 6.12 headers"
	done
	exit 0
fi
src="$tmp/src/dm-cowsnap-$version"
mkdir -p "$src/dm-cowsnap" "$tmp/tree" "$tmp/inst"
cp "$top/Kbuild" "$top/dkms.conf" "$src/"
cp "$top"/dm-cowsnap/Kbuild "$top"/dm-cowsnap/*.[ch] "$src/dm-cowsnap/"
trees=(--dkmstree "$tmp/tree" --sourcetree "$tmp/src" --installtree "$tmp/inst")
if dkms add "${trees[@]}" -m dm-cowsnap -v "$version" >"$tmp/add.log" 2>&1; then
	ok "dkms add in a scratch tree"
else
	not_ok "dkms add in a scratch tree"
	sed 's/^/#   /' "$tmp/add.log"
fi
if dkms build "${trees[@]}" -m dm-cowsnap -v "$version" -k "$kver" \
	>"$tmp/build.log" 2>&1; then
	ok "dkms build for $kver"
else
	not_ok "dkms build for $kver"
	tail -20 "$tmp/build.log" | sed 's/^/#   /'
	find "$tmp/tree" -name make.log -exec tail -20 {} \; | sed 's/^/#   /'
fi
ko=$(find "$tmp/tree/dm-cowsnap/$version/$kver" -name 'dm-cowsnap.ko*' 2>/dev/null | head -1)
if [ -n "$ko" ] && modinfo -F vermagic "$ko" | grep -q "^$kver " &&
   [ "$(modinfo -F name "$ko")" = dm_cowsnap ]; then
	ok "the built module is dm_cowsnap for $kver"
else
	not_ok "the built module is dm_cowsnap for $kver (found: '$ko')"
fi
