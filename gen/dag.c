/*
 * dag.c: the hash-consed expression DAG.
 *
 * Every node is made through dag_make, which returns the existing node when
 * one with the same operator and operands exists (for + and * in either
 * operand order, since a+b and b+a are the same IEEE value), so structurally
 * identical subexpressions are one node.  Node ids count up in creation
 * order; a node's operands always have smaller ids, so id order is a
 * topological order.  Constants are stored rounded to the model's dtype.
 */
#include <math.h>
#include <string.h>

#include "sg.h"

const OpInfo op_info[OP_COUNT] = {
#define OP(id, sp, ar, k, cd, cf) {#id, sp, ar, k, cd, cf},
#include "ops.h"
#undef OP
};

bool op_lookup_func(const char *name, size_t len, Op *op)
{
	for (int i = 0; i < OP_COUNT; i++) {
		const OpInfo *o = &op_info[i];
		if (o->kind == K_FUNC && strlen(o->spelling) == len && !memcmp(o->spelling, name, len)) {
			*op = (Op)i;
			return true;
		}
	}
	return false;
}

double dag_round(const Dag *d, double v)
{
	return d->dtype == DT_FLOAT ? (double)(float)v : v;
}

static uint32_t mix(uint32_t h, uint64_t v)
{
	h ^= (uint32_t)v ^ (uint32_t)(v >> 32);
	h *= 0x9E3779B1u;
	return h ^ (h >> 15);
}

static uint32_t node_hash(Op op, const Node *a, const Node *b, double value, const Symbol *sym)
{
	uint64_t bits;
	memcpy(&bits, &value, sizeof bits);
	uint32_t h = mix(0x12345u, (uint64_t)op);
	h = mix(h, a ? (uint64_t)a->id + 1 : 0);
	h = mix(h, b ? (uint64_t)b->id + 1 : 0);
	h = mix(h, bits);
	return mix(h, (uint64_t)(uintptr_t)sym);
}

static bool same(const Node *n, Op op, const Node *a, const Node *b, double value,
		 const Symbol *sym)
{
	return n->op == op && n->args[0] == a && n->args[1] == b && n->sym == sym &&
	       !memcmp(&n->value, &value, sizeof value);
}

Dag *dag_new(Arena *a, Dtype dt)
{
	Dag *d = arena_alloc(a, sizeof *d);
	d->arena = a;
	d->dtype = dt;
	d->nbuckets = 1024;
	d->buckets = arena_alloc(a, (size_t)d->nbuckets * sizeof *d->buckets);
	d->first_backward = 1 << 30;
	d->zero = dag_const(d, 0.0);
	d->one = dag_const(d, 1.0);
	return d;
}

static Node *lookup(Dag *d, uint32_t h, Op op, Node *a, Node *b, double v, Symbol *s)
{
	for (Node *n = d->buckets[h & (uint32_t)(d->nbuckets - 1)]; n; n = n->next)
		if (n->hash == h && same(n, op, a, b, v, s))
			return n;
	return NULL;
}

static void rehash(Dag *d)
{
	d->nbuckets *= 2;
	d->buckets = arena_alloc(d->arena, (size_t)d->nbuckets * sizeof *d->buckets);
	for (int i = 0; i < d->n; i++) {
		Node *n = d->nodes[i];
		Node **b = &d->buckets[n->hash & (uint32_t)(d->nbuckets - 1)];
		n->next = *b;
		*b = n;
	}
}

