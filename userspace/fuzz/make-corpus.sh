#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Write the seed corpus of the store fuzzer: one input per kind of store
# that tests/mkstore.bin builds (good ones and each kind of damage), in
# the sparse format of fuzz/fuzz-store.c.  Run from userspace/ after
# "make tests/mkstore.bin"; the output is committed, so run it again
# only when the format or the kinds change.
#
#   sh fuzz/make-corpus.sh [DIR]     (default fuzz/corpus)
set -eu
dir=${1:-fuzz/corpus}
mkdir -p "$dir"
for kind in $(tests/mkstore.bin --list); do
	tests/mkstore.bin --fuzz "$dir/$kind" "$kind"
done
