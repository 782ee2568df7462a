/*
 * loop.c: tensor programs with loops, for models too large to unroll.
 *
 * A 784 -> 100 -> 10 network has 79,510 parameters; unrolled, its gradient is
 * some 400,000 straight-line statements that no C compiler digests quickly.
 * Above SG_LOOPS_THRESHOLD (README "Loops"), the generator lowers the model
 * to whole-tensor values instead of scalars and emits one fixed-bound loop
 * per tensor operation:
 *
 *   LEAF    a param or input, scalar or tensor
 *   CONST   a number
 *   IOTA    the vector 0, 1, 2, ... (cross_entropy's class comparison)
 *   MAP     out[i] = f(a[i], b[i], ...), scalars broadcast; f is a small
 *           expression over placeholders in a scratch DAG, built by the
 *           simplifying constructors of simp.c
 *   MATMUL  a [m,k] @ b [k,n], each output a left fold over k
 *   SUM     the left fold of a tensor's elements
 *   MAX     the same with max, detached (softmax's shift)
 *   VIEW    an element or a row of another value (indexing)
 *
 * The unrolled program is the reference, and this one computes the same
 * numbers bit for bit (tests/loops compares them on every course model):
 *
 * - forward: each element is the expression the scalar lowering (dag.c)
 *   builds for it, in the same order of operations;
 * - backward: a MAP's element derivative is made by diff.c's own rules,
 *   applied to its scratch expression (diff_term), so each term is the
 *   scalar program's term;
 * - every adjoint is summed in the scalar program's order: reverse mode
 *   visits nodes by descending id, so contributions reach an adjoint from
 *   later tensor operations first, and within one operation from higher
 *   elements first.  A fold's accumulator starts at -0.0, which is exact:
 *   -0.0 + x == x for every x, signed zeros included.
 *
 * What the loop program does not handle it reports (why), and the model is
 * unrolled instead: a loss that reads only part of a tensor (its other
 * elements get no adjoint at all in the scalar program, which a loop over
 * the whole tensor would not reproduce), a matrix product of a tensor with
 * itself, a loss that is a leaf or an element of a tensor.
 * The one difference left: the scalar DAG hash-conses single elements, so a
 * value written twice in different tensor forms (h[0] and W[0] @ x beside
 * h = W @ x) is one node there and two here; its adjoint is then summed in
 * a different grouping, which can differ in the last bit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"

typedef enum { TV_LEAF, TV_CONST, TV_IOTA, TV_MAP, TV_MATMUL, TV_SUM, TV_MAX, TV_VIEW } TvKind;

#define TV_MAX_OPND 3

typedef struct TVal TVal;
struct TVal {
	TvKind kind;
	int id;
	int size;             /* elements */
	int rank;             /* 0: a scalar variable; else an array */
	Symbol *sym;          /* LEAF: the param or input as declared */
	double value;         /* CONST */
	struct Tm *tm;        /* MAP: the element's own scratch DAG */
	Node *tmpl;           /* MAP: the element over placeholders, in tm */
	const char *key;      /* MAP: tmpl as text over %0 %1 %2 %i, for hash-consing */
	TVal *opnd[TV_MAX_OPND]; /* MAP operands; MATMUL a, b; SUM, MAX, VIEW: [0] */
	int nopnd;
	int m, k, n;          /* MATMUL: [m,k] @ [k,n] */
	int offset;           /* VIEW: first element in opnd[0], a root */
	int line;             /* the binding's source line */
	const char *name;     /* C name */
	const char *dname;    /* its adjoint's C name */
	bool needs_grad;      /* depends on a param, not through a detach */
	bool passes;          /* a gradient through it reaches a param (mark_flow) */
	bool gets;            /* backward computes its adjoint (mark_flow) */
	bool *reach;          /* per element: read by the loss */
	int n_reach;
	const char *mask;     /* a partly read value: the name of its reach array */
	bool live[3];         /* needed by forward, backward, predict */
	bool adj_init;        /* emitting backward: the adjoint holds a value */
	bool adj_one;         /* the loss: its adjoint is the constant 1 */
	uint32_t hash;
	TVal *next;
};

/* One element expression's scratch DAG: a fresh one per expression, so its
 * nodes' ids are in the order the scalar lowering makes them, which is the
 * order reverse mode visits them in. */
typedef struct Tm {
	Dag *sd;
	Node *ph[TV_MAX_OPND];/* placeholders: element i of operand k */
	Node *adj;            /* the adjoint of the element */
} Tm;

typedef struct Lower {
	Arena *a;
	Model *m;
	Dtype dt;
	Symbol ph_sym[TV_MAX_OPND + 1]; /* the operands', then the adjoint's */
	const char *NAME;     /* the model's name in capitals: NAME_PARAM_w */
	TVal **vals;
	int n, cap;
	TVal **buckets;       /* hash-consing, 4096 chains */
	int line;
	const char *why;      /* set when the model must be unrolled */
	Names *names;
	int temp;
	LoopProg *prog;
} Lower;

#define NBUCKETS 4096

static const char *lit(const Lower *l, double v)
{
	char b[64];
	fmt_c_literal(b, sizeof b, v, l->dt);
	return arena_strndup(l->a, b, strlen(b));
}

/* ---- values, hash-consed ---- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xCBF29CE484222325u;
	while (s && *s)
		h = (h ^ (unsigned char)*s++) * 0x100000001B3u;
	return h;
}

static uint32_t tv_hash(const TVal *t)
{
	uint64_t bits;
	memcpy(&bits, &t->value, sizeof bits);
	uint64_t h = 0x9E3779B97F4A7C15u * ((uint64_t)t->kind + 1);
	uint64_t parts[] = {(uintptr_t)t->sym, bits, str_hash(t->key), (uint64_t)t->m,
			    (uint64_t)t->k, (uint64_t)t->n, (uint64_t)t->offset,
			    (uint64_t)t->size, (uint64_t)t->rank};
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		h = (h ^ parts[i]) * 0x100000001B3u;
	for (int i = 0; i < t->nopnd; i++)
		h = (h ^ (t->opnd[i] ? (uint64_t)t->opnd[i]->id + 1 : 0)) * 0x100000001B3u;
	return (uint32_t)(h ^ (h >> 32));
}

static bool tv_same(const TVal *x, const TVal *y)
{
	if (x->kind != y->kind || x->sym != y->sym || (x->key != y->key && (!x->key || !y->key || strcmp(x->key, y->key))) || x->m != y->m ||
	    x->k != y->k || x->n != y->n || x->offset != y->offset || x->size != y->size ||
	    x->rank != y->rank || x->nopnd != y->nopnd ||
	    memcmp(&x->value, &y->value, sizeof x->value))
		return false;
	for (int i = 0; i < x->nopnd; i++)
		if (x->opnd[i] != y->opnd[i])
			return false;
	return true;
}

/* The existing value equal to *proto, or a new one. */
static TVal *intern(Lower *l, const TVal *proto)
{
	uint32_t h = tv_hash(proto);
	for (TVal *t = l->buckets[h % NBUCKETS]; t; t = t->next)
		if (t->hash == h && tv_same(t, proto))
			return t;
	if (l->n == l->cap) { /* in the arena: an error's longjmp (fuzzing) leaks nothing */
		l->cap = l->cap ? l->cap * 2 : 256;
		TVal **grown = arena_alloc(l->a, (size_t)l->cap * sizeof *grown);
		if (l->n)
			memcpy(grown, l->vals, (size_t)l->n * sizeof *grown);
		l->vals = grown;
	}
	TVal *t = arena_alloc(l->a, sizeof *t);
	*t = *proto;
	t->id = l->n;
	t->hash = h;
	t->line = l->line;
	t->next = l->buckets[h % NBUCKETS];
	l->buckets[h % NBUCKETS] = t;
	l->vals[l->n++] = t;
	return t;
}

