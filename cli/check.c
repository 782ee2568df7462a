/*
 * check.c: checking derivations by hand against symgrad's own.
 *
 *   symgrad check MODEL.sg --hand HAND.txt
 *   symgrad check MODEL.sg --hand-c FILE.c[:FUNCTION]
 *
 * A hand file has one derivation per line, in the model language:
 *
 *   hand  = { [line] NEWLINE }
 *   line  = "d" LOSS "/" "d" PARAM "=" expr  |  "dLOSS" "/" "dPARAM" "=" expr
 *
 * Each is compared with symgrad's derivative, first symbolically (both sides
 * in canonical form, canon.c), then, when the forms differ, numerically at
 * random points spread over signs and magnitudes: a randomized identity
 * test.  Points where either side is undefined are skipped and counted.
 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#define CHECK_POINTS 200
#define CHECK_TOL 1e-7     /* relative difference that counts as disagreeing */
#define CHECK_MAX_BAD 0.02 /* share of disagreeing points still called a match */
#define CHECK_SIMPLE 20    /* points with small whole-number coordinates */

typedef struct HandLine {
	Symbol *param;
	Node *node;
	Loc loc;
} HandLine;

/* ---- random points ---- */

static double uniform(uint64_t *s)
{
	return (double)(sg_splitmix64(s) >> 11) * 0x1p-53;
}

/* A value with a random sign and a magnitude between 1e-2 and 1e2. */
static double spread(uint64_t *s)
{
	double mag = pow(10.0, -2.0 + 4.0 * uniform(s));
	return sg_splitmix64(s) & 1 ? -mag : mag;
}

/* Point k: the first few use small whole numbers (1, -2, 3, ...), so a
 * counterexample reads like the lecture's; the rest spread over magnitudes. */
void check_point(uint64_t *seed, int k, const Model *m, double *params, double *inputs)
{
	for (int i = 0; i < m->n_inputs + m->n_params; i++) {
		double v = spread(seed);
		if (k < CHECK_SIMPLE)
			v = (double)(1 + (int)(sg_splitmix64(seed) % 3)) * (v < 0 ? -1 : 1);
		if (i < m->n_inputs)
			inputs[i] = v;
		else
			params[i - m->n_inputs] = v;
	}
}

double check_reldiff(double a, double b)
{
	double scale = fmax(fabs(a), fabs(b));
	return scale == 0 ? 0 : fabs(a - b) / scale;
}

/* ---- the hand file ---- */

/* Accepts "d loss / d w" and "dloss / dw"; returns the param's token. */
static Loc derivative_head(const Model *m, const Token *t, const Token **after,
			   const char **name, size_t *len)
{
	const char *L = m->loss->name;
	size_t ln = strlen(L);
	const Token *num = t, *den;
	if (lex_is(t, "d") && t[1].kind == TK_IDENT) {
		num = t + 1;
		if (!lex_is(num, L))
			diag_error(num->loc, "expected d %s / d PARAM (the model's loss is '%s')", L, L);
		t += 2;
	} else if (t->kind == TK_IDENT && (size_t)t->len == ln + 1 && t->text[0] == 'd' &&
		   !memcmp(t->text + 1, L, ln)) {
		t += 1;
	} else {
		diag_error(t->loc, "expected a derivation: d %s / d PARAM = expression", L);
	}
	if (!lex_is(t, "/"))
		diag_error(t->loc, "expected '/' in d %s / d PARAM", L);
	t++;
	if (lex_is(t, "d") && t[1].kind == TK_IDENT) {
		den = t + 1;
		*name = den->text;
		*len = (size_t)den->len;
		t += 2;
	} else if (t->kind == TK_IDENT && t->len > 1 && t->text[0] == 'd') {
		den = t;
		*name = den->text + 1;
		*len = (size_t)den->len - 1;
		t += 1;
	} else {
		diag_error(t->loc, "expected d PARAM after '/'");
	}
	if (!lex_is(t, "="))
		diag_error(t->loc, "expected '=' after the derivative");
	*after = t + 1;
	(void)num;
	return den->loc;
}