/* Finds or makes the node (op a b value sym). */
static Node *intern(Dag *d, Op op, Node *a, Node *b, double value, Symbol *sym)
{
	uint32_t h = node_hash(op, a, b, value, sym);
	Node *n = lookup(d, h, op, a, b, value, sym);
	if (!n && (op == OP_ADD || op == OP_MUL))
		n = lookup(d, node_hash(op, b, a, value, sym), op, b, a, value, sym);
	if (n)
		return n;
	if (d->n >= SG_MAX_NODES)
		diag_fatal("the model needs more than %d expression nodes (limit)", SG_MAX_NODES);
	if (d->n == d->cap) {
		int cap = d->cap ? d->cap * 2 : 1024;
		Node **grown = arena_alloc(d->arena, (size_t)cap * sizeof *grown);
		if (d->n)
			memcpy(grown, d->nodes, (size_t)d->n * sizeof *grown);
		d->nodes = grown;
		d->cap = cap;
	}
	n = arena_alloc(d->arena, sizeof *n);
	n->op = op;
	n->id = d->n;
	n->nargs = op_info[op].arity;
	n->args[0] = a;
	n->args[1] = b;
	n->value = value;
	n->sym = sym;
	n->hash = h;
	n->slot = -1;
	d->nodes[d->n++] = n;
	Node **bucket = &d->buckets[h & (uint32_t)(d->nbuckets - 1)];
	n->next = *bucket;
	*bucket = n;
	if (d->n > d->nbuckets)
		rehash(d);
	return n;
}

Node *dag_const(Dag *d, double v)
{
	return intern(d, OP_CONST, NULL, NULL, dag_round(d, v), NULL);
}

Node *dag_leaf(Dag *d, Op op, Symbol *sym)
{
	sg_check(op == OP_INPUT || op == OP_PARAM);
	return intern(d, op, NULL, NULL, 0.0, sym);
}

Node *dag_make(Dag *d, Op op, Node *a, Node *b)
{
	sg_check(op_info[op].arity == (a != NULL) + (b != NULL));
	return intern(d, op, a, b, 0.0, NULL);
}

/* ---- evaluation: the same arithmetic as the emitted C ---- */

/* ops.h's BCE: (y - 1) max(log(1 - p), -100) - y max(log(p), -100), max as MAX */
static double bce_double(double p, double y)
{
	double lq = log(1.0 - p), lp = log(p);
	return (y - 1.0) * (-100.0 > lq ? -100.0 : lq) - y * (-100.0 > lp ? -100.0 : lp);
}

static float bce_float(float p, float y)
{
	float lq = logf(1.0f - p), lp = logf(p);
	return (y - 1.0f) * (-100.0f > lq ? -100.0f : lq) - y * (-100.0f > lp ? -100.0f : lp);
}

static double apply_double(Op op, double a, double b)
{
	switch (op) {
	case OP_ADD: return a + b;
	case OP_SUB: return a - b;
	case OP_MUL: return a * b;
	case OP_DIV: return a / b;
	case OP_NEG: return -a;
	case OP_POW: return pow(a, b);
	case OP_EXP: return exp(a);
	case OP_LOG: return log(a);
	case OP_SQRT: return sqrt(a);
	case OP_SIN: return sin(a);
	case OP_COS: return cos(a);
	case OP_TAN: return tan(a);
	case OP_TANH: return tanh(a);
	case OP_SIGMOID: return 1.0 / (1.0 + exp(-a));
	case OP_SOFTPLUS: return fmax(a, 0.0) + log1p(exp(-fabs(a)));
	case OP_RELU: return a < 0.0 ? 0.0 : a;
	case OP_ABS: return fabs(a);
	case OP_MIN: return b < a ? b : a;
	case OP_MAX: return b > a ? b : a;
	case OP_SIGN: return (double)((a > 0.0) - (a < 0.0));
	case OP_GT: return a > b ? 1.0 : 0.0;
	case OP_NGT: return a > b ? 0.0 : 1.0;
	case OP_EQ: return a == b ? 1.0 : 0.0;
	case OP_DETACH: return a;
	case OP_BCE: return bce_double(a, b);
	default: unreachable();
	}
}