static TVal *tv_const(Lower *l, double v)
{
	TVal p = {.kind = TV_CONST, .size = 1, .value = l->dt == DT_FLOAT ? (double)(float)v : v};
	return intern(l, &p);
}

static TVal *tv_iota(Lower *l, int n)
{
	TVal p = {.kind = TV_IOTA, .size = n, .rank = 1};
	return intern(l, &p);
}

/* Element `at` (rank 0) or the `size` elements from `at` (rank 1) of v. */
static TVal *tv_view(Lower *l, TVal *v, int at, int size, int rank)
{
	if (v->kind == TV_VIEW) {
		at += v->offset;
		v = v->opnd[0];
	}
	if (at == 0 && size == v->size && rank == v->rank)
		return v;
	TVal p = {.kind = TV_VIEW, .size = size, .rank = rank, .offset = at, .nopnd = 1};
	p.opnd[0] = v;
	return intern(l, &p);
}

/* ---- element expressions (MAP) ---- */

static Tm *tm_new(Lower *l)
{
	Tm *tm = arena_alloc(l->a, sizeof *tm);
	tm->sd = dag_new(l->a, l->dt);
	for (int k = 0; k < TV_MAX_OPND; k++)
		tm->ph[k] = dag_leaf(tm->sd, OP_INPUT, &l->ph_sym[k]);
	tm->adj = dag_leaf(tm->sd, OP_INPUT, &l->ph_sym[TV_MAX_OPND]);
	return tm;
}

typedef struct Ctx Ctx;
static const char *render(Lower *l, const Tm *tm, const Node *n, const Ctx *c);
static const char *key_of(Lower *l, const Tm *tm, const Node *t);

/* The value a MAP of template t over operands o makes: a constant, an
 * operand itself (t simplified to a placeholder), or a new MAP. */
static TVal *map_single(Lower *l, Tm *tm, Node *t, TVal **o, int no)
{
	if (t->op == OP_CONST)
		return tv_const(l, t->value);
	for (int k = 0; k < no; k++)
		if (t == tm->ph[k])
			return o[k];
	TVal p = {.kind = TV_MAP, .tm = tm, .tmpl = t, .key = key_of(l, tm, t), .nopnd = no, .size = 1};
	for (int k = 0; k < no; k++) {
		p.opnd[k] = o[k];
		if (o[k]->size > p.size)
			p.size = o[k]->size;
		if (o[k]->rank > p.rank)
			p.rank = o[k]->rank;
	}
	if (p.size == 1)
		p.rank = 0; /* a one-element result is a scalar variable */
	/* a + b is b + a: the scalar DAG makes them one node, and so here */
	if (no == 2 && (!strcmp(p.key, "%0 + %1") || !strcmp(p.key, "%0 * %1"))) {
		TVal q = p;
		q.opnd[0] = p.opnd[1], q.opnd[1] = p.opnd[0];
		uint32_t h = tv_hash(&q);
		for (TVal *t2 = l->buckets[h % NBUCKETS]; t2; t2 = t2->next)
			if (t2->hash == h && tv_same(t2, &q))
				return t2;
	}
	return intern(l, &p);
}

static Node *operand(Tm *tm, TVal *v, TVal **o, int *no);

/* The value of expression t over operands o.  Every inner node of t becomes
 * a value of its own (one operation, one loop), made in the order t's nodes
 * were: the scalar DAG shares a subexpression of an element with every other
 * node equal to it (a*a in pow(a, 3) = a*a*a and in a^2), so values must be
 * as fine as nodes for the adjoints to be summed alike. */
#define MAX_INNER 64

/* The inner (non-leaf) nodes of expression t, by ascending id: the order
 * they were made in, t itself last.  Returns how many. */
static int inner_nodes(Node *t, Node **nodes)
{
	Node *stack[2 * MAX_INNER];
	int nn = 0, ns = 0;
	stack[ns++] = t;
	while (ns) {
		Node *n = stack[--ns];
		bool seen = n->nargs == 0;
		for (int i = 0; i < nn && !seen; i++)
			seen = nodes[i] == n;
		if (seen)
			continue;
		sg_check(nn < MAX_INNER && ns + 2 <= 2 * MAX_INNER);
		nodes[nn++] = n;
		for (int k = 0; k < n->nargs; k++)
			stack[ns++] = n->args[k];
	}
	for (int i = 1; i < nn; i++)
		for (int j = i; j > 0 && nodes[j]->id < nodes[j - 1]->id; j--) {
			Node *x = nodes[j];
			nodes[j] = nodes[j - 1];
			nodes[j - 1] = x;
		}
	return nn;
}

static TVal *tv_map(Lower *l, Tm *tm, Node *t, TVal **o, int no)
{
	Node *nodes[MAX_INNER];
	TVal *vals[MAX_INNER];
	int nn = inner_nodes(t, nodes);
	for (int i = 0; i < nn; i++) {
		Node *n = nodes[i];
		TVal *arg[2] = {NULL, NULL};
		for (int k = 0; k < n->nargs; k++) {
			Node *a = n->args[k];
			if (a->op == OP_CONST)
				arg[k] = tv_const(l, a->value);
			for (int q = 0; q < no; q++)
				if (a == tm->ph[q])
					arg[k] = o[q];
			for (int q = 0; q < i; q++)
				if (a == nodes[q])
					arg[k] = vals[q];
			sg_check(arg[k]);
		}
		Tm *one = tm_new(l);
		TVal *oo[TV_MAX_OPND];
		int nno = 0;
		Node *x = operand(one, arg[0], oo, &nno);
		Node *y = n->nargs > 1 ? operand(one, arg[1], oo, &nno) : NULL;
		vals[i] = map_single(l, one, simp_make(one->sd, n->op, x, y), oo, nno);
	}
	if (t->op == OP_CONST)
		return tv_const(l, t->value);
	for (int q = 0; q < no; q++)
		if (t == tm->ph[q])
			return o[q];
	return vals[nn - 1];
}

/* The node standing for element i of operand v among o[0..*no): a constant
 * is itself, the same value is the same placeholder. */
static Node *operand(Tm *tm, TVal *v, TVal **o, int *no)
{
	if (v->kind == TV_CONST)
		return dag_const(tm->sd, v->value);
	for (int k = 0; k < *no; k++)
		if (o[k] == v)
			return tm->ph[k];
	sg_check(*no < TV_MAX_OPND);
	o[*no] = v;
	return tm->ph[(*no)++];
}

/* op applied elementwise: the scalar lowering's simp_make(op, a[i], b[i]). */
static TVal *map_op(Lower *l, Op op, TVal *a, TVal *b)
{
	TVal *o[TV_MAX_OPND];
	int no = 0;
	Tm *tm = tm_new(l);
	Node *x = operand(tm, a, o, &no);
	Node *y = b ? operand(tm, b, o, &no) : NULL;
	return tv_map(l, tm, simp_make(tm->sd, op, x, y), o, no);
}

/* ---- lowering the AST, as dag.c does ---- */

static TVal *lower(Lower *l, const Expr *e);

/* sum_of: v[0] + v[1] + ... in order */
static TVal *sum_of(Lower *l, TVal *v)
{
	if (v->size == 1)
		return tv_view(l, v, 0, 1, 0);
	TVal p = {.kind = TV_SUM, .size = 1, .nopnd = 1};
	p.opnd[0] = v;
	return intern(l, &p);
}

static TVal *detached_max(Lower *l, TVal *v)
{
	TVal p = {.kind = TV_MAX, .size = 1, .nopnd = 1};
	p.opnd[0] = v;
	return intern(l, &p);
}

