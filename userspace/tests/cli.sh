#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Host tests of the cowsnap binary on sparse regular files: table lines
# for each mode and view, every argument error with its exit code and
# message, and the store checks (a file system, a partition table, a
# cowsnap store).  No root-only device, no device-mapper call.
#
#   sh tests/cli.sh ./cowsnap tests/mksb.bin tests/fakedm.bin tests/mkstore.bin
#
# "cowsnap check" and "cowsnap dump" run on store images written by
# tests/mkstore.bin with the module's own encoder, good and damaged.
#
# "cowsnap status" runs against tests/fakedm.bin, a stand-in for
# libdevmapper loaded with LD_PRELOAD; the tests check first that every
# device-mapper call binds to it, and are not run otherwise.
#
# Prints TAP and exits 1 if a test failed.  Each test runs the binary
# once and checks its exit code, its stdout and its stderr exactly.

set -u

abspath() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }

CS=$(abspath "${1:-./cowsnap}")
MKSB=$(abspath "${2:-tests/mksb.bin}")
FAKEDM=$(abspath "${3:-tests/fakedm.bin}")
MKSTORE=$(abspath "${4:-tests/mkstore.bin}")
HERE=$(abspath "$(dirname "$0")")
VERSION=$(sed -n 's/^#define COWSNAP_VERSION[[:space:]]*"\(.*\)"$/\1/p' \
	"$HERE/../../dm-cowsnap/cowsnap-version.h")
PATH=$PATH:/sbin:/usr/sbin

D=$(mktemp -d "${TMPDIR:-/tmp}/cowsnap-cli.XXXXXX") || exit 1
trap 'rm -rf "$D"' EXIT
cd "$D" || exit 1

T=0
FAILED=0
CS_ENV=		# environment of the runs of t()

ok() { T=$((T + 1)); echo "ok $T - $*"; }
not_ok() { T=$((T + 1)); echo "not ok $T - $*"; FAILED=$((FAILED + 1)); }
diag() { sed 's/^/#   /'; }

# expect_file FILE EXPECTED: FILE holds EXPECTED and a newline, or
# nothing at all when EXPECTED is empty.
expect_file() {
	if [ -z "$2" ]; then
		[ ! -s "$1" ]
	else
		printf '%s\n' "$2" >"$D/.expected"
		cmp -s "$1" "$D/.expected"
	fi
}

# t DESC RC STDOUT STDERR ARGS...: run cowsnap ARGS, check all three.
t() {
	desc=$1 rc=$2 out=$3 err=$4
	shift 4
	# shellcheck disable=SC2086 # CS_ENV is a list of NAME=VALUE words
	env $CS_ENV "$CS" "$@" >"$D/.out" 2>"$D/.err"
	got=$?
	if [ "$got" = "$rc" ] && expect_file "$D/.out" "$out" &&
	   expect_file "$D/.err" "$err"; then
		ok "$desc"
		return
	fi
	not_ok "$desc"
	echo "exit code $got, expected $rc; cowsnap $*" | diag
	echo "stdout:" | diag; diag <"$D/.out"
	echo "expected stdout:" | diag; printf '%s\n' "$out" | diag
	echo "stderr:" | diag; diag <"$D/.err"
	echo "expected stderr:" | diag; printf '%s\n' "$err" | diag
}

# usage_error DESC MESSAGE HINT_CMD ARGS...: exit code 1, the message
# and "Try 'cowsnap HINT_CMD --help'." on stderr, nothing on stdout.
usage_error() {
	desc=$1 msg=$2 cmd=$3
	shift 3
	t "$desc" 1 "" "cowsnap: $msg
Try 'cowsnap ${cmd:+$cmd }--help'." "$@"
}

# ---- fixtures ---------------------------------------------------------

truncate -s 1M origin			# 2048 sectors
truncate -s 2M origin2			# 4096 sectors
truncate -s 1049000 odd			# 2048 sectors and 424 bytes
truncate -s 0 empty
truncate -s 64K store			# 128 sectors: 16 chunks of 8
truncate -s 12K store3			# 24 sectors: exactly 3 chunks of 8
truncate -s 11K store2			# 22 sectors: 2 chunks of 8
truncate -s 3M big			# 6144 sectors: 3 chunks of 2048
mkdir dir
ln -s origin link
ln origin hard

# ---- version and help -------------------------------------------------

t "version" 0 "cowsnap $VERSION" "" version
t "--version" 0 "cowsnap $VERSION" "" --version
t "-V" 0 "cowsnap $VERSION" "" -V
usage_error "version takes no argument" "unexpected argument 'now'" \
	version version now