static float apply_float(Op op, float a, float b)
{
	switch (op) {
	case OP_ADD: return a + b;
	case OP_SUB: return a - b;
	case OP_MUL: return a * b;
	case OP_DIV: return a / b;
	case OP_NEG: return -a;
	case OP_POW: return powf(a, b);
	case OP_EXP: return expf(a);
	case OP_LOG: return logf(a);
	case OP_SQRT: return sqrtf(a);
	case OP_SIN: return sinf(a);
	case OP_COS: return cosf(a);
	case OP_TAN: return tanf(a);
	case OP_TANH: return tanhf(a);
	case OP_SIGMOID: return 1.0f / (1.0f + expf(-a));
	case OP_SOFTPLUS: return fmaxf(a, 0.0f) + log1pf(expf(-fabsf(a)));
	case OP_RELU: return a < 0.0f ? 0.0f : a;
	case OP_ABS: return fabsf(a);
	case OP_MIN: return b < a ? b : a;
	case OP_MAX: return b > a ? b : a;
	case OP_SIGN: return (float)((a > 0.0f) - (a < 0.0f));
	case OP_GT: return a > b ? 1.0f : 0.0f;
	case OP_NGT: return a > b ? 0.0f : 1.0f;
	case OP_EQ: return a == b ? 1.0f : 0.0f;
	case OP_DETACH: return a;
	case OP_BCE: return bce_float(a, b);
	default: unreachable();
	}
}

double dag_apply(Dtype dt, Op op, double a, double b)
{
	if (dt == DT_FLOAT)
		return apply_float(op, (float)a, (float)b);
	return apply_double(op, a, b);
}

void dag_eval(const Dag *d, const double *params, const double *inputs, double *vals)
{
	for (int i = 0; i < d->n; i++) {
		const Node *n = d->nodes[i];
		switch (n->op) {
		case OP_CONST: vals[i] = n->value; break;
		case OP_INPUT: vals[i] = dag_round(d, inputs[n->sym->index]); break;
		case OP_PARAM: vals[i] = dag_round(d, params[n->sym->index]); break;
		default:
			vals[i] = dag_apply(d->dtype, n->op, vals[n->args[0]->id],
					    n->nargs > 1 ? vals[n->args[1]->id] : 0.0);
		}
	}
}

/* ---- lowering the AST ---- */

/* Every expression lowers to its elements, row-major: one node for a scalar. */
static Node **lower(Dag *d, const Expr *e);

static Node **nodes_new(Dag *d, int n)
{
	return arena_alloc(d->arena, (size_t)(n ? n : 1) * sizeof(Node *));
}

/* a0 + a1 + ... in order, as PyTorch's sequential reductions do */
static Node *sum_of(Dag *d, Node **v, int n)
{
	Node *acc = v[0];
	for (int i = 1; i < n; i++)
		acc = simp_add(d, acc, v[i]);
	return acc;
}

/* The largest element, held constant for the gradient: softmax and
 * logsumexp are shift-invariant, so the shift's derivative is exactly 0. */
static Node *detached_max(Dag *d, Node **v, int n)
{
	Node *m = v[0];
	for (int i = 1; i < n; i++)
		m = simp_make(d, OP_MAX, m, v[i]);
	return simp_make(d, OP_DETACH, m, NULL);
}

static Node **lower_elementwise(Dag *d, const Expr *e)
{
	int n = shape_size(e->shape);
	Node **out = nodes_new(d, n);
	Node **a = lower(d, e->args[0]);
	Node **b = e->nargs > 1 ? lower(d, e->args[1]) : NULL;
	int sa = shape_size(e->args[0]->shape);
	int sb = e->nargs > 1 ? shape_size(e->args[1]->shape) : 1;
	for (int i = 0; i < n; i++)
		out[i] = simp_make(d, e->op, a[sa == 1 ? 0 : i], b ? b[sb == 1 ? 0 : i] : NULL);
	return out;
}

