/*
 * canon.c: canonical forms, for comparing derivations symbolically.
 *
 * An expression over the model's inputs and params becomes a sum of
 * monomials, coefficient * product of atoms^exponent, with sums and
 * products flattened and distributed, constants folded, equal monomials
 * merged and integer powers collected.  An atom is a leaf (x, w) or a
 * function the algebra does not see into (exp(...), (a + b)^-1, max(a, b)),
 * named by its own canonical text, so atoms compare by text.  Two
 * expressions with the same canonical text are equal as real functions;
 * different texts prove nothing (symgrad check then tests numerically).
 *
 * Exponents are ints and coefficients doubles: an exponent that would
 * overflow (32 nested squarings make w^(2^32)) or a coefficient that is no
 * longer finite fails the form, as a form too large does, and the caller
 * tests numerically.  A wrapped exponent would make unequal forms equal.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"

#define CANON_MAX_TERMS 4096 /* beyond this, give up: the caller tests numerically */
#define CANON_MAX_TEXT 4096  /* longest atom text, e.g. tanh(tanh(...)) */

typedef struct Factor {
	const char *atom;
	int exp;
} Factor;

typedef struct Mono {
	double coef;
	int n;
	Factor *f; /* sorted by atom text */
} Mono;

struct Canon {
	int n;
	Mono *m;   /* sorted, no zero coefficients */
};

typedef struct CanonCtx {
	Arena *a;
	Dag *d;
	Canon **memo;
	int memo_n;
	bool failed;
} CanonCtx;

static Canon *poly_new(Arena *a, int n)
{
	Canon *p = arena_alloc(a, sizeof *p);
	p->m = arena_alloc(a, (size_t)(n ? n : 1) * sizeof *p->m);
	return p;
}

static Canon *poly_const(Arena *a, double v)
{
	Canon *p = poly_new(a, 1);
	if (v != 0)
		p->m[p->n++] = (Mono){v, 0, NULL};
	return p;
}

static Canon *poly_atom(Arena *a, const char *atom, int exp)
{
	Canon *p = poly_new(a, 1);
	Factor *f = arena_alloc(a, sizeof *f);
	*f = (Factor){atom, exp};
	p->m[p->n++] = (Mono){1.0, 1, f};
	return p;
}

/* Orders monomials: lower degree first, then by atoms and exponents.
 * Exponents are never INT_MIN (mono_mul, poly_inv), so abs is defined, and
 * a degree sums ints in a long long. */
static int mono_cmp(const Mono *x, const Mono *y)
{
	long long dx = 0, dy = 0;
	for (int i = 0; i < x->n; i++)
		dx += abs(x->f[i].exp);
	for (int i = 0; i < y->n; i++)
		dy += abs(y->f[i].exp);
	if (dx != dy)
		return dx < dy ? -1 : 1;
	for (int i = 0; i < x->n && i < y->n; i++) {
		int c = strcmp(x->f[i].atom, y->f[i].atom);
		if (c)
			return c;
		if (x->f[i].exp != y->f[i].exp)
			return x->f[i].exp > y->f[i].exp ? -1 : 1;
	}
	return x->n == y->n ? 0 : x->n < y->n ? -1 : 1;
}

static int mono_qsort(const void *x, const void *y)
{
	return mono_cmp(x, y);
}

/* Sorts, merges equal monomials, drops zero coefficients; a coefficient
 * that overflowed (or became NaN) fails the form. */
static Canon *normalize(CanonCtx *c, Canon *p)
{
	qsort(p->m, (size_t)p->n, sizeof *p->m, mono_qsort);
	int k = 0;
	for (int i = 0; i < p->n; i++) {
		if (k > 0 && mono_cmp(&p->m[k - 1], &p->m[i]) == 0)
			p->m[k - 1].coef += p->m[i].coef;
		else
			p->m[k++] = p->m[i];
	}
	int out = 0;
	for (int i = 0; i < k; i++) {
		if (!isfinite(p->m[i].coef))
			c->failed = true;
		if (p->m[i].coef != 0)
			p->m[out++] = p->m[i];
	}
	p->n = out;
	return p;
}