"$CS" --help >"$D/.out" 2>"$D/.err"
rc=$?
if [ $rc = 0 ] && [ ! -s "$D/.err" ] &&
   [ "$(sed -n 1,2p "$D/.out")" = "Usage:
 cowsnap <command> [options]" ] &&
   grep -qx ' table      print the dmsetup table of a snapshot'"'"'s views' "$D/.out" &&
   grep -qx ' status     show the state of cowsnap devices' "$D/.out" &&
   [ "$(grep -cE '^ (table|status|create|rollback|fold|remove|reactivate|check|dump|version) ' "$D/.out")" = 10 ]; then
	ok "--help: usage on stdout, every command listed, exit 0"
else
	not_ok "--help: usage on stdout, every command listed, exit 0"
fi
for cmd in table status version create rollback fold remove reactivate check dump; do
	"$CS" $cmd --help >"$D/.out" 2>"$D/.err"
	rc=$?
	if [ $rc = 0 ] && [ ! -s "$D/.err" ] &&
	   [ "$(sed -n 1p "$D/.out")" = "Usage:" ] &&
	   sed -n 2p "$D/.out" | grep -q "^ cowsnap $cmd"; then
		ok "$cmd --help: its usage on stdout, exit 0"
	else
		not_ok "$cmd --help: its usage on stdout, exit 0"
	fi
done

# ---- command-line errors (exit code 1) --------------------------------

usage_error "no command" "no command given" ""
usage_error "unknown command" "unknown command 'snapshot'" "" snapshot
usage_error "unknown global option" "unrecognized option '--verbose'" "" \
	--verbose table
usage_error "missing --origin" "--origin is required" table table --store store
usage_error "missing --store" "--store is required" table table --origin origin
for c in 0 4 12 100 4096 abc 8k -8; do
	usage_error "chunk '$c' refused" \
		"invalid chunk size '$c': expected a power of two from 8 to 2048 sectors" \
		table table --origin origin --store store --chunk "$c"
done
usage_error "mode 'snapshot' refused" \
	"invalid mode 'snapshot': expected cow or row" table \
	table --origin origin --store store --mode snapshot
usage_error "view 'all' refused" \
	"invalid view 'all': expected live, snap or both" table \
	table --origin origin --store store --view all
for lw in 0 x -1; do
	usage_error "low water '$lw' refused" \
		"invalid low water mark '$lw': expected a number of chunks of at least 1" \
		table table --origin origin --store store --low-water "$lw"
done
usage_error "--transient with --reformat" \
	"--transient and --reformat exclude each other" table \
	table --origin origin --store store --transient --reformat
usage_error "unknown table option" "unrecognized option '--size'" table \
	table --origin origin --store store --size 10
usage_error "unknown short option" "invalid option -- 'x'" table \
	table --origin origin --store store -x
usage_error "long option without its argument" \
	"option '--chunk' requires an argument" table \
	table --origin origin --store store --chunk
usage_error "short option without its argument" \
	"option requires an argument -- 's'" table table --origin origin -s
usage_error "argument to a flag" "option '--force' doesn't allow an argument" \
	table table --origin origin --store store --force=yes
usage_error "extra argument" "unexpected argument 'now'" table \
	table --origin origin --store store now
usage_error "path with a blank" \
	"the store path contains white space, which a table line cannot hold" \
	table table --origin origin --store "my store"
usage_error "empty path" "the origin path is empty" table \
	table --origin "" --store store
usage_error "status: unknown option" "unrecognized option '--all'" status \
	status --all
usage_error "status: two names" "unexpected argument 'b'" status status a b

# ---- table lines ------------------------------------------------------

t "defaults: cow, 8 sectors, live" 0 \
	"0 2048 cowsnap origin store cow 8 live" "" \
	table --origin origin --store store
t "row mode" 0 "0 2048 cowsnap origin store row 8 live" "" \
	table --origin origin --store store --mode row
t "cow mode, 16-sector chunks" 0 "0 2048 cowsnap origin store cow 16 live" "" \
	table --origin origin --store store --mode cow --chunk 16
t "snapshot view" 0 "0 2048 cowsnap origin store cow 8 snap" "" \
	table --origin origin --store store --view snap
t "live view asked for" 0 "0 2048 cowsnap origin store cow 8 live" "" \
	table --origin origin --store store --view live
t "both views: live then snap" 0 "0 2048 cowsnap origin store cow 8 live
0 2048 cowsnap origin store cow 8 snap" "" \
	table --origin origin --store store --view both
t "row, both views, 2048-sector chunks, reformat" 0 \
	"0 2048 cowsnap origin big row 2048 live 1 reformat
0 2048 cowsnap origin big row 2048 snap 1 reformat" "" \
	table --origin origin --store big --mode row --chunk 2048 --view both --reformat
t "transient and low water: three feature words" 0 \
	"0 2048 cowsnap origin store cow 32 snap 3 transient low_water 100" "" \
	table --origin origin --store store --chunk 32 --view snap \
	--low-water 100 --transient
t "low water alone: two feature words" 0 \
	"0 2048 cowsnap origin store cow 8 live 2 low_water 1" "" \
	table --origin origin --store store --low-water 1
t "short options" 0 "0 2048 cowsnap origin store row 32 live" "" \
	table -o origin -s store -m row -c 32
t "options after a repeated option: the last one wins" 0 \
	"0 2048 cowsnap origin store row 8 live" "" \
	table --origin origin --store store --mode cow --mode row
t "origin size rounded down to whole sectors" 0 \
	"0 2048 cowsnap odd store cow 8 live" "" table --origin odd --store store
t "a store of exactly 3 chunks" 0 "0 2048 cowsnap origin store3 cow 8 live" "" \
	table --origin origin --store store3
t "absolute paths kept as given" 0 \
	"0 2048 cowsnap $D/origin $D/store cow 8 live" "" \
	table --origin "$D/origin" --store "$D/store"

t "JSON, both views" 0 '{
  "origin": "origin",
  "origin_sectors": 2048,
  "store": "store",
  "store_sectors": 128,
  "store_chunks": 8,
  "mode": "row",
  "chunk_sectors": 16,
  "transient": true,
  "reformat": false,
  "low_water": 5,
  "origin_ro": false,
  "if_full": "default",
  "queue_seconds": null,
  "tables": [
    {
      "view": "live",
      "table": "0 2048 cowsnap origin store row 16 live 3 transient low_water 5"
    },
    {
      "view": "snap",
      "table": "0 2048 cowsnap origin store row 16 snap 3 transient low_water 5"
    }
  ]
}' "" table --origin origin --store store --mode row --chunk 16 --view both \
	--transient --low-water 5 --json
