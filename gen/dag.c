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
#define OP(id, sp, ar, k, fl, rule, value, tex) {#id, sp, ar, k, fl, #value, tex},
#include "ops.h"
#undef OP
};

/* One token of a value column: M(f) and C(x) as in dtype dt, a and b as %0
 * and %1, REAL as the type; anything else as written. */
static const char *c_token(Buf *b, const char *s, Dtype dt)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
	if (n == 1 && (s[0] == 'M' || s[0] == 'C') && s[1] == '(') {
		const char *end = strchr(s, ')');
		sg_check(end);
		buf_put(b, s + 2, (size_t)(end - s - 2));
		buf_puts(b, dt == DT_FLOAT ? "f" : "");
		return end + 1;
	}
	if (n == 1 && (s[0] == 'a' || s[0] == 'b'))
		buf_puts(b, s[0] == 'a' ? "%0" : "%1");
	else if (n == 4 && !strncmp(s, "REAL", 4))
		buf_puts(b, dt == DT_FLOAT ? "float" : "double");
	else
		buf_put(b, s, n ? n : 1);
	return s + (n ? n : 1);
}

const char *op_c(Op op, Dtype dt)
{
	static char *text[OP_COUNT][2];
	if (!text[op][dt]) {
		Buf b = {0};
		for (const char *s = op_info[op].value; *s;)
			s = c_token(&b, s, dt);
		buf_put(&b, "", 1);
		text[op][dt] = b.data; /* once per operator and dtype, for the process */
	}
	return text[op][dt];
}

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

/* Each operation in double and in float: ops.h's value column, compiled. */
#define REAL double
#define M(f) f
#define C(x) x
#define APPLY apply_double
#include "apply.h"
#undef REAL
#undef M
#undef C
#undef APPLY
#define REAL float
#define M(fn) fn##f
#define C(x) x##f
#define APPLY apply_float
#include "apply.h"
#undef REAL
#undef M
#undef C
#undef APPLY

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
