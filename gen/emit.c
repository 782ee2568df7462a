/*
 * emit.c: writing output files so a failure never leaves a partial one.
 *
 * A regular file is written to a temporary file in the same directory,
 * flushed to disk and renamed over the target, so readers see the old file
 * or the new one, never half of either.  A target that exists and is not a
 * regular file (a terminal, a pipe, /dev/null) is written in place, since
 * renaming over a device would replace it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sg.h"

static bool write_all(int fd, const char *text, size_t len)
{
	while (len) {
		ssize_t w = write(fd, text, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		text += w;
		len -= (size_t)w;
	}
	return true;
}

static bool write_in_place(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return false;
	bool ok = write_all(fd, text, len);
	return close(fd) == 0 && ok;
}

bool emit_write_atomic(const char *path, const char *text, size_t len)
{
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return write_in_place(path, text, len);
	size_t n = strlen(path);
	char *tmp = xrealloc(NULL, n + 16);
	snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		return false;
	}
	bool ok = write_all(fd, text, len) && fsync(fd) == 0;
	int saved = errno;
	ok = close(fd) == 0 && ok;
	/* mkstemp makes 0600; give the file the usual mode under the umask */
	mode_t mask = umask(0);
	umask(mask);
	ok = ok && chmod(tmp, 0666 & ~mask) == 0;
	ok = ok && rename(tmp, path) == 0;
	if (!ok) {
		saved = errno ? errno : saved;
		unlink(tmp);
		errno = saved;
	}
	free(tmp);
	return ok;
}