/* A @ B over row-major elements; vectors act as a row or a column. */
static Node **lower_matmul(Dag *d, const Expr *e)
{
	const Expr *x = e->args[0], *y = e->args[1];
	Node **a = lower(d, x), **b = lower(d, y);
	int m = x->shape.rank == 2 ? x->shape.dim[0] : 1;
	int k = x->shape.dim[x->shape.rank - 1];
	int n = y->shape.rank == 2 ? y->shape.dim[1] : 1;
	Node **out = nodes_new(d, m * n);
	for (int i = 0; i < m; i++)
		for (int j = 0; j < n; j++) {
			Node *acc = simp_mul(d, a[i * k], b[j]);
			for (int t = 1; t < k; t++)
				acc = simp_add(d, acc, simp_mul(d, a[i * k + t], b[t * n + j]));
			out[i * n + j] = acc;
		}
	return out;
}

static Node **lower_index(Dag *d, const Expr *e)
{
	const Expr *base = e->args[0];
	Node **v = lower(d, base);
	int cols = base->shape.rank == 2 ? base->shape.dim[1] : 1;
	if (e->nidx == base->shape.rank) {
		Node **out = nodes_new(d, 1);
		out[0] = v[e->nidx == 2 ? e->idx[0] * cols + e->idx[1] : e->idx[0]];
		return out;
	}
	return v + e->idx[0] * cols; /* a matrix's row */
}

/* PyTorch's BCELoss per element: (y - 1) * max(log(1 - p), -100) - y * max(log(p), -100),
 * one node, whose derivative is PyTorch's (diff.c d_bce), not that of the clamp */
static Node *bce_term(Dag *d, Node *p, Node *y)
{
	return simp_make(d, OP_BCE, p, y);
}

static Node **lower_builtin(Dag *d, const Expr *e)
{
	Node **x = lower(d, e->args[0]);
	Node **y = e->nargs > 1 ? lower(d, e->args[1]) : NULL;
	int n = shape_size(e->args[0]->shape);
	Node **out = nodes_new(d, n);
	Node **tmp = nodes_new(d, n);
	switch (e->builtin) {
	case B_SUM:
		out[0] = sum_of(d, x, n);
		return out;
	case B_MEAN:
		out[0] = simp_div(d, sum_of(d, x, n), dag_const(d, n));
		return out;
	case B_DOT:
		for (int i = 0; i < n; i++)
			tmp[i] = simp_mul(d, x[i], y[i]);
		out[0] = sum_of(d, tmp, n);
		return out;
	case B_SOFTMAX:
	case B_LOGSUMEXP: {
		Node *m = detached_max(d, x, n);
		for (int i = 0; i < n; i++)
			tmp[i] = simp_make(d, OP_EXP, simp_sub(d, x[i], m), NULL);
		Node *s = sum_of(d, tmp, n);
		if (e->builtin == B_LOGSUMEXP) {
			out[0] = simp_add(d, m, simp_make(d, OP_LOG, s, NULL));
			return out;
		}
		for (int i = 0; i < n; i++)
			out[i] = simp_div(d, tmp[i], s);
		return out;
	}
	case B_MSE:
		for (int i = 0; i < n; i++) {
			Node *r = simp_sub(d, x[i], y[i]);
			tmp[i] = simp_mul(d, r, r);
		}
		out[0] = simp_div(d, sum_of(d, tmp, n), dag_const(d, n));
		return out;
	case B_BCE:
	case B_BCE_LOGITS:
		for (int i = 0; i < n; i++)
			tmp[i] = e->builtin == B_BCE
					 ? bce_term(d, x[i], y[i])
					 : simp_sub(d, simp_make(d, OP_SOFTPLUS, x[i], NULL),
						    simp_mul(d, y[i], x[i]));
		out[0] = n == 1 ? tmp[0] : simp_div(d, sum_of(d, tmp, n), dag_const(d, n));
		return out;
	case B_CROSS_ENTROPY: {
		/* logsumexp(z) - z[class], with z[class] = sum of (class == i) * z[i] */
		Node *m = detached_max(d, x, n);
		for (int i = 0; i < n; i++)
			tmp[i] = simp_make(d, OP_EXP, simp_sub(d, x[i], m), NULL);
		Node *lse = simp_add(d, m, simp_make(d, OP_LOG, sum_of(d, tmp, n), NULL));
		for (int i = 0; i < n; i++)
			tmp[i] = simp_mul(d, simp_make(d, OP_EQ, y[0], dag_const(d, i)), x[i]);
		out[0] = simp_sub(d, lse, sum_of(d, tmp, n));
		return out;
	}
	case B_COUNT:
		break;
	}
	unreachable();
}

