/*
 * out.c: the one way symgrad writes a file (generated C, headers, LaTeX,
 * parameter files, CSV logs, graphs, depfiles).
 *
 * An output is opened, written through a stdio stream, and then committed
 * or aborted.  What happens depends on what the path names:
 *
 *   "-"                   standard output; committing flushes it and
 *                         reports a write error.
 *   a regular file, or    the bytes go to a temporary file in the same
 *   a name not yet used   directory, ".BASE.sgtmp.PID.RANDOM"; committing
 *                         flushes and fsyncs it, then renames it over the
 *                         target, so a reader sees the old file or the new
 *                         one, never half of either.  A replaced file keeps
 *                         its mode (and, for root, its owner); a new one
 *                         gets 0666 under the umask.
 *   a symbolic link       is followed: the link stays, its target is
 *                         written as above (created if it does not exist).
 *   a device, FIFO or     written in place: renaming over /dev/null would
 *   socket                replace the device with a regular file.
 *   a directory           an error.
 *
 * Several outputs committed together are all flushed to disk before any is
 * renamed, so a write failure (ENOSPC, EIO) leaves every target as it was.
 * Every failure is an error naming the file and the reason.
 *
 * Interruption.  While a temporary file exists its name is in a list that a
 * handler for SIGINT, SIGTERM and SIGHUP removes before the process dies of
 * the signal (the name is listed before the file is created, with those
 * signals blocked, so there is no window).  The handlers are installed only
 * while some output is open, and the previous ones are put back after; a
 * signal the process ignores stays ignored.
 * SIGKILL cannot be caught: it can leave a temporary file behind.  Its name
 * carries the writer's pid, and the writer holds an flock on it, so a later
 * output to the same target removes it when it can prove the writer is dead:
 * no process has that pid (kill(pid, 0) fails with ESRCH) and the lock can
 * be taken.  A live writer's file always fails one of the two tests.
 *
 * This is the runtime's one piece of global state (a signal handler has no
 * other way in); outputs are not meant to be opened from several threads.
 */
#define _DEFAULT_SOURCE /* realpath, flock */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symgrad.h"

enum { OUT_STDOUT, OUT_ATOMIC, OUT_IN_PLACE };

struct sg_out {
	int kind;
	FILE *f;
	int fd;
	char *path;   /* the name the user gave, for messages */
	char *target; /* the file renamed over (symbolic links resolved) */
	char *tmp;    /* OUT_ATOMIC: the temporary file */
	int slot;     /* its index in the pending list */
};

/* ---- the list of temporary files, for the signal handler ---- */

#define MAX_PENDING 64

static char *volatile pending[MAX_PENDING];
static int n_open; /* outputs with a temporary file */
static const int guarded[] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction saved[3];

/* Removes every pending temporary file, restores the signal's previous
 * action and raises it again (only async-signal-safe calls). */
static void on_signal(int sig)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (pending[i])
			unlink(pending[i]);
	for (int i = 0; i < 3; i++)
		if (guarded[i] == sig)
			sigaction(sig, &saved[i], NULL);
	raise(sig);
}

/* Blocks (how = SIG_BLOCK) or restores the guarded signals. */
static void block_signals(int how, sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	for (int i = 0; i < 3; i++)
		sigaddset(&set, guarded[i]);
	sigprocmask(how, how == SIG_BLOCK ? &set : old, how == SIG_BLOCK ? old : NULL);
}

/* Lists name (signals blocked by the caller); the slot, or -1 when full. */
static int list_pending(char *name)
{
	for (int i = 0; i < MAX_PENDING; i++) {
		if (pending[i])
			continue;
		pending[i] = name;
		if (n_open++ == 0) {
			struct sigaction sa;
			memset(&sa, 0, sizeof sa);
			sa.sa_handler = on_signal;
			sigemptyset(&sa.sa_mask);
			/* a signal the process ignores (nohup, a background
			 * job's SIGINT) stays ignored */
			for (int k = 0; k < 3; k++)
				if (sigaction(guarded[k], NULL, &saved[k]) == 0 &&
				    saved[k].sa_handler != SIG_IGN)
					sigaction(guarded[k], &sa, NULL);
		}
		return i;
	}
	return -1;
}

/* Takes slot off the list; the last one puts the old handlers back. */
static void unlist_pending(int slot)
{
	sigset_t old;
	block_signals(SIG_BLOCK, &old);
	pending[slot] = NULL;
	if (--n_open == 0)
		for (int k = 0; k < 3; k++)
			sigaction(guarded[k], &saved[k], NULL);
	block_signals(SIG_SETMASK, &old);
}

/* ---- paths ---- */

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	return d ? memcpy(d, s, n) : NULL;
}

