/* helpers.c: see helpers.h. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

/* ---- what the helpers own until the test ends ---- */

static void **kept;
static size_t n_kept;
static Arena **arenas;
static size_t n_arenas;

/* Frees everything kept.  Registered with atexit on first use, so it runs
 * before LeakSanitizer's check, which the runtime registered at start-up. */
static void release_all(void)
{
	for (size_t i = 0; i < n_kept; i++)
		free(kept[i]);
	for (size_t i = 0; i < n_arenas; i++)
		arena_free(arenas[i]);
	free(kept);
	free(arenas);
	kept = NULL, arenas = NULL;
	n_kept = n_arenas = 0;
}

static void first_use(void)
{
	static bool registered;
	if (!registered)
		registered = atexit(release_all) == 0;
	cr_assert(registered, "atexit failed");
}

void *unit_keep(void *p)
{
	first_use();
	kept = xrealloc(kept, (n_kept + 1) * sizeof *kept);
	kept[n_kept++] = p;
	return p;
}

Arena *unit_arena(void)
{
	first_use();
	arenas = xrealloc(arenas, (n_arenas + 1) * sizeof *arenas);
	return arenas[n_arenas++] = arena_new();
}

/* ---- compiling a model text ---- */

char *capture_stderr(void (*f)(void *), void *arg)
{
	fflush(stderr);
	FILE *tmp = tmpfile();
	cr_assert(tmp != NULL);
	int saved = dup(2);
	dup2(fileno(tmp), 2);
	f(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fseek(tmp, 0, SEEK_END);
	long n = ftell(tmp);
	rewind(tmp);
	char *s = calloc((size_t)n + 1, 1);
	if (fread(s, 1, (size_t)n, tmp) != (size_t)n)
		cr_fatal("cannot read captured stderr");
	fclose(tmp);
	return unit_keep(s);
}

typedef struct Job {
	Unit *u;
	bool lex_only;
} Job;

static void run(void *arg)
{
	Job *j = arg;
	Unit *u = j->u;
	jmp_buf jb;
	diag_set_recover(&jb);
	if (setjmp(jb) == 0) {
		if (j->lex_only)
			u->toks = lex_tokenize(u->c.arena, &u->c.src, &u->n_toks);
		else
			sg_compile(&u->c);
	} else {
		u->failed = true;
	}
	diag_set_recover(NULL);
}

static Unit *unit_new(const char *text, size_t len, Dtype dt)
{
	Unit *u = unit_keep(calloc(1, sizeof *u));
	u->c.arena = unit_arena();
	u->c.dtype = dt;
	u->c.loops = SG_LOOPS_NEVER; /* the unit tests read the scalar program */
	u->c.src = (Source){"t.sg", arena_strndup(u->c.arena, text, len), len};
	return u;
}

Unit *unit_lex(const char *text, size_t len)
{
	Unit *u = unit_new(text, len, DT_DOUBLE);
	Job j = {u, true};
	u->err = capture_stderr(run, &j);
	return u;
}

Unit *unit_compile(const char *text, Dtype dt)
{
	Unit *u = unit_new(text, strlen(text), dt);
	Job j = {u, false};
	u->err = capture_stderr(run, &j);
	return u;
}

Unit *unit_ok(const char *text)
{
	Unit *u = unit_compile(text, DT_DOUBLE);
	if (u->failed)
		cr_fatal("model failed to compile:\n%s\n%s", text, u->err);
	return u;
}

const char *unit_ast(Unit *u, const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	parse_dump(f, u->c.model);
	fclose(f);
	unit_keep(buf);
	size_t n = strlen(name);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, name, n) && !strncmp(line + n, " = ", 3)) {
			char *hash = strstr(line, "  # line");
			if (hash)
				*hash = '\0';
			return line;
		}
	}
	cr_fatal("no binding '%s' in the dump", name);
	return NULL;
}

Node *unit_node(Unit *u, const char *name)
{
	Symbol *s = parse_lookup(u->c.model, name, strlen(name));
	cr_assert(s != NULL, "no symbol '%s'", name);
	cr_assert(s->node != NULL, "symbol '%s' has no node", name);
	return s->node;
}

Node *unit_grad(Unit *u, const char *name)
{
	Model *m = u->c.model;
	for (int i = 0; i < m->n_params; i++)
		if (!strcmp(m->params[i]->name, name))
			return u->c.grad->param_grad[i];
	cr_fatal("no param '%s'", name);
	return NULL;
}

/* Parses "a=1,b=-2.5" into the params and inputs arrays by name. */
double *unit_eval(Unit *u, const char *at)
{
	Model *m = u->c.model;
	double *params = calloc((size_t)m->n_params + 1, sizeof(double));
	double *inputs = calloc((size_t)m->n_inputs + 1, sizeof(double));
	char *spec = strdup(at);
	for (char *kv = strtok(spec, ","); kv; kv = strtok(NULL, ",")) {
		char *eq = strchr(kv, '=');
		cr_assert(eq != NULL, "bad spec '%s'", at);
		*eq = '\0';
		Symbol *s = parse_lookup(m, kv, strlen(kv));
		cr_assert(s != NULL, "no name '%s'", kv);
		double v = strtod(eq + 1, NULL);
		if (s->kind == SYM_PARAM)
			params[s->index] = v;
		else
			inputs[s->index] = v;
	}
	free(spec);
	double *vals = arena_alloc(u->c.arena, (size_t)u->c.dag->n * sizeof(double));
	dag_eval(u->c.dag, params, inputs, vals);
	free(params);
	free(inputs);
	return vals;
}

int unit_count(const Dag *d, Op op)
{
	int n = 0;
	for (int i = 0; i < d->n; i++)
		n += d->nodes[i]->op == op;
	return n;
}

typedef struct RenderJob {
	Unit *u;
	TmplOpts o;
	TmplFile **files;
	int n;
} RenderJob;

static void render(void *arg)
{
	RenderJob *r = arg;
	r->n = tmpl_render(r->u->c.prog, NULL, &r->o, r->files);
}

int unit_render(Unit *u, const char *name, const char *src, size_t len, TmplFile **files,
		char **err)
{
	RenderJob r = {u, {0}, files, 0};
	r.o.template_name = name;
	r.o.template_src = src;
	r.o.template_len = len;
	r.o.header_name = "t_grad.h";
	r.o.model_path = "t.sg";
	*err = capture_stderr(render, &r);
	for (int i = 0; i < r.n; i++)
		unit_keep((*files)[i].suffix), unit_keep((*files)[i].text);
	if (r.n >= 0)
		unit_keep(*files);
	return r.n;
}