t "JSON, -J, defaults" 0 '{
  "origin": "origin",
  "origin_sectors": 2048,
  "store": "store",
  "store_sectors": 128,
  "store_chunks": 16,
  "mode": "cow",
  "chunk_sectors": 8,
  "transient": false,
  "reformat": false,
  "low_water": null,
  "origin_ro": false,
  "if_full": "default",
  "queue_seconds": null,
  "tables": [
    {
      "view": "live",
      "table": "0 2048 cowsnap origin store cow 8 live"
    }
  ]
}' "" table -o origin -s store -J

# ---- device errors (exit code 2) --------------------------------------

t "origin missing" 2 "" \
	"cowsnap: cannot open origin nope: No such file or directory" \
	table --origin nope --store store
t "store missing" 2 "" \
	"cowsnap: cannot open store nope: No such file or directory" \
	table --origin origin --store nope
t "store is a directory" 2 "" \
	"cowsnap: store dir is neither a block device nor a regular file" \
	table --origin origin --store dir
t "origin is a character device" 2 "" \
	"cowsnap: origin /dev/null is neither a block device nor a regular file" \
	table --origin /dev/null --store store
t "origin and store the same file" 2 "" \
	"cowsnap: origin origin and store origin are the same device" \
	table --origin origin --store origin
t "store a symbolic link to the origin" 2 "" \
	"cowsnap: origin origin and store link are the same device" \
	table --origin origin --store link
t "store a hard link to the origin" 2 "" \
	"cowsnap: origin origin and store hard are the same device" \
	table --origin origin --store hard
t "store of 2 chunks" 2 "" \
	"cowsnap: store store2 is too small: 22 sectors hold 2 chunks of 8 sectors, at least 3 are needed" \
	table --origin origin --store store2
t "store too small for 2048-sector chunks" 2 "" \
	"cowsnap: store store is too small: 128 sectors hold 0 chunks of 2048 sectors, at least 3 are needed" \
	table --origin origin --store store --chunk 2048
t "empty origin" 2 "" \
	"cowsnap: origin empty is empty: a table needs at least one sector" \
	table --origin empty --store store
if [ -w /dev/full ]; then
	"$CS" table --origin origin --store store >/dev/full 2>"$D/.err"
	rc=$?
	if [ $rc = 2 ] && expect_file "$D/.err" \
		"cowsnap: cannot write the output: No space left on device"; then
		ok "output cannot be written"
	else
		not_ok "output cannot be written (exit code $rc)"
		diag <"$D/.err"
	fi
else
	ok "# SKIP no /dev/full"
fi

# ---- what the store holds (exit code 3, or 2 for another table) ------

if command -v mkfs.ext4 >/dev/null 2>&1; then
	truncate -s 16M ext4
	mkfs.ext4 -q -F ext4 >/dev/null 2>&1
	t "store with an ext4 file system refused" 3 "" \
		"cowsnap: store ext4 holds a ext4 signature; use --force to overwrite it" \
		table --origin origin --store ext4
	t "store with an ext4 file system, --force" 0 \
		"0 2048 cowsnap origin ext4 cow 8 live" "" \
		table --origin origin --store ext4 --force
	t "store with an ext4 file system, -f" 0 \
		"0 2048 cowsnap origin ext4 cow 8 snap" "" \
		table --origin origin --store ext4 --view snap -f
	t "refused even with --reformat" 3 "" \
		"cowsnap: store ext4 holds a ext4 signature; use --force to overwrite it" \
		table --origin origin --store ext4 --reformat
else
	for _ in 1 2 3 4; do ok "# SKIP mkfs.ext4 not found"; done
fi

# A DOS partition table: one Linux partition, and the boot signature.
truncate -s 16M mbr
printf '\000\040\041\000\203\276\062\000\000\010\000\000\000\170\000\000' |
	dd of=mbr bs=1 seek=446 conv=notrunc 2>/dev/null
printf '\125\252' | dd of=mbr bs=1 seek=510 conv=notrunc 2>/dev/null
t "store with a partition table refused" 3 "" \
	"cowsnap: store mbr holds a dos partition table; use --force to overwrite it" \
	table --origin origin --store mbr
t "store with a partition table, --force" 0 \
	"0 2048 cowsnap origin mbr cow 8 live" "" \
	table --origin origin --store mbr --force

# A cowsnap store made for (cow, 8 sectors, 2048-sector origin).
truncate -s 64K cs
"$MKSB" cs cow 8 2048
t "cowsnap store of this table reused" 0 "0 2048 cowsnap origin cs cow 8 live" "" \
	table --origin origin --store cs
t "cowsnap store and another chunk size" 2 "" \
	"cowsnap: store cs holds a cowsnap snapshot made for another table: store chunk size mismatch: table says 16 sectors, store holds 8" \
	table --origin origin --store cs --chunk 16
t "cowsnap store and another mode" 2 "" \
	"cowsnap: store cs holds a cowsnap snapshot made for another table: store mode mismatch: table says row, store holds cow" \
	table --origin origin --store cs --mode row --force