/* Reads every line of the hand file into the model's DAG. */
static HandLine *read_hand(Compile *c, const Source *src, int *count)
{
	int n;
	Token *toks = lex_tokenize(c->arena, src, &n);
	HandLine *lines = arena_alloc(c->arena, (size_t)(n + 1) * sizeof *lines);
	int k = 0;
	for (const Token *t = toks; t->kind != TK_EOF;) {
		if (t->kind == TK_NEWLINE) {
			t++;
			continue;
		}
		const Token *after;
		const char *name;
		size_t len;
		Loc loc = derivative_head(c->model, t, &after, &name, &len);
		Symbol *sym = parse_lookup(c->model, name, len);
		Expr *e = parse_expr_at(c->arena, c->model, &after);
		if (after->kind != TK_NEWLINE && after->kind != TK_EOF)
			diag_error(after->loc, "unexpected '%.*s' after the expression", after->len,
				   after->text);
		if (!sym || sym->kind != SYM_PARAM)
			diag_error(loc, "'%.*s' is not a param of model '%s'", (int)len, name,
				   c->model->name);
		for (int i = 0; i < k; i++)
			if (lines[i].param == sym)
				diag_error(loc, "a second derivation of d%s/d%s (the first is on line %d)",
					   c->model->loss->name, sym->name, lines[i].loc.line);
		lines[k++] = (HandLine){sym, unroll_expr(c->dag, c->tir, e), loc};
		t = after;
	}
	*count = k;
	return lines;
}

/* ---- comparing ---- */

typedef struct Verdict {
	bool match, symbolic;
	int points, skipped, bad;
	double max_rel;
	int first_bad;      /* index of the first disagreeing point, or -1 */
	double hand_v, ours_v;
	double *at_params, *at_inputs;
} Verdict;

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

/* The median magnitude of the values: the scale below which a difference is
 * rounding noise (a sigmoid saturating to 1 makes s*(1-s) exactly 0 where
 * exp(-z)/(1+exp(-z))^2 is 1e-166: both are right). */
static double typical(const double *h, const double *o, const bool *ok, int n)
{
	double *mag = xrealloc(NULL, (size_t)(n + 1) * sizeof *mag);
	int k = 0;
	for (int i = 0; i < n; i++)
		if (ok[i])
			mag[k++] = fmax(fabs(h[i]), fabs(o[i]));
	qsort(mag, (size_t)k, sizeof *mag, cmp_double);
	double med = k ? mag[k / 2] : 0;
	free(mag);
	return med;
}

/* Agreeing: a small relative difference, or one small against the scale. */
static bool agree(double h, double o, double scale, double *rel)
{
	*rel = check_reldiff(h, o);
	return *rel <= CHECK_TOL || fabs(h - o) <= CHECK_TOL * scale;
}

