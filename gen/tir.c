/*
 * tir.c: the tensor IR (sg.h lists its kinds and their order of operations).
 *
 * Values are hash-consed: making a value equal to an existing one (same
 * kind, operator, operands and shape; a + b and b + a alike) returns it.
 * Elementwise maps go through simp.c: tir_map builds op(operands) as a
 * pattern over placeholders in a scratch DAG with the simplifying
 * constructors, and the pattern's operations become maps, so the IR holds
 * the same operations the scalar program would (x * 1 is x, x - (-y) is
 * x + y) and unroll.c's expansion finds nothing left to simplify that does
 * not depend on an element's own value.
 *
 * The lowering is the one definition of each builtin: sum and dot are left
 * folds, softmax and logsumexp shift by the detached maximum, cross_entropy
 * picks the class by comparing it with 0, 1, 2, ...
 */
#include <math.h>
#include <string.h>

#include "sg.h"

#define MAX_INNER 64 /* operations of one pattern */

bool tir_has(const TVal *v, int i)
{
	return !v->has || v->has[i];
}

/* ---- values, hash-consed ---- */

static uint32_t mix(uint32_t h, uint64_t v)
{
	h ^= (uint32_t)v ^ (uint32_t)(v >> 32);
	h *= 0x9E3779B1u;
	return h ^ (h >> 15);
}

static uint32_t val_hash(const TVal *p, TVal *a, TVal *b)
{
	uint64_t bits;
	memcpy(&bits, &p->value, sizeof bits);
	uint32_t h = mix(0x7A11u, (uint64_t)p->kind << 8 | (uint64_t)p->op);
	h = mix(h, a ? (uint64_t)a->id + 1 : 0);
	h = mix(h, b ? (uint64_t)b->id + 1 : 0);
	if (p->args[2]) /* where's third operand comes in the prototype */
		h = mix(h, (uint64_t)p->args[2]->id + 1);
	h = mix(h, bits);
	h = mix(h, (uint64_t)(uintptr_t)p->sym);
	h = mix(h, (uint64_t)p->size << 32 | (uint64_t)(uint32_t)p->off);
	h = mix(h, (uint64_t)p->m << 40 ^ (uint64_t)p->k << 20 ^ (uint64_t)p->n);
	h = mix(h, (uint64_t)p->tx << 1 | p->ty);
	h = mix(h, (uint64_t)p->shape.rank << 42 ^ (uint64_t)p->shape.dim[0] << 21 ^
		       (uint64_t)p->shape.dim[1]);
	h = mix(h, (uint64_t)p->shape.dim[2] << 32 | (uint64_t)(uint32_t)p->shape.dim[3]);
	if (p->idx) /* a gather's table: its length and a few entries */
		h = mix(h, (uint64_t)p->n_idx << 32 ^ (uint64_t)(uint32_t)p->idx[0] << 16 ^
			       (uint64_t)(uint32_t)p->idx[p->n_idx / 2] ^
			       (uint64_t)(uint32_t)p->idx[p->n_idx - 1] << 40);
	return h;
}

static bool same(const TVal *v, const TVal *p, TVal *a, TVal *b)
{
	return v->kind == p->kind && v->op == p->op && v->args[0] == a && v->args[1] == b &&
	       v->args[2] == p->args[2] &&
	       v->sym == p->sym && !memcmp(&v->value, &p->value, sizeof v->value) &&
	       v->size == p->size && v->off == p->off && v->m == p->m && v->k == p->k &&
	       v->n == p->n && v->tx == p->tx && v->ty == p->ty &&
	       shape_equal(v->shape, p->shape) && v->n_idx == p->n_idx &&
	       (v->idx == p->idx ||
		(v->idx && p->idx && !memcmp(v->idx, p->idx, (size_t)p->n_idx * sizeof *p->idx)));
}

static TVal *lookup(const Tir *t, const TVal *p, TVal *a, TVal *b)
{
	uint32_t h = val_hash(p, a, b);
	for (TVal *v = t->buckets[h & (uint32_t)(t->nbuckets - 1)]; v; v = v->next)
		if (v->hash == h && same(v, p, a, b))
			return v;
	return NULL;
}

static void rehash(Tir *t)
{
	t->nbuckets *= 2;
	t->buckets = arena_alloc(t->arena, (size_t)t->nbuckets * sizeof *t->buckets);
	for (int i = 0; i < t->n; i++) {
		TVal *v = t->vals[i];
		TVal **b = &t->buckets[v->hash & (uint32_t)(t->nbuckets - 1)];
		v->next = *b;
		*b = v;
	}
}

/* Element (i, j) of a product's operands: their flat positions. */
static int x_at(const TVal *v, int i, int j)
{
	return v->tx ? j * v->m + i : i * v->k + j;
}

static int y_at(const TVal *v, int i, int j)
{
	return v->ty ? j * v->k + i : i * v->n + j;
}

/* Whether element i of new value v exists, from its operands. */
static bool elem_has(const TVal *v, int i)
{
	const TVal *a = v->args[0], *b = v->args[1];
	switch (v->kind) {
	case T_MAP:
		for (int k = 0; k < v->nargs; k++)
			if (!tir_has(v->args[k], v->args[k]->size == 1 ? 0 : i))
				return false;
		return true;
	case T_MATMUL:
		for (int t = 0; t < v->k; t++)
			if (tir_has(a, x_at(v, i / v->n, t)) && tir_has(b, y_at(v, t, i % v->n)))
				return true;
		return false;
	case T_FOLD:
		return a->n_has > 0 || (b && tir_has(b, 0));
	case T_VIEW: return tir_has(a, v->off + i);
	case T_SCATTER: return i >= v->off && i < v->off + a->size && tir_has(a, i - v->off);
	case T_BCAST: return tir_has(a, 0);
	case T_ACC: return tir_has(a, i) || tir_has(b, i);
	case T_GATHER: return v->idx[i] >= 0 && tir_has(a, v->idx[i]);
	default: return true;
	}
}