t "cowsnap store and another origin" 2 "" \
	"cowsnap: store cs holds a cowsnap snapshot made for another table: store origin size mismatch: origin has 4096 sectors, store was made for 2048" \
	table --origin origin2 --store cs
t "cowsnap store and --reformat" 3 "" \
	"cowsnap: store cs holds a cowsnap snapshot that --reformat would overwrite; use --force to overwrite it" \
	table --origin origin --store cs --reformat
t "cowsnap store and --reformat --force" 0 \
	"0 2048 cowsnap origin cs row 16 live 1 reformat" "" \
	table --origin origin --store cs --reformat --force --mode row --chunk 16
t "cowsnap store and --transient" 3 "" \
	"cowsnap: store cs holds a cowsnap snapshot that --transient would overwrite; use --force to overwrite it" \
	table --origin origin --store cs --transient

truncate -s 64K bad
"$MKSB" bad cow 8 2048 corrupt
"$CS" table --origin origin --store bad >"$D/.out" 2>"$D/.err"
rc=$?
case "$(cat "$D/.err")" in
"cowsnap: store bad holds a cowsnap superblock that does not validate (checksum mismatch: expected 0x"*", found 0x"*"); use --force to overwrite it")
	if [ $rc = 3 ] && [ ! -s "$D/.out" ]; then
		ok "damaged cowsnap store refused"
	else
		not_ok "damaged cowsnap store refused (exit code $rc)"
	fi ;;
*)	not_ok "damaged cowsnap store refused"; diag <"$D/.err" ;;
esac
t "damaged cowsnap store, --force" 0 "0 2048 cowsnap origin bad cow 8 live" "" \
	table --origin origin --store bad --force

# ---- status, against the libdevmapper stand-in (exit code 4) ---------

cat >dm-two <<'EOF'
status cs_live 0 2048 cowsnap cow live passthrough 0 1024 0 -
table cs_live 0 2048 cowsnap 7:0 7:1 cow 64 live
status lin 0 100 linear
table lin 0 100 linear 7:0 0
status cs_snap 0 2048 cowsnap cow snap invalid 1024 1024 3 store_full
table cs_snap 0 2048 cowsnap 7:0 7:1 cow 64 snap 3 transient low_water 100
EOF
cat >dm-other <<'EOF'
status lin 0 100 linear
status new 0 8 cowsnap row snap merging 1 8 1 - fold 3/4 77
table new 0 8 cowsnap 7:0 7:1 row 8 snap
EOF
cat >dm-bad-status <<'EOF'
status cs_live 0 2048 cowsnap cow live passthrough 0 1024 0 -
table cs_live 0 2048 cowsnap 7:0 7:1 cow 64 live
status bad 0 2048 cowsnap cow live valid x 2 3 -
table bad 0 2048 cowsnap 7:0 7:1 cow 8 live
EOF
cat >dm-bad-table <<'EOF'
status bad 0 2048 cowsnap cow live valid 1 2 3 -
table bad 0 2048 cowsnap 7:0 7:1 cow 12 live
status gone 0 2048 cowsnap cow live valid 1 2 3 -
EOF
: >dm-none

# ---- the row features of the table ----
t "table: row features in canonical order" 0 \
	"0 2048 cowsnap origin store row 8 live 5 origin_ro queue_if_full 60 low_water 2" "" \
	table -o origin -s store -m row --low-water 2 --queue-if-full 60 --origin-ro
t "table: error_if_full" 0 "0 2048 cowsnap origin store row 8 snap 1 error_if_full" "" \
	table -o origin -s store -m row --error-if-full --view snap
usage_error "table: --origin-ro needs row" "--origin-ro needs mode row" table \
	table -o origin -s store --origin-ro
usage_error "table: a queue time out of range" \
	"invalid queue time '3601': expected 1 to 3600 seconds" table \
	table -o origin -s store -m row --queue-if-full 3601
usage_error "rollback without a name" "no device name given" rollback rollback
usage_error "fold with two names" "unexpected argument 'b'" fold fold a b
usage_error "remove: an unknown option" "unrecognized option '--now'" remove remove --now x
usage_error "reactivate without a store" "no store given" reactivate reactivate

# ---- check and dump on store images ----
for kind in $("$MKSTORE" --list); do
	"$MKSTORE" "st-$kind" "$kind" || not_ok "mkstore $kind"