static Verdict compare(Compile *c, Node *hand, Node *ours)
{
	Arena *a = c->arena;
	Model *m = c->model;
	Verdict v = {0};
	v.first_bad = -1;
	Canon *ch = canon_of(a, c->dag, hand), *co = canon_of(a, c->dag, ours);
	if (ch && co && canon_equal(a, ch, co)) {
		v.match = v.symbolic = true;
		return v;
	}
	int np = m->n_params, ni = m->n_inputs;
	double *vals = xrealloc(NULL, (size_t)c->dag->n * sizeof *vals);
	double *params = arena_alloc(a, (size_t)CHECK_POINTS * (size_t)(np + 1) * sizeof *params);
	double *inputs = arena_alloc(a, (size_t)CHECK_POINTS * (size_t)(ni + 1) * sizeof *inputs);
	double h[CHECK_POINTS], o[CHECK_POINTS];
	bool ok[CHECK_POINTS];
	uint64_t seed = 0x5EED;
	for (int i = 0; i < CHECK_POINTS; i++) {
		double *pp = params + (size_t)i * (size_t)(np + 1), *ip = inputs + (size_t)i * (size_t)(ni + 1);
		check_point(&seed, i, m, pp, ip);
		dag_eval(c->dag, pp, ip, vals);
		h[i] = vals[hand->id], o[i] = vals[ours->id];
		ok[i] = isfinite(h[i]) && isfinite(o[i]);
	}
	free(vals);
	double scale = typical(h, o, ok, CHECK_POINTS);
	for (int i = 0; i < CHECK_POINTS; i++) {
		double r;
		if (!ok[i]) {
			v.skipped++;
			continue;
		}
		v.points++;
		if (agree(h[i], o[i], scale, &r)) {
			v.max_rel = fmax(v.max_rel, r <= CHECK_TOL ? r : 0);
			continue;
		}
		if (v.bad++ == 0) {
			v.first_bad = i;
			v.hand_v = h[i], v.ours_v = o[i];
			v.at_params = params + (size_t)i * (size_t)(np + 1);
			v.at_inputs = inputs + (size_t)i * (size_t)(ni + 1);
		}
	}
	v.match = v.points > 0 && v.bad <= CHECK_MAX_BAD * v.points;
	return v;
}

static void print_point(Compile *c, const Verdict *v)
{
	Model *m = c->model;
	for (int i = 0; i < m->n_inputs; i++)
		printf("%s%s = %s", i ? ", " : "", m->inputs[i]->name,
		       fmt_num(c->arena, v->at_inputs[i]));
	for (int i = 0; i < m->n_params; i++)
		printf("%s%s = %s", i || m->n_inputs ? ", " : "", m->params[i]->name,
		       fmt_num(c->arena, v->at_params[i]));
}

/* Prints one derivative's verdict; returns whether it matched. */
static bool report(Compile *c, const HandLine *h, Node *ours)
{
	const char *L = c->model->loss->name;
	Verdict v = compare(c, h->node, ours);
	printf("d%s/d%s: ", L, h->param->name);
	if (v.symbolic) {
		printf("match (symbolic)\n");
	} else if (v.match) {
		printf("match (numeric: %d points, max relative difference %.3g", v.points, v.max_rel);
		if (v.bad)
			printf("; %d points differ by more than %g", v.bad, CHECK_TOL);
		if (v.skipped)
			printf("; %d points skipped where a side is undefined", v.skipped);
		printf(")\n");
	} else if (v.points == 0) {
		printf("MISMATCH: cannot compare, a side is undefined at all %d points\n", v.skipped);
	} else {
		printf("MISMATCH at ");
		print_point(c, &v);
		printf(":\n    hand %s, symgrad %s\n", fmt_num(c->arena, v.hand_v),
		       fmt_num(c->arena, v.ours_v));
		Canon *ch = canon_of(c->arena, c->dag, h->node);
		Canon *co = canon_of(c->arena, c->dag, ours);
		if (ch && co)
			printf("    hand - symgrad = %s\n", canon_text(c->arena, canon_sub(c->arena, ch, co), false));
		printf("    (%d of %d points disagree", v.bad, v.points);
		if (v.skipped)
			printf("; %d skipped where a side is undefined", v.skipped);
		printf(")\n");
	}
	return v.match;
}

/* ---- command ---- */

int check_hand_c(Compile *c, const char *spec);

#define CHECK_HELP                                                                     \
	"usage: symgrad check MODEL.sg --hand HAND.txt | --hand-c FILE.c[:FUNCTION]\n"      \
	"Checks derivatives written by hand against symgrad's.\n"                          \
	"  --hand FILE          lines 'dloss/dw = EXPRESSION' in the model's language:\n"  \
	"                       compared symbolically (canonical forms), else at 200\n"    \
	"                       random points\n"                                          \
	"  --hand-c FILE.c[:F]  a C function with the generated backward's signature\n"   \
	"                       (default NAME_backward), compiled by the JIT and\n"       \
	"                       compared at 200 random points\n"                          \
	"Exit status 0 when every derivative matches, 1 otherwise.\n"

