/*
 * compile.c: the pipeline, in order.  Each pass is a file; --dump=STAGE
 * prints the IR after a stage and stops:
 *
 *   lex (tokens) -> parse (ast) -> tir (tir) -> diff (grad)
 *     -> loop.c (prog, in loop form: each value a loop nest)
 *     -> unroll (dag) -> sched (prog, unrolled: straight-line code)
 *
 * The tensor IR is lowered and differentiated once; loops and unrolled code
 * are two lowerings of it.  A model in loop form is also unrolled when the
 * template asks for the scalar program (c->unrolled_too).
 *
 * Rendering through a template and writing files follow in main.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sg.h"

const char sg_version[] = SG_VERSION;

void sg_read_source(Compile *c, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		diag_fatal("cannot open '%s': %s", path, strerror(errno));
	Buf b = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		buf_put(&b, chunk, n);
		if (b.len > SG_MAX_FILE) {
			buf_free(&b);
			diag_fatal("'%s' is larger than %u MiB (limit)", path, SG_MAX_FILE >> 20);
		}
	}
	bool bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (bad)
		diag_fatal("cannot read '%s': %s", path, strerror(errno));
	c->src.path = strcmp(path, "-") ? path : "<stdin>";
	c->src.text = arena_strndup(c->arena, b.data ? b.data : "", b.len);
	c->src.len = b.len;
	buf_free(&b);
}

static void dump_tokens(const Token *t)
{
	for (; t->kind != TK_EOF; t++) {
		if (t->kind == TK_NEWLINE)
			printf("%d:%d NEWLINE\n", t->loc.line, t->loc.col);
		else
			printf("%d:%d %s '%.*s'\n", t->loc.line, t->loc.col,
			       t->kind == TK_NUM ? "NUM" : t->kind == TK_IDENT ? "IDENT" : "PUNCT",
			       t->len, t->text);
	}
}

static bool stop_at(const Compile *c, const char *stage)
{
	return c->dump && !strcmp(c->dump, stage);
}

double sg_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Marks the end of stage k (SG_T_*) for --stats. */
static void stage_done(Compile *c, int k)
{
	c->time[k] = sg_seconds();
	c->ran[k] = true;
}

/* The functions beyond the gradient that c->extra asks for (the sparse
 * Hessian in unrolled form only, so far). */
static void diff_extra(Compile *c, bool loops)
{
	Model *m = c->model;
	Tir *t = c->tir;
	if (loops && (c->extra & SG_HESSIAN_SPARSE))
		diag_usage("--hessian-sparse is not available in loop form yet: this model's "
			   "forward pass is about %ld operations; use --loops never to unroll it, "
			   "or --hessian or --hvp, which loops have", c->estimate);
	if ((c->extra & SG_HESSIAN) && m->n_params > SG_MAX_HESSIAN)
		diag_usage("the dense Hessian of %d params would have %ld entries (limit: %d "
			   "params); use --hessian-sparse for its entries that are not 0 by "
			   "structure, or --hvp for Hessian-vector products",
			   m->n_params, (long)m->n_params * m->n_params, SG_MAX_HESSIAN);
	if ((c->extra & SG_HESSIAN_SPARSE) && m->n_params > SG_MAX_HESSIAN_SPARSE)
		diag_usage("the sparse Hessian takes one sweep per param, and %s has %d params "
			   "(limit: %d); use --hvp for Hessian-vector products instead",
			   c->src.path, m->n_params, SG_MAX_HESSIAN_SPARSE);
	if ((c->extra & SG_JACOBIAN) && !m->n_outputs)
		diag_usage("--jacobian differentiates the model's outputs, and %s has none "
			   "(declare them with 'output NAME')", c->src.path);
	if ((c->extra & SG_GNVP) && !m->n_residuals)
		diag_usage("--gnvp is the Gauss-Newton product of a least-squares model, and %s "
			   "names no residuals (declare them with 'residual NAME')", c->src.path);
	if (c->extra & SG_JACOBIAN)
		diff_jacobian(t, m);
	t->hess_dense = c->extra & SG_HESSIAN;
	t->hess_sparse = c->extra & SG_HESSIAN_SPARSE;
	if (c->extra & (SG_HESSIAN | SG_HESSIAN_SPARSE))
		diff_hessian(t, m);
	if (c->extra & SG_HVP)
		diff_hvp(t, m);
	if (c->extra & SG_JVP)
		diff_jvp(t, m);
	if (c->extra & SG_VJP)
		diff_vjp(t, m);
	if (c->extra & SG_GNVP)
		diff_gnvp(t, m);
}

bool sg_compile(Compile *c)
{
	int n;
	op_set_math(c->math);
	stage_done(c, SG_T_START);
	Token *toks = lex_tokenize(c->arena, &c->src, &n);
	if (stop_at(c, "tokens"))
		return dump_tokens(toks), false;
	c->model = parse_model(c->arena, &c->src, toks, c->seed);
	if (stop_at(c, "ast"))
		return parse_dump(stdout, c->model), false;
	stage_done(c, SG_T_PARSE);
	c->tir = tir_new(c->arena, c->model, c->dtype);
	tir_build(c->tir, c->model);
	if (stop_at(c, "tir"))
		return tir_dump(stdout, c->tir), false;
	stage_done(c, SG_T_LOWER);
	diff_tensor(c->tir, c->model);
	if (stop_at(c, "grad"))
		return tir_dump(stdout, c->tir), false;
	c->estimate = loop_estimate(c->model);
	bool loops = c->loops == SG_LOOPS_ALWAYS ||
		     (c->loops == SG_LOOPS_AUTO && c->estimate > SG_LOOPS_THRESHOLD);
	if (c->extra)
		diff_extra(c, loops);
	stage_done(c, SG_T_DIFF);
	if (loops) {
		c->loop = loop_build(c->arena, c->tir, c->model);
		if (stop_at(c, "prog"))
			return loop_dump(stdout, c->loop), false;
		stage_done(c, SG_T_LOOPS);
		if (!c->unrolled_too)
			return true;
	}
	c->dag = dag_new(c->arena, c->dtype);
	c->grad = unroll(c->dag, c->tir, c->model);
	if (stop_at(c, "dag"))
		return diff_dump(stdout, c->dag, c->model, c->grad), false;
	stage_done(c, SG_T_UNROLL);
	c->prog = sched_build(c->arena, c->dag, c->model, c->grad);
	if (stop_at(c, "prog"))
		return sched_dump(stdout, c->prog), false;
	stage_done(c, SG_T_SCHED);
	return true;
}