done
check_summary() {	# exceptions blocks used torn stale
	cat <<EOS
store             st-$1
uuid              12345678-9abc-def0-6d6b-73746f726521
mode              cow
state             ${7:-valid}
invalid_reason    -
operation         ${8:--}
chunk_sectors     8
origin_sectors    8192
origin_id         /dev/mapper/vol-real
store_chunks      511
data_chunks       506
data_chunks_used  $4
exception_blocks  $3
exceptions        $2
torn_copies       $5
stale_copies      $6
problem           -
EOS
}
t "check: a store without exceptions" 0 "$(check_summary empty 0 0 0 0 0)" "" check st-empty
t "check: one block, three exceptions" 0 "$(check_summary one 3 1 3 0 0)" "" check st-one
t "check: the newer copy of a pair wins" 0 "$(check_summary newer 3 1 3 0 0)" "" check st-newer
t "check: a torn newer copy falls back to the older" 0 "$(check_summary torn 3 1 3 1 0)" "" check st-torn
t "check: a full block and the next" 0 "$(check_summary two 257 2 257 0 0)" "" check st-two
t "check: runs of 100, 1 and 10 chunks are 111 exceptions" 0 "$(check_summary runs 111 1 111 0 0)" "" check st-runs
t "check: a row store without exceptions" 0 "$(check_summary empty-row 0 0 0 0 0 | sed 's/^mode  *cow$/mode              row/')" "" check st-empty-row
t "check: a block of an earlier epoch is ignored" 0 "$(check_summary stale 0 0 0 0 1)" "" check st-stale
t "check: an ended store" 0 "$(check_summary ended 0 0 0 0 0 ended fold)" "" check st-ended
corrupt() {	# kind message
	"$CS" check "st-$1" >/dev/null 2>"$D/.err"
	rc=$?
	if [ $rc = 6 ] && [ "$(cat "$D/.err")" = "cowsnap: store st-$1: $2" ]; then
		ok "check: $1 is exit code 6: $2"
	else
		not_ok "check: $1: exit code $rc, expected 6: $2"
		diag <"$D/.err"
	fi
}
corrupt blank "blank store: no cowsnap superblock"
corrupt bad-sb "superblock: checksum mismatch: expected 0x47100d42, found 0x20470471"
corrupt foreign "not a cowsnap store: bad magic: expected 0x70616e73776f63, found 0x4e53574f43544f4e"
corrupt both-damaged "exception block 0: both copies damaged: checksum mismatch: expected 0x5ce6d645, found 0x3bb1df76; checksum mismatch: expected 0x9d1bd6e4, found 0xfa4cdfd7"
corrupt origin-oob "exception block 0 entry 2: origin chunk 5000 beyond the origin (1024 chunks)"
corrupt meta-chunk "exception block 0 entry 1: store chunk 1 is not a data chunk"
corrupt store-oob "exception block 0 entry 0: store chunk 600 beyond the store (511 chunks)"
corrupt store-twice "store chunk 3 used twice (origin chunks 0 and 2)"
corrupt origin-twice "origin chunk 0 mapped twice (store chunks 3 and 5)"
corrupt after-tail "exception block 0 is not full but block 1 is in use"
corrupt run-oob "exception block 0 entry 1: origin chunk 1029 (end of a run) beyond the origin (1024 chunks)"
corrupt run-meta "exception block 0 entry 0: run of 10 store chunks from 253 crosses metadata"
corrupt run-twice "origin chunk 5 mapped twice (store chunks 8 and 13)"
corrupt top-byte "exception block 0 entry 2: origin chunk 72057594037927938 beyond the origin (1024 chunks)"
t "dump: every field and every exception" 0 "store             st-newer
uuid              12345678-9abc-def0-6d6b-73746f726521
mode              cow
state             valid
invalid_reason    -
operation         -
chunk_sectors     8
origin_sectors    8192
origin_id         /dev/mapper/vol-real
version           1
generation        1
compat_flags      0
compat_ro_flags   0
incompat_flags    0
store_sectors     4088
snapshot_id       1
nr_snapshots      1
nr_exceptions     0
metadata_blocks   0
epoch             7
merge_cursor      0
merge_total       0
store_chunks      511
data_chunks       506
data_chunks_used  3
exception_blocks  1
exceptions        3
exception_entries 3
torn_copies       0
stale_copies      0
problem           -
exception_list    (origin chunk -> store chunk)
  0 -> 3
  1 -> 4
  2 -> 5" "" dump st-newer
"$CS" dump st-runs >"$D/.out" 2>"$D/.err"
rc=$?
want=$( (seq 0 99 | awk '{print "  " $1 " -> " $1 + 3}'
	 echo "  200 -> 103"
	 seq 300 309 | awk '{print "  " $1 " -> " $1 - 300 + 104}') )
if [ $rc = 0 ] && grep -qx 'incompat_flags    2' "$D/.out" &&
   grep -qx 'exception_entries 3' "$D/.out" &&
   grep -qx 'exceptions        111' "$D/.out" &&
   [ "$(sed -n '/^exception_list/,$p' "$D/.out" | tail -n +2)" = "$want" ]; then
	ok "dump: three run entries listed as their 111 chunks, in order"
else
	not_ok "dump of st-runs: exit code $rc"
	diag <"$D/.out"
fi
"$CS" dump --json st-two >"$D/.out" 2>"$D/.err"
rc=$?
n=$(grep -c '"origin_chunk"' "$D/.out")
if [ $rc = 0 ] && [ "$n" = 257 ] && grep -q '"clean": true' "$D/.out" &&
   grep -q '"exceptions": 257,' "$D/.out"; then
	ok "dump --json: 257 exceptions listed, clean"
else
	not_ok "dump --json: exit code $rc, $n exceptions listed"
fi
t "check --json of a damaged store: the problem, exit code 6" 6 '{
  "store": "st-blank",
  "problem": "blank store: no cowsnap superblock",
  "clean": false
}' "cowsnap: store st-blank: blank store: no cowsnap superblock" check -J st-blank
usage_error "check without a store" "no store given" check check
usage_error "dump with two stores" "unexpected argument 'b'" dump dump a b
t "check of a missing file" 2 "" \
	"cowsnap: cannot open store nope: No such file or directory" check nope

# Every call of cowsnap into libdevmapper must bind to the stand-in.
# The calls are the dm_* symbols the binary imports.
calls=$(nm -D --undefined-only "$CS" | awk '{print $2}' | sed -n 's/@.*//; /^dm_/p' |
	sort -u)
