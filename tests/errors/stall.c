/*
 * stall.c: an LD_PRELOAD shim for interrupted.sh.  Its fsync, on a regular
 * file under the directory $SG_STALL_DIR (a writer's temporary file: only
 * those are fsync'ed), writes the file's name into $SG_STALL_DIR/marker and
 * then waits for a signal forever: the writer is stopped exactly while its
 * temporary file exists, fully written, so a test can interrupt it there
 * and nowhere else.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fsync(int fd)
{
	char link[64], name[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, name, sizeof name - 1);
	const char *dir = getenv("SG_STALL_DIR");
	struct stat st;
	if (n > 0 && dir && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		name[n] = '\0';
		if (!strncmp(name, dir, strlen(dir)) && name[strlen(dir)] == '/') {
			char marker[PATH_MAX];
			snprintf(marker, sizeof marker, "%s/marker", dir);
			int m = open(marker, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (m >= 0) {
				dprintf(m, "%s\n", name);
				close(m);
			}
			for (;;)
				pause();
		}
	}
	int (*real)(int);
	*(void **)&real = dlsym(RTLD_NEXT, "fsync");
	return real(fd);
}
