/*
 * helpers.h: small utilities shared by the runtime's Criterion tests:
 * files, temporary directories and capturing stdout/stderr.
 */
#ifndef SG_TEST_HELPERS_H
#define SG_TEST_HELPERS_H

#include <stddef.h>
#include <stdio.h>

/* The committed test data directory (tests/runtime/data). */
#ifndef SG_TEST_DATA
#error "SG_TEST_DATA must name tests/runtime/data"
#endif

/* Reads a whole file (malloc'd, NUL-terminated); aborts the test on error. */
char *th_read_file(const char *path);
/* Writes text to path; aborts the test on error. */
void th_write_file(const char *path, const char *text);
/* A fresh directory under $TMPDIR or /tmp (malloc'd path). */
char *th_tmpdir(void);
/* dir/name in a static-free malloc'd string. */
char *th_path(const char *dir, const char *name);
/* Removes dir and everything in it. */
void th_rm_rf(const char *dir);
/* Number of entries in dir (without . and ..). */
int th_count_entries(const char *dir);

/* A redirected stream: fd 1 or 2 sent to a temporary file. */
typedef struct th_capture {
	int fd, saved;
	FILE *tmp;
} th_capture;

/* Starts sending fd (1 or 2) to a temporary file. */
void th_capture_begin(th_capture *c, int fd);
/* Restores fd and returns what was written (malloc'd). */
char *th_capture_end(th_capture *c);

/* Runs cmd(m, argc, argv) with stdout and stderr captured; returns the
 * exit status, *out and *err get the texts (malloc'd; NULL to drop). */
struct sg_model;
int th_run(int (*cmd)(const struct sg_model *, int, char **),
	   const struct sg_model *m, char **argv, char **out, char **err);

#endif