/* The directory part of path ("." when none, "/" for "/x"), malloc'd. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return dup_str(".");
	if (slash == path)
		return dup_str("/");
	char *d = malloc((size_t)(slash - path) + 1);
	if (d) {
		memcpy(d, path, (size_t)(slash - path));
		d[slash - path] = '\0';
	}
	return d;
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* The file a write to path lands in: path itself, or the end of its chain
 * of symbolic links, which need not exist yet (malloc'd); NULL with *err
 * on a loop. */
static char *resolve(const char *path, sg_error *err)
{
	char *cur = dup_str(path);
	struct stat st;
	for (int hops = 0; cur && lstat(cur, &st) == 0 && S_ISLNK(st.st_mode); hops++) {
		char link[PATH_MAX];
		ssize_t n = hops < 40 ? readlink(cur, link, sizeof link - 1) : -1;
		if (n < 0) {
			sg_errorf(err, "cannot write '%s': %s", path,
				  hops < 40 ? strerror(errno) : strerror(ELOOP));
			free(cur);
			return NULL;
		}
		link[n] = '\0';
		char *dir = link[0] == '/' ? NULL : dir_of(cur);
		char *next = malloc((dir ? strlen(dir) + 1 : 0) + (size_t)n + 1);
		if (next)
			sprintf(next, "%s%s%s", dir ? dir : "", dir ? "/" : "", link);
		free(dir);
		free(cur);
		cur = next;
	}
	if (!cur)
		sg_errorf(err, "out of memory");
	return cur;
}

/* ---- stale temporary files ---- */

/* True when the temporary file name in dir was left by a dead writer:
 * ".BASE.sgtmp.PID.XXXXXX" with no process PID and its lock free. */
static int is_stale(int dirfd, const char *name, const char *prefix, size_t plen)
{
	if (strncmp(name, prefix, plen) != 0)
		return 0;
	char *end;
	errno = 0;
	long pid = strtol(name + plen, &end, 10);
	if (errno || pid <= 0 || pid > INT_MAX || *end != '.' || strlen(end) != 7)
		return 0;
	if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
		return 0;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	int stale = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return stale;
}