/* A gather's adjoint: out[j] exists where some existing a[i] has idx[i] = j. */
static void gather_add_has(TVal *v, bool *has)
{
	for (int i = 0; i < v->n_idx; i++)
		if (v->idx[i] >= 0 && tir_has(v->args[0], i))
			has[v->idx[i]] = true;
}

static void set_has(Tir *t, TVal *v)
{
	bool all = true;
	for (int i = 0; i < v->nargs; i++)
		all &= !v->args[i]->has;
	if (all && v->kind != T_SCATTER && v->kind != T_GATHER && v->kind != T_GATHER_ADD) {
		v->n_has = v->size;
		return;
	}
	bool *has = arena_alloc(t->arena, (size_t)v->size);
	if (v->kind == T_GATHER_ADD)
		gather_add_has(v, has);
	for (int i = 0; i < v->size; i++)
		v->n_has += has[i] = v->kind == T_GATHER_ADD ? has[i] : elem_has(v, i);
	v->has = v->n_has < v->size ? has : NULL;
}

/* The value equal to *p over operands a, b (and p->args[2], where's
 * third), made if new. */
static TVal *intern(Tir *t, const TVal *p, TVal *a, TVal *b)
{
	TVal *v = lookup(t, p, a, b);
	if (!v && p->kind == T_MAP && b && (p->op == OP_ADD || p->op == OP_MUL))
		v = lookup(t, p, b, a);
	if (v)
		return v;
	if (t->n >= SG_MAX_NODES)
		diag_fatal("the model needs more than %d tensor values (limit)", SG_MAX_NODES);
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		TVal **grown = arena_alloc(t->arena, (size_t)t->cap * sizeof *grown);
		if (t->n)
			memcpy(grown, t->vals, (size_t)t->n * sizeof *grown);
		t->vals = grown;
	}
	v = arena_alloc(t->arena, sizeof *v);
	*v = *p;
	v->args[0] = a;
	v->args[1] = b;
	v->nargs = (a != NULL) + (b != NULL) + (p->args[2] != NULL);
	v->id = t->n;
	v->line = t->line;
	v->grad = t->n_forward > 0;
	v->hash = val_hash(p, a, b);
	v->has = NULL;
	v->n_has = 0;
	set_has(t, v);
	t->vals[t->n++] = v;
	TVal **bucket = &t->buckets[v->hash & (uint32_t)(t->nbuckets - 1)];
	v->next = *bucket;
	*bucket = v;
	if (t->n > t->nbuckets)
		rehash(t);
	return v;
}

static Shape scalar_shape(void)
{
	return (Shape){0, {0, 0}};
}

Tir *tir_new(Arena *a, Model *m, Dtype dt)
{
	Tir *t = arena_alloc(a, sizeof *t);
	t->arena = a;
	t->model = m;
	t->dtype = dt;
	t->nbuckets = 256;
	t->buckets = arena_alloc(a, (size_t)t->nbuckets * sizeof *t->buckets);
	t->scratch = dag_new(a, dt);
	static const char *const ph_names[] = {"%0", "%1", "%2", "%adj"};
	for (int k = 0; k < 4; k++) {
		t->ph_sym[k] = (Symbol){.kind = SYM_INPUT, .name = ph_names[k], .ident = ph_names[k]};
		t->ph[k] = dag_leaf(t->scratch, OP_INPUT, &t->ph_sym[k]);
	}
	return t;
}

TVal *tir_const(Tir *t, double v)
{
	TVal p = {.kind = T_CONST, .size = 1, .value = dag_round(t->scratch, v)};
	return intern(t, &p, NULL, NULL);
}

TVal *tir_leaf(Tir *t, Symbol *s)
{
	TVal p = {.kind = T_LEAF, .sym = s, .size = s->size, .shape = s->shape};
	return intern(t, &p, NULL, NULL);
}

static TVal *iota(Tir *t, int n)
{
	TVal p = {.kind = T_IOTA, .size = n, .shape = {1, {n, 0}}};
	return intern(t, &p, NULL, NULL);
}

/* One map, as is: its operands (b and c may be NULL) broadcast to the
 * largest's shape. */
static TVal *raw_map(Tir *t, Op op, TVal *a, TVal *b, TVal *c)
{
	TVal p = {.kind = T_MAP, .op = op, .size = a->size, .shape = a->shape, .args = {0, 0, c}};
	TVal *x[2] = {b, c};
	for (int k = 0; k < 2; k++)
		if (x[k] && (x[k]->size > p.size ||
			     (x[k]->size == p.size && x[k]->shape.rank > p.shape.rank))) {
			p.size = x[k]->size;
			p.shape = x[k]->shape;
		}
	sg_check(a->size == 1 || a->size == p.size);
	sg_check(!b || b->size == 1 || b->size == p.size);
	sg_check(!c || c->size == 1 || c->size == p.size);
	return intern(t, &p, a, b);
}

