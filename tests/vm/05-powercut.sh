#!/bin/sh
# Power cuts in copy-on-write mode (helpers: pc-lib.sh).  While a writer
# syncs numbered blocks to the live view and fio hammers it with first
# writes, the power is cut at a random instant.  Then everything is torn
# down and reactivated: the snapshot view must equal the reference image
# taken at creation,
# and every block whose fsync returned before the cut must be in the
# live view.  Each cut reactivates the store left by the previous one.
. /tests/vm/lib.sh
# Copy-on-write cuts per make check: 6 + 6 + 2 here, and 3 + 3 over the
# RAM disk in 17-ramdisk: 20.
case "$(cat /etc/cowsnap-kernel)" in
debug) CUTS=2 ;;
*) CUTS=6 ;;
esac
plan $((CUTS * 5 + 2))

. /tests/vm/pc-lib.sh
cow_cuts_setup $CUTS
i=1
while [ $i -le $CUTS ]; do
	cow_cut $i --rw=randwrite --bsrange=4k-64k --offset=16M --size=16M --iodepth=16
	i=$((i + 1))
done
cow_cuts_done
finish
