// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowsnap: the userspace tool of dm-cowsnap.
 *
 *   cowsnap [--help | --version]
 *   cowsnap <command> [options]
 *
 * main() finds the command in the command table, runs it, prints its
 * error (one line, and a hint for a bad command line) and turns its
 * result into the exit code, in exit_status() and nowhere else.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "dm.h"
#include "util.h"

static const struct cs_command commands[] = {
	{ "table", cmd_table, "print the dmsetup table of a snapshot's views" },
	{ "status", cmd_status, "show the state of cowsnap devices" },
	{ "create", cmd_create, "take a snapshot of a device" },
	{ "rollback", cmd_rollback, "make the live view equal to the snapshot" },
	{ "fold", cmd_fold, "end a snapshot, keeping the live data" },
	{ "remove", cmd_remove, "end the use of a snapshot's store" },
	{ "reactivate", cmd_reactivate, "load a snapshot's views again" },
	{ "check", cmd_check, "check a store offline" },
	{ "dump", cmd_dump, "print a store's superblock and exceptions" },
	{ "version", cmd_version, "print the version of the tool" },
};

/*
 * Exit codes (cowsnap.8, EXIT STATUS):
 *   0  success
 *   1  bad command line (-EINVAL)
 *   2  a device cannot be opened, read or probed, or does not suit the
 *      table (too small, the same as the other, made for another
 *      table); or the output cannot be written (any other error)
 *   3  refused for safety: --force would override it (-EEXIST)
 *   4  device-mapper error: no such device, not a cowsnap device, a
 *      failed call, an unexpected answer (-ESRCH, -EMEDIUMTYPE, -EPROTO)
 *   5  out of memory (-ENOMEM)
 *   6  cowsnap check or dump found a problem in the store (-EUCLEAN)
 *   7  not possible in the snapshot's state: it has ended, a merge
 *      runs, it is invalid, its origin is read-only (-EPERM)
 */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,
	EXIT_DEVICE = 2,
	EXIT_REFUSED = 3,
	EXIT_DM = 4,
	EXIT_NOMEM = 5,
	EXIT_CORRUPT = 6,
	EXIT_STATE = 7,
};

static int exit_status(int r)
{
	switch (r) {
	case 0:
		return EXIT_OK;
	case -EINVAL:
		return EXIT_USAGE;
	case -EEXIST:
		return EXIT_REFUSED;
	case -ESRCH:
	case -EMEDIUMTYPE:
	case -EPROTO:
		return EXIT_DM;
	case -ENOMEM:
		return EXIT_NOMEM;
	case -EUCLEAN:
		return EXIT_CORRUPT;
	case -EPERM:
		return EXIT_STATE;
	default:
		return EXIT_DEVICE;
	}
}

int cs_option_error(int c, char **argv, char *err)
{
	const char *opt = argv[optind - 1];
	bool is_long = !strncmp(opt, "--", 2);

	if (c == ':' && is_long)
		return cs_error(err, -EINVAL,
				"option '%s' requires an argument", opt);
	if (c == ':')
		return cs_error(err, -EINVAL,
				"option requires an argument -- '%c'", optopt);
	if (is_long && optopt)
		return cs_error(err, -EINVAL,
				"option '%.*s' doesn't allow an argument",
				(int)strcspn(opt, "="), opt);
	if (is_long)
		return cs_error(err, -EINVAL, "unrecognized option '%s'", opt);
	return cs_error(err, -EINVAL, "invalid option -- '%c'", optopt);
}

int cs_extra_argument(const char *arg, char *err)
{
	return cs_error(err, -EINVAL, "unexpected argument '%s'", arg);
}

int cs_parse_json_args(int argc, char **argv, void (*usage)(void),
		       bool *json, const char **arg, bool required,
		       const char *missing, char *err)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, ":Jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'J':
			*json = true;
			break;
		case 'h':
			usage();
			return 1;
		default:
			return cs_option_error(c, argv, err);
		}
	}
	if (optind >= argc && !required)
		return 0;
	return cs_one_operand(argc, argv, missing, arg, err);
}

int cs_one_operand(int argc, char **argv, const char *missing,
		   const char **arg, char *err)
{
	if (optind >= argc)
		return cs_error(err, -EINVAL, "%s", missing);
	*arg = argv[optind++];
	if (optind < argc)
		return cs_extra_argument(argv[optind], err);
	return 0;
}

static void usage(void)
{
	size_t i;

	printf("Usage:\n"
	       " cowsnap <command> [options]\n"
	       " cowsnap --help | --version\n"
	       "\n"
	       "Snapshots of a block device with dm-cowsnap.\n"
	       "\n"
	       "Commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		printf(" %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\n"
	       "Options:\n"
	       " -h, --help     display this help\n"
	       " -V, --version  display the version\n"
	       "\n"
	       "Run 'cowsnap <command> --help' for a command's options.\n"
	       "For more details see cowsnap(8).\n");
}

static const struct cs_command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/*
 * The options before the command.  Sets *@cmd, or leaves it NULL when
 * --help or --version was handled.
 */
static int parse_global(int argc, char **argv, const struct cs_command **cmd,
			char *err)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*cmd = NULL;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return 0;
		case 'V':
			cs_print_version();
			return 0;
		default:
			return cs_option_error(c, argv, err);
		}
	}
	if (optind >= argc)
		return cs_error(err, -EINVAL, "no command given");
	*cmd = find_command(argv[optind]);
	if (!*cmd)
		return cs_error(err, -EINVAL, "unknown command '%s'",
				argv[optind]);
	return 0;
}

/* A failure to write stdout counts as an error, as in util-linux. */
static int flush_stdout(int r, char *err)
{
	int e;

	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return r;
	e = errno ? errno : EIO;
	if (r)
		return r;
	return cs_error(err, e == EINVAL ? -EIO : -e,
			"cannot write the output: %s", strerror(e));
}

int main(int argc, char **argv)
{
	static char err[CS_ERRLEN];
	const struct cs_command *cmd;
	int r;

	cs_dm_init();
	r = parse_global(argc, argv, &cmd, err);
	if (!r && cmd) {
		argc -= optind;
		argv += optind;
		optind = 0;	/* glibc: reinitialise for the command */
		r = cmd->run(argc, argv, err);
	}
	r = flush_stdout(r, err);
	if (r) {
		fprintf(stderr, "cowsnap: %s\n",
			err[0] ? err : strerror(-r));
		if (r == -EINVAL)
			fprintf(stderr, "Try 'cowsnap %s%s--help'.\n",
				cmd ? cmd->name : "", cmd ? " " : "");
	}
	return exit_status(r);
}
