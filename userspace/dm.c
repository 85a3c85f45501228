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
			r = cs_dm_add_target(out, start, length, type, params);
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

int cs_dm_info(const char *name, struct cs_dm_info *info, char *err)
{
	struct dm_task *dmt;
	struct dm_info i;
	int r;

	r = task_create(DM_DEVICE_INFO, name, &dmt, err);
	if (r)
		return r;
	r = task_run(dmt, name, err);
	if (!r && !dm_task_get_info(dmt, &i))
		r = cs_error(err, -EPROTO, "device-mapper: no information on %s",
			     name);
	if (!r) {
		memset(info, 0, sizeof(*info));
		info->major = i.major;
		info->minor = i.minor;
		info->open_count = i.open_count;
		info->suspended = i.suspended;
		info->read_only = i.read_only;
		info->live_table = i.live_table;
		info->inactive_table = i.inactive_table;
	}
	dm_task_destroy(dmt);
	return r;
}

int cs_dm_name_of(uint32_t major, uint32_t minor, char *name, size_t len,
		  char *err)
{
	struct dm_task *dmt;
	struct dm_info i;
	const char *n;
	int r;

	r = task_create(DM_DEVICE_INFO, NULL, &dmt, err);
	if (r)
		return r;
	if (!dm_task_set_major(dmt, major) || !dm_task_set_minor(dmt, minor))
		r = cs_error(err, -EPROTO, "device-mapper: cannot name %u:%u",
			     major, minor);
	if (!r)
		r = task_run(dmt, NULL, err);
	if (!r && (!dm_task_get_info(dmt, &i) || !i.exists))
		r = cs_error(err, -ESRCH,
			     "%u:%u is not a device-mapper device", major,
			     minor);
	n = r ? NULL : dm_task_get_name(dmt);
	if (!r && (!n || strlen(n) >= len))
		r = cs_error(err, -EPROTO, "device-mapper: no name for %u:%u",
			     major, minor);
	if (!r)
		snprintf(name, len, "%s", n);
	dm_task_destroy(dmt);
	return r;
}

bool cs_dm_is_dm_major(uint32_t major)
{
	return dm_is_dm_major(major);
}

/* The errno of the last change the kernel refused (0: none). */
static int last_errno;

/*
 * Run a task that changes a device.  @udev: the change makes udev act
 * (create, resume, remove): wait for it with a cookie, which without
 * udev makes libdevmapper create or remove the node itself; @flags are
 * the DM_UDEV_* flags of the cookie.  A refusal
 * is -EPROTO (-ESRCH for a missing device) and leaves its errno in
 * last_errno.
 */
static int change(struct dm_task *dmt, const char *name, const char *what,
		  bool udev, uint16_t flags, char *err)
{
	uint32_t cookie = 0;
	int ok, e;

	if (udev && !dm_task_set_cookie(dmt, &cookie, flags)) {
		dm_task_destroy(dmt);
		return cs_error(err, -EPROTO,
				"device-mapper: cannot set a udev cookie");
	}
	ok = dm_task_run(dmt);
	e = ok ? 0 : dm_task_get_errno(dmt);
	last_errno = e;
	if (udev)
		dm_udev_wait(cookie);
	dm_task_destroy(dmt);
	if (ok)
		return 0;
	if (e == ENXIO)
		return cs_error(err, -ESRCH,
				"no device-mapper device named '%s'", name);
	return cs_error(err, -EPROTO, "cannot %s %s: %s", what, name,
			dm_log_msg[0] ? dm_log_msg :
					strerror(e ? e : EPROTO));
}

static int simple_change(int type, const char *name, const char *what,
			 bool udev, uint16_t flags, char *err)
{
	struct dm_task *dmt;
	int r;

	r = task_create(type, name, &dmt, err);
	if (r)
		return r;
	return change(dmt, name, what, udev, flags, err);
}

/*
 * A hidden device (the origin's old table under <name>-real) is kept
 * away from udev's disk rules, as LVM keeps its -real and -cow devices:
 * no /dev/disk/by-* link, no blkid scan finding the origin's file system
 * twice.
 */
static uint16_t udev_flags(bool hidden)
{
	return hidden ? DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG |
			DM_UDEV_DISABLE_DISK_RULES_FLAG |
			DM_UDEV_DISABLE_OTHER_RULES_FLAG : 0;
}

int cs_dm_create(const char *name, bool hidden, char *err)
{
	return simple_change(DM_DEVICE_CREATE, name, "create", true,
			     udev_flags(hidden), err);
}

int cs_dm_clear(const char *name, char *err)
{
	return simple_change(DM_DEVICE_CLEAR, name, "clear the inactive table of",
			     false, 0, err);
}

int cs_dm_suspend(const char *name, char *err)
{
	return simple_change(DM_DEVICE_SUSPEND, name, "suspend", false, 0, err);
}

int cs_dm_resume(const char *name, bool hidden, char *err)
{
	return simple_change(DM_DEVICE_RESUME, name, "resume", true,
			     udev_flags(hidden), err);
}

int cs_dm_remove(const char *name, char *err)
{
	struct dm_task *dmt;
	int r;

	r = task_create(DM_DEVICE_REMOVE, name, &dmt, err);
	if (r)
		return r;
	dm_task_retry_remove(dmt);	/* udev may hold it open a moment */
	return change(dmt, name, "remove", true, 0, err);
}

int cs_dm_load(const char *name, const struct cs_dm_targets *table,
	       bool read_only, char *err)
{
	struct dm_task *dmt;
	size_t i;
	int r;

	r = task_create(DM_DEVICE_RELOAD, name, &dmt, err);
	if (r)
		return r;
	for (i = 0; i < table->nr; i++) {
		const struct cs_dm_target *t = &table->t[i];

		if (!dm_task_add_target(dmt, t->start, t->length, t->type,
					t->params)) {
			dm_task_destroy(dmt);
			return cs_error(err, -ENOMEM, "out of memory");
		}
	}
	if (read_only && !dm_task_set_ro(dmt)) {
		dm_task_destroy(dmt);
		return cs_error(err, -EPROTO,
				"device-mapper: cannot ask for read-only");
	}
	return change(dmt, name, "load a table into", false, 0, err);
}

int cs_dm_message(const char *name, const char *msg, int *refused,
		  char *err)
{
	struct dm_task *dmt;
	int r;

	*refused = 0;
	r = task_create(DM_DEVICE_TARGET_MSG, name, &dmt, err);
	if (r)
		return r;
	if (!dm_task_set_sector(dmt, 0) || !dm_task_set_message(dmt, msg)) {
		dm_task_destroy(dmt);
		return cs_error(err, -ENOMEM, "out of memory");
	}
	r = change(dmt, name, "send a message to", false, 0, err);
	if (r == -EPROTO)
		*refused = last_errno;
	return r;
}