static Canon *poly_add(CanonCtx *c, const Canon *x, const Canon *y, double ys)
{
	Canon *p = poly_new(c->a, x->n + y->n);
	for (int i = 0; i < x->n; i++)
		p->m[p->n++] = x->m[i];
	for (int i = 0; i < y->n; i++) {
		p->m[p->n] = y->m[i];
		p->m[p->n++].coef *= ys;
	}
	return normalize(c, p);
}

/* e + f, or false when it overflows an int or is INT_MIN (which abs and
 * negation could not take). */
static bool exp_add(int e, int f, int *sum)
{
	return !__builtin_add_overflow(e, f, sum) && *sum != INT_MIN;
}

/* The product of two monomials: exponents of equal atoms add (an overflow
 * fails the form). */
static Mono mono_mul(CanonCtx *c, const Mono *x, const Mono *y)
{
	Mono m = {x->coef * y->coef, 0, arena_alloc(c->a, (size_t)(x->n + y->n + 1) * sizeof(Factor))};
	int i = 0, j = 0;
	while (i < x->n || j < y->n) {
		int cmp = i == x->n ? 1 : j == y->n ? -1 : strcmp(x->f[i].atom, y->f[j].atom);
		Factor f = cmp < 0 ? x->f[i++] : cmp > 0 ? y->f[j++] : (Factor){x->f[i].atom, 0};
		if (cmp == 0 && !exp_add(x->f[i++].exp, y->f[j++].exp, &f.exp))
			c->failed = true;
		if (f.exp != 0)
			m.f[m.n++] = f;
	}
	return m;
}

static Canon *poly_mul(CanonCtx *c, const Canon *x, const Canon *y)
{
	if ((long)x->n * y->n > CANON_MAX_TERMS) {
		c->failed = true;
		return poly_const(c->a, 0);
	}
	Canon *p = poly_new(c->a, x->n * y->n);
	for (int i = 0; i < x->n; i++)
		for (int j = 0; j < y->n; j++)
			p->m[p->n++] = mono_mul(c, &x->m[i], &y->m[j]);
	return normalize(c, p);
}

static bool is_number(const Canon *p, double *v)
{
	if (p->n == 0)
		return *v = 0, true;
	if (p->n == 1 && p->m[0].n == 0)
		return *v = p->m[0].coef, true;
	return false;
}

/* 1/p: exact for one monomial, otherwise the atom (p)^-1. */
static Canon *poly_inv(CanonCtx *c, const Canon *p)
{
	if (p->n == 1) {
		Mono m = p->m[0];
		Canon *r = poly_new(c->a, 1);
		Factor *f = arena_alloc(c->a, (size_t)(m.n + 1) * sizeof *f);
		for (int i = 0; i < m.n; i++)
			f[i] = (Factor){m.f[i].atom, -m.f[i].exp}; /* never INT_MIN: defined */
		r->m[r->n++] = (Mono){1.0 / m.coef, m.n, f};
		return r;
	}
	return poly_atom(c->a, arena_printf(c->a, "(%s)", canon_text(c->a, p, false)), -1);
}

static Canon *poly_pow(CanonCtx *c, const Canon *x, int n)
{
	if (n < 0)
		return poly_pow(c, poly_inv(c, x), -n);
	Canon *r = poly_const(c->a, 1);
	for (int i = 0; i < n; i++)
		r = poly_mul(c, r, x);
	return r;
}

static Canon *canon(CanonCtx *c, const Node *n);

/* A function the algebra treats as opaque: an atom named by its text. */
static Canon *opaque(CanonCtx *c, const Node *n)
{
	Buf b = {0};
	buf_printf(&b, "%s(", op_info[n->op].spelling);
	for (int k = 0; k < n->nargs; k++)
		buf_printf(&b, "%s%s", k ? ", " : "", canon_text(c->a, canon(c, n->args[k]), false));
	buf_puts(&b, ")");
	if (b.len > CANON_MAX_TEXT)
		c->failed = true;
	Canon *p = poly_atom(c->a, c->failed ? "?" : arena_strndup(c->a, b.data, b.len), 1);
	buf_free(&b);
	return p;
}

