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
#include <signal.h>
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

/* Writes text to a new temporary file beside path, flushed to disk;
 * returns its name (malloc'd) or NULL with errno set. */
static char *write_temp(const char *path, const char *text, size_t len)
{
	size_t n = strlen(path);
	char *tmp = xrealloc(NULL, n + 16);
	snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		return NULL;
	}
	bool ok = write_all(fd, text, len) && fsync(fd) == 0;
	int saved = errno;
	ok = close(fd) == 0 && ok;
	/* mkstemp makes 0600; give the file the usual mode under the umask */
	mode_t mask = umask(0);
	umask(mask);
	ok = ok && chmod(tmp, 0666 & ~mask) == 0;
	if (!ok) {
		saved = errno ? errno : saved;
		unlink(tmp);
		free(tmp);
		errno = saved;
		return NULL;
	}
	return tmp;
}

/* The temporary files being written, for the signal handler: the one
 * piece of global state, since a signal handler has no other way in. */
static char **pending;
static volatile sig_atomic_t n_pending;

/* SIGINT, SIGTERM, SIGHUP while files are written: remove the temporary
 * files (unlink is async-signal-safe), then die of the signal as usual. */
static void on_signal(int sig)
{
	for (int i = 0; i < n_pending; i++)
		if (pending[i])
			unlink(pending[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void guard(char **tmp, int n)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	pending = tmp;
	n_pending = n;
	for (int i = 0; i < 3; i++)
		signal(sigs[i], tmp ? on_signal : SIG_DFL);
}

int emit_write_all(const char *const *paths, const char *const *texts, const size_t *lens,
		   int n)
{
	char **tmp = xrealloc(NULL, (size_t)(n ? n : 1) * sizeof *tmp);
	for (int i = 0; i < n; i++)
		tmp[i] = NULL;
	guard(tmp, n);
	int failed = -1;
	/* Phase 1: every file's bytes on disk, beside its target. */
	for (int i = 0; i < n && failed < 0; i++) {
		struct stat st;
		if (stat(paths[i], &st) == 0 && !S_ISREG(st.st_mode)) {
			if (!write_in_place(paths[i], texts[i], lens[i]))
				failed = i;
		} else if (!(tmp[i] = write_temp(paths[i], texts[i], lens[i]))) {
			failed = i;
		}
	}
	/* Phase 2: all of them in place, or none. */
	for (int i = 0; i < n && failed < 0; i++)
		if (tmp[i] && rename(tmp[i], paths[i]) != 0)
			failed = i;
	int saved = errno;
	guard(NULL, 0);
	for (int i = 0; i < n; i++) {
		if (i <= failed || failed < 0) {
			if (failed >= 0 && tmp[i])
				unlink(tmp[i]);
			free(tmp[i]);
		}
	}
	free(tmp);
	errno = saved;
	return failed;
}

bool emit_write_atomic(const char *path, const char *text, size_t len)
{
	return emit_write_all(&path, &text, &len, 1) < 0;
}
