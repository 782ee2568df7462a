/*
 * helpers.h: running the generator's passes on a model given as a string,
 * for white-box tests.  Bad input is caught through diag_set_recover, so a
 * test can look at the message instead of dying with the process.
 *
 * Memory: everything these helpers return (a Unit and all it holds, captured
 * text, rendered files, unit_eval's values, unit_keep'd pointers) belongs to
 * the helpers and is freed when the test ends; a test never frees it.
 * Criterion runs each test in its own process, so "when the test ends" is an
 * atexit handler, which runs before LeakSanitizer's own exit check.
 */
#ifndef UNIT_HELPERS_H
#define UNIT_HELPERS_H

#include "sg.h"

/* One compilation of a model text, as far as it got. */
typedef struct Unit {
	Compile c;
	Token *toks;
	int n_toks;
	char *err;          /* everything written to stderr, or "" */
	bool failed;        /* a diagnostic ended the compilation */
} Unit;

/* Lexes text (path "t.sg"); on an error, failed is set and err holds it. */
Unit *unit_lex(const char *text, size_t len);
/* Runs lex..sched in dtype dt (path "t.sg"); on an error, failed is set. */
Unit *unit_compile(const char *text, Dtype dt);
/* Like unit_compile, but a failure fails the test, printing the message. */
Unit *unit_ok(const char *text);
/* The text parse_dump prints for binding `name`: "yhat = (* x w)". */
const char *unit_ast(Unit *u, const char *name);
/* The node of the binding or leaf called name. */
Node *unit_node(Unit *u, const char *name);
/* The gradient node of param name. */
Node *unit_grad(Unit *u, const char *name);
/* Evaluates every node at params/inputs (each by name: "w=1,x=2"); returns
 * vals, in u's arena. */
double *unit_eval(Unit *u, const char *at);
/* Value of node n after unit_eval. */
#define VAL(vals, n) ((vals)[(n)->id])
/* Number of nodes with operator op. */
int unit_count(const Dag *d, Op op);
/* Renders through a template given as Lua source; returns the number of
 * files (or -1), with stderr captured into *err. */
int unit_render(Unit *u, const char *name, const char *src, size_t len, TmplFile **files,
		char **err);

/* Captures what f(arg) writes to stderr (fd 2) into a string. */
char *capture_stderr(void (*f)(void *), void *arg);
/* Frees p (from malloc) when the test ends; returns p. */
void *unit_keep(void *p);
/* A new arena, freed when the test ends. */
Arena *unit_arena(void);

#endif
