/*
 * helpers.c: see helpers.h.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "helpers.h"
#include "symgrad.h"

/* Reads a whole file. */
char *th_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t len = 0, cap = 4096, n;
	char *buf;

	if (!f)
		cr_fatal("cannot open %s", path);
	buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	if (!buf)
		cr_fatal("out of memory");
	buf[len] = '\0';
	return buf;
}

/* Writes text to path. */
void th_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		cr_fatal("cannot write %s", path);
}

/* A fresh temporary directory. */
char *th_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = th_path(base && *base ? base : "/tmp", "sgtest.XXXXXX");

	if (!mkdtemp(dir))
		cr_fatal("mkdtemp failed");
	return dir;
}

/* dir/name. */
char *th_path(const char *dir, const char *name)
{
	char *s = malloc(strlen(dir) + strlen(name) + 2);

	sprintf(s, "%s/%s", dir, name);
	return s;
}

/* Removes dir recursively. */
void th_rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;

	if (!d) {
		unlink(dir);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char *p;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = th_path(dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			th_rm_rf(p);
		else
			unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

/* Entries in dir. */
int th_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Sends fd to a temporary file. */
void th_capture_begin(th_capture *c, int fd)
{
	fflush(fd == 1 ? stdout : stderr);
	c->fd = fd;
	c->saved = dup(fd);
	c->tmp = tmpfile();
	if (c->saved < 0 || !c->tmp || dup2(fileno(c->tmp), fd) < 0)
		cr_fatal("capture failed");
}

/* Restores fd; returns the captured text. */
char *th_capture_end(th_capture *c)
{
	size_t len = 0, cap = 4096, n;
	char *buf = malloc(cap);

	fflush(c->fd == 1 ? stdout : stderr);
	dup2(c->saved, c->fd);
	close(c->saved);
	rewind(c->tmp);
	while ((n = fread(buf + len, 1, cap - len - 1, c->tmp)) > 0) {
		len += n;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	fclose(c->tmp);
	return buf;
}

/* Runs a subcommand with both streams captured. */
int th_run(int (*cmd)(const struct sg_model *, int, char **),
	   const struct sg_model *m, char **argv, char **out, char **err)
{
	th_capture co, ce;
	char *o, *e;
	int argc = 0, rc;

	while (argv[argc])
		argc++;
	th_capture_begin(&co, 1);
	th_capture_begin(&ce, 2);
	rc = cmd(m, argc, argv);
	e = th_capture_end(&ce);
	o = th_capture_end(&co);
	if (out)
		*out = o;
	else
		free(o);
	if (err)
		*err = e;
	else
		free(e);
	return rc;
}
