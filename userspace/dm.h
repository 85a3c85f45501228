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

#endif /* CS_DM_H */