static TVal *matmul(Lower *l, const Expr *e)
{
	const Expr *x = e->args[0], *y = e->args[1];
	TVal *a = lower(l, x), *b = lower(l, y);
	int m = x->shape.rank == 2 ? x->shape.dim[0] : 1;
	int k = x->shape.dim[x->shape.rank - 1];
	int n = y->shape.rank == 2 ? y->shape.dim[1] : 1;
	if (m == 1 && n == 1) /* vector . vector: the nodes dot makes */
		return sum_of(l, map_op(l, OP_MUL, a, b));
	TVal p = {.kind = TV_MATMUL, .size = m * n, .rank = e->shape.rank, .m = m, .k = k,
		  .n = n, .nopnd = 2};
	p.opnd[0] = a, p.opnd[1] = b;
	return intern(l, &p);
}

/* exp(x[i] - m): softmax's and cross_entropy's shifted exponentials */
static TVal *shifted_exp(Lower *l, TVal *x, TVal *m)
{
	TVal *o[TV_MAX_OPND];
	int no = 0;
	Tm *tm = tm_new(l);
	Node *xi = operand(tm, x, o, &no), *mi = operand(tm, m, o, &no);
	Node *t = simp_make(tm->sd, OP_EXP, simp_sub(tm->sd, xi, mi), NULL);
	return tv_map(l, tm, t, o, no);
}

/* m + log(s) */
static TVal *log_sum(Lower *l, TVal *m, TVal *s)
{
	TVal *o[TV_MAX_OPND];
	int no = 0;
	Tm *tm = tm_new(l);
	Node *mi = operand(tm, m, o, &no), *si = operand(tm, s, o, &no);
	return tv_map(l, tm, simp_add(tm->sd, mi, simp_make(tm->sd, OP_LOG, si, NULL)), o, no);
}

static TVal *builtin(Lower *l, const Expr *e)
{
	TVal *x = lower(l, e->args[0]);
	TVal *y = e->nargs > 1 ? lower(l, e->args[1]) : NULL;
	int n = x->size;
	Tm *tm = tm_new(l);
	Dag *sd = tm->sd;
	TVal *o[TV_MAX_OPND];
	int no = 0;
	switch (e->builtin) {
	case B_SUM:
		return sum_of(l, x);
	case B_MEAN:
		return map_op(l, OP_DIV, sum_of(l, x), tv_const(l, n));
	case B_DOT:
		return sum_of(l, map_op(l, OP_MUL, x, y));
	case B_SOFTMAX:
	case B_LOGSUMEXP: {
		TVal *m = detached_max(l, x);
		TVal *t = shifted_exp(l, x, m);
		TVal *s = sum_of(l, t);
		if (e->builtin == B_LOGSUMEXP)
			return log_sum(l, m, s);
		return map_op(l, OP_DIV, t, s);
	}
	case B_MSE: {
		Node *xi = operand(tm, x, o, &no), *yi = operand(tm, y, o, &no);
		Node *r = simp_sub(sd, xi, yi);
		TVal *t = tv_map(l, tm, simp_mul(sd, r, r), o, no);
		return map_op(l, OP_DIV, sum_of(l, t), tv_const(l, n));
	}
	case B_BCE:
	case B_BCE_LOGITS: {
		Node *p = operand(tm, x, o, &no), *yi = operand(tm, y, o, &no), *t;
		if (e->builtin == B_BCE)
			t = simp_make(sd, OP_BCE, p, yi);
		else
			t = simp_sub(sd, simp_make(sd, OP_SOFTPLUS, p, NULL), simp_mul(sd, yi, p));
		TVal *terms = tv_map(l, tm, t, o, no);
		if (n == 1)
			return tv_view(l, terms, 0, 1, 0);
		return map_op(l, OP_DIV, sum_of(l, terms), tv_const(l, n));
	}
	case B_CROSS_ENTROPY: {
		TVal *m = detached_max(l, x);
		TVal *lse = log_sum(l, m, sum_of(l, shifted_exp(l, x, m)));
		/* z[class] = sum of (class == i) * z[i] */
		TVal *cls = y->rank ? tv_view(l, y, 0, 1, 0) : y;
		Node *c = operand(tm, cls, o, &no), *i = operand(tm, tv_iota(l, n), o, &no);
		Node *zi = operand(tm, x, o, &no);
		Node *t = simp_mul(sd, simp_make(sd, OP_EQ, c, i), zi);
		return map_op(l, OP_SUB, lse, sum_of(l, tv_map(l, tm, t, o, no)));
	}
	case B_COUNT:
		break;
	}
	unreachable();
}

static TVal *lower(Lower *l, const Expr *e)
{
	switch (e->kind) {
	case E_NUM:
		if (l->dt == DT_FLOAT && (isinf((float)e->num) || ((float)e->num == 0) != (e->num == 0)))
			diag_error(e->loc, "number %g is out of the range of a float (--dtype float)", e->num);
		return tv_const(l, e->num);
	case E_NAME:
		sg_check(e->sym->tval);
		return e->sym->tval;
	case E_UNARY:
	case E_BINARY:
	case E_CALL: {
		/* operands in order, as dag.c: the order values are made is the
		 * order their adjoints are summed in */
		TVal *x = lower(l, e->args[0]);
		TVal *y = e->nargs > 1 ? lower(l, e->args[1]) : NULL;
		return map_op(l, e->op, x, y);
	}
	case E_MATMUL:
		return matmul(l, e);
	case E_INDEX: {
		const Expr *base = e->args[0];
		TVal *v = lower(l, base);
		int cols = base->shape.rank == 2 ? base->shape.dim[1] : 1;
		if (e->nidx == base->shape.rank)
			return tv_view(l, v, e->nidx == 2 ? e->idx[0] * cols + e->idx[1] : e->idx[0], 1, 0);
		return tv_view(l, v, e->idx[0] * cols, cols, 1);
	}
	case E_BUILTIN:
		return builtin(l, e);
	}
	unreachable();
}

/* ---- analysis ---- */

static TVal *root_of(TVal *v)
{
	return v && v->kind == TV_VIEW ? v->opnd[0] : v;
}

static bool tmpl_reads(const Node *t, const Node *ph)
{
	if (t == ph)
		return true;
	for (int k = 0; k < t->nargs; k++)
		if (tmpl_reads(t->args[k], ph))
			return true;
	return false;
}

static void reach_elem(TVal *v, int i)
{
	if (!v->reach[i]) {
		v->reach[i] = true;
		v->n_reach++;
	}
}

/* Marks, element by element, what the loss reads. */
static void mark_reach(Lower *l, TVal *loss)
{
	for (int i = 0; i < l->n; i++)
		l->vals[i]->reach = arena_alloc(l->a, (size_t)l->vals[i]->size * sizeof(bool));
	reach_elem(loss, 0);
	for (int id = loss->id; id >= 0; id--) {
		TVal *v = l->vals[id];
		if (!v->n_reach)
			continue;
		switch (v->kind) {
		case TV_MAP:
			for (int k = 0; k < v->nopnd; k++) {
				TVal *o = v->opnd[k];
				if (!tmpl_reads(v->tmpl, v->tm->ph[k]))
					continue;
				for (int i = 0; i < v->size; i++)
					if (v->reach[i])
						reach_elem(o, o->size == 1 ? 0 : i);
			}
			break;
		case TV_MATMUL:
			for (int i = 0; i < v->m; i++)
				for (int j = 0; j < v->n; j++) {
					if (!v->reach[i * v->n + j])
						continue;
					for (int t = 0; t < v->k; t++) {
						reach_elem(v->opnd[0], i * v->k + t);
						reach_elem(v->opnd[1], t * v->n + j);
					}
				}
			break;
		case TV_SUM:
		case TV_MAX:
			for (int i = 0; i < v->opnd[0]->size; i++)
				reach_elem(v->opnd[0], i);
			break;
		case TV_VIEW:
			for (int i = 0; i < v->size; i++)
				if (v->reach[i])
					reach_elem(v->opnd[0], v->offset + i);
			break;
		case TV_LEAF:
		case TV_CONST:
		case TV_IOTA:
			break;
		}
	}
}