ncalls=$(echo "$calls" | wc -l)
bound=$(LD_BIND_NOW=1 LD_DEBUG=bindings LD_PRELOAD="$FAKEDM" \
	"$CS" status --bogus 2>&1 >/dev/null |
	sed -n "s|.*binding file $CS .* to $FAKEDM .*: normal symbol \`\(dm_[a-z_]*\)'.*|\1|p" |
	sort -u)
if [ "$ncalls" -gt 11 ] && [ "$bound" = "$calls" ]; then
	ok "the libdevmapper stand-in replaces all $ncalls calls"
	STATUS_HEAD="NAME    MODE VIEW STATE       CHUNK USED         TOTAL          USE% REASON     OPERATION"
	STATUS_LIVE="cs_live cow  live passthrough 32KiB 0 (0B)       1024 (32MiB)   0.0% -          -"
	STATUS_SNAP="cs_snap cow  snap invalid     32KiB 1024 (32MiB) 1024 (32MiB) 100.0% store_full -"
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-two"
	t "status: every cowsnap device, others skipped" 0 "$STATUS_HEAD
$STATUS_LIVE
$STATUS_SNAP" "" status
	t "status NAME" 0 "NAME    MODE VIEW STATE   CHUNK USED         TOTAL          USE% REASON     OPERATION
cs_snap cow  snap invalid 32KiB 1024 (32MiB) 1024 (32MiB) 100.0% store_full -" "" \
		status cs_snap
	t "status --json NAME" 0 '{
  "devices": [
    {
      "name": "cs_live",
      "start": 0,
      "length": 2048,
      "mode": "cow",
      "view": "live",
      "state": "passthrough",
      "chunk_sectors": 64,
      "used_chunks": 0,
      "total_chunks": 1024,
      "used_bytes": 0,
      "total_bytes": 33554432,
      "use_percent": 0.0,
      "metadata_blocks": 0,
      "invalid_reason": null,
      "operation": null,
      "merged": null,
      "to_merge": null,
      "merge_percent": null
    }
  ]
}' "" status --json cs_live
	t "status of a device of another target" 4 "" \
		"cowsnap: lin is not a cowsnap device" status lin
	t "status of a missing device" 4 "" \
		"cowsnap: no device-mapper device named 'nope'" status -J nope
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-other"
	t "status: a merge in progress and an appended word" 0 \
		"NAME MODE VIEW STATE   CHUNK USED     TOTAL      USE% REASON OPERATION
new  row  snap merging 4KiB  1 (4KiB) 8 (32KiB) 12.5% -      fold 3/4 (75.0%)" "" status
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-none"
	t "status without devices: no output" 0 "" "" status
	t "status --json without devices" 0 '{
  "devices": []
}' "" status --json
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-bad-status"
	t "status: a status line that does not parse" 4 "" \
		"cowsnap: cannot parse the status of bad: 'cow live valid x 2 3 -'" status
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-bad-table"
	t "status: a table line that does not parse" 4 "" \
		"cowsnap: cannot parse the table of bad: '7:0 7:1 cow 12 live'" status bad
	t "status: a device removed between status and table" 4 "" \
		"cowsnap: no device-mapper device named 'gone'" status gone
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-two CS_FAKE_DM_FAIL=1"
	t "status: a failing device-mapper call" 4 "" \
		"cowsnap: device-mapper: /dev/mapper/control: open failed: Permission denied" \
		status
	# ---- create, rollback, fold, remove, reactivate (changes logged) ----
	: >dm-none
	LOG=$D/dm.log
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-none CS_FAKE_DM_LOG=$LOG"
	truncate -s 1M corigin
	truncate -s 4M cstore
	steps() {	# name store features: the steps of "create corigin STORE -n NAME"
		cat <<EOF
create   $1
load     $1
         0 2048 cowsnap corigin $2 cow 8 live${3:-}
create   $1-snap
load     $1-snap
         0 2048 cowsnap corigin $2 cow 8 snap${3:-}
resume   $1
resume   $1-snap
EOF
	}
	dry_plan() {	# store features
		echo "dry run: nothing is changed; the steps would be:"
		steps v "$1" "$2"
	}
	t "create --dry-run: the steps and tables, nothing changed" 0 \
		"dry run: nothing is changed; the steps would be:
$(steps vol cstore)" "" create corigin cstore --name vol --dry-run
	check_log() {	# desc expected
		if [ -z "$2" ] && [ ! -e "$LOG" ] ||
		   { [ -e "$LOG" ] && [ "$(cat "$LOG")" = "$2" ]; }; then
			ok "$1"
		else
			not_ok "$1"
			diag <"$LOG"
		fi
		rm -f "$LOG"
	}
	check_log "create --dry-run changes nothing" ""
	t "create row: the snapshot view is loaded read-only" 0 \
		"create   v
load     v
         0 2048 cowsnap corigin cstore row 16 live 2 queue_if_full 30
create   s
load     s (read-only)
         0 2048 cowsnap corigin cstore row 16 snap 2 queue_if_full 30
resume   v
resume   s
live view:     /dev/mapper/v
snapshot view: /dev/mapper/s (read-only)
note: use /dev/mapper/v instead of corigin from now on: writes made to corigin directly are not seen by the snapshot and corrupt it" "" \
		create -n v -S s -m row -c 16 --queue-if-full 30 corigin cstore
	check_log "create row: the calls made" "create v
load v rw
  0 2048 cowsnap corigin cstore row 16 live 2 queue_if_full 30
