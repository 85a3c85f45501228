// SPDX-License-Identifier: GPL-2.0-only
/*
 * lw-replay: read a dm-log-writes log, for the crash scenario
 * (tests/vm/19-cache-loss.sh).
 *
 * dm-log-writes logs a write only once a flush has covered it (or at
 * once if it is FUA), in the order the writes completed, so each prefix
 * of the log is what a disk with a volatile cache may hold after a power
 * cut, the worst case of losing whatever was not flushed.  The format
 * (Documentation/admin-guide/device-mapper/log-writes.rst and
 * drivers/md/dm-log-writes.c): a super block in the device's first
 * logical block, then for each entry a block holding its header (and a
 * mark's text), followed by the written data unless it is a discard;
 * sectors and counts are in the logged device's logical blocks.
 *
 *   lw-replay list LOG
 *	one line per entry: index, flags (F flush, U fua, D discard,
 *	M mark, W a write with data), sector, sectors, a mark's text
 *   lw-replay replay LOG DEV FROM TO
 *	apply entries FROM..TO-1 to DEV (discards write zeros), then
 *	fsync DEV
 *
 * Exits 1 with a message on a foreign or damaged log, or an I/O error.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"

#define LOG_FLUSH_FLAG		(1 << 0)
#define LOG_FUA_FLAG		(1 << 1)
#define LOG_DISCARD_FLAG	(1 << 2)
#define LOG_MARK_FLAG		(1 << 3)
#define LOG_METADATA_FLAG	(1 << 4)
#define WRITE_LOG_VERSION	1ULL
#define WRITE_LOG_MAGIC		0x6a736677736872ULL

struct log_write_super {
	uint64_t magic;
	uint64_t version;
	uint64_t nr_entries;
	uint32_t sectorsize;
} __attribute__((packed));

struct log_write_entry {
	uint64_t sector;
	uint64_t nr_sectors;
	uint64_t flags;
	uint64_t data_len;
} __attribute__((packed));

/* An entry as read, and where its data is in the log. */
struct entry {
	uint64_t sector, nr_sectors, flags, data_len;
	off_t data;		/* byte offset in the log */
	char mark[256];
};

struct log {
	int fd;
	uint32_t bsize;		/* the logged device's logical block */
	uint64_t nr_entries;
	off_t next;		/* byte offset of the next entry */
};

static void die(const char *what)
{
	fprintf(stderr, "lw-replay: %s: %s\n", what,
		errno ? strerror(errno) : "unexpected data");
	exit(1);
}

static void read_at(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = cs_pread_full(fd, buf, len, off);

	if (n != (ssize_t)len) {
		errno = n < 0 ? -n : 0;
		die("read of the log");
	}
}

static void write_at(int fd, const void *buf, size_t len, off_t off)
{
	int r = cs_pwrite_full(fd, buf, len, off);

	if (r) {
		errno = -r;
		die("write to the replay device");
	}
}

static void log_open(struct log *lg, const char *path)
{
	struct log_write_super super;

	lg->fd = open(path, O_RDONLY);
	if (lg->fd < 0)
		die(path);
	read_at(lg->fd, &super, sizeof(super), 0);
	errno = 0;
	if (le64toh(super.magic) != WRITE_LOG_MAGIC)
		die("not a dm-log-writes log (magic)");
	if (le64toh(super.version) != WRITE_LOG_VERSION)
		die("log version not 1");
	lg->bsize = le32toh(super.sectorsize);
	if (lg->bsize < 512 || lg->bsize > 65536 || (lg->bsize & (lg->bsize - 1)))
		die("log block size");
	lg->nr_entries = le64toh(super.nr_entries);
	lg->next = lg->bsize;
}

/* Read the next entry's header into @e and step over its data. */
static void log_next(struct log *lg, struct entry *e)
{
	struct log_write_entry raw;
	size_t len;

	read_at(lg->fd, &raw, sizeof(raw), lg->next);
	e->sector = le64toh(raw.sector);
	e->nr_sectors = le64toh(raw.nr_sectors);
	e->flags = le64toh(raw.flags);
	e->data_len = le64toh(raw.data_len);
	e->mark[0] = '\0';
	errno = 0;
	if (e->flags & LOG_METADATA_FLAG)
		die("metadata entries are not supported");
	if (e->flags & LOG_MARK_FLAG) {
		len = e->data_len;
		if (len >= sizeof(e->mark) || len > lg->bsize - sizeof(raw))
			die("mark too long");
		read_at(lg->fd, e->mark, len, lg->next + sizeof(raw));
		e->mark[len] = '\0';
	}
	e->data = lg->next + lg->bsize;
	lg->next = e->data;
	if (!(e->flags & LOG_DISCARD_FLAG))
		lg->next += (off_t)e->nr_sectors * lg->bsize;
}

static void list(struct log *lg)
{
	struct entry e;
	uint64_t i;

	for (i = 0; i < lg->nr_entries; i++) {
		log_next(lg, &e);
		printf("%" PRIu64 " %s%s%s%s%s %" PRIu64 " %" PRIu64 "%s%s\n", i,
		       e.flags & LOG_FLUSH_FLAG ? "F" : "",
		       e.flags & LOG_FUA_FLAG ? "U" : "",
		       e.flags & LOG_DISCARD_FLAG ? "D" : "",
		       e.flags & LOG_MARK_FLAG ? "M" : "",
		       !(e.flags & (LOG_DISCARD_FLAG | LOG_MARK_FLAG)) &&
		       e.nr_sectors ? "W" : "-",
		       e.sector, e.nr_sectors, e.mark[0] ? " " : "", e.mark);
	}
}

/* Apply entry @e to @dev. */
static void apply(struct log *lg, const struct entry *e, int dev, char *buf,
		  size_t buf_len)
{
	off_t to = (off_t)e->sector * lg->bsize, from = e->data;
	size_t left = e->nr_sectors * lg->bsize, n;

	if (e->flags & LOG_MARK_FLAG)
		return;
	if (e->flags & LOG_DISCARD_FLAG)
		memset(buf, 0, buf_len);
	while (left) {
		n = left < buf_len ? left : buf_len;
		if (!(e->flags & LOG_DISCARD_FLAG))
			read_at(lg->fd, buf, n, from);
		write_at(dev, buf, n, to);
		left -= n;
		from += n;
		to += n;
	}
}

static void replay(struct log *lg, const char *path, uint64_t from,
		   uint64_t to)
{
	size_t buf_len = 1 << 20;
	char *buf = malloc(buf_len);
	struct entry e;
	uint64_t i;
	int dev;

	errno = 0;
	if (!buf)
		die("memory");
	if (from > to || to > lg->nr_entries)
		die("entries asked for are not in the log");
	dev = open(path, O_WRONLY);
	if (dev < 0)
		die(path);
	for (i = 0; i < to; i++) {
		log_next(lg, &e);
		if (i >= from)
			apply(lg, &e, dev, buf, buf_len);
	}
	if (fsync(dev) || close(dev))
		die("fsync of the replay device");
	free(buf);
}

int main(int argc, char **argv)
{
	struct log lg;

	if (argc == 3 && !strcmp(argv[1], "list")) {
		log_open(&lg, argv[2]);
		list(&lg);
	} else if (argc == 6 && !strcmp(argv[1], "replay")) {
		log_open(&lg, argv[2]);
		replay(&lg, argv[3], strtoull(argv[4], NULL, 0),
		       strtoull(argv[5], NULL, 0));
	} else {
		fprintf(stderr, "usage: lw-replay list LOG\n"
			"       lw-replay replay LOG DEV FROM TO\n");
		return 2;
	}
	return 0;
}