static void mark_needs_grad(Lower *l)
{
	for (int id = 0; id < l->n; id++) {
		TVal *v = l->vals[id];
		switch (v->kind) {
		case TV_LEAF: v->needs_grad = v->sym->kind == SYM_PARAM; break;
		case TV_MAX:
		case TV_CONST: v->needs_grad = false; break;
		default:
			for (int k = 0; k < v->nopnd; k++)
				v->needs_grad |= v->opnd[k]->needs_grad;
		}
	}
}

/* Operators diff.c has no rule for (piecewise constant, or detached): a
 * gradient stops there, as in diff_reverse. */
static bool stops_gradient(Op op)
{
	return op == OP_SIGN || op == OP_GT || op == OP_NGT || op == OP_EQ || op == OP_DETACH;
}

/* Does element expression t read placeholder ph through operators that pass a gradient? */
static bool grad_path(const Node *t, const Node *ph)
{
	if (t == ph)
		return true;
	if (stops_gradient(t->op))
		return false;
	for (int k = 0; k < t->nargs; k++)
		if (grad_path(t->args[k], ph))
			return true;
	return false;
}

/* Whether a gradient flows from v into its k-th operand. */
static bool flows_into(const TVal *v, int k)
{
	const TVal *o = v->opnd[k];
	if (!o->passes)
		return false;
	return v->kind != TV_MAP || grad_path(v->tmpl, v->tm->ph[k]);
}

/*
 * needs_grad is what the scalar program's diff_reverse marks, and decides
 * whether the loss depends on a param at all.  A value can depend on one
 * only through a comparison (cross_entropy's class == i, with a param as
 * the class): the scalar program then makes adjoints nobody reads, which
 * its scheduler drops.  Here: passes, bottom up, is whether a gradient
 * through a value reaches a param; gets, top down from the loss, whether
 * backward computes the value's adjoint.  Only those are declared and
 * computed, so that no adjoint is set and never read.
 */
static void mark_flow(Lower *l, TVal *loss)
{
	for (int id = 0; id < l->n; id++) {
		TVal *v = l->vals[id];
		switch (v->kind) {
		case TV_LEAF: v->passes = v->sym->kind == SYM_PARAM; break;
		case TV_VIEW: v->passes = v->opnd[0]->passes; break;
		case TV_MAP: case TV_MATMUL: case TV_SUM:
			for (int k = 0; k < v->nopnd; k++)
				v->passes |= flows_into(v, k);
			break;
		default: break; /* constants, iota, the detached max */
		}
	}
	root_of(loss)->gets = loss->passes;
	for (int id = loss->id; id >= 0; id--) {
		TVal *v = l->vals[id];
		if (!v->gets || v->kind == TV_VIEW || v->kind == TV_LEAF)
			continue;
		for (int k = 0; k < v->nopnd; k++)
			if (flows_into(v, k))
				root_of(v->opnd[k])->gets = true;
	}
}

/* live[f]: the values function f computes, all ancestors of its roots. */
static void mark_live(Lower *l, int f, TVal **roots, int nroots)
{
	for (int i = 0; i < nroots; i++)
		roots[i]->live[f] = true;
	for (int id = l->n - 1; id >= 0; id--) {
		TVal *v = l->vals[id];
		if (v->live[f])
			for (int k = 0; k < v->nopnd; k++)
				v->opnd[k]->live[f] = true;
	}
}

/* ---- text ---- */

static const char *ix_add(Lower *l, int off, const char *ix)
{
	char *end;
	long v = strtol(ix, &end, 10);
	if (!*end)
		return arena_printf(l->a, "%ld", v + off);
	return off ? arena_printf(l->a, "%d + %s", off, ix) : ix;
}

/* i * stride + t as text: "i * 784 + k", "k", "3" */
static const char *ix_lin(Lower *l, const char *i, int stride, const char *t)
{
	char *e1, *e2;
	long a = strtol(i, &e1, 10), b = strtol(t, &e2, 10);
	if (!*e1 && !*e2)
		return arena_printf(l->a, "%ld", a * stride + b);
	if (!*e1 && a == 0)
		return t;
	const char *base = stride == 1 ? i : arena_printf(l->a, "%s * %d", i, stride);
	if (!*e2 && b == 0)
		return base;
	return arena_printf(l->a, "%s + %s", base, t);
}

/* Element ix of v's value ("0" for a scalar's). */
static const char *val_at(Lower *l, TVal *v, const char *ix)
{
	switch (v->kind) {
	case TV_CONST: return lit(l, v->value);
	case TV_IOTA: return arena_printf(l->a, "(%s)%s", l->dt == DT_FLOAT ? "float" : "double", ix);
	case TV_VIEW: return val_at(l, v->opnd[0], ix_add(l, v->offset, v->rank ? ix : "0"));
	default: return v->rank ? arena_printf(l->a, "%s[%s]", v->name, ix) : v->name;
	}
}

static const char *adj_at(Lower *l, TVal *v, const char *ix)
{
	if (v->kind == TV_VIEW)
		return adj_at(l, v->opnd[0], ix_add(l, v->offset, v->rank ? ix : "0"));
	if (v->adj_one)
		return lit(l, 1.0);
	return v->rank ? arena_printf(l->a, "%s[%s]", v->dname, ix) : v->dname;
}

/* How element expressions print: operand texts for the placeholders. */
struct Ctx {
	const char *opnd[TV_MAX_OPND];
	const char *adj;
	const Node *z;        /* the MAP's own element, stored */
	const char *z_text;
};

static bool atomic(const Node *n, const Ctx *c)
{
	return n->nargs == 0 || n == c->z;
}

/* Whether every %k in form stands alone as a function argument: exp(%0),
 * pow(%0, %1), which need no parentheses around it. */
static bool bracketed(const char *form, int k)
{
	bool any = false;
	for (const char *p = form; (p = strchr(p, '%')); p++) {
		if (p[1] != '0' + k)
			continue;
		any = true;
		bool open = p > form && (p[-1] == '(' || (p - form >= 2 && p[-1] == ' ' && p[-2] == ','));
		bool close = p[2] == ')' || p[2] == ',';
		if (!open || !close)
			return false;
	}
	return any;
}

static const char *render(Lower *l, const Tm *tm, const Node *n, const Ctx *c)
{
	if (n == c->z)
		return c->z_text;
	if (n->op == OP_CONST)
		return lit(l, n->value);
	if (n == tm->adj)
		return c->adj;
	for (int k = 0; k < TV_MAX_OPND; k++)
		if (n == tm->ph[k])
			return c->opnd[k];
	const char *form = l->dt == DT_FLOAT ? op_info[n->op].c_float : op_info[n->op].c_double;
	const char *args[2] = {NULL, NULL};
	for (int k = 0; k < n->nargs; k++) {
		const char *s = render(l, tm, n->args[k], c);
		args[k] = atomic(n->args[k], c) || bracketed(form, k) ? s : arena_printf(l->a, "(%s)", s);
	}
	Buf b = {0};
	for (const char *p = form; *p; p++) {
		if (p[0] == '%' && (p[1] == '0' || p[1] == '1')) {
			buf_puts(&b, args[p[1] - '0']);
			p++;
		} else {
			buf_put(&b, p, 1);
		}
	}
	const char *s = arena_strndup(l->a, b.data ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

static const char *key_of(Lower *l, const Tm *tm, const Node *t)
{
	Ctx c = {.opnd = {"%0", "%1", "%2"}, .adj = "%adj"};
	return render(l, tm, t, &c);
}

/* ---- emitting ---- */

static void put(Lower *l, LFunc *f, LItemKind kind, const char *text, const char *comment)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		LItem *grown = arena_alloc(l->a, (size_t)f->cap * sizeof *grown);
		if (f->n)
			memcpy(grown, f->items, (size_t)f->n * sizeof *grown);
		f->items = grown;
	}
	f->items[f->n++] = (LItem){kind, text, comment, NULL, 0, 0};
}

