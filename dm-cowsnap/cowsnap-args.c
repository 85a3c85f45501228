// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap table line: parsing and printing.
 *
 * Pure: nothing here opens a device or allocates, so the KUnit suite
 * dm_cowsnap_args drives it with plain argument vectors.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/log2.h>

#include "cowsnap.h"

const char *cowsnap_mode_name(enum cowsnap_mode mode)
{
	return mode == COWSNAP_MODE_ROW ? "row" : "cow";
}

const char *cowsnap_view_name(enum cowsnap_view view)
{
	return view == COWSNAP_VIEW_SNAP ? "snap" : "live";
}

static int parse_mode(const char *arg, struct cowsnap_params *p, char **error)
{
	if (!strcmp(arg, "cow")) {
		p->mode = COWSNAP_MODE_COW;
	} else if (!strcmp(arg, "row")) {
		p->mode = COWSNAP_MODE_ROW;
	} else {
		*error = "Invalid mode: expected cow or row";
		return -EINVAL;
	}
	return 0;
}

static int parse_chunk(const char *arg, struct cowsnap_params *p, char **error)
{
	unsigned int v;

	if (kstrtouint(arg, 10, &v)) {
		*error = "Invalid chunk size: not a decimal number of sectors";
		return -EINVAL;
	}
	if (v < COWSNAP_MIN_CHUNK_SECTORS || v > COWSNAP_MAX_CHUNK_SECTORS ||
	    !is_power_of_2(v)) {
		*error = "Invalid chunk size: expected a power of two from 8 to 2048 sectors";
		return -EINVAL;
	}
	p->chunk_sectors = v;
	p->chunk_shift = ilog2(v);
	return 0;
}

static int parse_view(const char *arg, struct cowsnap_params *p, char **error)
{
	if (!strcmp(arg, "live")) {
		p->view = COWSNAP_VIEW_LIVE;
	} else if (!strcmp(arg, "snap")) {
		p->view = COWSNAP_VIEW_SNAP;
	} else {
		*error = "Invalid view: expected live or snap";
		return -EINVAL;
	}
	return 0;
}

static int set_feature(struct cowsnap_params *p, unsigned int bit,
		       char **error)
{
	if (p->features & bit) {
		*error = "Feature argument given twice";
		return -EINVAL;
	}
	p->features |= bit;
	return 0;
}

/*
 * The number after a feature word, from @min to @max; @missing and
 * @invalid are the errors when there is none or it is out of range.
 */
static int feature_value(struct dm_arg_set *as, unsigned int *argc,
			 u64 min, u64 max, u64 *v, char *missing,
			 char *invalid, char **error)
{
	if (!*argc) {
		*error = missing;
		return -EINVAL;
	}
	(*argc)--;
	if (kstrtou64(dm_shift_arg(as), 10, v) || *v < min || *v > max) {
		*error = invalid;
		return -EINVAL;
	}
	return 0;
}

static int parse_low_water(struct dm_arg_set *as, unsigned int *argc,
			   struct cowsnap_params *p, char **error)
{
	return feature_value(as, argc, 1, U64_MAX, &p->low_water_chunks,
			     "Feature low_water needs a chunk count",
			     "Invalid low_water: expected a chunk count of at least 1",
			     error);
}

static int parse_queue_if_full(struct dm_arg_set *as, unsigned int *argc,
			       struct cowsnap_params *p, char **error)
{
	u64 v;
	int r = feature_value(as, argc, 1, COWSNAP_MAX_QUEUE_SECONDS, &v,
			      "Feature queue_if_full needs a timeout in seconds",
			      "Invalid queue_if_full: expected 1 to 3600 seconds",
			      error);

	p->queue_seconds = v;
	return r;
}

static int parse_one_feature(struct dm_arg_set *as, unsigned int *argc,
			     struct cowsnap_params *p, char **error)
{
	const char *arg = dm_shift_arg(as);
	int r;

	(*argc)--;
	if (!strcasecmp(arg, "transient"))
		return set_feature(p, COWSNAP_F_TRANSIENT, error);
	if (!strcasecmp(arg, "reformat"))
		return set_feature(p, COWSNAP_F_REFORMAT, error);
	if (!strcasecmp(arg, "low_water")) {
		r = set_feature(p, COWSNAP_F_LOW_WATER, error);
		return r ? r : parse_low_water(as, argc, p, error);
	}
	if (!strcasecmp(arg, "origin_ro"))
		return set_feature(p, COWSNAP_F_ORIGIN_RO, error);
	if (!strcasecmp(arg, "error_if_full"))
		return set_feature(p, COWSNAP_F_ERROR_IF_FULL, error);
	if (!strcasecmp(arg, "queue_if_full")) {
		r = set_feature(p, COWSNAP_F_QUEUE_IF_FULL, error);
		return r ? r : parse_queue_if_full(as, argc, p, error);
	}
	*error = "Unknown feature argument";
	return -EINVAL;
}

