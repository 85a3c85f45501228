/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The commands of the cowsnap tool.
 *
 * A command gets its own argument vector (argv[0] is the command's
 * name), prints its output to stdout and returns 0 or -errno with a
 * one-line message in @err (CS_ERRLEN bytes).  It prints no error itself:
 * main() prints the message and chooses the exit code (see exit_status()
 * in main.c).  -EINVAL means a bad command line and nothing else.
 */
#ifndef CS_CMD_H
#define CS_CMD_H

#include <stdbool.h>

struct cs_command {
	const char *name;
	int (*run)(int argc, char **argv, char *err);
	const char *summary;
};

int cmd_table(int argc, char **argv, char *err);
int cmd_status(int argc, char **argv, char *err);
int cmd_version(int argc, char **argv, char *err);
int cmd_create(int argc, char **argv, char *err);
int cmd_rollback(int argc, char **argv, char *err);
int cmd_fold(int argc, char **argv, char *err);
int cmd_remove(int argc, char **argv, char *err);
int cmd_reactivate(int argc, char **argv, char *err);
int cmd_check(int argc, char **argv, char *err);
int cmd_dump(int argc, char **argv, char *err);

/* cs_print_version() - "cowsnap <version>", for --version too. */
void cs_print_version(void);

/*
 * cs_option_error() - the message for getopt_long()'s '?' or ':' (the
 * option strings start with ':'), in the form getopt would print it.
 * Returns -EINVAL.
 */
int cs_option_error(int c, char **argv, char *err);

/* cs_extra_argument() - "unexpected argument '...'": -EINVAL. */
int cs_extra_argument(const char *arg, char *err);

/*
 * cs_one_operand() - after getopt_long(): exactly one operand left, into
 * *@arg; @missing is the message when there is none.  0 or -EINVAL.
 */
int cs_one_operand(int argc, char **argv, const char *missing,
		   const char **arg, char *err);

/*
 * cs_parse_json_args() - the command line of a command whose only
 * options are -J/--json and -h/--help (which calls @usage): then one
 * operand, into *@arg; @required says whether it must be there, and
 * @missing is the message when it is not.  Returns 0, 1 when --help was
 * handled, or -EINVAL.
 */
int cs_parse_json_args(int argc, char **argv, void (*usage)(void),
		       bool *json, const char **arg, bool required,
		       const char *missing, char *err);

#endif /* CS_CMD_H */