static void put_for(Lower *l, LFunc *f, const char *var, int from, int to)
{
	put(l, f, LI_FOR, NULL, NULL);
	f->items[f->n - 1].var = var;
	f->items[f->n - 1].from = from;
	f->items[f->n - 1].to = to;
}

static const char *real(const Lower *l)
{
	return l->dt == DT_FLOAT ? "float" : "double";
}

/* A value as a comment names it: "W1", "x[3]", "M[row 1]", "2.0" */
static const char *name_of(Lower *l, TVal *v)
{
	switch (v->kind) {
	case TV_CONST: return lit(l, v->value);
	case TV_IOTA: return "i";
	case TV_VIEW:
		if (!v->rank)
			return val_at(l, v, "0");
		return arena_printf(l->a, "%s[%d:%d]", v->opnd[0]->name, v->offset, v->offset + v->size);
	default: return v->name;
	}
}

/* A MAP's element expression over whole-tensor names (comments). */
static const char *map_text(Lower *l, TVal *v)
{
	Ctx c = {0};
	for (int k = 0; k < v->nopnd; k++)
		c.opnd[k] = name_of(l, v->opnd[k]);
	return render(l, v->tm, v->tmpl, &c);
}

static Ctx map_ctx(Lower *l, TVal *v, const char *ix)
{
	Ctx c = {0};
	for (int k = 0; k < v->nopnd; k++)
		c.opnd[k] = val_at(l, v->opnd[k], v->opnd[k]->size == 1 ? "0" : ix);
	return c;
}

static const char *decl(Lower *l, TVal *v)
{
	if (v->rank)
		return arena_printf(l->a, "%s %s[%d];", real(l), v->name, v->size);
	return NULL;
}

/* The forward kernel of v. */
static void emit_forward(Lower *l, LFunc *f, TVal *v)
{
	const char *r = real(l);
	const char *d = decl(l, v);
	switch (v->kind) {
	case TV_MAP: {
		const char *what = arena_printf(l->a, "%s = %s", v->name, map_text(l, v));
		if (v->size == 1 && !v->rank) {
			Ctx c = map_ctx(l, v, "0");
			put(l, f, LI_STMT, arena_printf(l->a, "const %s %s = %s;", r, v->name,
							render(l, v->tm, v->tmpl, &c)), NULL);
			f->ops += 1;
			break;
		}
		put(l, f, LI_COMMENT, what, NULL);
		put(l, f, LI_STMT, d, NULL);
		put_for(l, f, "i", 0, v->size - 1);
		Ctx c = map_ctx(l, v, "i");
		put(l, f, LI_STMT, arena_printf(l->a, "%s[i] = %s;", v->name, render(l, v->tm, v->tmpl, &c)), NULL);
		put(l, f, LI_END, NULL, NULL);
		f->ops += v->size;
		break;
	}
	case TV_SUM:
	case TV_MAX: {
		TVal *x = v->opnd[0];
		const char *what = arena_printf(l->a, "%s = %s(%s)", v->name,
						v->kind == TV_SUM ? "sum" : "detach(max", name_of(l, x));
		if (v->kind == TV_MAX)
			what = arena_printf(l->a, "%s)", what);
		put(l, f, LI_COMMENT, what, NULL);
		put(l, f, LI_STMT, arena_printf(l->a, "%s %s = %s;", r, v->name, val_at(l, x, "0")), NULL);
		if (x->size > 1) { /* a one-element max is its element */
			put_for(l, f, "i", 1, x->size - 1);
			if (v->kind == TV_SUM)
				put(l, f, LI_STMT, arena_printf(l->a, "%s += %s;", v->name, val_at(l, x, "i")),
				    NULL);
			else
				put(l, f, LI_STMT, arena_printf(l->a, "%s = %s > %s ? %s : %s;", v->name,
								val_at(l, x, "i"), v->name,
								val_at(l, x, "i"), v->name), NULL);
			put(l, f, LI_END, NULL, NULL);
		}
		f->ops += x->size - 1;
		break;
	}
	case TV_MATMUL: {
		TVal *a = v->opnd[0], *b = v->opnd[1];
		put(l, f, LI_COMMENT, arena_printf(l->a, "%s = %s @ %s: each element a left fold over %d products",
						   v->name, name_of(l, a), name_of(l, b),
						   v->k), NULL);
		put(l, f, LI_STMT, d, NULL);
		const char *i = v->m > 1 ? "i" : "0", *j = v->n > 1 ? "j" : "0";
		if (v->m > 1)
			put_for(l, f, "i", 0, v->m - 1);
		if (v->n > 1)
			put_for(l, f, "j", 0, v->n - 1);
		put(l, f, LI_STMT, arena_printf(l->a, "%s acc = %s * %s;", r,
						val_at(l, a, ix_lin(l, i, v->k, "0")),
						val_at(l, b, v->n > 1 ? j : "0")), NULL);
		if (v->k > 1) {
			put_for(l, f, "k", 1, v->k - 1);
			put(l, f, LI_STMT, arena_printf(l->a, "acc += %s * %s;",
							val_at(l, a, ix_lin(l, i, v->k, "k")),
							val_at(l, b, ix_lin(l, "k", v->n, j))), NULL);
			put(l, f, LI_END, NULL, NULL);
		}
		put(l, f, LI_STMT, arena_printf(l->a, "%s[%s] = acc;", v->name, ix_lin(l, i, v->n, j)),
		    NULL);
		if (v->n > 1)
			put(l, f, LI_END, NULL, NULL);
		if (v->m > 1)
			put(l, f, LI_END, NULL, NULL);
		f->ops += (long)v->m * v->n * (2L * v->k - 1);
		break;
	}
	default:
		break;
	}
	l->prog->n_kernels++;
}

/* Before a kernel adds into the adjoint of v through a view, or many times
 * into one element, that adjoint must hold a value: -0.0, the exact zero of
 * addition. */
static void adj_prepare(Lower *l, LFunc *f, TVal *v)
{
	TVal *r = root_of(v);
	if (r->adj_init)
		return;
	if (r->rank) {
		put_for(l, f, "i", 0, r->size - 1);
		put(l, f, LI_STMT, arena_printf(l->a, "%s[i] = %s;", r->dname, lit(l, -0.0)), NULL);
		put(l, f, LI_END, NULL, NULL);
	} else {
		put(l, f, LI_STMT, arena_printf(l->a, "%s = %s;", r->dname, lit(l, -0.0)), NULL);
	}
	r->adj_init = true;
}

/* "d[ix] = term;" the first time, "d[ix] += term;" after. */
static const char *adj_add(Lower *l, TVal *v, const char *ix, const char *term, bool *first)
{
	const char *op = *first ? "=" : "+=";
	*first = false;
	return arena_printf(l->a, "%s %s %s;", adj_at(l, v, ix), op, term);
}

typedef struct Term {
	int k;          /* the operand */
	Node *term;
} Term;

/* Reverse mode over one element's expression: diff_reverse's sweep, with
 * the element's adjoint as the seed.  Terms for operands come out in the
 * order the scalar program adds them. */