create s
load s ro
  0 2048 cowsnap corigin cstore row 16 snap 2 queue_if_full 30
resume v
resume s"
	CS_ENV="$CS_ENV CS_FAKE_DM_REFUSE=resume:vol-snap:22"
	t "create: a failed step undoes the steps before it" 4 "$(steps vol cstore)
undo: remove   vol-snap
undo: remove   vol" \
		"cowsnap: cannot resume vol-snap: Invalid argument; everything done before was undone" \
		create corigin cstore -n vol
	check_log "create: the undo removed both devices" "create vol
load vol rw
  0 2048 cowsnap corigin cstore cow 8 live
create vol-snap
load vol-snap rw
  0 2048 cowsnap corigin cstore cow 8 snap
resume vol
remove vol-snap
remove vol"
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-none CS_FAKE_DM_LOG=$LOG"
	usage_error "create of a plain device needs --name" \
		"origin corigin is not a device-mapper device: --name is needed for the new live view" \
		create create corigin cstore
	usage_error "create: --queue-if-full is for row" "--queue-if-full needs mode row" \
		create create corigin cstore -n v --queue-if-full 5
	usage_error "create: one argument" "no store given" create create corigin
	t "create: origin and store the same" 2 "" \
		"cowsnap: origin corigin and store corigin are the same device" \
		create corigin corigin -n v
	t "create: store too small" 2 "" \
		"cowsnap: store store2 is too small: 22 sectors hold 2 chunks of 8 sectors, at least 3 are needed" \
		create corigin store2 -n v
	"$MKSTORE" cs-valid one
	t "create over a snapshot that has not ended: refused" 3 "" \
		"cowsnap: store cs-valid holds a cowsnap snapshot that has not ended (state valid); use --force to overwrite it" \
		create corigin cs-valid -n v --dry-run
	t "create --force over it: reformat" 0 "$(dry_plan cs-valid " 1 reformat")" "" \
		create corigin cs-valid -n v --dry-run --force
	"$MKSTORE" cs-ended ended
	t "create over an ended snapshot: reformat without --force" 0 \
		"$(dry_plan cs-ended " 1 reformat")" "" create corigin cs-ended -n v --dry-run
	t "create --transient over an ended snapshot: refused" 3 "" \
		"cowsnap: store cs-ended holds a cowsnap snapshot that has not ended (state ended): a transient store must be blank (wipe its first block)" \
		create corigin cs-ended -n v --dry-run --transient
	cat >dm-taken <<'EOF'
