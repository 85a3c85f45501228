/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The status line of a cowsnap target, parsed.  Pure: no I/O.
 *
 * Grammar (Documentation/dm-cowsnap.rst, emit_info() in
 * dm-cowsnap/cowsnap-target.c), the words "dmsetup status" prints after
 * "<start> <len> cowsnap":
 *
 *   <mode> <view> <state> <used_chunks> <total_chunks> <metadata_blocks>
 *   <invalid_reason|->
 *
 * mode is cow or row, view live or snap, the three counts are decimal.
 * The target may add states: a state this parser does not know is kept
 * by name (CS_STATE_OTHER), never an error.  Words after the seventh are
 * ignored (and counted), so that a field appended by a later target does
 * not break this tool.
 */
#ifndef CS_STATUS_PARSE_H
#define CS_STATUS_PARSE_H

#include <stdint.h>

#include "table.h"

enum cs_state {
	CS_STATE_PASSTHROUGH,	/* the store is not in use yet */
	CS_STATE_VALID,
	CS_STATE_INVALID,
	CS_STATE_OTHER,		/* a state this tool does not know */
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
	unsigned int extra_words;		/* words after the seventh */
};

/*
 * cs_status_parse() - parse the status words of one cowsnap target.
 *
 * Returns 0 and fills @st, or -EPROTO when @line does not follow the
 * grammar: a missing word, an unknown mode or view, a count that is not
 * a plain decimal number or overflows 64 bits, more used than total
 * chunks, or a state or reason that is not 1 to CS_WORD_MAX printable
 * characters.  @st is left zeroed on error.
 */
int cs_status_parse(const char *line, struct cs_status *st);

#endif /* CS_STATUS_PARSE_H */