static int element_terms(TVal *v, Node *seed, Term *out, int max)
{
	Dag *sd = v->tm->sd;
	/* the expression's inner nodes, visited by descending id as diff.c does */
	Node *up[MAX_INNER], *nodes[MAX_INNER];
	int nn = inner_nodes(v->tmpl, up);
	for (int i = 0; i < nn; i++)
		nodes[i] = up[nn - 1 - i];
	Node *adj[MAX_INNER] = {0};
	adj[0] = seed; /* nodes[0] is the root: the largest id */
	sg_check(nodes[0] == v->tmpl);
	int nt = 0;
	for (int i = 0; i < nn; i++) {
		Node *n = nodes[i];
		if (!adj[i] || n->op == OP_DETACH)
			continue;
		for (int k = 0; k < n->nargs; k++) {
			Node *arg = n->args[k];
			/* does arg depend on an operand that needs a gradient? */
			bool needs = false;
			for (int p = 0; p < v->nopnd; p++)
				if (v->opnd[p]->passes && tmpl_reads(arg, v->tm->ph[p]))
					needs = true;
			if (!needs || arg->op == OP_DETACH)
				continue;
			Node *term = diff_term(sd, n, k, adj[i]);
			if (!term)
				continue;
			int p = -1;
			for (int q = 0; q < v->nopnd; q++)
				if (arg == v->tm->ph[q])
					p = q;
			if (p >= 0) {
				sg_check(nt < max);
				out[nt++] = (Term){p, term};
				continue;
			}
			for (int j = i + 1; j < nn; j++)
				if (nodes[j] == arg)
					adj[j] = adj[j] ? simp_add(sd, adj[j], term) : term;
		}
	}
	return nt;
}

/* The backward kernel of a MAP: each element's terms, elements descending
 * when a broadcast scalar collects them (so its sum has the scalar order). */
static void backward_map(Lower *l, LFunc *f, TVal *v)
{
	Term terms[64];
	int nt = element_terms(v, v->adj_one ? v->tm->sd->one : v->tm->adj, terms, 64);
	if (!nt)
		return;
	bool scalar = v->size == 1;
	bool down = false;
	for (int t = 0; t < nt; t++) {
		TVal *o = v->opnd[terms[t].k];
		bool shared = o->kind == TV_VIEW || o->size != root_of(o)->size ||
			      (o->size == 1 && !scalar) || v->mask;
		if (shared)
			adj_prepare(l, f, o);
		down |= o->size == 1 && !scalar;
	}
	put(l, f, LI_COMMENT, arena_printf(l->a, "through %s = %s (line %d)", v->name,
					   map_text(l, v), v->line), NULL);
	const char *ix = scalar ? "0" : "i";
	if (!scalar)
		put_for(l, f, "i", down ? v->size - 1 : 0, down ? 0 : v->size - 1);
	if (v->mask) /* elements the loss does not read get no adjoint */
		put(l, f, LI_STMT, arena_printf(l->a, "if (!%s[i])", v->mask), NULL),
		put(l, f, LI_STMT, "\tcontinue;", NULL);
	Ctx c = map_ctx(l, v, ix);
	c.adj = adj_at(l, v, ix);
	c.z = v->tmpl;
	c.z_text = val_at(l, v, ix);
	bool first[TV_MAX_OPND];
	TVal *done[TV_MAX_OPND];
	int nd = 0;
	for (int t = 0; t < nt; t++) {
		TVal *o = v->opnd[terms[t].k], *r = root_of(o);
		bool *fst = NULL;
		for (int q = 0; q < nd; q++)
			if (done[q] == r)
				fst = &first[q];
		if (!fst) {
			done[nd] = r;
			first[nd] = !r->adj_init;
			fst = &first[nd++];
		}
		const char *oix = o->size == 1 ? "0" : ix;
		put(l, f, LI_STMT, adj_add(l, o, oix, render(l, v->tm, terms[t].term, &c), fst), NULL);
	}
	if (!scalar)
		put(l, f, LI_END, NULL, NULL);
	for (int q = 0; q < nd; q++)
		done[q]->adj_init = true;
	f->ops += (long)v->size * nt * 2;
	l->prog->n_kernels++;
}

static void backward_sum(Lower *l, LFunc *f, TVal *v)
{
	TVal *x = v->opnd[0];
	if (!x->passes)
		return;
	if (x->kind == TV_VIEW || x->size != root_of(x)->size)
		adj_prepare(l, f, x);
	bool first = !root_of(x)->adj_init;
	put(l, f, LI_COMMENT, arena_printf(l->a, "through %s = sum(%s) (line %d): each element gets d_%s",
					   v->name, name_of(l, x), v->line, v->name), NULL);
	put_for(l, f, "i", 0, x->size - 1);
	put(l, f, LI_STMT, arena_printf(l->a, "%s %s %s;", adj_at(l, x, "i"), first ? "=" : "+=",
					adj_at(l, v, "0")), NULL);
	put(l, f, LI_END, NULL, NULL);
	root_of(x)->adj_init = true;
	f->ops += x->size;
	l->prog->n_kernels++;
}

/* C = A @ B: dA[i,t] += sum over j (descending) of dC[i,j] * B[t,j],
 *            dB[t,j] += sum over i (descending) of dC[i,j] * A[i,t]. */
static void backward_matmul(Lower *l, LFunc *f, TVal *v)
{
	TVal *ab[2] = {v->opnd[0], v->opnd[1]};
	const char *r = real(l);
	for (int s = 0; s < 2; s++) {
		TVal *x = ab[s], *other = ab[1 - s];
		if (!x->passes)
			continue;
		if (x->kind == TV_VIEW || x->size != root_of(x)->size || v->mask)
			adj_prepare(l, f, x);
		bool init = root_of(x)->adj_init;
		/* s = 0: rows i, cols t of A; fold over j.  s = 1: rows t, cols j of B; fold over i. */
		int rows = s == 0 ? v->m : v->k, cols = s == 0 ? v->k : v->n;
		int fold = s == 0 ? v->n : v->m;
		const char *rv = s == 0 ? "i" : "k", *cv = s == 0 ? "k" : "j", *fv = s == 0 ? "j" : "i";
		put(l, f, LI_COMMENT,
		    s == 0 ? arena_printf(l->a, "through %s = %s @ %s (line %d): d_%s += d_%s @ %s^T",
					  v->name, name_of(l, ab[0]), name_of(l, ab[1]),
					  v->line, name_of(l, ab[0]), v->name, name_of(l, ab[1]))
			   : arena_printf(l->a, "and d_%s += %s^T @ d_%s", name_of(l, ab[1]),
					  name_of(l, ab[0]), v->name), NULL);
		const char *ri = rows > 1 ? rv : "0", *ci = cols > 1 ? cv : "0";
		if (rows > 1)
			put_for(l, f, rv, 0, rows - 1);
		if (cols > 1)
			put_for(l, f, cv, 0, cols - 1);
		/* element (ri, ci) of x; the fold index fv runs over dC's other axis */
		const char *xi = ix_lin(l, ri, cols, ci);
		const char *fi = fold > 1 ? fv : "0";
		const char *dc = s == 0 ? adj_at(l, v, ix_lin(l, ri, v->n, fi))
					: adj_at(l, v, ix_lin(l, fi, v->n, ci));
		const char *ot = s == 0 ? val_at(l, other, ix_lin(l, ci, v->n, fi))
					: val_at(l, other, ix_lin(l, fi, v->k, ri));
		const char *term = arena_printf(l->a, "%s * %s", dc, ot);
		/* a partly read product: only the elements read pass adjoints */
		const char *guard = v->mask ? arena_printf(l->a, "if (%s[%s]) ", v->mask,
							   s == 0 ? ix_lin(l, ri, v->n, fi)
								  : ix_lin(l, fi, v->n, ci)) : "";
		if (fold == 1) {
			put(l, f, LI_STMT, arena_printf(l->a, "%s%s %s %s;", guard, adj_at(l, x, xi),
							init ? "+=" : "=", term), NULL);
		} else if (rows > 1 || cols > 1) { /* acc is local to the loop's body */
			put(l, f, LI_STMT, arena_printf(l->a, "%s acc = %s;", r,
							init ? adj_at(l, x, xi) : lit(l, -0.0)), NULL);
			put_for(l, f, fv, fold - 1, 0);
			put(l, f, LI_STMT, arena_printf(l->a, "%sacc += %s;", guard, term), NULL);
			put(l, f, LI_END, NULL, NULL);
			put(l, f, LI_STMT, arena_printf(l->a, "%s = acc;", adj_at(l, x, xi)), NULL);
		} else {
			/* x has one element: no loop encloses this fold, and an acc
			 * declared here would be the function's, declared again by the
			 * next such fold.  It sums in the adjoint itself: the same
			 * additions in the same order. */
			const char *dx = adj_at(l, x, xi);
			if (!init)
				put(l, f, LI_STMT, arena_printf(l->a, "%s = %s;", dx, lit(l, -0.0)), NULL);
			put_for(l, f, fv, fold - 1, 0);
			put(l, f, LI_STMT, arena_printf(l->a, "%s%s += %s;", guard, dx, term), NULL);
			put(l, f, LI_END, NULL, NULL);
		}
		if (cols > 1)
			put(l, f, LI_END, NULL, NULL);
		if (rows > 1)
			put(l, f, LI_END, NULL, NULL);
		root_of(x)->adj_init = true;
		f->ops += 2L * v->m * v->n * v->k;
		l->prog->n_kernels++;
	}
}

