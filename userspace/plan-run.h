/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Carrying out a plan of device-mapper changes (plan.h).
 */
#ifndef CS_PLAN_RUN_H
#define CS_PLAN_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "plan.h"

/*
 * cs_plan_run() - carry out the steps of @p in order, printing each to
 * @log before it runs.  When a step fails, and @may_undo, the steps done
 * are undone (cs_plan_undo()), each printed as "undo: ...", and @err says
 * what failed and whether the undo succeeded.  *@done is the number of
 * steps that succeeded.  Returns 0 or the failed step's error.
 */
int cs_plan_run(const struct cs_plan *p, bool may_undo, FILE *log,
		unsigned int *done, char *err);

#endif /* CS_PLAN_RUN_H */
