/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The device-mapper queries the tool makes, through libdevmapper.
 *
 * Errors are -errno with a one-line message in @err (CS_ERRLEN bytes):
 *   -ESRCH	there is no device-mapper device of that name
 *   -EPROTO	a device-mapper call failed (the message says why)
 *   -ENOMEM	out of memory
 * libdevmapper's own log messages are not printed: the first error it
 * logs during a call becomes the message.
 */
#ifndef CS_DM_H
#define CS_DM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One target of a device's table: its status or its table parameters. */
struct cs_dm_target {
	uint64_t start;
	uint64_t length;
	char *type;
	char *params;
};

struct cs_dm_targets {
	size_t nr;
	struct cs_dm_target *t;
};

/*
 * cs_dm_init() - wait for udev after device changes, and route
 * libdevmapper's messages to the error buffer.  Call it first.
 */
void cs_dm_init(void);

/*
 * cs_dm_names() - the names of all device-mapper devices, in the order
 * the kernel lists them.  Free with cs_dm_free_names().
 */
int cs_dm_names(char ***names, size_t *nr, char *err);
void cs_dm_free_names(char **names, size_t nr);

/*
 * cs_dm_targets() - the targets of device @name, with their status
 * parameters (DM_DEVICE_STATUS), or with their table parameters when
 * @table (DM_DEVICE_TABLE).  Free with cs_dm_free_targets().
 */
int cs_dm_targets(const char *name, bool table, struct cs_dm_targets *out,
		  char *err);
void cs_dm_free_targets(struct cs_dm_targets *t);

/* What DM_DEVICE_INFO tells about a device. */
struct cs_dm_info {
	uint32_t major;
	uint32_t minor;
	int open_count;
	bool suspended;
	bool read_only;
	bool live_table;
	bool inactive_table;
};

/* cs_dm_info() - the device @name: 0, or -ESRCH when there is none. */
int cs_dm_info(const char *name, struct cs_dm_info *info, char *err);

/*
 * cs_dm_name_of() - the name of the device-mapper device @major:@minor
 * into @name (@len bytes).  Returns 0, or -ESRCH when it is not one.
 */
int cs_dm_name_of(uint32_t major, uint32_t minor, char *name, size_t len,
		  char *err);

/* cs_dm_is_dm_major() - whether block major @major is device-mapper's. */
bool cs_dm_is_dm_major(uint32_t major);

/*
 * Changes.  Each waits for udev to finish with the device (a cookie),
 * or, where udev does not run (the test VM), has libdevmapper create or
 * remove the node under /dev/mapper itself.
 *
 * cs_dm_create() - a new device without a table (DM_DEVICE_CREATE);
 *	@hidden keeps udev's disk rules away from it (see cs_dm_resume()).
 * cs_dm_load() - load @table into the inactive slot of @name
 *	(DM_DEVICE_RELOAD), read-only when @read_only.
 * cs_dm_clear() - drop the inactive table (DM_DEVICE_CLEAR).
 * cs_dm_suspend() - suspend, flushing and freezing a file system on it.
 * cs_dm_resume() - resume: an inactive table becomes the live one;
 *	@hidden: no /dev/disk/by-* links, no scan (a device no one but
 *	another table should open).
 * cs_dm_remove() - remove the device.
 * cs_dm_message() - send @msg to the target at sector 0; when the
 *	kernel refuses it, *@refused is its errno (EBUSY, EINVAL, EROFS,
 *	...), else 0.
 *
 * A refused change is -EPROTO (-ESRCH when the device does not exist).
 */
int cs_dm_create(const char *name, bool hidden, char *err);
int cs_dm_load(const char *name, const struct cs_dm_targets *table,
	       bool read_only, char *err);
int cs_dm_clear(const char *name, char *err);
int cs_dm_suspend(const char *name, char *err);
int cs_dm_resume(const char *name, bool hidden, char *err);
int cs_dm_remove(const char *name, char *err);
int cs_dm_message(const char *name, const char *msg, int *refused,
		  char *err);

/*
 * Pure helpers, in targets.c.
 *
 * cs_dm_add_target() - append a target (copies of @type and @params).
 * cs_dm_parse_table() - "<start> <length> <type> <params>" lines, one
 *	target a line, into @out (free with cs_dm_free_targets()).
 *	Returns 0, -EINVAL or -ENOMEM.
 * cs_dm_format_targets() - the table as dmsetup prints it, one target
 *	a line, into @buf: 0 or -ENAMETOOLONG.
 */
int cs_dm_add_target(struct cs_dm_targets *out, uint64_t start,
		     uint64_t length, const char *type, const char *params);
int cs_dm_parse_table(const char *text, struct cs_dm_targets *out);
int cs_dm_format_targets(const struct cs_dm_targets *t, char *buf,
			 size_t len);

#endif /* CS_DM_H */