/* The non-leaf nodes of pattern e, in the order they were made (ids). */
static int inner_nodes(Node *e, Node **nodes)
{
	Node *stack[2 * MAX_INNER];
	int nn = 0, ns = 0;
	stack[ns++] = e;
	while (ns) {
		Node *n = stack[--ns];
		bool seen = n->nargs == 0;
		for (int i = 0; i < nn && !seen; i++)
			seen = nodes[i] == n;
		if (seen)
			continue;
		sg_check(nn < MAX_INNER && ns + 3 <= 2 * MAX_INNER);
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

static TVal *bound(Tir *t, Node *n, TVal *const bind[4], Node **nodes, TVal **vals, int nn)
{
	if (n->op == OP_CONST)
		return tir_const(t, n->value);
	for (int k = 0; k < 4; k++)
		if (n == t->ph[k]) {
			sg_check(bind[k]);
			return bind[k];
		}
	for (int i = 0; i < nn; i++)
		if (nodes[i] == n)
			return vals[i];
	unreachable();
}

TVal *tir_from_pattern(Tir *t, Node *e, TVal *const bind[4])
{
	Node *nodes[MAX_INNER];
	TVal *vals[MAX_INNER];
	int nn = inner_nodes(e, nodes);
	for (int i = 0; i < nn; i++) {
		Node *n = nodes[i];
		TVal *a = bound(t, n->args[0], bind, nodes, vals, i);
		TVal *b = n->nargs > 1 ? bound(t, n->args[1], bind, nodes, vals, i) : NULL;
		TVal *c = n->nargs > 2 ? bound(t, n->args[2], bind, nodes, vals, i) : NULL;
		vals[i] = raw_map(t, n->op, a, b, c);
	}
	return bound(t, e, bind, nodes, vals, nn);
}

/* Operand v of a pattern: a constant as itself, else placeholder k. */
static Node *pattern_operand(Tir *t, TVal *v, int k, TVal **bind)
{
	if (v->kind == T_CONST)
		return dag_const(t->scratch, v->value);
	bind[k] = v;
	return t->ph[k];
}

TVal *tir_map3(Tir *t, Op op, TVal *a, TVal *b, TVal *c)
{
	TVal *bind[4] = {NULL, NULL, NULL, NULL};
	Node *pa = pattern_operand(t, a, 0, bind);
	Node *pb = !b ? NULL : b == a ? pa : pattern_operand(t, b, 1, bind);
	Node *pc = !c ? NULL : c == a ? pa : c == b ? pb : pattern_operand(t, c, 2, bind);
	return tir_from_pattern(t, simp_make3(t->scratch, op, pa, pb, pc), bind);
}

TVal *tir_map(Tir *t, Op op, TVal *a, TVal *b)
{
	return tir_map3(t, op, a, b, NULL);
}

TVal *tir_matmul(Tir *t, TVal *x, TVal *y, int m, int k, int n, bool tx, bool ty)
{
	Shape s = {2, {m, n}};
	if (m == 1 && n == 1)
		s = scalar_shape();
	else if (m == 1)
		s = (Shape){1, {n, 0}};
	else if (n == 1)
		s = (Shape){1, {m, 0}};
	TVal p = {.kind = T_MATMUL, .size = m * n, .shape = s, .m = m, .k = k, .n = n,
		  .tx = tx, .ty = ty};
	return intern(t, &p, x, y);
}

TVal *tir_view(Tir *t, TVal *a, int off, Shape s)
{
	int size = shape_size(s);
	if (a->kind == T_VIEW) {
		off += a->off;
		a = a->args[0];
	}
	if (off == 0 && size == a->size)
		return a;
	TVal p = {.kind = T_VIEW, .size = size, .shape = s, .off = off};
	return intern(t, &p, a, NULL);
}

TVal *tir_fold(Tir *t, Op op, TVal *a)
{
	if (a->size == 1)
		return a;
	TVal p = {.kind = T_FOLD, .op = op, .size = 1, .shape = scalar_shape()};
	return intern(t, &p, a, NULL);
}

TVal *tir_fold_onto(Tir *t, TVal *init, TVal *a)
{
	TVal p = {.kind = T_FOLD, .op = OP_ADD, .size = 1, .shape = scalar_shape()};
	sg_check(init->size == 1);
	return intern(t, &p, a, init);
}

TVal *tir_scatter(Tir *t, TVal *a, int off, TVal *like)
{
	if (off == 0 && a->size == like->size)
		return a;
	TVal p = {.kind = T_SCATTER, .size = like->size, .shape = like->shape, .off = off};
	return intern(t, &p, a, NULL);
}

TVal *tir_bcast(Tir *t, TVal *a, TVal *like)
{
	if (like->size == 1)
		return a;
	TVal p = {.kind = T_BCAST, .size = like->size, .shape = like->shape};
	return intern(t, &p, a, NULL);
}

TVal *tir_acc(Tir *t, TVal *a, TVal *b)
{
	if (!a)
		return b;
	TVal p = {.kind = T_ACC, .size = b->size, .shape = b->shape};
	sg_check(a->size == b->size);
	return intern(t, &p, a, b);
}

TVal *tir_gather(Tir *t, TVal *a, const int *idx, Shape s)
{
	TVal p = {.kind = T_GATHER, .size = shape_size(s), .shape = s, .idx = idx,
		  .n_idx = shape_size(s)};
	return intern(t, &p, a, NULL);
}

TVal *tir_gather_add(Tir *t, TVal *adj, const int *idx, const TVal *like)
{
	TVal p = {.kind = T_GATHER_ADD, .size = like->size, .shape = like->shape, .idx = idx,
		  .n_idx = adj->size};
	return intern(t, &p, adj, NULL);
}

/* ---- conv2d and pooling: gathers, a product, elementwise maps ---- */

static TVal *lower(Tir *t, const Expr *e);
static TVal *operand(Tir *t, const Expr *e, int k);
static TVal *concat(Tir *t, TVal *a, TVal *b);

/* The elements of x [C, H, W] under window offset (ki, kj) at each output
 * position (channel c, oy, ox): x[c, oy s + ki - pad, ox s + kj - pad], -1
 * outside (padding).  rows: how many window offsets the table holds. */
typedef struct Window {
	int C, H, W, kh, kw, stride, pad, oh, ow;
} Window;

static int window_at(const Window *w, int c, int ki, int kj, int oy, int ox)
{
	int y = oy * w->stride + ki - w->pad, x = ox * w->stride + kj - w->pad;
	if (y < 0 || y >= w->H || x < 0 || x >= w->W)
		return -1;
	return (c * w->H + y) * w->W + x;
}

/* im2col: [C kh kw, oh ow], row (c, ki, kj), column (oy, ox). */
static TVal *patches(Tir *t, TVal *x, const Window *w)
{
	int rows = w->C * w->kh * w->kw, cols = w->oh * w->ow;
	int *idx = arena_alloc(t->arena, (size_t)rows * (size_t)cols * sizeof *idx);
	for (int r = 0; r < rows; r++)
		for (int q = 0; q < cols; q++)
			idx[r * cols + q] = window_at(w, r / (w->kh * w->kw), r / w->kw % w->kh,
						      r % w->kw, q / w->ow, q % w->ow);
	return tir_gather(t, x, idx, (Shape){2, {rows, cols}});
}

/* Whole-number literal argument k of e, or def when e has fewer. */
static int int_arg(const Expr *e, int k, int def)
{
	return k < e->nargs ? (int)e->args[k]->num : def;
}

/*
 * conv2d(x, K [, b] [, stride [, padding]]) = K as [O, C kh kw] @ im2col(x),
 * [O, oh ow] read as [O, oh, ow]: each output a left fold over (c, ki, kj)
 * ascending (the product's order), padding's products absent (not computed);
 * then + b[o], b spread over each channel's pixels by a gather.  The
 * gradients to x, K and b are the product's and the gathers' rules.
 */
static TVal *lower_conv2d(Tir *t, const Expr *e, TVal *x, TVal *k)
{
	Shape xs = e->args[0]->shape, ks = e->args[1]->shape;
	bool bias = e->nargs > 2 && e->args[2]->shape.rank == 1;
	Window w = {xs.dim[0], xs.dim[1], xs.dim[2], ks.dim[2], ks.dim[3],
		    int_arg(e, 2 + bias, 1), int_arg(e, 3 + bias, 0), e->shape.dim[1], e->shape.dim[2]};
	int O = ks.dim[0], n = w.oh * w.ow;
	TVal *out = tir_matmul(t, k, patches(t, x, &w), O, w.C * w.kh * w.kw, n, false, false);
	if (!bias)
		return out;
	int *idx = arena_alloc(t->arena, (size_t)(O * n) * sizeof *idx);
	for (int i = 0; i < O * n; i++)
		idx[i] = i / n;
	return tir_map(t, OP_ADD, out, tir_gather(t, lower(t, e->args[2]), idx, e->shape));
}

/*
 * maxpool2d(x, k [, stride [, padding]]): the k x k windows' elements at
 * offset (ki, kj), each a gather over every output position, folded
 * elementwise in window order: max(max(max(w00, w01), w10), w11), so a tie
 * gives the derivative to the first maximum in row-major window order
 * (max's kink rule), as PyTorch's max_pool2d.  Padding reads -Inf, as
 * PyTorch pads (a constant element after x's: it is never the maximum of a
 * window that holds a number, and gets no derivative).  avgpool2d: the sum
 * in that order, / k^2 (PyTorch's count_include_pad): padding's terms are
 * absent, not added as zeros.
 */
static TVal *lower_pool(Tir *t, const Expr *e, TVal *x)
{
	Shape xs = e->args[0]->shape;
	int k = (int)e->args[1]->num, pad = int_arg(e, 3, 0);
	Window w = {xs.dim[0], xs.dim[1], xs.dim[2], k, k, int_arg(e, 2, k), pad, e->shape.dim[1],
		    e->shape.dim[2]};
	int n = shape_size(e->shape), per = w.oh * w.ow;
	bool max = e->builtin == B_MAXPOOL2D;
	TVal *src = max && pad > 0 ? concat(t, x, tir_const(t, -INFINITY)) : x;
	TVal *acc = NULL;
	for (int ki = 0; ki < k; ki++)
		for (int kj = 0; kj < k; kj++) {
			int *idx = arena_alloc(t->arena, (size_t)n * sizeof *idx);
			for (int i = 0; i < n; i++) {
				idx[i] = window_at(&w, i / per, ki, kj, i % per / w.ow, i % w.ow);
				if (idx[i] < 0 && max)
					idx[i] = x->size; /* the -Inf after x */
			}
			TVal *g = tir_gather(t, src, idx, e->shape);
			if (!acc)
				acc = g;
			else if (max)
				acc = tir_map(t, OP_MAX, acc, g);
			else
				acc = pad > 0 ? tir_acc(t, acc, g) : tir_map(t, OP_ADD, acc, g);
		}
	return max ? acc : tir_map(t, OP_DIV, acc, tir_const(t, (double)k * k));
}

/* ---- lowering the AST ---- */

/* The largest element, held constant for the gradient: softmax and
 * logsumexp are shift-invariant, so the shift's derivative is exactly 0. */
static TVal *detached_max(Tir *t, TVal *x)
{
	return tir_map(t, OP_DETACH, tir_fold(t, OP_MAX, x), NULL);
}

/* exp(x - m) for the detached maximum m */
static TVal *shifted_exp(Tir *t, TVal *x, TVal *m)
{
	return tir_map(t, OP_EXP, tir_map(t, OP_SUB, x, m), NULL);
}

static TVal *mean_of(Tir *t, TVal *x)
{
	return tir_map(t, OP_DIV, tir_fold(t, OP_ADD, x), tir_const(t, x->size));
}

/* concat(a, b) of vectors: each placed in the whole, then the two pieces,
 * which share no element, together (no addition happens). */
static TVal *concat(Tir *t, TVal *a, TVal *b)
{
	int n = a->size + b->size;
	TVal like = {.size = n, .shape = {1, {n, 0}}};
	return tir_acc(t, tir_scatter(t, a, 0, &like), tir_scatter(t, b, a->size, &like));
}

/* diag(M): a gather of M[i, i]; diag(v): where(i == j, v[i], 0), v[i]
 * gathered along row i and the condition over constants (folded when
 * unrolled), so the gradient reaches v[i] from (i, i) only. */
static TVal *diag(Tir *t, TVal *x, Shape s)
{
	int n = s.dim[0];
	int *idx = arena_alloc(t->arena, (size_t)shape_size(s) * sizeof *idx);
	if (s.rank == 1) {
		for (int i = 0; i < n; i++)
			idx[i] = i * n + i;
		return tir_gather(t, x, idx, s);
	}
	int *col = arena_alloc(t->arena, (size_t)shape_size(s) * sizeof *col);
	for (int i = 0; i < n * n; i++)
		idx[i] = i / n, col[i] = i % n;
	TVal *at = iota(t, n);
	TVal *on = tir_map(t, OP_EQ, tir_gather(t, at, idx, s), tir_gather(t, at, col, s));
	return tir_map3(t, OP_WHERE, on, tir_gather(t, x, idx, s), tir_const(t, 0));
}

/* scan's or map's steps, each a row (or element) of the whole: each placed
 * in the whole, then the pieces, which share no element, together (no
 * addition happens), step 0 first. */
static TVal *stack_steps(Tir *t, const Expr *e)
{
	TVal like = {.size = shape_size(e->shape), .shape = e->shape}, *all = NULL;
	for (int k = 0; k < e->nargs; k++) {
		TVal *row = lower(t, e->args[k]);
		all = tir_acc(t, all, tir_scatter(t, row, k * row->size, &like));
	}
	return all;
}

static TVal *bcast_to(Tir *t, TVal *v, Shape s, Shape to);

/* A loss's two operands broadcast to one shape (parse.c's rules, checked
 * there): the larger of each pair of dimensions aligned at the last. */
static void loss_operands(Tir *t, const Expr *e, TVal **x, TVal **y)
{
	Shape a = e->args[0]->shape, b = e->args[1]->shape;
	Shape to = a.rank >= b.rank ? a : b;
	for (int k = 1; k <= a.rank && k <= b.rank; k++) {
		int da = a.dim[a.rank - k], db = b.dim[b.rank - k];
		to.dim[to.rank - k] = da == 1 ? db : da;
	}
	*x = bcast_to(t, *x, a, to);
	*y = bcast_to(t, *y, b, to);
}

static TVal *lower_builtin(Tir *t, const Expr *e)
{
	if (e->builtin == B_SCAN || e->builtin == B_MAP || e->builtin == B_STACK)
		return stack_steps(t, e);
	if (e->builtin == B_ZEROS) {
		TVal like = {.size = shape_size(e->shape), .shape = e->shape};
		return tir_bcast(t, tir_const(t, 0), &like);
	}
	TVal *x = lower(t, e->args[0]);
	TVal *y = e->nargs > 1 ? lower(t, e->args[1]) : NULL;
	switch (e->builtin) {
	case B_SUM: return tir_fold(t, OP_ADD, x);
	case B_MEAN: return mean_of(t, x);
	case B_DOT: return tir_fold(t, OP_ADD, tir_map(t, OP_MUL, x, y));
	case B_SOFTMAX:
	case B_LOGSUMEXP: {
		TVal *m = detached_max(t, x);
		TVal *ex = shifted_exp(t, x, m);
		TVal *s = tir_fold(t, OP_ADD, ex);
		if (e->builtin == B_LOGSUMEXP)
			return tir_map(t, OP_ADD, m, tir_map(t, OP_LOG, s, NULL));
		return tir_map(t, OP_DIV, ex, s);
	}
	case B_MSE: {
		loss_operands(t, e, &x, &y);
		TVal *r = tir_map(t, OP_SUB, x, y);
		return mean_of(t, tir_map(t, OP_MUL, r, r));
	}
	case B_BCE:
	case B_BCE_LOGITS: {
		/* PyTorch's BCELoss term is one operation (ops.h BCE) */
		loss_operands(t, e, &x, &y);
		TVal *terms = e->builtin == B_BCE
				      ? tir_map(t, OP_BCE, x, y)
				      : tir_map(t, OP_SUB, tir_map(t, OP_SOFTPLUS, x, NULL),
						tir_map(t, OP_MUL, y, x));
		return terms->size == 1 ? terms : mean_of(t, terms);
	}
	case B_CROSS_ENTROPY: {
		/* logsumexp(z) - z[class], with z[class] = sum of (class == i) * z[i] */
		TVal *m = detached_max(t, x);
		TVal *s = tir_fold(t, OP_ADD, shifted_exp(t, x, m));
		TVal *lse = tir_map(t, OP_ADD, m, tir_map(t, OP_LOG, s, NULL));
		TVal *pick = tir_map(t, OP_MUL, tir_map(t, OP_EQ, y, iota(t, x->size)), x);
		return tir_map(t, OP_SUB, lse, tir_fold(t, OP_ADD, pick));
	}
	case B_TRANSPOSE: {
		/* a vector, or a matrix with one row or column: the same elements;
		 * a matrix [m, n] otherwise a gather, element (j, i) of the result
		 * element (i, j) of x (no arithmetic; as an operand of '@' it is
		 * not made at all: the product reads x transposed, tir_matmul) */
		Shape xs = e->args[0]->shape;
		if (xs.rank != 2 || xs.dim[0] == 1 || xs.dim[1] == 1)
			return x;
		int m = xs.dim[0], n = xs.dim[1];
		int *idx = arena_alloc(t->arena, (size_t)(m * n) * sizeof *idx);
		for (int j = 0; j < n; j++)
			for (int i = 0; i < m; i++)
				idx[j * m + i] = i * n + j;
		return tir_gather(t, x, idx, e->shape);
	}
	case B_OUTER: /* a [n, 1] @ [1, m] product: each element one multiplication */
		return tir_matmul(t, x, y, x->size, 1, y->size, false, false);
	case B_FLATTEN: /* the same elements in the same order */
	case B_RESHAPE:
		return x;
	case B_CONCAT:
		return concat(t, x, y);
	case B_CONV2D:
		return lower_conv2d(t, e, x, y);
	case B_MAXPOOL2D:
	case B_AVGPOOL2D:
		return lower_pool(t, e, x);
	case B_DIAG:
		return diag(t, x, e->shape);
	case B_SCAN: /* above */
	case B_MAP:
	case B_ZEROS:
	case B_STACK:
		break;
	case B_CLAMP: { /* PyTorch's min(max(x, lo), hi), as where(x < lo, lo, x) then where(m > hi, hi, m) */
		x = operand(t, e, 0);
		TVal *lo = operand(t, e, 1), *hi = operand(t, e, 2);
		TVal *m = tir_map3(t, OP_WHERE, tir_map(t, OP_LT, x, lo), lo, x);
		return tir_map3(t, OP_WHERE, tir_map(t, OP_GT, m, hi), hi, m);
	}
	case B_COUNT:
		break;
	}
	unreachable();
}

/* A @ B; a vector acts as a row (on the left) or a column (on the right). */
/* Whether e is a matrix transposed, W' (its stored matrix: *inner). */
static bool transposed(const Expr *e, const Expr **inner)
{
	if (e->kind != E_BUILTIN || e->builtin != B_TRANSPOSE || e->args[0]->shape.rank != 2)
		return false;
	*inner = e->args[0];
	return true;
}

/* x @ y; a transposed operand (W' @ x) is the stored matrix read
 * transposed (tx, ty), as reverse mode's own products are. */
static TVal *lower_matmul(Tir *t, const Expr *e)
{
	const Expr *x = e->args[0], *y = e->args[1];
	int m = x->shape.rank == 2 ? x->shape.dim[0] : 1;
	int k = x->shape.dim[x->shape.rank - 1];
	int n = y->shape.rank == 2 ? y->shape.dim[1] : 1;
	bool tx = transposed(x, &x), ty = transposed(y, &y);
	TVal *a = lower(t, x), *b = lower(t, y);
	if (m == 1 && n == 1) /* vector @ vector is dot(a, b): the same value, one value */
		return tir_fold(t, OP_ADD, tir_map(t, OP_MUL, a, b));
	return tir_matmul(t, a, b, m, k, n, tx, ty);
}


/* v[tok], E[tok]: a selection over the constant indices, the sum
 * where(tok == 0, E[0], -0) + where(tok == 1, E[1], -0) + ..., so the
 * gradient reaches only the row selected (where's rule, one masked term per
 * row, not a chain of masks), and a NaN or Inf in another row cannot poison
 * it.  -0 is the sum's exact identity (x + -0 is x, -0 included), so the
 * value is E[tok]'s bits; an index matching no row (out of range,
 * fractional, NaN: the runtime rejects these in data) gives -0s. */
static TVal *select_row(Tir *t, const Expr *e)
{
	TVal *base = lower(t, e->args[0]), *at = lower(t, e->args[1]);
	int n = e->args[0]->shape.dim[0], w = base->size / n;
	TVal *acc = NULL, *none = tir_const(t, -0.0); /* broadcast by the maps */
	for (int i = 0; i < n; i++) {
		TVal *hit = tir_map(t, OP_EQ, at, tir_const(t, i));
		TVal *pick = tir_map3(t, OP_WHERE, hit, tir_view(t, base, i * w, e->shape), none);
		acc = acc ? tir_map(t, OP_ADD, acc, pick) : pick;
	}
	return acc;
}

/* M[a:b, c:d], M[a:b, j]: a gather of the elements, row by row (a view: no
 * arithmetic; its adjoint adds each element's one term into place). */
static TVal *strided_view(Tir *t, const Expr *e)
{
	TVal *m = lower(t, e->args[0]);
	int cols = e->args[0]->shape.dim[1], c = e->end[1] - e->idx[1], n = 0;
	int *idx = arena_alloc(t->arena, (size_t)shape_size(e->shape) * sizeof *idx);
	for (int i = e->idx[0]; i < e->end[0]; i++)
		for (int j = 0; j < c; j++)
			idx[n++] = i * cols + e->idx[1] + j;
	return tir_gather(t, m, idx, e->shape);
}

static TVal *lower_index(Tir *t, const Expr *e)
{
	if (e->nargs == 2)
		return select_row(t, e);
	if (e->strided)
		return strided_view(t, e);
	/* the parser made every constant index a contiguous piece: its offset and shape */
	return tir_view(t, lower(t, e->args[0]), e->off, e->shape);
}

/* v, of shape s, broadcast to shape to (parse.c's rules): a gather, each
 * element of the result reading the element of v at its own indices, 0 on
 * the dimensions where v has 1 or none.  Its adjoint (a gather's) adds the
 * terms of each element of v in the result's row-major order, a left fold:
 * b [n] added to M [m, n] gets adj[0, j] + adj[1, j] + ..., rows in order.
 * One element, or as many as the result (the same elements in the same
 * order), needs no gather: a map broadcasts one element itself. */
static TVal *bcast_to(Tir *t, TVal *v, Shape s, Shape to)
{
	int n = shape_size(to);
	if (v->size == 1 || v->size == n)
		return v;
	int *idx = arena_alloc(t->arena, (size_t)n * sizeof *idx);
	for (int i = 0; i < n; i++) {
		int rest = i, at = 0, stride = 1;
		for (int k = 1; k <= to.rank; k++) {
			int d = to.dim[to.rank - k], c = rest % d;
			rest /= d;
			if (k <= s.rank && s.dim[s.rank - k] != 1) {
				at += c * stride;
				stride *= s.dim[s.rank - k];
			}
		}
		idx[i] = at;
	}
	return tir_gather(t, v, idx, to);
}

/* Operand k of an elementwise e, lowered and broadcast to e's shape. */
static TVal *operand(Tir *t, const Expr *e, int k)
{
	return bcast_to(t, lower(t, e->args[k]), e->args[k]->shape, e->shape);
}

static TVal *lower(Tir *t, const Expr *e)
{
	switch (e->kind) {
	case E_NUM:
		if (t->dtype == DT_FLOAT && (isinf((float)e->num) || ((float)e->num == 0) != (e->num == 0)))
			diag_error(e->loc, "number %g is out of the range of a float (--dtype float)", e->num);
		return tir_const(t, e->num);
	case E_NAME:
		sg_check(e->sym->tval);
		return e->sym->tval;
	case E_UNARY:
	case E_BINARY:
	case E_CALL: { /* operands in order: C leaves a call's argument order open */
		TVal *a = operand(t, e, 0);
		TVal *b = e->nargs > 1 ? operand(t, e, 1) : NULL;
		return tir_map3(t, e->op, a, b, e->nargs > 2 ? operand(t, e, 2) : NULL);
	}
	case E_MATMUL:
		return lower_matmul(t, e);
	case E_INDEX:
		return lower_index(t, e);
	case E_BUILTIN:
		return lower_builtin(t, e);
	}
	unreachable();
}

TVal *tir_lower(Tir *t, Expr *e)
{
	return lower(t, e);
}

/* ---- one value for a row of a product ---- */

/* The product M @ x, when v is dot(M[i], x) and the IR computes M @ x
 * too: v is then that product's element i, the same bits (both folds
 * ascending), which the scalar DAG shares anyway; *row is set to i. */
static TVal *row_of_product(Tir *t, const TVal *v, int *row)
{
	if (v->kind != T_FOLD || v->op != OP_ADD || v->nargs != 1 || v->args[0]->kind != T_MAP ||
	    v->args[0]->op != OP_MUL)
		return NULL;
	const TVal *p = v->args[0];
	for (int side = 0; side < 2; side++) {
		TVal *r = p->args[side], *x = p->args[1 - side];
		if (!r || !x || r->kind != T_VIEW || r->args[0]->shape.rank != 2 || x->size != r->size ||
		    r->size != r->args[0]->shape.dim[1] || r->off % r->size)
			continue;
		TVal *mm = r->args[0];
		TVal q = {.kind = T_MATMUL, .size = mm->shape.dim[0], .m = mm->shape.dim[0],
			  .k = r->size, .n = 1, .shape = {1, {mm->shape.dim[0], 0}}};
		TVal *hit = lookup(t, &q, mm, x);
		if (hit) {
			*row = r->off / r->size;
			return hit;
		}
	}
	return NULL;
}

/* v made again over the values its operands became (map, by old id). */
static TVal *remake(Tir *t, TVal *v, TVal **map)
{
	TVal p = *v;
	p.args[2] = v->nargs > 2 ? map[v->args[2]->id] : NULL;
	TVal *n = intern(t, &p, v->nargs > 0 ? map[v->args[0]->id] : NULL,
			 v->nargs > 1 ? map[v->args[1]->id] : NULL);
	if (!n->name)
		n->name = v->name;
	return n;
}

/* Makes every dot(M[i], x) whose M @ x the model computes too an element
 * of that product: the values are made again, in order, into a fresh
 * table, the product where the row was (M @ x then finds it made). */
static void share_rows(Tir *t, Model *m)
{
	int n = t->n, any = 0;
	TVal **prod = arena_alloc(t->arena, (size_t)n * sizeof *prod);
	int *row = arena_alloc(t->arena, (size_t)n * sizeof *row);
	for (int i = 0; i < n; i++)
		any += (prod[i] = row_of_product(t, t->vals[i], &row[i])) != NULL;
	if (!any)
		return;
	TVal **old = arena_alloc(t->arena, (size_t)n * sizeof *old);
	TVal **map = arena_alloc(t->arena, (size_t)n * sizeof *map);
	memcpy(old, t->vals, (size_t)n * sizeof *old);
	t->n = 0;
	t->buckets = arena_alloc(t->arena, (size_t)t->nbuckets * sizeof *t->buckets);
	for (int i = 0; i < n; i++) {
		t->line = old[i]->line;
		TVal *mm = prod[i];
		map[i] = mm ? tir_view(t, tir_matmul(t, map[mm->args[0]->id], map[mm->args[1]->id],
						     mm->m, mm->k, 1, false, false),
				       row[i], scalar_shape())
			    : remake(t, old[i], map);
	}
	for (int i = 0; i < m->n_tensors; i++) {
		Symbol *s = m->tensors[i];
		s->tval = map[s->tval->id];
		for (int e = 0; e < s->size && s->elems; e++)
			s->elems[e]->tval = s->tval;
	}
	for (int k = 0; k < m->n_lets; k++) {
		Symbol *s = m->lets[k];
		if (!s->tensor || s->tensor->elems[0] == s) /* each value once */
			s->tval = map[s->tval->id];
		if (s->tensor)
			s->tval = s->tensor->tval = s->tensor->elems[0]->tval;
	}
}

/* Leaves in declaration order, then each binding in order. */
void tir_build(Tir *t, Model *m)
{
	for (int i = 0; i < m->n_tensors; i++) {
		Symbol *s = m->tensors[i];
		t->line = s->loc.line;
		s->tval = tir_leaf(t, s);
		for (int e = 0; e < s->size && s->elems; e++)
			s->elems[e]->tval = s->tval;
	}
	if (t->dtype == DT_FLOAT)
		for (int i = 0; i < m->n_params; i++)
			if (isinf((float)m->params[i]->init))
				diag_error(m->params[i]->loc,
					   "initial value %g of '%s' overflows a float (--dtype float)",
					   m->params[i]->init, m->params[i]->name);
	for (int k = 0; k < m->n_lets; k++) {
		Symbol *s = m->lets[k];
		Symbol *whole = s->tensor ? s->tensor : s;
		if (s->tensor && s->tensor->elems[0] != s) {
			s->tval = whole->tval;
			continue;
		}
		t->line = s->loc.line;
		whole->tval = lower(t, whole->value);
		s->tval = whole->tval;
		if (!whole->tval->name && whole->tval->kind != T_LEAF && whole->tval->kind != T_CONST)
			whole->tval->name = whole->ident;
	}
	share_rows(t, m);
}

/* ---- --dump=tir ---- */

static const char *const kind_names[] = {"leaf", "const", "iota", "map", "matmul", "fold",
					 "view", "scatter", "bcast", "acc", "gather", "gather_add"};

static void dump_ref(FILE *out, const TVal *v)
{
	char b[40];
	if (v->kind == T_CONST) {
		fmt_shortest(b, sizeof b, v->value, DT_DOUBLE);
		fputs(b, out);
	} else if (v->kind == T_LEAF) {
		fputs(v->sym->name, out);
	} else {
		fprintf(out, "%%%d", v->id);
	}
}

static void dump_val(FILE *out, const TVal *v)
{
	fprintf(out, "%%%d = %s", v->id, kind_names[v->kind]);
	if (v->kind == T_MAP || v->kind == T_FOLD)
		fprintf(out, " %s", op_info[v->op].name);
	for (int k = 0; k < v->nargs; k++) {
		fputc(' ', out);
		dump_ref(out, v->args[k]);
	}
	if (v->kind == T_MATMUL)
		fprintf(out, " [%d,%d]%s @ [%d,%d]%s", v->m, v->k, v->tx ? "^T" : "", v->k, v->n,
			v->ty ? "^T" : "");
	if (v->kind == T_VIEW || v->kind == T_SCATTER)
		fprintf(out, " at %d", v->off);
	if (v->kind == T_IOTA || v->size > 1)
		fprintf(out, " : %d", v->size);
	if (v->has)
		fprintf(out, " (%d present)", v->n_has);
	if (v->name)
		fprintf(out, "  # %s, line %d", v->name, v->line);
	else if (v->line)
		fprintf(out, "  # line %d", v->line);
	fputc('\n', out);
}

void tir_dump(FILE *out, const Tir *t)
{
	for (int i = 0; i < t->n; i++) {
		const TVal *v = t->vals[i];
		if (t->n_forward && i == t->n_forward)
			fprintf(out, "# the gradient program\n");
		if (v->kind == T_CONST || v->kind == T_LEAF)
			continue;
		dump_val(out, v);
	}
	if (!t->n_forward)
		return;
	const Model *m = t->model;
	for (int i = 0; i < m->n_tensors; i++) {
		const Symbol *s = m->tensors[i];
		if (s->kind != SYM_PARAM)
			continue;
		const TVal *g = t->adj[s->tval->id];
		fprintf(out, "d%s/d%s = ", m->loss->name, s->name);
		if (g)
			dump_ref(out, g);
		else
			fputs("0", out);
		fputc('\n', out);
	}
}