/* Removes what dead writers to dir/base left (best effort, silent). */
static void remove_stale(const char *dir, const char *base)
{
	size_t plen = strlen(base) + 8;
	char *prefix = malloc(plen + 1);
	DIR *d = prefix ? opendir(dir) : NULL;
	if (d) {
		snprintf(prefix, plen + 1, ".%s.sgtmp.", base);
		struct dirent *e;
		while ((e = readdir(d)))
			if (is_stale(dirfd(d), e->d_name, prefix, plen))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	free(prefix);
}

/* ---- opening ---- */

/* Creates the temporary file for o->target, listed before it exists;
 * 0, or -1 with *err. */
static int open_temp(sg_out *o, const struct stat *old, sg_error *err)
{
	char *dir = dir_of(o->target);
	size_t n = strlen(o->target) + 40;
	o->tmp = malloc(n);
	if (!dir || !o->tmp) {
		free(dir);
		return sg_errorf(err, "out of memory");
	}
	snprintf(o->tmp, n, "%s/.%s.sgtmp.%ld.XXXXXX", dir, base_of(o->target), (long)getpid());
	sigset_t mask;
	block_signals(SIG_BLOCK, &mask);
	o->slot = list_pending(o->tmp);
	o->fd = o->slot < 0 ? -1 : mkstemp(o->tmp);
	int saved_errno = errno;
	if (o->slot >= 0 && o->fd < 0)
		unlist_pending(o->slot), o->slot = -1;
	block_signals(SIG_SETMASK, &mask);
	if (o->fd < 0) {
		sg_errorf(err, "cannot write '%s': %s", o->path,
			  o->slot < 0 && saved_errno == 0 ? "too many open outputs"
							  : strerror(saved_errno));
		free(dir);
		return -1;
	}
	flock(o->fd, LOCK_EX | LOCK_NB);
	remove_stale(dir, base_of(o->target));
	free(dir);
	mode_t mask_bits = umask(0);
	umask(mask_bits);
	if (old && getuid() == 0)
		(void)!fchown(o->fd, old->st_uid, old->st_gid);
	fchmod(o->fd, old ? old->st_mode & 07777 : 0666 & ~mask_bits);
	return 0;
}

sg_out *sg_out_open(const char *path, sg_error *err)
{
	sg_out *o = calloc(1, sizeof *o);
	if (!o || !(o->path = dup_str(path))) {
		free(o);
		sg_errorf(err, "out of memory");
		return NULL;
	}
	o->fd = -1;
	o->slot = -1;
	if (!strcmp(path, "-")) {
		o->kind = OUT_STDOUT;
		o->f = stdout;
		return o;
	}
	struct stat st;
	int exists;
	if (!(o->target = resolve(path, err)))
		goto fail;
	exists = stat(o->target, &st) == 0;
	if (exists && S_ISDIR(st.st_mode)) {
		sg_errorf(err, "cannot write '%s': it is a directory", path);
		goto fail;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		o->kind = OUT_IN_PLACE;
		o->fd = open(o->target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (o->fd < 0) {
			sg_errorf(err, "cannot write '%s': %s", path, strerror(errno));
			goto fail;
		}
	} else {
		o->kind = OUT_ATOMIC;
		if (open_temp(o, exists ? &st : NULL, err) < 0)
			goto fail;
	}
	if (!(o->f = fdopen(o->fd, "w"))) {
		sg_errorf(err, "cannot write '%s': %s", path, strerror(errno));
		sg_out_abort(o);
		return NULL;
	}
	return o;
fail:
	sg_out_abort(o);
	return NULL;
}

FILE *sg_out_stream(sg_out *o)
{
	return o->f;
}

/* ---- committing ---- */

/* Flushes o (and fsyncs a temporary file, then closes it); -1 with *err. */
static int finish(sg_out *o, sg_error *err)
{
	int bad = fflush(o->f) != 0 || ferror(o->f);
	int e = bad ? (errno ? errno : EIO) : 0;
	if (!bad && o->kind == OUT_ATOMIC && fsync(o->fd) != 0)
		bad = 1, e = errno;
	if (o->kind != OUT_STDOUT) {
		if (fclose(o->f) != 0 && !bad)
			bad = 1, e = errno;
		o->f = NULL;
		o->fd = -1;
	}
	if (bad && o->kind == OUT_STDOUT)
		return sg_errorf(err, "cannot write to standard output: %s", strerror(e));
	if (bad)
		return sg_errorf(err, "cannot write '%s': %s", o->path, strerror(e));
	return 0;
}

/* Makes a rename in dir durable (best effort). */
static void sync_dir(const char *path)
{
	char *dir = dir_of(path);
	int fd = dir ? open(dir, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int sg_out_commit(sg_out **outs, int n, sg_error *err)
{
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		errno = 0;
		rc = finish(outs[i], err);
	}
	for (int i = 0; i < n && rc == 0; i++) {
		sg_out *o = outs[i];
		if (o->kind != OUT_ATOMIC)
			continue;
		if (rename(o->tmp, o->target) != 0)
			rc = sg_errorf(err, "cannot write '%s': %s", o->path, strerror(errno));
		else {
			unlist_pending(o->slot);
			o->slot = -1;
			free(o->tmp);
			o->tmp = NULL;
			sync_dir(o->target);
		}
	}
	for (int i = 0; i < n; i++)
		sg_out_abort(outs[i]);
	return rc;
}

void sg_out_abort(sg_out *o)
{
	if (!o)
		return;
	if (o->f && o->kind != OUT_STDOUT)
		fclose(o->f);
	else if (!o->f && o->fd >= 0)
		close(o->fd);
	if (o->tmp && o->slot >= 0) {
		unlink(o->tmp);
		unlist_pending(o->slot);
	}
	free(o->tmp);
	free(o->target);
	free(o->path);
	free(o);
}

int sg_write_files(int n, const char *const *paths, const char *const *texts,
		   const size_t *lens, sg_error *err)
{
	sg_out **outs = calloc((size_t)(n > 0 ? n : 1), sizeof *outs);
	int rc = outs ? 0 : sg_errorf(err, "out of memory");
	for (int i = 0; i < n && rc == 0; i++) {
		if (!(outs[i] = sg_out_open(paths[i], err)))
			rc = -1;
		else if (lens[i] && fwrite(texts[i], 1, lens[i], outs[i]->f) != lens[i])
			rc = finish(outs[i], err) < 0 ? -1
			     : sg_errorf(err, "cannot write '%s': %s", paths[i], strerror(EIO));
	}
	if (rc == 0) {
		rc = sg_out_commit(outs, n, err);
	} else {
		for (int i = 0; i < n && outs; i++)
			sg_out_abort(outs[i]);
	}
	free(outs);
	return rc;
}

int sg_write_file(const char *path, const char *text, size_t len, sg_error *err)
{
	return sg_write_files(1, &path, &text, &len, err);
}

int sg_stdout_close(sg_error *err)
{
	errno = 0;
	int flushed = fflush(stdout) == 0, e = errno;
	if (flushed && !ferror(stdout))
		return 0;
	/* stdio keeps no errno of an earlier failed write: say what is known,
	 * once (the error is cleared, so a second check passes) */
	clearerr(stdout);
	if (!flushed && e)
		return sg_errorf(err, "cannot write to standard output: %s", strerror(e));
	return sg_errorf(err, "cannot write to standard output: part of the output was lost");
}
