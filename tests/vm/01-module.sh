#!/bin/sh
# The module loads, registers the cowsnap target with its version, and
# unloads and reloads cleanly.
. /tests/vm/lib.sh
plan 5

is "module version" "$(cat /sys/module/dm_cowsnap/version)" "0.1.0"
is "target registered" "$(dmsetup targets | awk '$1 == "cowsnap" {print $2}')" "v0.1.0"
check "module unloads" /sbin/rmmod dm_cowsnap
is "target gone after unload" "$(dmsetup targets | grep -c cowsnap)" "0"
check "module reloads" /sbin/modprobe dm_cowsnap
finish
