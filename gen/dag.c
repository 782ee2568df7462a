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

static uint32_t node_hash(Op op, const Node *a, const Node *b, const Node *c, double value,
			  const Symbol *sym)
{
	uint64_t bits;
	memcpy(&bits, &value, sizeof bits);
	uint32_t h = mix(0x12345u, (uint64_t)op);
	h = mix(h, a ? (uint64_t)a->id + 1 : 0);
	h = mix(h, b ? (uint64_t)b->id + 1 : 0);
	if (c)
		h = mix(h, (uint64_t)c->id + 1);
	h = mix(h, bits);
	return mix(h, (uint64_t)(uintptr_t)sym);
}

static bool same(const Node *n, Op op, const Node *a, const Node *b, const Node *c,
		 double value, const Symbol *sym)
{
	return n->op == op && n->args[0] == a && n->args[1] == b && n->args[2] == c && n->sym == sym &&
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

static Node *lookup(Dag *d, uint32_t h, Op op, Node *a, Node *b, Node *c, double v, Symbol *s)
{
	for (Node *n = d->buckets[h & (uint32_t)(d->nbuckets - 1)]; n; n = n->next)
		if (n->hash == h && same(n, op, a, b, c, v, s))
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

/* Finds or makes the node (op a b c value sym). */
static Node *intern(Dag *d, Op op, Node *a, Node *b, Node *c, double value, Symbol *sym)
{
	uint32_t h = node_hash(op, a, b, c, value, sym);
	Node *n = lookup(d, h, op, a, b, c, value, sym);
	if (!n && (op == OP_ADD || op == OP_MUL))
		n = lookup(d, node_hash(op, b, a, c, value, sym), op, b, a, c, value, sym);
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
	n->args[2] = c;
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
	return intern(d, OP_CONST, NULL, NULL, NULL, dag_round(d, v), NULL);
}

Node *dag_leaf(Dag *d, Op op, Symbol *sym)
{
	sg_check(op == OP_INPUT || op == OP_PARAM);
	return intern(d, op, NULL, NULL, NULL, 0.0, sym);
}

Node *dag_make(Dag *d, Op op, Node *a, Node *b)
{
	sg_check(op_info[op].arity == (a != NULL) + (b != NULL));
	return intern(d, op, a, b, NULL, 0.0, NULL);
}

Node *dag_make3(Dag *d, Op op, Node *a, Node *b, Node *c)
{
	sg_check(op_info[op].arity == 3 && a && b && c);
	return intern(d, op, a, b, c, 0.0, NULL);
}

/* ---- evaluation: the same arithmetic as the emitted C ---- */

void dag_eval(const Dag *d, const double *params, const double *inputs, double *vals)
{
	for (int i = 0; i < d->n; i++) {
		const Node *n = d->nodes[i];
		switch (n->op) {
		case OP_CONST: vals[i] = n->value; break;
		case OP_INPUT: vals[i] = dag_round(d, inputs[n->sym->index]); break;
		case OP_PARAM: vals[i] = dag_round(d, params[n->sym->index]); break;
		default:
			vals[i] = op_apply(d->dtype, n->op, vals[n->args[0]->id],
					    n->nargs > 1 ? vals[n->args[1]->id] : 0.0,
					    n->nargs > 2 ? vals[n->args[2]->id] : 0.0);
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