/* Reads of params and inputs: a pointer for a tensor, a value for a scalar. */
static void emit_loads(Lower *l, LFunc *f, int fn)
{
	bool any = false, used[2] = {false, false};
	for (int i = 0; i < l->m->n_tensors; i++) {
		Symbol *s = l->m->tensors[i];
		TVal *v = s->tval;
		if (!v->live[fn])
			continue;
		bool param = s->kind == SYM_PARAM;
		const char *arr = param ? "params" : "inputs";
		const char *at = arena_printf(l->a, "%s_%s_%s", l->NAME, param ? "PARAM" : "INPUT",
					      s->ident);
		if (!any)
			put(l, f, LI_COMMENT, "parameters and inputs", NULL);
		any = true;
		used[param] = true;
		if (v->rank)
			put(l, f, LI_STMT, arena_printf(l->a, "const %s *%s = %s + %s;", real(l), v->name, arr,
							at), NULL);
		else
			put(l, f, LI_STMT, arena_printf(l->a, "const %s %s = %s[%s];", real(l), v->name, arr,
							at), NULL);
	}
	if (!used[1])
		put(l, f, LI_STMT, "(void)params;", NULL);
	if (!used[0])
		put(l, f, LI_STMT, "(void)inputs;", NULL);
}

static void emit_forward_all(Lower *l, LFunc *f, int fn)
{
	emit_loads(l, f, fn);
	int line = -1;
	for (int id = 0; id < l->n; id++) {
		TVal *v = l->vals[id];
		if (!v->live[fn] || v->kind == TV_LEAF || v->kind == TV_CONST || v->kind == TV_VIEW)
			continue;
		if (v->line != line) {
			line = v->line;
			put(l, f, LI_BLANK, NULL, NULL);
			for (int s = 0; s < l->m->n_lets; s++) {
				Symbol *b = l->m->lets[s];
				if (b->loc.line == line && (!b->tensor || b->tensor->elems[0] == b)) {
					put(l, f, LI_COMMENT, arena_printf(l->a, "line %d: %s", line, b->stmt->text),
					    NULL);
					break;
				}
			}
		}
		emit_forward(l, f, v);
	}
}

static void emit_outputs(Lower *l, LFunc *f)
{
	Model *m = l->m;
	for (int i = 0; i < m->n_outputs;) {
		Symbol *s = m->outputs[i];
		Symbol *t = s->tensor ? s->tensor : s;
		TVal *v = t->tval;
		const char *at = arena_printf(l->a, "%s_OUTPUT_%s", l->NAME, t->ident);
		if (t->size > 1) {
			put_for(l, f, "i", 0, t->size - 1);
			put(l, f, LI_STMT, arena_printf(l->a, "outputs[%s + i] = %s;", at, val_at(l, v, "i")),
			    NULL);
			put(l, f, LI_END, NULL, NULL);
		} else {
			put(l, f, LI_STMT, arena_printf(l->a, "outputs[%s] = %s;", at,
							val_at(l, v, "0")), NULL);
		}
		i += t->size;
	}
}

/* ---- the whole ---- */

long loop_estimate(const Model *m)
{
	long ops = 0;
	/* every expression once: a binding's tree, each node by its size */
	for (int i = 0; i < m->n_lets; i++) {
		Symbol *s = m->lets[i];
		if (s->tensor && s->tensor->elems[0] != s)
			continue;
		const Expr *stack[SG_MAX_DEPTH * 2 + 16];
		int n = 0;
		stack[n++] = s->tensor ? s->tensor->value : s->value;
		while (n) {
			const Expr *e = stack[--n];
			switch (e->kind) {
			case E_MATMUL: {
				const Expr *x = e->args[0], *y = e->args[1];
				long rows = x->shape.rank == 2 ? x->shape.dim[0] : 1;
				long k = x->shape.dim[x->shape.rank - 1];
				long cols = y->shape.rank == 2 ? y->shape.dim[1] : 1;
				ops += rows * cols * (2 * k - 1);
				break;
			}
			case E_BUILTIN: ops += 4L * shape_size(e->args[0]->shape); break;
			/* a scalar operation has nothing to loop over: a chain of
			 * them stays unrolled, however long */
			case E_UNARY:
			case E_BINARY:
			case E_CALL:
				if (shape_size(e->shape) > 1)
					ops += shape_size(e->shape);
				break;
			default: break;
			}
			for (int k = 0; k < e->nargs && n < (int)(sizeof stack / sizeof *stack); k++)
				stack[n++] = e->args[k];
		}
	}
	return ops;
}