static Node **lower(Dag *d, const Expr *e)
{
	Node **out;
	switch (e->kind) {
	case E_NUM:
		if (d->dtype == DT_FLOAT && (isinf((float)e->num) || ((float)e->num == 0) != (e->num == 0)))
			diag_error(e->loc, "number %g is out of the range of a float (--dtype float)", e->num);
		out = nodes_new(d, 1);
		out[0] = dag_const(d, e->num);
		return out;
	case E_NAME:
		if (!e->sym->elems)
			return &e->sym->node;
		out = nodes_new(d, e->sym->size);
		for (int i = 0; i < e->sym->size; i++)
			out[i] = e->sym->elems[i]->node;
		return out;
	case E_UNARY:
	case E_BINARY:
	case E_CALL:
		return lower_elementwise(d, e);
	case E_MATMUL:
		return lower_matmul(d, e);
	case E_INDEX:
		return lower_index(d, e);
	case E_BUILTIN:
		return lower_builtin(d, e);
	}
	unreachable();
}

Node *dag_lower(Dag *d, Expr *e)
{
	sg_check(e->shape.rank == 0);
	return lower(d, e)[0];
}

/* Leaves are made in declaration order so ids follow the source. */
void dag_build(Dag *d, Model *m)
{
	int i = 0, j = 0;
	while (i < m->n_inputs || j < m->n_params) {
		Symbol *in = i < m->n_inputs ? m->inputs[i] : NULL;
		Symbol *pa = j < m->n_params ? m->params[j] : NULL;
		bool take_input = in && (!pa || in->loc.line < pa->loc.line ||
					 (in->loc.line == pa->loc.line && in->loc.col < pa->loc.col));
		if (take_input) {
			in->node = dag_leaf(d, OP_INPUT, in), i++;
			continue;
		}
		if (d->dtype == DT_FLOAT && isinf((float)pa->init))
			diag_error(pa->loc, "initial value %g of '%s' overflows a float (--dtype float)",
				   pa->init, pa->name);
		pa->node = dag_leaf(d, OP_PARAM, pa), j++;
	}
	for (int k = 0; k < m->n_lets; k++) {
		Symbol *s = m->lets[k];
		if (!s->tensor) {
			s->node = dag_lower(d, s->value);
		} else if (s->tensor->elems[0] == s) {
			Node **v = lower(d, s->tensor->value);
			for (int e = 0; e < s->tensor->size; e++)
				s->tensor->elems[e]->node = v[e];
		}
	}
}

/* ---- --dump=dag ---- */

static void dump_ref(FILE *out, const Node *n)
{
	char b[40];
	switch (n->op) {
	case OP_CONST:
		fmt_shortest(b, sizeof b, n->value, DT_DOUBLE);
		fputs(b, out);
		break;
	case OP_INPUT:
	case OP_PARAM:
		fputs(n->sym->name, out);
		break;
	default:
		fprintf(out, "%%%d", n->id);
	}
}

void dag_dump(FILE *out, const Dag *d, const Model *m)
{
	(void)m;
	for (int i = 0; i < d->n; i++) {
		const Node *n = d->nodes[i];
		if (n->nargs == 0)
			continue;
		fprintf(out, "%%%d = %s", n->id, op_info[n->op].name);
		for (int k = 0; k < n->nargs; k++) {
			fputc(' ', out);
			dump_ref(out, n->args[k]);
		}
		fputc('\n', out);
	}
}
