/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The status line of a cowsnap target, parsed.  Pure: no I/O.
 *
 * Grammar (Documentation/dm-cowsnap.rst, emit_info() in
 * dm-cowsnap/cowsnap-target.c), the words "dmsetup status" prints after
 * "<start> <len> cowsnap":
 *
 *   <mode> <view> <state> <used_chunks> <total_chunks> <metadata_blocks>
 *   <reason|-> [<operation|-> <progress|->]
 *
 * mode is cow or row, view live or snap, the three counts are decimal.
 * state is passthrough, valid, invalid, merging, ended, degraded or full;
 * operation is rollback or fold (the one running while merging, the one
 * that ended the snapshot when ended); progress is <merged>/<total>
 * exceptions while merging or after a merge ended the snapshot.
 * Modules before version 0.2 print the first seven words only: the last
 * two are then absent (has_operation false).  The target may add states
 * and operations: a word this parser does not know is kept by name
 * (CS_STATE_OTHER, CS_OP_OTHER), never an error.  Words after the ninth
 * are ignored (and counted), so that a field appended by a later target
 * does not break this tool.
 */
#ifndef CS_STATUS_PARSE_H
#define CS_STATUS_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "table.h"

enum cs_state {
	CS_STATE_PASSTHROUGH,	/* the store is not in use yet */
	CS_STATE_VALID,
	CS_STATE_INVALID,	/* CoW: the snapshot is lost (reason says why) */
	CS_STATE_MERGING,	/* a background rollback or fold runs */
	CS_STATE_ENDED,		/* the snapshot is over; live maps the origin */
	CS_STATE_DEGRADED,	/* ROW: a store I/O error */
	CS_STATE_FULL,		/* ROW: the store is full */
	CS_STATE_OTHER,		/* a state this tool does not know */
};

enum cs_op {
	CS_OP_NONE,
	CS_OP_ROLLBACK,
	CS_OP_FOLD,
	CS_OP_OTHER,		/* an operation this tool does not know */
};

/* Longest state or reason word kept, without its NUL. */
#define CS_WORD_MAX	31

struct cs_status {
	enum cs_mode mode;
	enum cs_view view;
	enum cs_state state;
	char state_name[CS_WORD_MAX + 1];	/* as the target printed it */
	uint64_t used_chunks;
	uint64_t total_chunks;
	uint64_t metadata_blocks;
	char reason[CS_WORD_MAX + 1];		/* "" for "-" */
	bool has_operation;			/* words 8 and 9 present */
	enum cs_op op;
	char op_name[CS_WORD_MAX + 1];		/* "" for "-" */
	bool has_progress;			/* word 9 is not "-" */
	uint64_t merged;			/* exceptions merged ... */
	uint64_t to_merge;			/* ... of so many */
	unsigned int extra_words;		/* words after the ninth */
};

/* The name of a known state ("valid", ...), NULL for CS_STATE_OTHER. */
const char *cs_state_name(enum cs_state state);

/*
 * cs_status_parse() - parse the status words of one cowsnap target.
 *
 * Returns 0 and fills @st, or -EPROTO when @line does not follow the
 * grammar: a missing word, an unknown mode or view, a count that is not
 * a plain decimal number or overflows 64 bits, more used than total
 * chunks, a state, reason or operation that is not 1 to CS_WORD_MAX
 * printable characters, an operation without its progress word, or a
 * progress that is not "-" or <merged>/<total> with merged <= total.
 * @st is left zeroed on error.
 */
int cs_status_parse(const char *line, struct cs_status *st);

#endif /* CS_STATUS_PARSE_H */
