// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test fixture: a stand-in for the few libdevmapper calls cowsnap makes,
 * loaded with LD_PRELOAD so that "cowsnap status" runs on a host without
 * device-mapper (and never touches /dev/mapper/control).
 *
 * The devices come from the file named by $CS_FAKE_DM, one target a line:
 *
 *   status NAME START LENGTH TYPE [PARAMS...]
 *   table NAME START LENGTH TYPE [PARAMS...]
 *
 * The device list is the names in order of first appearance.  A request
 * for a name without such lines finds no device, reported as
 * libdevmapper reports it: a table request fails with errno ENXIO, a
 * status request succeeds with dm_info.exists clear.  With $CS_FAKE_DM_FAIL set, every
 * request fails with EACCES and logs "/dev/mapper/control: open failed:
 * Permission denied", as libdevmapper does for a user who is not root.
 *
 * Changes (create, reload, suspend, resume, clear, remove, message) are
 * not applied: each is appended as one line to the file named by
 * $CS_FAKE_DM_LOG ("load NAME ro|rw" followed by its targets, each on a
 * line of its own starting with two blanks).  $CS_FAKE_DM_REFUSE=KIND:NAME:ERRNO
 * makes that change fail with that errno (KIND as in the log), as the
 * kernel refuses it.  dm_is_dm_major() answers for $CS_FAKE_DM_MAJOR.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdevmapper.h>

struct fake_target {
	char kind[8];
	char name[128];
	uint64_t start, length;
	char type[32];
	char params[512];
};

struct dm_task {
	int type;
	char name[128];
	char message[256];
	int ro;
	char *targets;			/* the table of a reload */
	int err;
	int exists;
	struct fake_target *t;		/* the task's targets */
	size_t nr;
	char *names;			/* DM_DEVICE_LIST answer */
};

static dm_log_with_errno_fn log_fn;

void dm_log_with_errno_init(dm_log_with_errno_fn fn)
{
	log_fn = fn;
}

void dm_udev_set_sync_support(int sync_with_udev)
{
	(void)sync_with_udev;
}

struct dm_task *dm_task_create(int type)
{
	struct dm_task *dmt = calloc(1, sizeof(*dmt));

	if (dmt)
		dmt->type = type;
	return dmt;
}

void dm_task_destroy(struct dm_task *dmt)
{
	free(dmt->targets);
	free(dmt->t);
	free(dmt->names);
	free(dmt);
}

int dm_task_set_name(struct dm_task *dmt, const char *name)
{
	snprintf(dmt->name, sizeof(dmt->name), "%s", name);
	return 1;
}

int dm_task_no_open_count(struct dm_task *dmt)
{
	(void)dmt;
	return 1;
}

int dm_task_get_errno(struct dm_task *dmt)
{
	return dmt->err;
}

static int parse_line(char *line, struct fake_target *t)
{
	int n = 0;

	memset(t, 0, sizeof(*t));
	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "%7s %127s %" SCNu64 " %" SCNu64 " %31s %n", t->kind, t->name,
		   &t->start, &t->length, t->type, &n) < 5)
		return -1;
	snprintf(t->params, sizeof(t->params), "%s", line + n);
	return 0;
}

static int load(struct fake_target **all, size_t *nr)
{
	const char *path = getenv("CS_FAKE_DM");
	char line[1024];
	FILE *f;

	*all = NULL;
	*nr = 0;
	f = path ? fopen(path, "r") : NULL;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		struct fake_target t;

		if (parse_line(line, &t))
			continue;
		*all = realloc(*all, (*nr + 1) * sizeof(t));
		(*all)[(*nr)++] = t;
	}
	fclose(f);
	return 0;
}

/* The DM_DEVICE_LIST answer: struct dm_names entries, 8-byte aligned. */
static void list_names(struct dm_task *dmt, struct fake_target *all,
		       size_t nr)
{
	size_t i, j, len = 0, last = 0;
	struct dm_names *n;

	dmt->names = calloc(1, 65536);	/* dev 0: an empty list */
	for (i = 0; i < nr; i++) {
		for (j = 0; j < i && strcmp(all[j].name, all[i].name); j++)
			;
		if (j < i)
			continue;	/* listed already */
		if (len)
			((struct dm_names *)(dmt->names + last))->next =
				len - last;
		n = (struct dm_names *)(dmt->names + len);
		n->dev = 0xfd00 + i;
		strcpy(n->name, all[i].name);
		last = len;
		len += (offsetof(struct dm_names, name) +
			strlen(all[i].name) + 1 + 7) & ~7UL;
	}
}

static void select_targets(struct dm_task *dmt, struct fake_target *all,
			   size_t nr)
{
	const char *kind = dmt->type == DM_DEVICE_TABLE ? "table" : "status";
	size_t i;

	dmt->t = calloc(nr + 1, sizeof(*all));
	for (i = 0; i < nr; i++)
		if (!strcmp(all[i].name, dmt->name) &&
		    !strcmp(all[i].kind, kind))
			dmt->t[dmt->nr++] = all[i];
}