#define COWSNAP_F_ROW_ONLY \
	(COWSNAP_F_ORIGIN_RO | COWSNAP_F_ERROR_IF_FULL | COWSNAP_F_QUEUE_IF_FULL)

static int check_row_features(struct cowsnap_params *p, char **error)
{
	if ((p->features & COWSNAP_F_ROW_ONLY) && p->mode != COWSNAP_MODE_ROW) {
		*error = "Features origin_ro, error_if_full and queue_if_full need mode row";
		return -EINVAL;
	}
	if ((p->features & COWSNAP_F_ERROR_IF_FULL) &&
	    (p->features & COWSNAP_F_QUEUE_IF_FULL)) {
		*error = "Features error_if_full and queue_if_full exclude each other";
		return -EINVAL;
	}
	return 0;
}

static int parse_features(struct dm_arg_set *as, struct cowsnap_params *p,
			  char **error)
{
	static const struct dm_arg _args[] = {
		{0, 8, "Invalid number of feature arguments"},
	};
	unsigned int argc;
	int r;

	if (!as->argc)
		return 0;
	r = dm_read_arg_group(_args, as, &argc, error);
	if (r)
		return r;
	while (argc) {
		r = parse_one_feature(as, &argc, p, error);
		if (r)
			return r;
	}
	if ((p->features & COWSNAP_F_TRANSIENT) &&
	    (p->features & COWSNAP_F_REFORMAT)) {
		*error = "Features transient and reformat exclude each other";
		return -EINVAL;
	}
	return check_row_features(p, error);
}

/*
 * Table grammar (Documentation/dm-cowsnap.rst):
 *
 *   <origin_dev> <store_dev> <cow|row> <chunk_sectors> <live|snap>
 *   [<#feature_args> <feature_arg>...]
 *
 * feature_arg: transient | reformat | low_water <chunks> | origin_ro |
 *              error_if_full | queue_if_full <seconds>
 */
int cowsnap_parse_params(struct dm_arg_set *as, struct cowsnap_params *p,
			 char **error)
{
	int r;

	memset(p, 0, sizeof(*p));
	if (as->argc < 5) {
		*error = "Not enough arguments: need origin, store, mode, chunk size and view";
		return -EINVAL;
	}
	p->origin_path = dm_shift_arg(as);
	p->store_path = dm_shift_arg(as);
	r = parse_mode(dm_shift_arg(as), p, error);
	if (!r)
		r = parse_chunk(dm_shift_arg(as), p, error);
	if (!r)
		r = parse_view(dm_shift_arg(as), p, error);
	if (!r)
		r = parse_features(as, p, error);
	if (!r && as->argc) {
		*error = "Too many arguments after the feature arguments";
		r = -EINVAL;
	}
	return r;
}

static unsigned int feature_words(const struct cowsnap_params *p)
{
	return !!(p->features & COWSNAP_F_TRANSIENT) +
	       !!(p->features & COWSNAP_F_REFORMAT) +
	       !!(p->features & COWSNAP_F_ORIGIN_RO) +
	       !!(p->features & COWSNAP_F_ERROR_IF_FULL) +
	       2 * !!(p->features & COWSNAP_F_QUEUE_IF_FULL) +
	       2 * !!(p->features & COWSNAP_F_LOW_WATER);
}

int cowsnap_emit_table(const struct cowsnap_params *p, const char *origin,
		       const char *store, char *result, unsigned int maxlen)
{
	unsigned int sz = 0;
	unsigned int words = feature_words(p);

	sz += scnprintf(result + sz, maxlen - sz, "%s %s %s %u %s", origin,
			store, cowsnap_mode_name(p->mode), p->chunk_sectors,
			cowsnap_view_name(p->view));
	if (!words)
		return sz;
	sz += scnprintf(result + sz, maxlen - sz, " %u", words);
	if (p->features & COWSNAP_F_TRANSIENT)
		sz += scnprintf(result + sz, maxlen - sz, " transient");
	if (p->features & COWSNAP_F_REFORMAT)
		sz += scnprintf(result + sz, maxlen - sz, " reformat");
	if (p->features & COWSNAP_F_ORIGIN_RO)
		sz += scnprintf(result + sz, maxlen - sz, " origin_ro");
	if (p->features & COWSNAP_F_ERROR_IF_FULL)
		sz += scnprintf(result + sz, maxlen - sz, " error_if_full");
	if (p->features & COWSNAP_F_QUEUE_IF_FULL)
		sz += scnprintf(result + sz, maxlen - sz, " queue_if_full %u",
				p->queue_seconds);
	if (p->features & COWSNAP_F_LOW_WATER)
		sz += scnprintf(result + sz, maxlen - sz, " low_water %llu",
				p->low_water_chunks);
	return sz;
}