static Canon *canon_op(CanonCtx *c, const Node *n)
{
	double v;
	switch (n->op) {
	case OP_CONST:
		c->failed |= !isfinite(n->value);
		return poly_const(c->a, n->value);
	case OP_INPUT:
	case OP_PARAM: return poly_atom(c->a, n->sym->name, 1);
	case OP_ADD: return poly_add(c, canon(c, n->args[0]), canon(c, n->args[1]), 1);
	case OP_SUB: return poly_add(c, canon(c, n->args[0]), canon(c, n->args[1]), -1);
	case OP_NEG: return poly_add(c, poly_const(c->a, 0), canon(c, n->args[0]), -1);
	case OP_MUL: return poly_mul(c, canon(c, n->args[0]), canon(c, n->args[1]));
	case OP_DIV: return poly_mul(c, canon(c, n->args[0]), poly_inv(c, canon(c, n->args[1])));
	case OP_POW:
		if (is_number(canon(c, n->args[1]), &v) && v == floor(v) && fabs(v) <= 8)
			return poly_pow(c, canon(c, n->args[0]), (int)v);
		return opaque(c, n);
	default: return opaque(c, n);
	}
}

/* An operand's form: canon_of computes every node's before its users'. */
static Canon *canon(CanonCtx *c, const Node *n)
{
	sg_check(c->memo[n->id]);
	return c->memo[n->id];
}

/* Without recursion: deep DAGs (a chain of 10^5 bindings) must not
 * exhaust the stack.  Ids are a topological order, so one ascending pass
 * over the nodes n depends on computes each operand first. */
Canon *canon_of(Arena *a, Dag *d, const Node *n)
{
	return canon_of_memo(a, d, n, arena_alloc(a, (size_t)d->n * sizeof(Canon *)));
}

Canon *canon_of_memo(Arena *a, Dag *d, const Node *n, Canon **memo)
{
	CanonCtx c = {a, d, memo, d->n, false};
	bool *need = xrealloc(NULL, (size_t)n->id + 1);
	memset(need, 0, (size_t)n->id + 1);
	need[n->id] = true;
	for (int i = n->id; i >= 0; i--)
		if (need[i])
			for (int k = 0; k < d->nodes[i]->nargs; k++)
				need[d->nodes[i]->args[k]->id] = true;
	for (int i = 0; i <= n->id && !c.failed; i++)
		if (need[i] && !c.memo[i])
			c.memo[i] = canon_op(&c, d->nodes[i]);
	free(need);
	return c.failed ? NULL : c.memo[n->id];
}

Canon *canon_sub(Arena *a, const Canon *x, const Canon *y)
{
	CanonCtx c = {a, NULL, NULL, 0, false};
	return poly_add(&c, x, y, -1);
}

bool canon_equal(Arena *a, const Canon *x, const Canon *y)
{
	return !strcmp(canon_text(a, x, false), canon_text(a, y, false));
}

static void put_coef(Buf *b, double v, bool latex)
{
	char s[48];
	fmt_shortest(s, sizeof s, v, DT_DOUBLE);
	size_t n = strlen(s);
	if (n > 2 && !strcmp(s + n - 2, ".0"))
		s[n - 2] = '\0';
	char *e = latex ? strchr(s, 'e') : NULL;
	if (e) {
		*e = '\0';
		buf_printf(b, "%s \\cdot 10^{%d}", s, atoi(e + 1));
	} else {
		buf_puts(b, s);
	}
}

/* Text of a canonical form: "2*x^2*w - 2*x*y", or LaTeX. */
const char *canon_text(Arena *a, const Canon *p, bool latex)
{
	if (p->n == 0)
		return "0";
	Buf b = {0};
	const char *times = latex ? " " : "*";
	for (int i = 0; i < p->n; i++) {
		const Mono *m = &p->m[i];
		double coef = m->coef;
		if (i > 0)
			buf_puts(&b, coef < 0 ? " - " : " + ");
		else if (coef < 0)
			buf_puts(&b, "-");
		coef = fabs(coef);
		bool first = true;
		if (coef != 1 || m->n == 0) {
			put_coef(&b, coef, latex);
			first = false;
		}
		for (int k = 0; k < m->n; k++) {
			if (!first)
				buf_puts(&b, times);
			first = false;
			buf_puts(&b, m->f[k].atom);
			if (m->f[k].exp != 1)
				buf_printf(&b, latex ? "^{%d}" : "^%d", m->f[k].exp);
		}
	}
	const char *r = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return r;
}