status v 0 2048 linear
table v 0 2048 linear 7:0 0
status v-snap 0 2048 linear
EOF
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-taken CS_FAKE_DM_LOG=$LOG"
	t "create: a name in use" 2 "" \
		"cowsnap: a device-mapper device named 'v-snap' exists already" \
		create corigin cstore -n x -S v-snap
	check_log "create with a name in use changes nothing" ""

	views() {	# state [operation progress] [live features]
		cat <<EOF
table vol 0 8192 cowsnap ${5:-/dev/vda} /dev/vdb ${4:-cow} 8 live ${6:-}
status vol 0 8192 cowsnap ${4:-cow} live $1 10 511 3 - ${2:--} ${3:--}
table vol-snap 0 8192 cowsnap ${5:-/dev/vda} /dev/vdb ${4:-cow} 8 snap
status vol-snap 0 8192 cowsnap ${4:-cow} snap $1 10 511 3 - ${2:--} ${3:--}
table other 0 100 cowsnap /dev/vdc /dev/vdd cow 8 snap
status other 0 100 cowsnap cow snap valid 0 10 1 - - -
EOF
	}
	views valid >dm-valid
	views ended rollback 9/9 >dm-ended
	views merging fold 3/9 row >dm-merging
	views invalid >dm-invalid
	views degraded - - row >dm-degraded
	views valid - - row /dev/vda "1 origin_ro" >dm-ro
	refusal() {	# desc file rc message args...
		desc=$1 file=$2 rc=$3 msg=$4
		shift 4
		CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/$file CS_FAKE_DM_LOG=$LOG"
		t "$desc" "$rc" "" "cowsnap: $msg" "$@"
		check_log "$desc: nothing sent" ""
	}
	refusal "rollback of an ended snapshot" dm-ended 7 \
		"cannot rollback vol: the snapshot has ended by a rollback; remove it with 'cowsnap remove'" \
		rollback vol
	refusal "fold while a fold runs" dm-merging 7 \
		"cannot fold vol-snap: a fold is running (3/9 exceptions merged)" fold vol-snap
	refusal "rollback of an invalid snapshot" dm-invalid 7 \
		"cannot rollback vol: the snapshot is invalid (-); only fold can end it" rollback vol
	refusal "fold of a degraded snapshot" dm-degraded 7 \
		"cannot fold vol: the store has failed (degraded, -)" fold vol
	refusal "fold with a read-only origin" dm-ro 7 \
		"cannot fold vol: the origin is opened read-only (origin_ro)" fold vol
	refusal "remove while a merge runs" dm-merging 7 \
		"cannot remove vol: a fold is running; wait for it (cowsnap fold --wait)" remove vol
	refusal "remove of a snapshot that has not ended" dm-valid 3 \
		"the snapshot of vol has not ended (state valid): 'cowsnap fold vol' ends it keeping the live data; use --force to drop it" \
		remove vol-snap
	refusal "rollback of a device that is not cowsnap" dm-taken 4 \
		"v is not a cowsnap device" rollback v
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-invalid CS_FAKE_DM_LOG=$LOG"
	t "fold of an invalid cow snapshot is allowed" 0 \
		"fold of vol done: state invalid" "" fold vol
	check_log "fold of an invalid snapshot: the message sent" "message vol fold"
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-valid CS_FAKE_DM_LOG=$LOG"
	t "rollback sends the message to the view named" 0 \
		"rollback of vol-snap done: state valid" "" rollback vol-snap
	check_log "rollback: the message" "message vol-snap rollback"
	for e in "16:7:cannot fold vol: a merge is running" \
		 "5:7:cannot fold vol: the store failed" \
		 "30:7:cannot fold vol: the origin is read-only" \
		 "22:4:the module refused 'fold' on vol although the snapshot is valid: is dm-cowsnap older than 0.2 (Unknown message)?"; do
		CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-valid CS_FAKE_DM_REFUSE=message:vol:${e%%:*}"
		rest=${e#*:}
		t "fold refused by the kernel with errno ${e%%:*}" "${rest%%:*}" "" \
			"cowsnap: ${rest#*:}" fold vol
	done
	grep -v '^[a-z]* vol ' dm-valid >dm-snaponly
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-snaponly CS_FAKE_DM_REFUSE=message:vol-snap:22"
	t "rollback refused for want of a live view" 7 "" \
		"cowsnap: cannot rollback vol-snap: no live view is loaded" rollback vol-snap
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-ended CS_FAKE_DM_LOG=$LOG"
	t "remove an ended snapshot" 0 "suspend  vol
load     vol
         0 8192 linear /dev/vda 0
resume   vol
remove   vol-snap
vol now maps /dev/vda directly; the store /dev/vdb is no longer used" "" remove vol
	check_log "remove: the calls made" "suspend vol
load vol rw
  0 8192 linear /dev/vda 0
resume vol
remove vol-snap"
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-valid CS_FAKE_DM_LOG=$LOG"
	t "remove --force says what is lost" 0 "suspend  vol
load     vol
         0 8192 linear /dev/vda 0
resume   vol
remove   vol-snap
vol now maps /dev/vda directly; the store /dev/vdb is no longer used" \
		"cowsnap: warning: the snapshot view vol-snap and its 10 chunks in the store are dropped; the live data is kept" \
		remove --force vol
	rm -f "$LOG"
	{ views ended fold - cow /dev/mapper/vol-real
	  echo "table vol-real 0 8192 linear 8:16 2048"
	  echo "status vol-real 0 8192 linear"; } >dm-real
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-real CS_FAKE_DM_LOG=$LOG"
	t "remove: the origin's own table goes back" 0 "suspend  vol
load     vol
         0 8192 linear 8:16 2048
resume   vol
remove   vol-snap
remove   vol-real
vol now maps vol-real directly (its own table is back); the store /dev/vdb is no longer used" "" remove vol
	rm -f "$LOG"
	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-ended CS_FAKE_DM_LOG=$LOG CS_FAKE_DM_REFUSE=resume:vol:5"
	t "remove: a failed resume is undone" 4 "suspend  vol
load     vol
         0 8192 linear /dev/vda 0
resume   vol
undo: clear    vol
undo: resume   vol
undo failed: cannot resume vol: Input/output error" "cowsnap: cannot resume vol: Input/output error; undoing failed too: see the lines above" remove vol
	rm -f "$LOG"

	CS_ENV="LD_PRELOAD=$FAKEDM CS_FAKE_DM=$D/dm-none CS_FAKE_DM_LOG=$LOG"
	truncate -s 4M rorigin		# 8192 sectors, as mkstore's stores
	t "reactivate --dry-run: mode and chunk from the store" 0 \
		"dry run: nothing is changed; the steps would be:
create   vol
load     vol
         0 8192 cowsnap rorigin cs-valid cow 8 live
create   vol-snap
load     vol-snap
         0 8192 cowsnap rorigin cs-valid cow 8 snap
resume   vol
resume   vol-snap" "" reactivate cs-valid --origin rorigin --name vol --dry-run
	t "reactivate an ended store: the live view only" 0 \
		"the snapshot on cs-ended has ended: loading the live view only
dry run: nothing is changed; the steps would be:
create   vol
load     vol
         0 8192 cowsnap rorigin cs-ended cow 8 live
resume   vol" "" reactivate cs-ended -o rorigin -n vol --dry-run
	t "reactivate: an origin of another size" 2 "" \
		"cowsnap: origin corigin has 2048 sectors, but store cs-valid was made for an origin of 8192: not its origin" \
		reactivate cs-valid -o corigin -n vol
	t "reactivate: the store's hidden origin is gone" 2 "" \
		"cowsnap: the store's origin /dev/mapper/vol-real was the hidden origin of a device-mapper device; give that device with --origin /dev/mapper/vol" \
		reactivate cs-valid -n vol
	t "reactivate: a blank store" 6 "" \
		"cowsnap: store cstore holds no cowsnap snapshot" \
		reactivate cstore -o rorigin -n vol
	check_log "reactivate --dry-run and refusals change nothing" ""
	CS_ENV=
else
	not_ok "the libdevmapper stand-in replaces all $ncalls calls; status tests not run"
	echo "calls: $calls; bound: $bound" | diag
fi

echo "1..$T"
[ $FAILED = 0 ] || echo "# $FAILED of $T tests failed"
[ $FAILED = 0 ]
