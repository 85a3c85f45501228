#!/bin/sh
# Malformed tables are refused, each with its own constructor error, and
# nothing is left behind (kmemleak checks that on the debug kernel).
. /tests/vm/lib.sh
plan 37

LEN=$(sectors $ORIGIN)
wipe_store $STORE
P="0 $LEN cowsnap $ORIGIN $STORE"

refused "no arguments" "Not enough arguments" "0 $LEN cowsnap"
refused "four arguments" "Not enough arguments" "$P cow 8"
refused "bad mode" "Invalid mode: expected cow or row" "$P cowx 8 live"
refused "upper-case mode" "Invalid mode" "$P COW 8 live"
refused "chunk below 8" "Invalid chunk size: expected a power of two" "$P cow 4 live"
refused "chunk above 2048" "Invalid chunk size: expected a power of two" "$P cow 4096 live"
refused "chunk not a power of two" "Invalid chunk size: expected a power of two" "$P cow 24 live"
refused "chunk not a number" "Invalid chunk size: not a decimal" "$P cow 8k live"
refused "negative chunk" "Invalid chunk size: not a decimal" "$P cow -8 live"
refused "bad view" "Invalid view: expected live or snap" "$P cow 8 both"
refused "upper-case view" "Invalid view: expected live or snap" "$P cow 8 LIVE"
refused "negative feature count" "Invalid number of feature arguments" "$P cow 8 live -1"
refused "negative low_water" "Invalid low_water" "$P cow 8 live 2 low_water -5"
refused "feature count not a number" "Invalid number of feature arguments" "$P cow 8 live x"
refused "feature count too large" "Invalid number of feature arguments" "$P cow 8 live 9 a b c d e f g h i"
refused "feature count beyond the line" "Invalid number of feature arguments" "$P cow 8 live 2 transient"
refused "unknown feature" "Unknown feature argument" "$P cow 8 live 1 bogus"
refused "feature twice" "Feature argument given twice" "$P cow 8 live 2 transient transient"
refused "low_water without a value" "Feature low_water needs a chunk count" "$P cow 8 live 1 low_water"
refused "low_water zero" "Invalid low_water" "$P cow 8 live 2 low_water 0"
refused "transient with reformat" "Features transient and reformat exclude each other" "$P cow 8 live 2 transient reformat"
refused "words after the features" "Too many arguments after the feature arguments" "$P cow 8 live 1 transient extra"
refused "missing origin" "Cannot open origin device" "0 $LEN cowsnap /dev/nonexistent $STORE cow 8 live"
refused "missing store" "Cannot open store device" "0 $LEN cowsnap $ORIGIN /dev/nonexistent cow 8 live"
refused "origin is the store" "Origin and store are the same device" "0 $LEN cowsnap $ORIGIN $ORIGIN cow 8 live"
refused "length differs from the origin" "Target length must equal the origin's size" "0 1024 cowsnap $ORIGIN $STORE cow 8 live"

dm_create cs_tiny "0 16 linear $SCRATCH 0"
refused "store too small" "Store device too small: no room for a data chunk" "0 $LEN cowsnap $ORIGIN /dev/mapper/cs_tiny cow 8 live"
dmsetup remove cs_tiny

# A loaded state refuses tables that disagree with it.
dm_create cs_live "$P cow 8 live"
refused "other chunk size for a loaded store" "Store is already in use with another chunk size" "$P cow 16 snap"
refused "a writable row snapshot view" "Snapshot view of a row store is read-only: load it read-only" "$P row 8 snap"
refused "row features in cow mode" "Features origin_ro, error_if_full and queue_if_full need mode row" "$P cow 8 live 1 origin_ro"
refused "both full policies" "Features error_if_full and queue_if_full exclude each other" "$P row 8 live 3 error_if_full queue_if_full 5"
refused "queue_if_full without seconds" "Feature queue_if_full needs a timeout in seconds" "$P row 8 live 1 queue_if_full"
refused "queue_if_full 0" "Invalid queue_if_full: expected 1 to 3600 seconds" "$P row 8 live 2 queue_if_full 0"
refused "queue_if_full too long" "Invalid queue_if_full: expected 1 to 3600 seconds" "$P row 8 live 2 queue_if_full 3601"
refused "transient for a persistent loaded store" "Store is already in use with(out) feature transient" "$P cow 8 snap 1 transient"
refused "other origin for a loaded store" "Store is already in use with another origin" "0 $(sectors $SCRATCH) cowsnap $SCRATCH $STORE cow 8 snap"
refused "origin already snapshotted in another store" "Origin already has a snapshot in another store" "0 $LEN cowsnap $ORIGIN $SCRATCH cow 8 snap"
dmsetup remove cs_live
finish