int cmd_check(Arena *a, int argc, char **argv)
{
	const char *model = NULL, *hand = NULL, *hand_c = NULL;
	args o = {.argc = argc, .argv = argv};
	int rc;
	while ((rc = args_next(&o)) > 0) {
		if (rc == 1 && (args_is(&o, "help") || args_is(&o, "h"))) {
			return args_help(CHECK_HELP);
		}
		const char **slot = rc == 2 ? &model
				    : args_is(&o, "hand") ? &hand
				    : args_is(&o, "hand-c") ? &hand_c : NULL;
		if (!slot)
			diag_usage("unknown option '%s' for check", o.arg);
		if (rc == 2 && model)
			diag_usage("more than one model file given");
		if (!(*slot = rc == 2 ? o.arg : args_value(&o)))
			exit(2);
	}
	if (rc < 0)
		exit(2);
	if (!model || (!hand && !hand_c))
		diag_usage("usage: symgrad check MODEL.sg --hand HAND.txt | --hand-c FILE.c[:FUNCTION]");
	Compile c = {.arena = a, .loops = SG_LOOPS_NEVER}; /* checks read the scalar DAG */
	sg_read_source(&c, model);
	sg_compile(&c);
	if (hand_c)
		return check_hand_c(&c, hand_c);

	Compile h = {.arena = a};
	sg_read_source(&h, hand);
	int n;
	HandLine *lines = read_hand(&c, &h.src, &n);
	Model *m = c.model;
	printf("checking %s against %s (%d params)\n", hand, model, m->n_params);
	int ok = 0, missing = 0;
	for (int i = 0; i < n; i++) {
		printf("  ");
		ok += report(&c, &lines[i], c.grad->param_grad[lines[i].param->index]);
	}
	for (int p = 0; p < m->n_params; p++) {
		bool found = false;
		for (int i = 0; i < n; i++)
			found |= lines[i].param == m->params[p];
		if (!found) {
			printf("  d%s/d%s: missing (no derivation in %s)\n", m->loss->name,
			       m->params[p]->name, hand);
			missing++;
		}
	}
	bool pass = ok == n && missing == 0;
	printf("%s: %d of %d derivatives match\n", pass ? "OK" : "FAILED", ok, m->n_params);
	return pass ? 0 : 1;
}


/* ---- hand-written C ---- */

typedef double HandFn(const double *params, const double *inputs, double *grad);

/* "#line 1 \"FILE\"\n", so the compiler's messages name the user's file
 * (nothing when the name holds a control character). */
static const char *line_directive(Arena *a, const char *file)
{
	Buf b = {0};
	buf_puts(&b, "#line 1 \"");
	for (const char *s = file; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			buf_free(&b);
			return "";
		}
		if (*s == '"' || *s == '\\')
			buf_put(&b, "\\", 1);
		buf_put(&b, s, 1);
	}
	buf_puts(&b, "\"\n");
	const char *out = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return out;
}

/* Compiles the user's file beside the generated header through the
 * runtime's JIT (its cache, its $CC rules) and loads it. */
static sg_jit *compile_hand(Compile *c, const char *file)
{
	Arena *a = c->arena;
	Compile hand = {.arena = a};
	sg_read_source(&hand, file);
	if (strlen(hand.src.text) != hand.src.len)
		diag_fatal("'%s' holds a NUL byte", file);
	size_t len;
	const char *src = tmpl_builtin("c.lua", &len);
	const char *header = arena_printf(a, "%s_grad.h", c->model->name);
	TmplOpts o = {"templates/c.lua", src, len, header, c->src.path, 0, 0};
	TmplFile *files;
	int n = tmpl_render(c->prog, NULL, &o, &files);
	if (n < 2)
		diag_exit(); /* tmpl.c reported it */
	const char *text = arena_printf(a, "%s%s", line_directive(a, file), hand.src.text);
	sg_error err = {{0}};
	sg_jit *jit = sg_jit_open_code(c->model->name, text, files[1].text, &err);
	for (int i = 0; i < n; i++)
		free(files[i].suffix), free(files[i].text);
	free(files);
	if (!jit)
		diag_fatal("cannot compile '%s': %s", file, err.msg);
	return jit;
}

