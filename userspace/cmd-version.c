// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowsnap version: print the version of the tool, which is the version
 * of dm-cowsnap it was built with (dm-cowsnap/cowsnap-version.h).
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "cowsnap-version.h"

void cs_print_version(void)
{
	printf("cowsnap %s\n", COWSNAP_VERSION);
}

static void usage(void)
{
	printf("Usage:\n"
	       " cowsnap version\n"
	       "\n"
	       "Print the version of cowsnap.\n"
	       "\n"
	       "Options:\n"
	       " -h, --help  display this help\n");
}

int cmd_version(int argc, char **argv, char *err)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c != 'h')
			return cs_option_error(c, argv, err);
		usage();
		return 0;
	}
	if (optind < argc)
		return cs_extra_argument(argv[optind], err);
	cs_print_version();
	return 0;
}