LoopProg *loop_build(Arena *a, Model *m, Dtype dt, const char **why)
{
	Lower L = {.a = a, .m = m, .dt = dt};
	Lower *l = &L;
	l->buckets = arena_alloc(a, NBUCKETS * sizeof *l->buckets);
	l->NAME = arena_upper(a, m->name);
	static const char *const ph_names[] = {"%0", "%1", "%2", "%adj"};
	for (int k = 0; k < TV_MAX_OPND + 1; k++)
		l->ph_sym[k] = (Symbol){.kind = SYM_INPUT, .name = ph_names[k], .ident = ph_names[k]};
	LoopProg *p = arena_alloc(a, sizeof *p);
	p->arena = a;
	p->model = m;
	p->dtype = dt;
	l->prog = p;

	/* leaves, in declaration order; the float check dag_build makes */
	for (int i = 0; i < m->n_tensors; i++) {
		Symbol *s = m->tensors[i];
		l->line = s->loc.line;
		TVal proto = {.kind = TV_LEAF, .sym = s, .size = s->size, .rank = s->shape.rank};
		s->tval = intern(l, &proto);
	}
	if (dt == DT_FLOAT)
		for (int i = 0; i < m->n_params; i++)
			if (isinf((float)m->params[i]->init))
				diag_error(m->params[i]->loc,
					   "initial value %g of '%s' overflows a float (--dtype float)",
					   m->params[i]->init, m->params[i]->name);
	for (int i = 0; i < m->n_lets; i++) {
		Symbol *s = m->lets[i];
		l->line = s->loc.line;
		if (!s->tensor)
			s->tval = lower(l, s->value);
		else if (s->tensor->elems[0] == s)
			s->tensor->tval = lower(l, s->tensor->value);
	}
	p->n_tensors = l->n;
	TVal *loss = m->loss->tval;

	/* what the loop program cannot reproduce: unroll */
	mark_needs_grad(l);
	if (!loss->needs_grad)
		diag_error(m->loss->loc, "the loss does not depend on any parameter");
	mark_reach(l, loss);
	mark_flow(l, loss);
	for (int id = 0; id < l->n; id++) {
		TVal *v = l->vals[id];
		if (v->kind == TV_MATMUL && v->needs_grad && root_of(v->opnd[0]) == root_of(v->opnd[1])) {
			*why = arena_printf(a, "a matrix product of a value with itself (line %d)", v->line);
			return NULL;
		}
	}

	/* names: the model's first, then temporaries t1, t2, ..., then adjoints */
	l->names = names_new(a, m);
	static const char *const loop_names[] = {"j", "acc", NULL};
	for (int i = 0; loop_names[i]; i++)
		names_take(l->names, loop_names[i]);
	for (int i = 0; i < m->n_tensors; i++)
		m->tensors[i]->tval->name = names_take(l->names, m->tensors[i]->ident);
	for (int i = 0; i < m->n_lets; i++) {
		Symbol *s = m->lets[i];
		Symbol *t = s->tensor ? s->tensor : s;
		if (s->tensor && s->tensor->elems[0] != s)
			continue;
		TVal *v = t->tval;
		if (!v->name && v->kind != TV_CONST && v->kind != TV_VIEW)
			v->name = names_take(l->names, t->ident);
	}
	for (int id = 0; id < l->n; id++) {
		TVal *v = l->vals[id];
		if (!v->name && v->kind != TV_CONST && v->kind != TV_VIEW)
			v->name = names_take(l->names, arena_printf(a, "t%d", ++l->temp));
	}
	for (int id = 0; id < l->n; id++) {
		TVal *v = l->vals[id];
		if (v->name && v->gets && v->n_reach)
			v->dname = names_take(l->names, arena_printf(a, "d_%s", v->name));
		if (v->dname && v->n_reach < v->size)
			v->mask = names_take(l->names, arena_printf(a, "read_%s", v->name));
	}

	/* forward: loss and outputs; predict: outputs; backward: the loss */
	int nout = 0;
	TVal **roots = arena_alloc(a, (size_t)(m->n_outputs + 1) * sizeof *roots);
	for (int i = 0; i < m->n_outputs; i++) {
		Symbol *t = m->outputs[i]->tensor ? m->outputs[i]->tensor : m->outputs[i];
		roots[nout++] = t->tval;
	}
	mark_live(l, 2, roots, nout);
	roots[nout] = loss;
	mark_live(l, 0, roots, nout + 1);
	mark_live(l, 1, &loss, 1);

	emit_forward_all(l, &p->forward, 0);
	emit_forward_all(l, &p->predict, 2);
	emit_forward_all(l, &p->backward, 1);
	p->backward_fwd_ops = p->backward.ops;

	/* forward: outputs when asked */
	if (m->n_outputs) {
		put(l, &p->forward, LI_BLANK, NULL, NULL);
		put(l, &p->forward, LI_IF, "outputs", NULL);
		emit_outputs(l, &p->forward);
		put(l, &p->forward, LI_END, NULL, NULL);
		put(l, &p->predict, LI_BLANK, NULL, NULL);
		emit_outputs(l, &p->predict);
	} else {
		put(l, &p->forward, LI_STMT, "(void)outputs;", NULL);
		put(l, &p->predict, LI_STMT, "(void)outputs;", NULL);
	}
	p->loss = val_at(l, loss, "0");
	put(l, &p->forward, LI_STMT, arena_printf(a, "return %s;", p->loss), NULL);

	/* backward: adjoints, then the kernels in reverse */
	LFunc *b = &p->backward;
	put(l, b, LI_BLANK, NULL, NULL);
	put(l, b, LI_COMMENT, "backward pass: d_v is dloss/dv; each adjoint sums its terms in the "
			      "order of the unrolled program", NULL);
	for (int id = 0; id < l->n; id++) {
		TVal *v = l->vals[id];
		if (!v->dname || (v == loss && (v->kind == TV_MAP || v->kind == TV_SUM)))
			continue;
		if (v->kind == TV_LEAF && v->rank)
			put(l, b, LI_STMT, arena_printf(a, "%s *%s = grad + %s_PARAM_%s;", real(l), v->dname,
							l->NAME, v->sym->ident), NULL);
		else if (v->rank)
			put(l, b, LI_STMT, arena_printf(a, "%s %s[%d];", real(l), v->dname, v->size), NULL);
		else
			put(l, b, LI_STMT, arena_printf(a, "%s %s;", real(l), v->dname), NULL);
	}
	for (int id = 0; id < l->n; id++) {
		TVal *v = l->vals[id];
		if (!v->mask)
			continue;
		Buf bits = {0};
		for (int i = 0; i < v->size; i++)
			buf_puts(&bits, v->reach[i] ? (i ? ", 1" : "1") : (i ? ", 0" : "0"));
		put(l, b, LI_STMT, arena_printf(a, "static const unsigned char %s[%d] = {%s};", v->mask,
						v->size, bits.data), "the elements the loss reads");
		buf_free(&bits);
	}
	if (loss->kind == TV_MAP || loss->kind == TV_SUM) {
		loss->adj_one = true;
		loss->adj_init = true;
	} else if (loss->passes) { /* a param, or an element of a value: seed its adjoint */
		TVal *r = root_of(loss);
		if (loss != r)
			adj_prepare(l, b, loss);
		put(l, b, LI_STMT, arena_printf(a, "%s = %s;", adj_at(l, loss, "0"), lit(l, 1.0)), NULL);
		r->adj_init = true;
	}
	for (int id = loss->id; id >= 0; id--) {
		TVal *v = l->vals[id];
		if (!v->gets || !v->n_reach || !v->adj_init)
			continue;
		int before = b->n;
		put(l, b, LI_BLANK, NULL, NULL);
		if (v->kind == TV_MAP)
			backward_map(l, b, v);
		else if (v->kind == TV_SUM)
			backward_sum(l, b, v);
		else if (v->kind == TV_MATMUL)
			backward_matmul(l, b, v);
		if (b->n == before + 1)
			b->n = before;
	}
	/* params: tensors were accumulated in grad; scalars are copied; a param
	 * the loss does not read gets 0, with the warning the scalar path gives */
	put(l, b, LI_BLANK, NULL, NULL);
	for (int i = 0; i < m->n_tensors; i++) {
		Symbol *s = m->tensors[i];
		TVal *v = s->tval;
		if (s->kind != SYM_PARAM)
			continue;
		const char *at = arena_printf(a, "%s_PARAM_%s", l->NAME, s->ident);
		bool *unused = arena_alloc(a, (size_t)s->size);
		for (int e = 0; e < s->size; e++)
			unused[e] = !v->adj_init || !v->reach[e];
		diff_warn_unused(s, unused);
		if (v->adj_init && v->mask) {
			put_for(l, b, "i", 0, v->size - 1);
			put(l, b, LI_STMT, arena_printf(a, "if (!%s[i])", v->mask), NULL);
			put(l, b, LI_STMT, arena_printf(a, "\t%s[i] = 0;", v->dname), NULL);
			put(l, b, LI_END, NULL, NULL);
		}
		if (!v->n_reach || !v->adj_init) {
			if (v->rank) {
				put_for(l, b, "i", 0, v->size - 1);
				put(l, b, LI_STMT, arena_printf(a, "grad[%s + i] = 0;", at), NULL);
				put(l, b, LI_END, NULL, NULL);
			} else {
				put(l, b, LI_STMT, arena_printf(a, "grad[%s] = 0;", at), NULL);
			}
		} else if (!v->rank) {
			put(l, b, LI_STMT, arena_printf(a, "grad[%s] = %s;", at, v->dname), NULL);
		}
	}
	put(l, b, LI_STMT, arena_printf(a, "return %s;", val_at(l, loss, "0")), NULL);
	return p;
}