int check_hand_c(Compile *c, const char *spec)
{
	Arena *a = c->arena;
	Model *m = c->model;
	const char *colon = strrchr(spec, ':');
	const char *file = colon ? arena_strndup(a, spec, (size_t)(colon - spec)) : spec;
	const char *fn = colon ? colon + 1 : arena_printf(a, "%s_backward", m->name);
	if (access(file, R_OK) != 0)
		diag_fatal("cannot read '%s': %s", file, strerror(errno));
	sg_jit *jit = compile_hand(c, file);
	HandFn *hand;
	*(void **)&hand = sg_jit_symbol(jit, fn);
	if (!hand)
		diag_fatal("'%s' has no function '%s' (name it with %s:FUNCTION)", file, fn, file);

	int np = m->n_params;
	double *vals = xrealloc(NULL, (size_t)c->dag->n * sizeof *vals);
	double *params = arena_alloc(a, (size_t)(np + 1) * sizeof *params);
	double *inputs = arena_alloc(a, (size_t)(m->n_inputs + 1) * sizeof *inputs);
	double *grad = arena_alloc(a, (size_t)(np + 1) * sizeof *grad);
	Verdict *v = arena_alloc(a, (size_t)(np + 1) * sizeof *v);
	for (int k = 0; k < np; k++) {
		v[k].first_bad = -1;
		v[k].at_params = arena_alloc(a, (size_t)(np + 1) * sizeof(double));
		v[k].at_inputs = arena_alloc(a, (size_t)(m->n_inputs + 1) * sizeof(double));
	}
	uint64_t seed = 0x5EED;
	for (int i = 0; i < CHECK_POINTS; i++) {
		check_point(&seed, i, m, params, inputs);
		dag_eval(c->dag, params, inputs, vals);
		for (int k = 0; k < np; k++)
			grad[k] = NAN;
		hand(params, inputs, grad);
		for (int k = 0; k < np; k++) {
			double o = vals[c->grad->param_grad[k]->id], hv = grad[k];
			if (!isfinite(o) || !isfinite(hv)) {
				v[k].skipped++;
				continue;
			}
			v[k].points++;
			double r = check_reldiff(hv, o);
			if (r > CHECK_TOL && v[k].bad++ == 0) {
				v[k].hand_v = hv, v[k].ours_v = o;
				memcpy(v[k].at_params, params, (size_t)np * sizeof *params);
				memcpy(v[k].at_inputs, inputs, (size_t)m->n_inputs * sizeof *inputs);
			}
			if (r <= CHECK_TOL && r > v[k].max_rel)
				v[k].max_rel = r;
		}
	}
	free(vals);
	printf("checking %s:%s against %s (%d params)\n", file, fn, c->src.path, np);
	int ok = 0;
	for (int k = 0; k < np; k++) {
		printf("  d%s/d%s: ", m->loss->name, m->params[k]->name);
		if (v[k].bad == 0 && v[k].points > 0) {
			ok++;
			printf("match (%d points, max relative difference %.3g", v[k].points, v[k].max_rel);
			if (v[k].skipped)
				printf("; %d skipped where a side is not finite", v[k].skipped);
			printf(")\n");
		} else if (v[k].points == 0) {
			printf("MISMATCH: not finite at all %d points\n", v[k].skipped);
		} else {
			printf("MISMATCH at ");
			print_point(c, &v[k]);
			printf(":\n    hand %s, symgrad %s (%d of %d points disagree)\n",
			       fmt_num(a, v[k].hand_v), fmt_num(a, v[k].ours_v), v[k].bad, v[k].points);
		}
	}
	sg_jit_close(jit);
	printf("%s: %d of %d gradient components match\n", ok == np ? "OK" : "FAILED", ok, np);
	return ok == np ? 0 : 1;
}
