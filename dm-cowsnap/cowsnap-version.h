/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-cowsnap release version, shared by the module and the tool.
 * The dm target version (major.minor.patch) follows it.
 */
#ifndef COWSNAP_VERSION_H
#define COWSNAP_VERSION_H

#define COWSNAP_VERSION_MAJOR	0
#define COWSNAP_VERSION_MINOR	1
#define COWSNAP_VERSION_PATCH	0
#define COWSNAP_VERSION		"0.1.0"

#endif /* COWSNAP_VERSION_H */
