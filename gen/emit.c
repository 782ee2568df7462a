/*
 * emit.c: the generator's output files.
 *
 * Every file symgrad writes goes through the runtime's out.c (regular files
 * atomically, devices and FIFOs in place, "-" to standard output, temporary
 * files removed on SIGINT/SIGTERM/SIGHUP); here a failure becomes the
 * generator's fatal error, so nothing after it runs.
 */
#include "sg.h"
#include "symgrad.h"

void emit_files(const char *const *paths, const char *const *texts, const size_t *lens, int n)
{
	sg_error err;
	if (sg_write_files(n, paths, texts, lens, &err) < 0)
		diag_fatal("%s", err.msg);
}

void emit_file(const char *path, const char *text, size_t len)
{
	emit_files(&path, &text, &len, 1);
}
