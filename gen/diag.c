/*
 * diag.c: the two tiers of failure.
 *
 * Bad input gets `file:line:col: error: message`, the source line and a caret
 * under the offending token (`^~~~`), then exit status 1.  A broken
 * invariant is the generator's bug: it names the C file and line and aborts.
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"

static void (*exit_hook)(void);
static jmp_buf *recover;

/* Where a message's location was reached from (a def's body from its
 * call), innermost last; printed as notes after the message. */
#define MAX_NOTES (SG_MAX_DEPTH + 1)
typedef struct Note {
	Loc loc;
	const char *msg;
} Note;
static Note notes[MAX_NOTES];
static int n_notes;

void diag_push_note(Loc loc, const char *msg)
{
	if (n_notes < MAX_NOTES)
		notes[n_notes] = (Note){loc, msg};
	n_notes++;
}

void diag_pop_note(void)
{
	n_notes--;
}

void diag_set_recover(jmp_buf *jb)
{
	recover = jb;
}

void diag_set_exit_hook(void (*hook)(void))
{
	exit_hook = hook;
}

/* Prints the source line holding loc and a caret line under its token. */
static void show_line(Loc loc)
{
	const Source *s = loc.src;
	if (!s || !s->text || loc.line < 1)
		return;
	const char *p = s->text, *end = s->text + s->len;
	for (int l = 1; l < loc.line && p < end; p++)
		if (*p == '\n')
			l++;
	const char *q = p;
	while (q < end && *q != '\n')
		q++;
	if (q > p && q[-1] == '\r')
		q--;
	fprintf(stderr, "%.*s\n", (int)(q - p), p);
	/* Tabs are kept so the caret lines up in a terminal. */
	for (int i = 1; i < loc.col && p + i - 1 < q; i++)
		fputc(p[i - 1] == '\t' ? '\t' : ' ', stderr);
	fputc('^', stderr);
	for (int i = 1; i < loc.len; i++)
		fputc('~', stderr);
	fputc('\n', stderr);
}

static void report(Loc loc, const char *kind, const char *fmt, va_list ap)
{
	if (loc.src)
		fprintf(stderr, "%s:%d:%d: %s: ", loc.src->path, loc.line, loc.col, kind);
	else
		fprintf(stderr, "symgrad: %s: ", kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	show_line(loc);
	int n = n_notes < MAX_NOTES ? n_notes : MAX_NOTES, shown = 0;
	for (int i = n - 1; i >= 0 && shown < 8; i--, shown++) {
		Loc at = notes[i].loc;
		fprintf(stderr, "%s:%d:%d: note: %s\n", at.src->path, at.line, at.col, notes[i].msg);
		show_line(at);
	}
	if (n_notes > shown)
		fprintf(stderr, "symgrad: note: and %d calls more, outward\n", n_notes - shown);
}

/* Ends the compilation with status (1: bad input, 2: bad command line):
 * back to the fuzz harness when one set a recovery point, otherwise exit
 * after the cleanup hook. */
SG_NORETURN static void die_with(int status)
{
	n_notes = 0; /* the fuzz harness goes on with another input */
	if (recover)
		longjmp(*recover, 1);
	if (exit_hook)
		exit_hook();
	exit(status);
}

SG_NORETURN static void die(void)
{
	die_with(1);
}

void diag_error(Loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(loc, "error", fmt, ap);
	va_end(ap);
	die();
}

void diag_warning(Loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(loc, "warning", fmt, ap);
	va_end(ap);
}

/* "symgrad: error: MESSAGE", then the end with status. */
SG_NORETURN static void fail_with(int status, const char *fmt, va_list ap)
{
	fputs("symgrad: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	die_with(status);
}

void diag_fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_with(1, fmt, ap);
}

void diag_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_with(2, fmt, ap);
}

void diag_report(const char *where, const char *msg)
{
	size_t n = strlen(where);
	if (!strncmp(msg, where, n) && msg[n] == ':')
		fprintf(stderr, "%s\n", msg); /* Lua's own "file:line: message" */
	else
		fprintf(stderr, "%s: error: %s\n", where, msg);
}

void diag_exit(void)
{
	die();
}

void diag_internal(const char *file, int line, const char *msg)
{
	fprintf(stderr, "symgrad: internal error at %s:%d: %s\n", file, line, msg);
	abort();
}