static const char *change_kind(int type)
{
	switch (type) {
	case DM_DEVICE_CREATE: return "create";
	case DM_DEVICE_RELOAD: return "load";
	case DM_DEVICE_SUSPEND: return "suspend";
	case DM_DEVICE_RESUME: return "resume";
	case DM_DEVICE_CLEAR: return "clear";
	case DM_DEVICE_REMOVE: return "remove";
	case DM_DEVICE_TARGET_MSG: return "message";
	}
	return NULL;
}

/* Log a change; fail it as $CS_FAKE_DM_REFUSE says. */
static int run_change(struct dm_task *dmt, const char *kind)
{
	const char *refuse = getenv("CS_FAKE_DM_REFUSE");
	const char *path = getenv("CS_FAKE_DM_LOG");
	char want[200];
	FILE *f;

	snprintf(want, sizeof(want), "%s:%s:", kind, dmt->name);
	if (refuse && !strncmp(refuse, want, strlen(want))) {
		dmt->err = atoi(refuse + strlen(want));
		return 0;
	}
	f = path ? fopen(path, "a") : NULL;
	if (!f)
		return 1;
	fprintf(f, "%s %s", kind, dmt->name);
	if (dmt->type == DM_DEVICE_RELOAD)
		fprintf(f, " %s\n%s", dmt->ro ? "ro" : "rw",
			dmt->targets ? dmt->targets : "");
	else if (dmt->type == DM_DEVICE_TARGET_MSG)
		fprintf(f, " %s\n", dmt->message);
	else
		fputc('\n', f);
	fclose(f);
	return 1;
}

int dm_task_run(struct dm_task *dmt)
{
	struct fake_target *all;
	size_t nr;

	if (change_kind(dmt->type) && !getenv("CS_FAKE_DM_FAIL"))
		return run_change(dmt, change_kind(dmt->type));
	if (getenv("CS_FAKE_DM_FAIL") || load(&all, &nr)) {
		dmt->err = EACCES;
		log_fn(3, __FILE__, __LINE__, -1,
		       "/dev/mapper/control: open failed: Permission denied");
		log_fn(3, __FILE__, __LINE__, -1,
		       "Failure to communicate with kernel device-mapper driver.");
		return 0;
	}
	if (dmt->type == DM_DEVICE_LIST)
		list_names(dmt, all, nr);
	else
		select_targets(dmt, all, nr);
	free(all);
	dmt->exists = dmt->type == DM_DEVICE_LIST || dmt->nr;
	if (dmt->exists)
		return 1;
	/* as libdevmapper does: ENXIO is success for status and info */
	dmt->err = ENXIO;
	return dmt->type == DM_DEVICE_STATUS || dmt->type == DM_DEVICE_INFO;
}

int dm_task_set_cookie(struct dm_task *dmt, uint32_t *cookie, uint16_t flags)
{
	(void)dmt;
	(void)flags;
	*cookie = 0;
	return 1;
}

int dm_udev_wait(uint32_t cookie)
{
	(void)cookie;
	return 1;
}

int dm_task_set_ro(struct dm_task *dmt)
{
	dmt->ro = 1;
	return 1;
}

int dm_task_retry_remove(struct dm_task *dmt)
{
	(void)dmt;
	return 1;
}

int dm_task_add_target(struct dm_task *dmt, uint64_t start, uint64_t size,
		       const char *ttype, const char *params)
{
	size_t old = dmt->targets ? strlen(dmt->targets) : 0;
	size_t add = strlen(ttype) + strlen(params) + 64;

	dmt->targets = realloc(dmt->targets, old + add);
	snprintf(dmt->targets + old, add, "  %" PRIu64 " %" PRIu64 " %s %s\n",
		 start, size, ttype, params);
	return 1;
}

int dm_task_set_message(struct dm_task *dmt, const char *message)
{
	snprintf(dmt->message, sizeof(dmt->message), "%s", message);
	return 1;
}

int dm_task_set_sector(struct dm_task *dmt, uint64_t sector)
{
	(void)dmt;
	(void)sector;
	return 1;
}

int dm_is_dm_major(uint32_t major)
{
	const char *m = getenv("CS_FAKE_DM_MAJOR");

	return m && (uint32_t)atoi(m) == major;
}

int dm_task_set_major(struct dm_task *dmt, int major)
{
	(void)dmt;
	(void)major;
	return 1;
}

int dm_task_set_minor(struct dm_task *dmt, int minor)
{
	(void)dmt;
	(void)minor;
	return 1;
}

const char *dm_task_get_name(const struct dm_task *dmt)
{
	return dmt->name;
}

int dm_task_get_info(struct dm_task *dmt, struct dm_info *info)
{
	memset(info, 0, sizeof(*info));
	info->exists = dmt->exists;
	info->target_count = dmt->nr;
	return 1;
}

struct dm_names *dm_task_get_names(struct dm_task *dmt)
{
	return (struct dm_names *)dmt->names;
}

void *dm_get_next_target(struct dm_task *dmt, void *next, uint64_t *start,
			 uint64_t *length, char **target_type, char **params)
{
	size_t i = next ? (size_t)next : 0;

	if (i >= dmt->nr) {
		*target_type = NULL;
		*params = NULL;
		return NULL;
	}
	*start = dmt->t[i].start;
	*length = dmt->t[i].length;
	*target_type = dmt->t[i].type;
	*params = dmt->t[i].params;
	return i + 1 < dmt->nr ? (void *)(i + 1) : NULL;
}
