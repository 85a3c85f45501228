// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device-mapper queries of the tool, through libdevmapper (see dm.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdevmapper.h>

#include "dm.h"
#include "util.h"

/* libdevmapper's log levels (its internal log.h): errors and worse. */
#define DM_LOG_LEVEL_MASK	7
#define DM_LOG_LEVEL_ERR	3

/* The first error libdevmapper logged since the last dm_reset_log(). */
static char dm_log_msg[512];

__attribute__((format(printf, 5, 6)))
static void dm_log(int level, const char *file, int line, int dm_errno,
		   const char *f, ...)
{
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno;
	if ((level & DM_LOG_LEVEL_MASK) > DM_LOG_LEVEL_ERR || dm_log_msg[0])
		return;
	va_start(ap, f);
	vsnprintf(dm_log_msg, sizeof(dm_log_msg), f, ap);
	va_end(ap);
}

static void dm_reset_log(void)
{
	dm_log_msg[0] = '\0';
}

void cs_dm_init(void)
{
	dm_udev_set_sync_support(1);
	dm_log_with_errno_init(dm_log);
}

/* Create a task for @type on @name (NULL: no name). */
static int task_create(int type, const char *name, struct dm_task **dmt,
		       char *err)
{
	dm_reset_log();
	*dmt = dm_task_create(type);
	if (!*dmt)
		return cs_error(err, -ENOMEM,
				"device-mapper: cannot create a task");
	if (name && !dm_task_set_name(*dmt, name)) {
		dm_task_destroy(*dmt);
		return cs_error(err, -EPROTO,
				"device-mapper: invalid device name '%s'", name);
	}
	return 0;
}

/*
 * Run the task.  A missing device is -ESRCH whichever way libdevmapper
 * reports it: a failed ioctl with ENXIO, or (for DM_DEVICE_STATUS and
 * DM_DEVICE_INFO) success with the "exists" flag cleared.
 */
static int task_run(struct dm_task *dmt, const char *name, char *err)
{
	struct dm_info info;
	int e;

	dm_task_no_open_count(dmt);
	if (dm_task_run(dmt)) {
		if (!name || (dm_task_get_info(dmt, &info) && info.exists))
			return 0;
		return cs_error(err, -ESRCH,
				"no device-mapper device named '%s'", name);
	}
	e = dm_task_get_errno(dmt);
	if (name && e == ENXIO)
		return cs_error(err, -ESRCH,
				"no device-mapper device named '%s'", name);
	if (dm_log_msg[0])
		return cs_error(err, -EPROTO, "device-mapper: %s", dm_log_msg);
	return cs_error(err, -EPROTO, "device-mapper: %s",
			e ? strerror(e) : "request failed");
}

void cs_dm_free_names(char **names, size_t nr)
{
	while (nr)
		free(names[--nr]);
	free(names);
}

static int add_name(char ***names, size_t *nr, const char *name)
{
	char **n = realloc(*names, (*nr + 1) * sizeof(**names));

	if (!n)
		return -ENOMEM;
	*names = n;
	n[*nr] = strdup(name);
	if (!n[*nr])
		return -ENOMEM;
	(*nr)++;
	return 0;
}

int cs_dm_names(char ***names, size_t *nr, char *err)
{
	struct dm_task *dmt;
	struct dm_names *n;
	unsigned int next = 0;
	int r;

	*names = NULL;
	*nr = 0;
	r = task_create(DM_DEVICE_LIST, NULL, &dmt, err);
	if (r)
		return r;
	r = task_run(dmt, NULL, err);
	n = r ? NULL : dm_task_get_names(dmt);
	if (!r && !n)
		r = cs_error(err, -EPROTO, "device-mapper: no device list");
	if (!r && n->dev) {
		do {
			n = (struct dm_names *)((char *)n + next);
			r = add_name(names, nr, n->name);
			next = n->next;
		} while (!r && next);
		if (r)
			cs_error(err, r, "out of memory");
	}
	dm_task_destroy(dmt);
	if (r) {
		cs_dm_free_names(*names, *nr);
		*names = NULL;
		*nr = 0;
	}
	return r;
}

void cs_dm_free_targets(struct cs_dm_targets *t)
{
	while (t->nr--) {
		free(t->t[t->nr].type);
		free(t->t[t->nr].params);
	}
	free(t->t);
	t->t = NULL;
	t->nr = 0;
}

static int add_target(struct cs_dm_targets *out, uint64_t start,
		      uint64_t length, const char *type, const char *params)
{
	struct cs_dm_target *t;

	t = realloc(out->t, (out->nr + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	out->t = t;
	t += out->nr;
	t->start = start;
	t->length = length;
	t->type = strdup(type);
	t->params = strdup(params ? params : "");
	out->nr++;
	return t->type && t->params ? 0 : -ENOMEM;
}

static int collect_targets(struct dm_task *dmt, struct cs_dm_targets *out)
{
	void *next = NULL;
	uint64_t start, length;
	char *type, *params;
	int r = 0;

	do {
		type = NULL;
		params = NULL;
		next = dm_get_next_target(dmt, next, &start, &length, &type,
					  &params);
		if (type)	/* NULL: a device without a table */
			r = add_target(out, start, length, type, params);
	} while (!r && next);
	return r;
}

int cs_dm_targets(const char *name, bool table, struct cs_dm_targets *out,
		  char *err)
{
	struct dm_task *dmt;
	int r;

	out->nr = 0;
	out->t = NULL;
	r = task_create(table ? DM_DEVICE_TABLE : DM_DEVICE_STATUS, name,
			&dmt, err);
	if (r)
		return r;
	r = task_run(dmt, name, err);
	if (!r) {
		r = collect_targets(dmt, out);
		if (r)
			cs_error(err, r, "out of memory");
	}
	dm_task_destroy(dmt);
	if (r)
		cs_dm_free_targets(out);
	return r;
}
