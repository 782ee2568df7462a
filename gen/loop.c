/*
 * loop.c: the tensor IR as loop nests, for models too large to unroll.
 *
 * A 784 -> 100 -> 10 network has 79,510 parameters; unrolled, its gradient is
 * some 400,000 straight-line statements that no C compiler digests quickly.
 * Above SG_LOOPS_THRESHOLD (README "Loops") each value of the tensor IR
 * (tir.c, differentiated by diff.c) is emitted as one loop nest instead,
 * in id order, doing exactly the operations sg.h fixes for its kind, in
 * that order: the operations unroll.c expands element by element.  So the
 * loop program and the unrolled program compute the same bits by
 * construction (tests/loops compares them):
 *
 *   MAP     out[i] = op(a[i], b[i]) in ops.h's C spelling, a one-element
 *           operand broadcast
 *   MATMUL  out(i, j): the first product, then += each next, t ascending;
 *           with absent operand elements, acc starts at -0.0 and adds the
 *           products that exist (-0.0 + p == p exactly, for every p)
 *   FOLD    acc = a[0] (or the sum so far, args[1]), then acc = op(acc, a[i]),
 *           i ascending
 *   ACC     a[i] + b[i] where both exist, else the one that does; in place
 *           (d[i] += b[i]) when nothing reads a afterwards
 *   VIEW, BCAST, CONST, IOTA, LEAF: no code, an index into (or a literal
 *           for) the value they stand for; SCATTER likewise, unless a reader
 *           would index it outside the runs where it exists (a product, a
 *           masked loop): then it is an array of its own
 *
 * Absent elements (gradient values only) are never read: a loop runs over
 * the runs of elements that exist, or tests a static mask when the runs are
 * many; a product's terms test their operands' masks.  The simplifier's
 * identities (x * 1 is x) that the unrolled form applies per element are
 * exact, so the plain operation gives the same bits.
 *
 * Three functions: forward (loss and outputs), predict (outputs), backward
 * (the loss and the gradient into grad[]), each computing only the values
 * its results need; and when asked for, hvp, gnvp, jvp, vjp, jacobian and
 * the dense hessian (diff.c's sweeps beyond the gradient, each a function
 * of the values it needs).  A tensor param's final adjoint is stored straight into
 * grad when it owns its storage.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"

enum { FN_FORWARD, FN_BACKWARD, FN_PREDICT, FN_HVP, FN_GNVP, FN_JVP, FN_VJP, FN_JACOBIAN,
       FN_HESSIAN, FN_COUNT };

#define MAX_RUNS 4 /* runs of existing elements emitted as loops; more: a mask */
#define MAX_DIGITS 8 /* digits of a gather's index arithmetic; more: a table */

/* A mask emitted in the current function: has (or its complement) as bytes. */
typedef struct Mask {
	const bool *has;
	int size;
	bool negate;
	const char *name;
} Mask;

typedef struct Lower {
	Arena *a;
	Tir *t;
	Model *m;
	Dtype dt;
	const char *NAME;     /* the model's name in capitals: NAME_PARAM_w */
	Names *names;
	LoopProg *prog;
	const char **name;    /* by id: a value's variable, or NULL (no storage) */
	int *store;           /* by id: whose storage holds it: itself, or (an in-place
	                         ACC) its first operand's */
	Symbol **grad_of;     /* by id of a storage: the param whose grad it is, or NULL */
	bool *live[FN_COUNT];
	bool *any;            /* by id: live in some function */
	int *step_of;         /* by id: the reverse-mode step that made it, or -1 */
	bool *inl;            /* by id: a SCATTER, or a broadcast GATHER (bcast_of), read
	                         through its operand, without code */
	struct Affine **bcast_of; /* by id: an inline GATHER's index arithmetic */
	int temp;
	/* the batch (backward_batch): a value that differs from row to row is an
	 * array with a lane per row of the block, element i of row r at
	 * [i * lanes + r] */
	bool *rowdep;         /* by id: depends on an input */
	bool batch;           /* emitting the batch: rowdep values read by lane */
	bool rows;            /* emitting a rowdep value: each statement a loop over lanes */
	const char *lane_to;  /* NULL: the lanes loop over every lane; else its bound */
	int lanes;
	const char *rows_var, *in_var, *q_var, *sum_var; /* the batch's own names */
	/* the batch's tiles in vector form: vn elements per vector (0: none);
	 * while vlane >= 0, lane_at reads lanes vlane.. as one vector (and
	 * sets vused); vacc: the accumulators' names */
	int vn;
	int vlane;
	bool vused;
	const char *vacc[16];
	Mask *masks;          /* of the function being emitted */
	int n_masks, cap_masks;
	struct Table *tables; /* gathers' index tables of the function being emitted */
	int n_tables, cap_tables;
	const char *digit[MAX_DIGITS]; /* a gather's loop variables, named at first use */
} Lower;

static const char *lit(const Lower *l, double v)
{
	char b[64];
	fmt_c_literal(b, sizeof b, v, l->dt);
	return arena_strndup(l->a, b, strlen(b));
}

static const char *real(const Lower *l)
{
	return l->dt == DT_FLOAT ? "float" : "double";
}

/* ---- items ---- */

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

static void put_end(Lower *l, LFunc *f)
{
	put(l, f, LI_END, NULL, NULL);
}

/* ---- value kinds ---- */

/* Whether v needs no code of its own: it is a literal, a loaded leaf, an
 * index into another value, or absent altogether. */
static bool is_virtual(const Lower *l, const TVal *v)
{
	switch (v->kind) {
	case T_SCATTER:
	case T_GATHER: return v->n_has == 0 || l->inl[v->id];
	case T_MAP:
	case T_MATMUL:
	case T_FOLD:
	case T_GATHER_ADD: return v->n_has == 0;
	case T_ACC: return v->n_has == 0 || !v->args[0]->n_has || !v->args[1]->n_has;
	default: return true;
	}
}

/* ---- index text ---- */

static bool is_number(const char *s, long *v)
{
	char *end;
	*v = strtol(s, &end, 10);
	return *s && !*end;
}

/* ix + off as text: "7", "i", "3 + i", "i - 2" */
static const char *ix_add(Lower *l, int off, const char *ix)
{
	long v;
	if (is_number(ix, &v))
		return arena_printf(l->a, "%ld", v + off);
	if (off == 0)
		return ix;
	return off > 0 ? arena_printf(l->a, "%d + %s", off, ix) : arena_printf(l->a, "%s - %d", ix, -off);
}

/* i * stride + t as text: "i * 784 + k", "k", "3" */
static const char *ix_lin(Lower *l, const char *i, int stride, const char *t)
{
	long a, b;
	bool na = is_number(i, &a), nb = is_number(t, &b);
	if (na && nb)
		return arena_printf(l->a, "%ld", a * stride + b);
	if (na && a == 0)
		return t;
	const char *base = stride == 1 ? i : arena_printf(l->a, "%s * %d", i, stride);
	if (nb && b == 0)
		return base;
	return arena_printf(l->a, "%s + %s", base, t);
}

/* at + ix for a symbolic offset at ("NAME_PARAM_w + i", "NAME_PARAM_w") */
static const char *ix_add_text(Lower *l, const char *at, const char *ix)
{
	return strcmp(ix, "0") ? arena_printf(l->a, "%s + %s", at, ix) : at;
}

/* ---- element text ---- */

/* Element ix of row r in a batch's array: "s[r]", "s[i * 8 + r]", "s[24 + r]" */
static const char *lane_at(Lower *l, const char *s, int size, const char *ix)
{
	long n;
	bool vec = l->vlane >= 0; /* lanes vlane.. as a vector: "s[i * 8 + 4]" */
	if (vec)
		l->vused = true;
	if (size == 1 || is_number(ix, &n)) {
		long at = size == 1 ? 0 : n * l->lanes;
		if (vec)
			return arena_printf(l->a, "%s[%ld]", s, at + l->vlane);
		return at ? arena_printf(l->a, "%s[%ld + r]", s, at) : arena_printf(l->a, "%s[r]", s);
	}
	const char *lane = !vec ? " + r" : l->vlane ? arena_printf(l->a, " + %d", l->vlane) : "";
	size_t len = strlen(ix);
	bool plain = strspn(ix, "abcdefghijklmnopqrstuvwxyz_0123456789") == len ||
		     (ix[0] == '(' && strchr(ix, ')') == ix + len - 1);
	return arena_printf(l->a, plain ? "%s[%s * %d%s]" : "%s[(%s) * %d%s]", s, ix, l->lanes, lane);
}

static const char *bcast_index(Lower *l, const TVal *v, const char *ix);

/* Element ix of v as a C operand ("0" for a one-element value). */
static const char *val_at(Lower *l, const TVal *v, const char *ix)
{
	long n;
	switch (v->kind) {
	case T_CONST: return lit(l, v->value);
	case T_IOTA:
		if (is_number(ix, &n))
			return lit(l, (double)n);
		return arena_printf(l->a, strchr(ix, ' ') ? "(%s)(%s)" : "(%s)%s", real(l), ix);
	case T_LEAF:
		if (l->batch && l->rowdep[v->id])
			return lane_at(l, l->name[v->id], v->size, ix);
		return v->sym->elems ? arena_printf(l->a, "%s[%s]", l->name[v->id], ix) : l->name[v->id];
	case T_VIEW: return val_at(l, v->args[0], ix_add(l, v->off, ix));
	case T_SCATTER:
		if (!is_virtual(l, v))
			break; /* an array of its own */
		return val_at(l, v->args[0], v->args[0]->size == 1 ? "0" : ix_add(l, -v->off, ix));
	case T_BCAST: return val_at(l, v->args[0], "0");
	case T_GATHER:
		if (!is_virtual(l, v))
			break; /* an array of its own */
		return val_at(l, v->args[0], bcast_index(l, v, ix));
	case T_ACC:
		if (!v->args[0]->n_has)
			return val_at(l, v->args[1], ix);
		if (!v->args[1]->n_has)
			return val_at(l, v->args[0], ix);
		break;
	default: break;
	}
	const char *s = l->name[l->store[v->id]];
	sg_check(s);
	if (l->batch && l->rowdep[l->store[v->id]])
		return lane_at(l, s, v->size, ix);
	return v->size == 1 ? s : arena_printf(l->a, "%s[%s]", s, ix);
}

/* Operand k of a map at element ix (a one-element operand broadcast). */
static const char *arg_at(Lower *l, const TVal *v, int k, const char *ix)
{
	const TVal *a = v->args[k];
	return val_at(l, a, a->size == 1 ? "0" : ix);
}

/* op over operand texts (z: where's third), in ops.h's C spelling for the
 * dtype. */
static const char *op_text3(Lower *l, Op op, const char *x, const char *y, const char *z)
{
	const char *form = op_c(op, l->dt);
	const char *arg[3] = {x, y, z};
	Buf b = {0};
	for (const char *p = form; *p; p++) {
		if (p[0] == '%' && p[1] >= '0' && p[1] <= '2') {
			buf_puts(&b, arg[p[1] - '0']);
			p++;
		} else {
			buf_put(&b, p, 1);
		}
	}
	const char *s = arena_strndup(l->a, b.data ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

static const char *op_text(Lower *l, Op op, const char *x, const char *y)
{
	return op_text3(l, op, x, y, NULL);
}

/* A value as comments name it: "W1", "x[3]", "M[4:8]", "2.0" */
static const char *name_of(Lower *l, const TVal *v)
{
	switch (v->kind) {
	case T_CONST: return lit(l, v->value);
	case T_IOTA: return "iota";
	case T_LEAF: return v->sym->name;
	case T_VIEW:
		if (v->size == 1)
			return arena_printf(l->a, "%s[%d]", name_of(l, v->args[0]), v->off);
		return arena_printf(l->a, "%s[%d:%d]", name_of(l, v->args[0]), v->off, v->off + v->size);
	default: /* a value stored in another's array goes by that array's name */
		if (l->name[v->id])
			return l->name[v->id];
		if (l->store && l->name[l->store[v->id]])
			return l->name[l->store[v->id]];
		return arena_printf(l->a, "%%%d", v->id);
	}
}

/* ---- elements that exist ---- */

/* The name of a static mask of has (negated: of the absent elements),
 * declared in the current function at its first use. */
static const char *mask_of(Lower *l, LFunc *f, const bool *has, int size, bool negate)
{
	for (int i = 0; i < l->n_masks; i++) {
		Mask *k = &l->masks[i];
		if (k->size == size && k->negate == negate &&
		    (k->has == has || !memcmp(k->has, has, (size_t)size)))
			return k->name;
	}
	if (l->n_masks == l->cap_masks) {
		l->cap_masks = l->cap_masks ? 2 * l->cap_masks : 16;
		Mask *grown = arena_alloc(l->a, (size_t)l->cap_masks * sizeof *grown);
		if (l->n_masks)
			memcpy(grown, l->masks, (size_t)l->n_masks * sizeof *grown);
		l->masks = grown;
	}
	const char *name = names_take(l->names, "has");
	l->masks[l->n_masks++] = (Mask){has, size, negate, name};
	Buf bits = {0};
	for (int i = 0; i < size; i++)
		buf_puts(&bits, has[i] != negate ? (i ? ", 1" : "1") : (i ? ", 0" : "0"));
	put(l, f, LI_STMT, arena_printf(l->a, "static const unsigned char %s[%d] = {%s};", name, size,
					bits.data), "the elements that exist");
	buf_free(&bits);
	return name;
}

/* Runs of the elements where has[i] != negate (has NULL: every element):
 * up to max runs into lo[], hi[]; returns how many there are. */
static int runs_of(const bool *has, int size, bool negate, int *lo, int *hi, int max)
{
	int n = 0;
	for (int i = 0; i < size; i++) {
		bool in = (has ? has[i] : true) != negate;
		if (!in)
			continue;
		if (i == 0 || (has ? has[i - 1] : true) == negate) {
			if (n < max)
				lo[n] = i;
			n++;
		}
		if (n <= max)
			hi[n - 1] = i;
	}
	return n;
}

/* A kernel's statement over element ix ("i" in a loop, "3" alone). */
typedef struct Body Body;
struct Body {
	const char *(*at)(Lower *l, const Body *b, const char *ix);
	const TVal *v;
	const char *s;        /* the statement's target: a name, or grad's offset */
	int what;             /* which statement of the kernel */
	const char *array;    /* a result's array: grad, hvp, jac_params, ... */
};

/* A statement; in a batch's value that differs from row to row, a loop
 * over the lanes around it (every lane, or the block's rows). */
static void put_row_stmt(Lower *l, LFunc *f, const char *text)
{
	if (!l->rows) {
		put(l, f, LI_STMT, text, NULL);
		return;
	}
	if (l->lane_to)
		put(l, f, LI_OPEN, arena_printf(l->a, "for (int r = 0; r < %s; r++)", l->lane_to), NULL);
	else
		put_for(l, f, "r", 0, l->lanes - 1);
	put(l, f, LI_STMT, text, NULL);
	put_end(l, f);
}

/* A scalar's definition from its statement "NAME = ...;": const in a row's
 * function, an array of lanes in a batch's value that differs by row. */
static void put_def(Lower *l, LFunc *f, const TVal *v, const char *stmt)
{
	if (!l->rows) {
		put(l, f, LI_STMT, arena_printf(l->a, "const %s %s", real(l), stmt), NULL);
		return;
	}
	put(l, f, LI_STMT, arena_printf(l->a, "%s %s[%d];", real(l), l->name[v->id], l->lanes), NULL);
	put_row_stmt(l, f, stmt);
}

/* body for every element where has[i] != negate: a loop per run when the
 * runs are few (a statement for a run of one), else a loop over a mask. */
static void put_each(Lower *l, LFunc *f, const bool *has, int size, bool negate, const Body *body)
{
	int lo[MAX_RUNS], hi[MAX_RUNS];
	int n = runs_of(has, size, negate, lo, hi, MAX_RUNS);
	if (n > MAX_RUNS) {
		const char *mask = mask_of(l, f, has, size, negate);
		put_for(l, f, "i", 0, size - 1);
		put(l, f, LI_IF, arena_printf(l->a, "%s[i]", mask), NULL);
		put_row_stmt(l, f, body->at(l, body, "i"));
		put_end(l, f);
		put_end(l, f);
		return;
	}
	for (int r = 0; r < n; r++) {
		if (lo[r] == hi[r]) {
			put_row_stmt(l, f, body->at(l, body, arena_printf(l->a, "%d", lo[r])));
			continue;
		}
		put_for(l, f, "i", lo[r], hi[r]);
		put_row_stmt(l, f, body->at(l, body, "i"));
		put_end(l, f);
	}
}

/* ---- kernels ---- */

/* The declaration of v's storage, where v makes it: an array, or a param's
 * grad; NULL for a scalar (declared with its first value) or shared storage. */
static const char *decl(Lower *l, const TVal *v)
{
	if (v->size == 1 || l->store[v->id] != v->id)
		return NULL;
	if (l->batch) /* the block's gradient is summed into grad, not stored there */
		return arena_printf(l->a, "%s %s[%d];", real(l), l->name[v->id],
				    v->size * (l->rowdep[v->id] ? l->lanes : 1));
	Symbol *p = l->grad_of[v->id];
	if (p)
		return arena_printf(l->a, "%s *%s = grad + %s_PARAM_%s;", real(l), l->name[v->id],
				    l->NAME, p->ident);
	return arena_printf(l->a, "%s %s[%d];", real(l), l->name[v->id], v->size);
}

/* v[ix] = op(a[ix], b[ix], c[ix]) */
static const char *map_stmt(Lower *l, const Body *b, const char *ix)
{
	const TVal *v = b->v;
	const char *x = arg_at(l, v, 0, ix);
	const char *y = v->nargs > 1 ? arg_at(l, v, 1, ix) : NULL;
	const char *z = v->nargs > 2 ? arg_at(l, v, 2, ix) : NULL;
	return arena_printf(l->a, "%s = %s;", val_at(l, v, ix), op_text3(l, v->op, x, y, z));
}

static void emit_map(Lower *l, LFunc *f, const TVal *v)
{
	Body b = {map_stmt, v, NULL, 0, NULL};
	f->ops += v->n_has;
	if (v->size == 1)
		put_def(l, f, v, map_stmt(l, &b, "0"));
	else
		put_each(l, f, v->has, v->size, false, &b);
}

/* ---- a batch's tiles as vectors ----
 * With GCC's and clang's vector extension (#if NAME_VECTORS), a tile's
 * accumulators are vectors of vn lanes held in registers; a vector
 * operation is the same IEEE operation in each lane, so the vector form
 * and the loops under #else compute the same bits. */

/* NAME_V(e): the vector of vn elements from element e on */
static const char *vec_of(Lower *l, const char *e)
{
	return arena_printf(l->a, "%s_V(%s)", l->NAME, e);
}

/* Element ix of v in lanes h..h + vn - 1: a vector of its lanes when v
 * differs by row, else the element, which the vector extension applies to
 * every lane. */
static const char *vval_at(Lower *l, const TVal *v, const char *ix, int h)
{
	int saved = l->vlane;
	l->vlane = h;
	l->vused = false;
	const char *s = val_at(l, v, ix);
	l->vlane = saved;
	return l->vused ? vec_of(l, s) : s;
}

/* x(i, t) * y(t, j) of a product, and whether both exist as a C test ("" if always). */
static const char *product(Lower *l, LFunc *f, const TVal *v, const char *i, const char *t,
			   const char *j, const char **guard)
{
	const TVal *x = v->args[0], *y = v->args[1];
	const char *xi = v->tx ? ix_lin(l, t, v->m, i) : ix_lin(l, i, v->k, t);
	const char *yi = v->ty ? ix_lin(l, j, v->k, t) : ix_lin(l, t, v->n, j);
	if (l->vlane >= 0) { /* a tile's vector form (no masks there) */
		int h = l->vlane;
		return arena_printf(l->a, "%s * %s", vval_at(l, x, xi, h), vval_at(l, y, yi, h));
	}
	*guard = "";
	if (x->has)
		*guard = arena_printf(l->a, "%s[%s]", mask_of(l, f, x->has, x->size, false), xi);
	if (y->has)
		*guard = arena_printf(l->a, "%s%s%s[%s]", *guard, x->has ? " && " : "",
				      mask_of(l, f, y->has, y->size, false), yi);
	return arena_printf(l->a, "%s * %s", val_at(l, x, xi), val_at(l, y, yi));
}

/* The fold over t of one product element into variable acc (declared by
 * the caller's decl_fmt, a "%s" for the initial value). */
static void matmul_fold(Lower *l, LFunc *f, const TVal *v, const char *i, const char *j,
			const char *acc, const char *decl_fmt)
{
	const char *g;
	bool partial = v->args[0]->has || v->args[1]->has;
	if (!partial) {
		put_row_stmt(l, f, arena_printf(l->a, decl_fmt, product(l, f, v, i, "0", j, &g)));
		const char *t = v->k == 2 ? "1" : "k";
		if (v->k > 2)
			put_for(l, f, "k", 1, v->k - 1);
		if (v->k > 1)
			put_row_stmt(l, f, arena_printf(l->a, "%s += %s;", acc, product(l, f, v, i, t, j, &g)));
		if (v->k > 2)
			put_end(l, f);
		return;
	}
	if (l->rows)
		put_row_stmt(l, f, arena_printf(l->a, decl_fmt, lit(l, -0.0)));
	else
		put(l, f, LI_STMT, arena_printf(l->a, decl_fmt, lit(l, -0.0)), "then each product that exists");
	const char *t = v->k > 1 ? "k" : "0";
	const char *p = product(l, f, v, i, t, j, &g);
	if (v->k > 1)
		put_for(l, f, "k", 0, v->k - 1);
	put(l, f, LI_IF, g, NULL);
	put_row_stmt(l, f, arena_printf(l->a, "%s += %s;", acc, p));
	put_end(l, f);
	if (v->k > 1)
		put_end(l, f);
}

/* "i" + q as an index: "i", "(i + 1)" */
static const char *plus(Lower *l, const char *i, int q)
{
	long n;
	if (is_number(i, &n))
		return arena_printf(l->a, "%ld", n + q);
	return q ? arena_printf(l->a, "(%s + %d)", i, q) : i;
}

/* A batch's products, outputs per tile (each with its own lanes): 8
 * accumulators of 4 doubles or 8 floats in the vector form */
static int tile(const Lower *l)
{
	return l->dt == DT_FLOAT ? 8 : 4;
}

/* #if NAME_VECTORS, #else, #endif around a tile's two forms */
static void put_pp(Lower *l, LFunc *f, const char *what)
{
	put(l, f, LI_PP, arena_printf(l->a, what, l->NAME), NULL);
	l->prog->vectors = true;
}

/* A tile of a batch's product in vector form: accumulator q * nv + h
 * holds lanes h * vn.. of output q; the same adds in k order per lane. */
static void matmul_tile_vectors(Lower *l, LFunc *f, const TVal *v, bool along_i, const char *i,
				const char *j, int T)
{
	int nv = l->lanes / l->vn;
	const char *t = v->k == 2 ? "1" : "k";
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1 && v->k > 2)
			put_for(l, f, "k", 1, v->k - 1);
		for (int q = 0; q < T; q++) {
			const char *iq = along_i ? plus(l, i, q) : i, *jq = along_i ? j : plus(l, j, q);
			for (int h = 0; h < nv; h++) {
				const char *acc = l->vacc[q * nv + h], *g;
				int H = h * l->vn;
				l->vlane = H;
				const char *text =
					pass == 0 ? arena_printf(l->a, "%s_v %s = %s;", l->NAME, acc,
								 product(l, f, v, iq, "0", jq, &g))
					: pass == 1 ? arena_printf(l->a, "%s += %s;", acc, product(l, f, v, iq, t, jq, &g))
					: arena_printf(l->a, "%s = %s;", vval_at(l, v, ix_lin(l, iq, v->n, jq), H), acc);
				l->vlane = -1;
				put(l, f, LI_STMT, text, NULL);
			}
		}
		if (pass == 1 && v->k > 2)
			put_end(l, f);
	}
}

/* A batch's product of a value that differs by row, tile(l) outputs at a
 * time along i (or j when the product has fewer rows): their sums are
 * independent chains, each still in k order per lane. */
static bool emit_matmul_tiles(Lower *l, LFunc *f, const TVal *v)
{
	int T = tile(l);
	bool along_i = v->m >= T;
	int ext = along_i ? v->m : v->n, L = l->lanes;
	if (!l->rows || v->args[0]->has || v->args[1]->has || v->k < 2 || ext < T)
		return false;
	int full = ext / T * T;
	const char *g, *i = along_i ? "i" : v->m > 1 ? "i" : "0", *j = along_i ? (v->n > 1 ? "j" : "0") : "j";
	put(l, f, LI_OPEN, arena_printf(l->a, "for (int %s = 0; %s < %d; %s += %d)", along_i ? "i" : "j",
					along_i ? "i" : "j", full, along_i ? "i" : "j", T), NULL);
	bool loop_other = along_i ? v->n > 1 : v->m > 1;
	if (loop_other)
		put_for(l, f, along_i ? "j" : "i", 0, (along_i ? v->n : v->m) - 1);
	if (l->vn) {
		put_pp(l, f, "#if %s_VECTORS");
		matmul_tile_vectors(l, f, v, along_i, i, j, T);
		put_pp(l, f, "#else");
	}
	put(l, f, LI_STMT, arena_printf(l->a, "%s acc[%d];", real(l), T * L), NULL);
	const char *t = v->k == 2 ? "1" : "k";
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1 && v->k > 2)
			put_for(l, f, "k", 1, v->k - 1);
		put_for(l, f, "r", 0, L - 1);
		for (int q = 0; q < T; q++) {
			const char *iq = along_i ? plus(l, i, q) : i, *jq = along_i ? j : plus(l, j, q);
			const char *acc = q ? arena_printf(l->a, "acc[%d + r]", q * L) : "acc[r]";
			const char *text =
				pass == 0 ? arena_printf(l->a, "%s = %s;", acc, product(l, f, v, iq, "0", jq, &g))
				: pass == 1 ? arena_printf(l->a, "%s += %s;", acc, product(l, f, v, iq, t, jq, &g))
				: arena_printf(l->a, "%s = %s;", val_at(l, v, ix_lin(l, iq, v->n, jq)), acc);
			put(l, f, LI_STMT, text, NULL);
		}
		put_end(l, f);
		if (pass == 1 && v->k > 2)
			put_end(l, f);
	}
	if (l->vn)
		put_pp(l, f, "#endif");
	if (loop_other)
		put_end(l, f);
	put_end(l, f);
	if (full == ext)
		return true;
	/* the outputs after the last whole tile: one smaller tile in vector
	 * form, else one at a time (in a block of their own: a single one has
	 * no loop to scope its acc) */
	put(l, f, LI_OPEN, "", NULL);
	if (l->vn) {
		const char *at = arena_printf(l->a, "%d", full);
		put_pp(l, f, "#if %s_VECTORS");
		if (loop_other)
			put_for(l, f, along_i ? "j" : "i", 0, (along_i ? v->n : v->m) - 1);
		matmul_tile_vectors(l, f, v, along_i, along_i ? at : i, along_i ? j : at, ext - full);
		if (loop_other)
			put_end(l, f);
		put_pp(l, f, "#else");
	}
	if (along_i ? v->m - full > 1 : v->m > 1)
		put_for(l, f, "i", along_i ? full : 0, v->m - 1);
	const char *ii = along_i && v->m - full == 1 ? arena_printf(l->a, "%d", full) : i;
	if (along_i ? v->n > 1 : v->n - full > 1)
		put_for(l, f, "j", along_i ? 0 : full, v->n - 1);
	const char *jj = !along_i && v->n - full == 1 ? arena_printf(l->a, "%d", full) : j;
	put(l, f, LI_STMT, arena_printf(l->a, "%s acc[%d];", real(l), L), NULL);
	matmul_fold(l, f, v, ii, jj, "acc[r]", "acc[r] = %s;");
	put_row_stmt(l, f, arena_printf(l->a, "%s = acc[r];", val_at(l, v, ix_lin(l, ii, v->n, jj))));
	if (along_i ? v->n > 1 : v->n - full > 1)
		put_end(l, f);
	if (along_i ? v->m - full > 1 : v->m > 1)
		put_end(l, f);
	if (l->vn)
		put_pp(l, f, "#endif");
	put_end(l, f);
	return true;
}

static void emit_matmul(Lower *l, LFunc *f, const TVal *v)
{
	const char *r = real(l), *name = l->name[v->id];
	f->ops += (long)v->m * v->n * (2L * v->k - 1);
	if (v->size > 1 && emit_matmul_tiles(l, f, v))
		return;
	if (v->size == 1 && l->rows) {
		put(l, f, LI_STMT, arena_printf(l->a, "%s %s[%d];", r, name, l->lanes), NULL);
		const char *acc = val_at(l, v, "0");
		matmul_fold(l, f, v, "0", "0", acc, arena_printf(l->a, "%s = %%s;", acc));
		return;
	}
	if (v->size == 1) {
		matmul_fold(l, f, v, "0", "0", name, arena_printf(l->a, "%s %s = %%s;", r, name));
		return;
	}
	const char *i = v->m > 1 ? "i" : "0", *j = v->n > 1 ? "j" : "0";
	for (int k = 0; k < 2; k++) /* masks are declared outside the loops */
		if (v->args[k]->has)
			mask_of(l, f, v->args[k]->has, v->args[k]->size, false);
	if (v->m > 1)
		put_for(l, f, "i", 0, v->m - 1);
	if (v->n > 1)
		put_for(l, f, "j", 0, v->n - 1);
	const char *out = val_at(l, v, ix_lin(l, i, v->n, j));
	if (v->k == 1 && !v->args[0]->has && !v->args[1]->has) { /* one product: no fold */
		matmul_fold(l, f, v, i, j, out, arena_printf(l->a, "%s = %%s;", out));
	} else if (l->rows) {
		put(l, f, LI_STMT, arena_printf(l->a, "%s acc[%d];", r, l->lanes), NULL);
		matmul_fold(l, f, v, i, j, "acc[r]", "acc[r] = %s;");
		put_row_stmt(l, f, arena_printf(l->a, "%s = acc[r];", out));
	} else {
		matmul_fold(l, f, v, i, j, "acc", arena_printf(l->a, "%s acc = %%s;", r));
		put(l, f, LI_STMT, arena_printf(l->a, "%s = acc;", out), NULL);
	}
	if (v->n > 1)
		put_end(l, f);
	if (v->m > 1)
		put_end(l, f);
}

/* The first element of a that exists. */
static int first_elem(const TVal *a)
{
	for (int i = 0; i < a->size; i++)
		if (tir_has(a, i))
			return i;
	unreachable();
}

/* acc = op(acc, a[ix]) for the fold v, acc its variable */
static const char *fold_stmt(Lower *l, const Body *b, const char *ix)
{
	const char *x = val_at(l, b->v->args[0], ix);
	if (b->v->op == OP_ADD)
		return arena_printf(l->a, "%s += %s;", b->s, x);
	return arena_printf(l->a, "%s = %s;", b->s, op_text(l, b->v->op, b->s, x));
}

/* A fold's accumulator acc, declared with its first value */
static void fold_init(Lower *l, LFunc *f, const TVal *v, const char *acc, const char *first,
		      const char *note)
{
	if (l->rows) {
		put(l, f, LI_STMT, arena_printf(l->a, "%s %s[%d];", real(l), l->name[v->id], l->lanes), note);
		put_row_stmt(l, f, arena_printf(l->a, "%s = %s;", acc, first));
		return;
	}
	put(l, f, LI_STMT, arena_printf(l->a, "%s %s = %s;", real(l), acc, first), note);
}

static void emit_fold(Lower *l, LFunc *f, const TVal *v)
{
	const TVal *a = v->args[0];
	Body b = {fold_stmt, v, l->rows ? val_at(l, v, "0") : l->name[v->id], 0, NULL};
	bool onto = v->args[1] && v->args[1]->n_has;
	f->ops += a->n_has - !onto;
	if (onto) { /* the sum so far, then every element */
		fold_init(l, f, v, b.s, val_at(l, v->args[1], "0"), NULL);
		put_each(l, f, a->has, a->size, false, &b);
		return;
	}
	if (a->has && v->op == OP_ADD) { /* -0.0 + x == x: the first term exactly */
		fold_init(l, f, v, b.s, lit(l, -0.0), "then each element that exists");
		put_each(l, f, a->has, a->size, false, &b);
		return;
	}
	int first = first_elem(a);
	fold_init(l, f, v, b.s, val_at(l, a, arena_printf(l->a, "%d", first)), NULL);
	bool *rest = arena_alloc(l->a, (size_t)a->size);
	for (int i = first + 1; i < a->size; i++)
		rest[i] = tir_has(a, i);
	if (first + 1 < a->size)
		put_each(l, f, rest, a->size, false, &b);
}

/* Elements of v where a's and b's existence is (ina, inb): NULL for all. */
static const bool *acc_class(Lower *l, const TVal *v, bool ina, bool inb, int *count)
{
	const TVal *a = v->args[0], *b = v->args[1];
	bool *c = arena_alloc(l->a, (size_t)v->size);
	*count = 0;
	for (int i = 0; i < v->size; i++)
		*count += c[i] = tir_has(a, i) == ina && tir_has(b, i) == inb;
	return *count == v->size ? NULL : c;
}

enum { ACC_BOTH, ACC_B, ACC_A, ACC_IN_PLACE };

/* Element ix of an ACC: a + b, b, a, or a += b in place. */
static const char *acc_stmt(Lower *l, const Body *b, const char *ix)
{
	const TVal *v = b->v;
	const char *out = val_at(l, v, ix), *x = val_at(l, v->args[0], ix), *y = val_at(l, v->args[1], ix);
	switch (b->what) {
	case ACC_BOTH: return arena_printf(l->a, "%s = %s;", out, op_text(l, OP_ADD, x, y));
	case ACC_IN_PLACE: return arena_printf(l->a, "%s += %s;", out, y);
	default: return arena_printf(l->a, "%s = %s;", out, b->what == ACC_A ? x : y);
	}
}

/* a + b where both exist, else the one that does; in place when v shares
 * a's storage (a[i] += b[i]). */
static void emit_acc(Lower *l, LFunc *f, const TVal *v)
{
	static const bool cls[3][2] = {{true, true}, {false, true}, {true, false}};
	Body body = {acc_stmt, v, NULL, ACC_BOTH, NULL};
	if (v->size == 1) {
		put_def(l, f, v, acc_stmt(l, &body, "0"));
		f->ops += 1;
		return;
	}
	bool inplace = l->store[v->id] == l->store[v->args[0]->id];
	for (int c = ACC_BOTH; c <= ACC_A; c++) {
		int n;
		const bool *in = acc_class(l, v, cls[c][0], cls[c][1], &n);
		body.what = c == ACC_BOTH && inplace ? ACC_IN_PLACE : c;
		if (n && !(inplace && c == ACC_A))
			put_each(l, f, in, v->size, false, &body);
		f->ops += c == ACC_BOTH ? n : 0;
	}
}

/* v[off + ix] = a[ix] */
static const char *scatter_stmt(Lower *l, const Body *b, const char *ix)
{
	return arena_printf(l->a, "%s = %s;", val_at(l, b->v, ix_add(l, b->v->off, ix)),
			    val_at(l, b->v->args[0], ix));
}

/* A scatter as an array: its operand's elements that exist, copied. */
static void emit_scatter(Lower *l, LFunc *f, const TVal *v)
{
	Body b = {scatter_stmt, v, NULL, 0, NULL};
	put_each(l, f, v->args[0]->has, v->args[0]->size, false, &b);
}

/* ---- gathers: conv2d's patches, pooling's windows ---- */

/* A static index table declared in the current function: a gather's
 * (which element of its operand each element reads) or its adjoint's
 * (for each element, where its terms start in a list of their positions). */
typedef struct Table {
	const void *key;      /* the gather's table */
	bool csr;             /* the adjoint's: the starts, then the positions */
	const char *name, *name2;
} Table;

static const char *int_list(Lower *l, const int *v, int n)
{
	Buf b = {0};
	for (int i = 0; i < n; i++)
		buf_printf(&b, i ? ", %d" : "%d", v[i]);
	const char *s = arena_strndup(l->a, b.data ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

static Table *table_find(Lower *l, const void *key, bool csr)
{
	for (int i = 0; i < l->n_tables; i++)
		if (l->tables[i].key == key && l->tables[i].csr == csr)
			return &l->tables[i];
	if (l->n_tables == l->cap_tables) {
		l->cap_tables = l->cap_tables ? 2 * l->cap_tables : 8;
		Table *grown = arena_alloc(l->a, (size_t)l->cap_tables * sizeof *grown);
		if (l->n_tables)
			memcpy(grown, l->tables, (size_t)l->n_tables * sizeof *grown);
		l->tables = grown;
	}
	Table *t = &l->tables[l->n_tables++];
	*t = (Table){key, csr, NULL, NULL};
	return t;
}

/*
 * A gather's table as index arithmetic: idx[i] = base + the sum of coef[k]
 * times digit k of i, in the mixed radix dim[] (digit 0 innermost).  conv2d's
 * patches are [ky, kx, oy, ox] reading (oy + ky) * 8 + ox + kx, a bias over
 * [8, 36] channel by pixel reads digit 1, a transpose reads its digits
 * swapped.  Found from the table itself, each level the longest arithmetic
 * run that divides what is left, and checked against every entry: a table
 * that is not affine stays a table, so the loops can only be less compact,
 * never wrong.
 */
typedef struct Affine {
	int n, base;
	int dim[MAX_DIGITS], coef[MAX_DIGITS], stride[MAX_DIGITS];
} Affine;

/* Whether idx[q * stride] steps by c over each run of len blocks. */
static bool affine_run(const int *idx, int blocks, int stride, int len, int c)
{
	for (int q = 0; q < blocks; q++)
		if (idx[q * stride] != idx[(q - q % len) * stride] + q % len * c)
			return false;
	return true;
}

static bool affine_of(const int *idx, int n, Affine *f)
{
	f->n = 0;
	f->base = idx[0];
	for (int stride = 1, blocks = n; blocks > 1;) {
		int c = idx[stride] - idx[0], len = blocks;
		while (len > 1 && (blocks % len || !affine_run(idx, blocks, stride, len, c)))
			len--;
		if (len < 2 || f->n == MAX_DIGITS)
			return false;
		f->dim[f->n] = len, f->coef[f->n] = c, f->stride[f->n++] = stride;
		stride *= len, blocks /= len;
	}
	for (int i = 0; i < n; i++) {
		long at = f->base;
		for (int k = 0; k < f->n; k++)
			at += (long)f->coef[k] * (i / f->stride[k] % f->dim[k]);
		if (idx[i] < 0 || at != idx[i])
			return false;
	}
	return true;
}

/* The text of the digits' sum with weights w[k], outermost first:
 * "i3 * 8 + i2 + i1 * 8 + i0"; dig[k] is digit k's text. */
static const char *digits_sum(Lower *l, const Affine *f, const int *w, long base, const char **dig)
{
	Buf b = {0};
	if (base)
		buf_printf(&b, "%ld", base);
	for (int k = f->n - 1; k >= 0; k--) {
		if (!w[k])
			continue;
		int c = w[k] < 0 ? -w[k] : w[k];
		buf_puts(&b, b.len ? (w[k] < 0 ? " - " : " + ") : (w[k] < 0 ? "-" : ""));
		buf_puts(&b, c == 1 ? dig[k] : arena_printf(l->a, "%s * %d", dig[k], c));
	}
	const char *s = b.len ? arena_strndup(l->a, b.data, b.len) : "0";
	buf_free(&b);
	return s;
}

/* The digits' radices, outermost first: "[3, 3, 6, 6]" */
static const char *shape_of(Lower *l, const Affine *f)
{
	const char *s = "";
	for (int k = f->n - 1; k >= 0; k--)
		s = arena_printf(l->a, "%s%s%d", s, *s ? ", " : "", f->dim[k]);
	return arena_printf(l->a, "[%s]", s);
}

/* Digit k of element ix as text: "i / 36 % 6", "i % 6", "(3 + i) / 108" */
static const char *digit_of(Lower *l, const Affine *f, int k, const char *ix)
{
	if (strspn(ix, "abcdefghijklmnopqrstuvwxyz_0123456789") != strlen(ix))
		ix = arena_printf(l->a, "(%s)", ix);
	const char *q = f->stride[k] == 1 ? ix : arena_printf(l->a, "%s / %d", ix, f->stride[k]);
	return k == f->n - 1 ? q : arena_printf(l->a, "%s %% %d", q, f->dim[k]);
}

/* The element of its operand that element ix of an inline broadcast reads:
 * b[i / 36] for b spread over [8, 36]. */
static const char *bcast_index(Lower *l, const TVal *v, const char *ix)
{
	long n;
	if (is_number(ix, &n))
		return arena_printf(l->a, "%d", v->idx[n]);
	const Affine *f = l->bcast_of[v->id];
	const char *dig[MAX_DIGITS];
	for (int k = 0; k < f->n; k++)
		dig[k] = f->coef[k] ? digit_of(l, f, k, ix) : "";
	return digits_sum(l, f, f->coef, f->base, dig);
}

/* The loop variables of digits 0 .. n - 1, names taken once a program. */
static const char **digit_vars(Lower *l, int n)
{
	for (int k = 0; k < n; k++)
		if (!l->digit[k])
			l->digit[k] = names_take(l->names, arena_printf(l->a, "i%d", k));
	return l->digit;
}

/* A loop per digit of f that keep[] selects (NULL: every one), outermost first. */
static void put_digit_loops(Lower *l, LFunc *f, const Affine *a, const bool *keep)
{
	const char **dig = digit_vars(l, a->n);
	for (int k = a->n - 1; k >= 0; k--)
		if (!keep || keep[k])
			put_for(l, f, dig[k], 0, a->dim[k] - 1);
}

static void put_digit_ends(Lower *l, LFunc *f, const Affine *a, const bool *keep)
{
	for (int k = 0; k < a->n; k++)
		if (!keep || keep[k])
			put_end(l, f);
}

/* v[ix] = a[idx[ix]] */
static const char *gather_stmt(Lower *l, const Body *b, const char *ix)
{
	const TVal *v = b->v;
	long n;
	const char *from = is_number(ix, &n) ? arena_printf(l->a, "%d", v->idx[n])
					    : arena_printf(l->a, "%s[%s]", b->s, ix);
	return arena_printf(l->a, "%s = %s;", val_at(l, v, ix), val_at(l, v->args[0], from));
}

/* An affine gather of every element: a loop per digit, the element's index
 * its digits by their strides, its operand's their coefficients. */
static void emit_gather_nest(Lower *l, LFunc *f, const TVal *v, const Affine *a)
{
	const char **dig = digit_vars(l, a->n);
	const char *to = digits_sum(l, a, a->stride, 0, dig);
	const char *from = digits_sum(l, a, a->coef, a->base, dig);
	put(l, f, LI_COMMENT, arena_printf(l->a, "%s reads %s by its digits %s, no table",
					   name_of(l, v), name_of(l, v->args[0]), shape_of(l, a)), NULL);
	put_digit_loops(l, f, a, NULL);
	put_row_stmt(l, f, arena_printf(l->a, "%s = %s;", val_at(l, v, to), val_at(l, v->args[0], from)));
	put_digit_ends(l, f, a, NULL);
}

/* out[i] = a[idx[i]] over the elements that exist: a loop nest where every
 * element exists and the table is affine, else through a static table. */
static void emit_gather(Lower *l, LFunc *f, const TVal *v)
{
	Affine aff;
	if (v->size > 1 && v->n_has == v->size && affine_of(v->idx, v->n_idx, &aff)) {
		emit_gather_nest(l, f, v, &aff);
		return;
	}
	/* elements alone read their operand's element by number, without the table */
	int lo[MAX_RUNS], hi[MAX_RUNS], runs = runs_of(v->has, v->size, false, lo, hi, MAX_RUNS);
	bool loops = runs > MAX_RUNS;
	for (int r = 0; r < runs && r < MAX_RUNS; r++)
		loops |= lo[r] < hi[r];
	Table *t = table_find(l, v->idx, false);
	if (!t->name && loops) {
		t->name = names_take(l->names, "gather");
		put(l, f, LI_STMT, arena_printf(l->a, "static const int %s[%d] = {%s};", t->name,
						v->n_idx, int_list(l, v->idx, v->n_idx)),
		    arena_printf(l->a, "element i reads %s[%s[i]]", name_of(l, v->args[0]), t->name));
	}
	Body b = {gather_stmt, v, t->name, 0, NULL};
	if (v->size == 1) {
		put_def(l, f, v, gather_stmt(l, &b, "0"));
		return;
	}
	put_each(l, f, v->has, v->size, false, &b);
}

/* out[ix] = a[pos[at[ix]]] + a[pos[at[ix] + 1]] + ..., in that order */
static const char *gather_add_stmt(Lower *l, const Body *b, const char *ix)
{
	const TVal *v = b->v;
	const char *out = val_at(l, v, ix), *pos = b->array;
	const char *first = arena_printf(l->a, "%s[%s]", b->s, ix);
	const char *next = arena_printf(l->a, "%s[%s]", b->s, ix_add(l, 1, ix));
	/* an operand of one value (a broadcast adjoint) needs no positions */
	const char *a0 = val_at(l, v->args[0], pos ? arena_printf(l->a, "%s[%s]", pos, first) : "0");
	const char *ak = val_at(l, v->args[0], pos ? arena_printf(l->a, "%s[k]", pos) : "0");
	return arena_printf(l->a, "%s%s = %s; for (int k = %s + 1; k < %s; k++) %s += %s;",
			    v->size == 1 && !l->rows ? arena_printf(l->a, "%s ", real(l)) : "", out, a0, first,
			    next, out, ak);
}

/*
 * The adjoint of an affine gather whose digits of nonzero coefficient reach
 * each element of v at most once (a broadcast, pooling without overlap, a
 * transpose): a loop per such digit, and each element the left fold over
 * the other digits (coefficient 0), which run ascending in the gather's
 * element order as the table's fold does: d_b[i1] = d_t3[i1 * 36] + ... +
 * d_t3[i1 * 36 + 35].  Whether it applies: every term exists, and the
 * elements reached are exactly v's.
 */
static bool gather_add_nest(Lower *l, LFunc *f, const TVal *v)
{
	const TVal *a = v->args[0];
	Affine g;
	if (v->size == 1 || a->n_has != a->size || !affine_of(v->idx, v->n_idx, &g))
		return false;
	bool keep[MAX_DIGITS], *hit = arena_alloc(l->a, (size_t)v->size);
	int sums = 1, sum_w[MAX_DIGITS] = {0}, reached = 0;
	for (int k = 0; k < g.n; k++) {
		keep[k] = g.coef[k] != 0;
		if (!keep[k])
			sum_w[k] = g.stride[k], sums *= g.dim[k];
	}
	memset(hit, 0, (size_t)v->size);
	for (int i = 0; i < v->n_idx; i++) {
		bool first = true;
		for (int k = 0; k < g.n; k++)
			first &= keep[k] || i / g.stride[k] % g.dim[k] == 0;
		if (!first)
			continue;
		if (v->idx[i] >= v->size || hit[v->idx[i]] || !tir_has(v, v->idx[i]))
			return false;
		hit[v->idx[i]] = true, reached++;
	}
	if (reached != v->n_has)
		return false;
	const char **dig = digit_vars(l, g.n);
	int kept_w[MAX_DIGITS] = {0};
	for (int k = 0; k < g.n; k++)
		kept_w[k] = keep[k] ? g.stride[k] : 0;
	const char *to = digits_sum(l, &g, g.coef, g.base, dig);
	const char *from = digits_sum(l, &g, kept_w, 0, dig);
	const char *out = val_at(l, v, to);
	put(l, f, LI_COMMENT, arena_printf(l->a, "%s sums %s by its digits %s, no table", name_of(l, v),
					   name_of(l, a), shape_of(l, &g)), NULL);
	put_digit_loops(l, f, &g, keep);
	const char *stmt = arena_printf(l->a, "%s = %s;", out, val_at(l, a, from));
	if (sums > 1) {
		/* term k: the summed digits of k, each at its stride in a */
		const char *kd[MAX_DIGITS];
		for (int k = 0, q = 1; k < g.n; k++) {
			if (keep[k])
				continue;
			const char *s = q == 1 ? "k" : arena_printf(l->a, "k / %d", q);
			q *= g.dim[k];
			kd[k] = q == sums ? s : arena_printf(l->a, "%s %% %d", s, g.dim[k]);
		}
		for (int k = 0; k < g.n; k++)
			if (keep[k])
				kd[k] = "";
		const char *off = digits_sum(l, &g, sum_w, 0, kd);
		const char *at = strcmp(from, "0") ? arena_printf(l->a, "%s + %s", from, off) : off;
		stmt = arena_printf(l->a, "%s for (int k = 1; k < %d; k++) %s += %s;", stmt, sums, out,
				    val_at(l, a, at));
	}
	put_row_stmt(l, f, stmt);
	put_digit_ends(l, f, &g, keep);
	f->ops += a->n_has - v->n_has;
	return true;
}

/* The gather's adjoint: each element a left fold of the terms that reach
 * it, ascending: a loop nest where the gather is simple enough
 * (gather_add_nest), else their positions listed by two static tables. */
static void emit_gather_add(Lower *l, LFunc *f, const TVal *v)
{
	if (gather_add_nest(l, f, v))
		return;
	const TVal *a = v->args[0];
	Table *t = table_find(l, v, true);
	if (!t->name) {
		int *start = arena_alloc(l->a, (size_t)(v->size + 1) * sizeof *start);
		int *pos = arena_alloc(l->a, (size_t)(v->n_idx + 1) * sizeof *pos), n = 0;
		for (int i = 0; i < v->n_idx; i++)
			if (v->idx[i] >= 0 && tir_has(a, i))
				start[v->idx[i] + 1]++;
		for (int j = 0; j < v->size; j++)
			start[j + 1] += start[j];
		int *fill = arena_alloc(l->a, (size_t)(v->size + 1) * sizeof *fill);
		memcpy(fill, start, (size_t)(v->size + 1) * sizeof *fill);
		for (int i = 0; i < v->n_idx; i++)
			if (v->idx[i] >= 0 && tir_has(a, i))
				pos[fill[v->idx[i]]++] = i, n++;
		t->name = names_take(l->names, "terms_at");
		t->name2 = names_take(l->names, "terms");
		put(l, f, LI_STMT, arena_printf(l->a, "static const int %s[%d] = {%s};", t->name,
						v->size + 1, int_list(l, start, v->size + 1)),
		    arena_printf(l->a, "element i sums %s[%s[k]], k from %s[i] to %s[i + 1] - 1",
				 name_of(l, a), t->name2, t->name, t->name));
		bool batch = l->batch; /* the probe without lanes */
		l->batch = false;
		const char *probe = val_at(l, a, "k");
		l->batch = batch;
		if (strstr(probe, "k]")) /* an operand read element by element */
			put(l, f, LI_STMT, arena_printf(l->a, "static const int %s[%d] = {%s};",
							t->name2, n ? n : 1, n ? int_list(l, pos, n) : "0"),
			    NULL);
		else
			t->name2 = NULL;
	}
	Body b = {gather_add_stmt, v, t->name, 0, t->name2};
	f->ops += a->n_has - v->n_has;
	if (v->size == 1 && l->rows) {
		put(l, f, LI_STMT, arena_printf(l->a, "%s %s[%d];", real(l), l->name[v->id], l->lanes), NULL);
		put_row_stmt(l, f, gather_add_stmt(l, &b, "0"));
	} else if (v->size == 1) {
		put(l, f, LI_STMT, gather_add_stmt(l, &b, "0"), NULL);
	} else {
		put_each(l, f, v->has, v->size, false, &b);
	}
}

/* The code of value v (nothing for a value without storage). */
static void emit_value(Lower *l, LFunc *f, const TVal *v)
{
	const char *d = decl(l, v);
	if (d)
		put(l, f, LI_STMT, d, NULL);
	switch (v->kind) {
	case T_MAP: emit_map(l, f, v); break;
	case T_MATMUL: emit_matmul(l, f, v); break;
	case T_FOLD: emit_fold(l, f, v); break;
	case T_ACC: emit_acc(l, f, v); break;
	case T_SCATTER: emit_scatter(l, f, v); break;
	case T_GATHER: emit_gather(l, f, v); break;
	case T_GATHER_ADD: emit_gather_add(l, f, v); break;
	default: unreachable();
	}
	l->prog->n_kernels++;
}

/* ---- comments ---- */

/* The source line of value v, as a comment, when it starts a new line. */
static void line_comment(Lower *l, LFunc *f, const TVal *v, int *line)
{
	if (v->line == *line)
		return;
	*line = v->line;
	put(l, f, LI_BLANK, NULL, NULL);
	for (int s = 0; s < l->m->n_lets; s++) {
		Symbol *b = l->m->lets[s];
		if (b->loc.line == v->line && (!b->tensor || b->tensor->elems[0] == b)) {
			put(l, f, LI_COMMENT, arena_printf(l->a, "line %d: %s", v->line, b->stmt->text), NULL);
			return;
		}
	}
}

/* The reverse-mode step that made v, as a comment, when it starts a new step. */
static void step_comment(Lower *l, LFunc *f, const TVal *v, int *step)
{
	int s = l->step_of[v->id];
	if (s < 0 || s == *step)
		return;
	*step = s;
	const TStep *st = &l->t->steps[s];
	const char *c = name_of(l, st->child), *p = name_of(l, st->parent);
	put(l, f, LI_BLANK, NULL, NULL);
	put(l, f, LI_COMMENT, arena_printf(l->a, "d_%s %s d_%s * d%s/d%s (line %d)", c,
					   st->sum == st->term ? "=" : "+=", p, p, c, st->parent->line),
	    NULL);
}

/* ---- functions ---- */

/* Reads of params and inputs: a pointer for a tensor, a value for a scalar. */
static void emit_loads(Lower *l, LFunc *f, int fn)
{
	bool any = false, used[2] = {false, false};
	for (int i = 0; i < l->m->n_tensors; i++) {
		Symbol *s = l->m->tensors[i];
		TVal *v = s->tval;
		if (!l->live[fn][v->id])
			continue;
		bool param = s->kind == SYM_PARAM;
		const char *arr = param ? "params" : "inputs";
		const char *at = arena_printf(l->a, "%s_%s_%s", l->NAME, param ? "PARAM" : "INPUT", s->ident);
		if (!any)
			put(l, f, LI_COMMENT, "parameters and inputs", NULL);
		any = true;
		used[param] = true;
		const char *fmt = s->elems ? "const %s *%s = %s + %s;" : "const %s %s = %s[%s];";
		put(l, f, LI_STMT, arena_printf(l->a, fmt, real(l), l->name[v->id], arr, at), NULL);
	}
	if (!used[1])
		put(l, f, LI_STMT, "(void)params;", NULL);
	if (!used[0])
		put(l, f, LI_STMT, "(void)inputs;", NULL);
	/* the directions, tangents and cotangents the function reads */
	static const char *const arrays[FN_COUNT][2] = {
		[FN_HVP] = {"vec"}, [FN_GNVP] = {"vec"}, [FN_JVP] = {"dparams", "dinputs"},
		[FN_VJP] = {"dloss", "doutputs"}};
	bool read[2] = {false, false};
	for (int id = 0; id < l->t->n; id++) {
		TVal *v = l->t->vals[id];
		if (!l->live[fn][id] || v->kind != T_LEAF || v->sym->kind != SYM_DIR)
			continue;
		Symbol *s = v->sym, *of = s->dir_of->tensor ? s->dir_of->tensor : s->dir_of;
		const char *at = arena_printf(l->a, "%s_%s_%s", l->NAME, s->of, of->ident);
		if (s->dir_of->tensor)
			at = arena_printf(l->a, "%s + %d", at, s->dir_of->offset);
		const char *text = !*s->of ? arena_printf(l->a, "const %s %s = %s;", real(l),
							  l->name[id], s->array)
				   : s->elems ? arena_printf(l->a, "const %s *%s = %s + %s;", real(l),
							     l->name[id], s->array, at)
				   : arena_printf(l->a, "const %s %s = %s[%s];", real(l), l->name[id],
						  s->array, at);
		put(l, f, LI_STMT, text, NULL);
		for (int k = 0; k < 2; k++)
			read[k] |= arrays[fn][k] && !strcmp(arrays[fn][k], s->array);
	}
	for (int k = 0; k < 2; k++)
		if (arrays[fn][k] && !read[k])
			put(l, f, LI_STMT, arena_printf(l->a, "(void)%s;", arrays[fn][k]), NULL);
}

/* Every live value of function fn, in id order, with its comments. */
static void emit_values(Lower *l, LFunc *f, int fn)
{
	int line = -1, step = -1;
	l->n_masks = 0;
	l->n_tables = 0;
	emit_loads(l, f, fn);
	for (int id = 0; id < l->t->n; id++) {
		TVal *v = l->t->vals[id];
		if (!l->live[fn][id] || is_virtual(l, v))
			continue;
		if (id < l->t->n_forward) {
			line_comment(l, f, v, &line);
		} else {
			if (step < 0 && line >= 0) {
				put(l, f, LI_BLANK, NULL, NULL);
				put(l, f, LI_COMMENT, "backward pass: d_v is dloss/dv, term by term in the "
						      "order of reverse mode", NULL);
				line = -1;
			}
			step_comment(l, f, v, &step);
		}
		emit_value(l, f, v);
		if (fn == FN_BACKWARD && id < l->t->n_forward)
			l->prog->backward_fwd_ops = f->ops;
	}
}

static void emit_outputs(Lower *l, LFunc *f)
{
	Model *m = l->m;
	for (int i = 0; i < m->n_outputs;) {
		Symbol *s = m->outputs[i];
		Symbol *t = s->tensor ? s->tensor : s;
		const char *at = arena_printf(l->a, "%s_OUTPUT_%s", l->NAME, t->ident);
		if (t->size > 1) {
			put_for(l, f, "i", 0, t->size - 1);
			put(l, f, LI_STMT, arena_printf(l->a, "outputs[%s + i] = %s;", at,
							val_at(l, t->tval, "i")), NULL);
			put_end(l, f);
		} else {
			put(l, f, LI_STMT, arena_printf(l->a, "outputs[%s] = %s;", at, val_at(l, t->tval, "0")), NULL);
		}
		i += t->size;
	}
}

enum { GRAD_COPY, GRAD_ZERO, GRAD_ZERO_IN_PLACE };

/* Element ix of a result: b->array at b->s's offset. */
static const char *result_stmt(Lower *l, const Body *b, const char *ix)
{
	const char *arr = b->array, *at = b->s;
	switch (b->what) {
	case GRAD_COPY:
		return arena_printf(l->a, "%s[%s] = %s;", arr, ix_add_text(l, at, ix), val_at(l, b->v, ix));
	case GRAD_ZERO: return arena_printf(l->a, "%s[%s] = 0;", arr, ix_add_text(l, at, ix));
	default: return arena_printf(l->a, "%s = 0;", val_at(l, b->v, ix));
	}
}

/* array[at ...] of tensor s: value g where it exists, else 0 (g stored
 * there in place when it owns that storage: a param's gradient in grad). */
static void emit_result(Lower *l, LFunc *f, Symbol *s, TVal *g, const char *array, const char *at)
{
	if (g && !g->n_has)
		g = NULL;
	Body b = {result_stmt, g, at, GRAD_COPY, array};
	if (!g) {
		b.what = GRAD_ZERO;
		put_each(l, f, NULL, s->size, false, &b);
		return;
	}
	bool own = !strcmp(array, "grad") && l->grad_of[l->store[g->id]] == s;
	if (!own)
		put_each(l, f, g->has, s->size, false, &b);
	b.what = own ? GRAD_ZERO_IN_PLACE : GRAD_ZERO;
	if (g->has)
		put_each(l, f, g->has, s->size, true, &b);
}

/* grad[] of param s: its adjoint where it exists, else 0. */
static void emit_grad(Lower *l, LFunc *f, Symbol *s)
{
	emit_result(l, f, s, l->t->adj[s->tval->id], "grad",
		    arena_printf(l->a, "%s_PARAM_%s", l->NAME, s->ident));
}

static void emit_forward_fn(Lower *l)
{
	LFunc *f = &l->prog->forward;
	emit_values(l, f, FN_FORWARD);
	if (l->m->n_outputs) {
		put(l, f, LI_BLANK, NULL, NULL);
		put(l, f, LI_IF, "outputs", NULL);
		emit_outputs(l, f);
		put_end(l, f);
	} else {
		put(l, f, LI_STMT, "(void)outputs;", NULL);
	}
	put(l, f, LI_STMT, arena_printf(l->a, "return %s;", l->prog->loss), NULL);
}

static void emit_predict_fn(Lower *l)
{
	LFunc *f = &l->prog->predict;
	emit_values(l, f, FN_PREDICT);
	put(l, f, LI_BLANK, NULL, NULL);
	if (l->m->n_outputs)
		emit_outputs(l, f);
	else
		put(l, f, LI_STMT, "(void)outputs;", NULL);
}

static void emit_backward_fn(Lower *l)
{
	LFunc *f = &l->prog->backward;
	emit_values(l, f, FN_BACKWARD);
	put(l, f, LI_BLANK, NULL, NULL);
	put(l, f, LI_COMMENT, "the gradient: each param's adjoint where it exists, else 0", NULL);
	for (int i = 0; i < l->m->n_tensors; i++)
		if (l->m->tensors[i]->kind == SYM_PARAM)
			emit_grad(l, f, l->m->tensors[i]);
	put(l, f, LI_STMT, arena_printf(l->a, "return %s;", l->prog->loss), NULL);
}

/* The model's params' values by tensor (row: NULL or by m->tensors) into
 * array, e.g. hvp[]. */
static void emit_param_results(Lower *l, LFunc *f, TVal **row, const char *array)
{
	for (int i = 0; i < l->m->n_tensors; i++) {
		Symbol *s = l->m->tensors[i];
		if (s->kind == SYM_PARAM)
			emit_result(l, f, s, row ? row[i] : NULL, array,
				    arena_printf(l->a, "%s_PARAM_%s", l->NAME, s->ident));
	}
}

/* hvp and gnvp: the loss, grad, and the product into array. */
static void emit_product_fn(Lower *l, LFunc *f, int fn, TVal **row, const char *array)
{
	emit_values(l, f, fn);
	put(l, f, LI_BLANK, NULL, NULL);
	for (int i = 0; i < l->m->n_tensors; i++)
		if (l->m->tensors[i]->kind == SYM_PARAM)
			emit_grad(l, f, l->m->tensors[i]);
	emit_param_results(l, f, row, array);
	put(l, f, LI_STMT, arena_printf(l->a, "return %s;", l->prog->loss), NULL);
}

static void emit_jvp_fn(Lower *l)
{
	LFunc *f = &l->prog->jvp;
	Model *m = l->m;
	emit_values(l, f, FN_JVP);
	put(l, f, LI_BLANK, NULL, NULL);
	if (m->n_outputs)
		emit_outputs(l, f);
	else
		put(l, f, LI_STMT, "(void)outputs;", NULL);
	for (int i = 0; i < m->n_outputs;) {
		Symbol *s = m->outputs[i], *t = s->tensor ? s->tensor : s;
		emit_result(l, f, t, l->t->jvp[i], "doutputs",
			    arena_printf(l->a, "%s_OUTPUT_%s", l->NAME, t->ident));
		i += t->size;
	}
	if (!m->n_outputs)
		put(l, f, LI_STMT, "(void)doutputs;", NULL);
	TVal *dl = l->t->jvp_loss;
	put(l, f, LI_STMT, arena_printf(l->a, "*dloss = %s;", dl && dl->n_has ? val_at(l, dl, "0") : "0"),
	    NULL);
	put(l, f, LI_STMT, arena_printf(l->a, "return %s;", l->prog->loss), NULL);
}

static void emit_vjp_fn(Lower *l)
{
	LFunc *f = &l->prog->vjp;
	emit_values(l, f, FN_VJP);
	put(l, f, LI_BLANK, NULL, NULL);
	emit_param_results(l, f, l->t->vjp, "gparams");
	for (int i = 0; i < l->m->n_tensors; i++) {
		Symbol *s = l->m->tensors[i];
		if (s->kind == SYM_INPUT)
			emit_result(l, f, s, l->t->vjp[i], "ginputs",
				    arena_printf(l->a, "%s_INPUT_%s", l->NAME, s->ident));
	}
	if (!l->m->n_inputs)
		put(l, f, LI_STMT, "(void)ginputs;", NULL);
	put(l, f, LI_STMT, arena_printf(l->a, "return %s;", l->prog->loss), NULL);
}

static bool ident_char(char c)
{
	return c == '_' || ((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= '0' && c <= '9');
}

/* Whether text declares an array, "REAL NAME[N];": its name into *name. */
static bool array_decl(Lower *l, const char *text, const char **name, size_t *len)
{
	size_t r = strlen(real(l));
	if (strncmp(text, real(l), r) || text[r] != ' ')
		return false;
	const char *n = text + r + 1, *b = n;
	while (ident_char(*b))
		b++;
	size_t digits = *b == '[' ? strspn(b + 1, "0123456789") : 0;
	if (b == n || !digits || strcmp(b + 1 + digits, "];"))
		return false;
	*name = n, *len = (size_t)(b - n);
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * A sweep's array that no later statement reads: liveness is per value,
 * and a value some root reads only where it does not exist (a product's
 * mask, a view) is still computed.  The C compiler drops the stores;
 * "(void)NAME;" after the declaration keeps a strict build quiet.  Reads
 * are every NAME[ but a declaration's and a statement's "NAME[...] = ".
 */
static void quiet_unread(Lower *l, LFunc *f)
{
	const char **read = NULL;
	size_t nr = 0, cap = 0;
	for (int i = 0; i < f->n; i++) {
		const char *t = f->items[i].text, *name;
		size_t len;
		if (!t || array_decl(l, t, &name, &len))
			continue;
		for (const char *c = t; *c; c++) {
			if (!ident_char(*c) || (*c >= '0' && *c <= '9') || (c > t && ident_char(c[-1])))
				continue;
			const char *e = c;
			while (ident_char(*e))
				e++;
			if (*e == '[') {
				const char *close = strchr(e, ']');
				bool write = c == t && f->items[i].kind == LI_STMT && close &&
					     !strncmp(close, "] = ", 4);
				if (!write) {
					if (nr == cap) {
						cap = cap ? 2 * cap : 256;
						read = xrealloc(read, cap * sizeof *read);
					}
					read[nr++] = arena_strndup(l->a, c, (size_t)(e - c));
				}
			}
			c = e - 1;
		}
	}
	qsort(read, nr, sizeof *read, cmp_str);
	LFunc out = {0};
	for (int i = 0; i < f->n; i++) {
		const char *name;
		size_t len;
		put(l, &out, f->items[i].kind, f->items[i].text, f->items[i].comment);
		out.items[out.n - 1] = f->items[i];
		if (!f->items[i].text || !array_decl(l, f->items[i].text, &name, &len))
			continue;
		const char *key = arena_strndup(l->a, name, len);
		if (!nr || !bsearch(&key, read, nr, sizeof *read, cmp_str))
			put(l, &out, LI_STMT, arena_printf(l->a, "(void)%s; /* no result reads it */", key),
			    NULL);
	}
	free(read);
	out.ops = f->ops;
	*f = out;
}

/* The Jacobian: outputs, then each output element's row of d output / d
 * params and d output / d inputs. */
static void emit_jacobian_fn(Lower *l)
{
	LFunc *f = &l->prog->jacobian;
	Model *m = l->m;
	emit_values(l, f, FN_JACOBIAN);
	put(l, f, LI_BLANK, NULL, NULL);
	emit_outputs(l, f);
	for (int o = 0; o < m->n_outputs; o++)
		for (int i = 0; i < m->n_tensors; i++) {
			Symbol *s = m->tensors[i];
			bool param = s->kind == SYM_PARAM;
			const char *at = arena_printf(l->a, "%d * %s_N_%s + %s_%s_%s", o, l->NAME,
						      param ? "PARAMS" : "INPUTS", l->NAME,
						      param ? "PARAM" : "INPUT", s->ident);
			emit_result(l, f, s, l->t->jac[o][i], param ? "jac_params" : "jac_inputs", at);
		}
	if (!m->n_inputs)
		put(l, f, LI_STMT, "(void)jac_inputs;", NULL);
}

/* The dense Hessian: row p from the sweep of param p's gradient element,
 * then each entry below the diagonal the one above it (as unrolled: the
 * Hessian symmetric to the bit). */
static void emit_hessian_fn(Lower *l)
{
	LFunc *f = &l->prog->hessian;
	Model *m = l->m;
	emit_values(l, f, FN_HESSIAN);
	put(l, f, LI_BLANK, NULL, NULL);
	for (int i = 0; i < m->n_tensors; i++)
		if (m->tensors[i]->kind == SYM_PARAM)
			emit_grad(l, f, m->tensors[i]);
	for (int p = 0; p < m->n_params; p++)
		for (int i = 0; i < m->n_tensors; i++) {
			Symbol *s = m->tensors[i];
			if (s->kind != SYM_PARAM)
				continue;
			const char *at = arena_printf(l->a, "%d * %s_N_PARAMS + %s_PARAM_%s", p, l->NAME,
						      l->NAME, s->ident);
			emit_result(l, f, s, l->t->hess[p] ? l->t->hess[p][i] : NULL, "hess", at);
		}
	put(l, f, LI_COMMENT, "below the diagonal: the entries above it", NULL);
	put(l, f, LI_STMT, arena_printf(l->a, "for (int i = 1; i < %s_N_PARAMS; i++) for (int j = 0; "
					      "j < i; j++) hess[i * %s_N_PARAMS + j] = hess[j * %s_N_PARAMS + i];",
					l->NAME, l->NAME, l->NAME), NULL);
	put(l, f, LI_STMT, arena_printf(l->a, "return %s;", l->prog->loss), NULL);
}

/* ---- analysis ---- */

/* live[id]: value id is needed for roots, through operands. */
static void mark_live(Lower *l, bool *live, TVal **roots, int n)
{
	for (int i = 0; i < n; i++)
		if (roots[i] && roots[i]->n_has) /* a result with no element is all 0s: no code */
			live[roots[i]->id] = true;
	for (int id = l->t->n - 1; id >= 0; id--)
		if (live[id])
			for (int k = 0; k < l->t->vals[id]->nargs; k++)
				live[l->t->vals[id]->args[k]->id] = true;
}

/* live: the n first roots and the values of nr sweeps (rows[r] by tensor,
 * NULL where none), the Jacobian's and the Hessian's. */
static void mark_sweeps(Lower *l, bool *live, TVal **first, int n, TVal ***rows, int nr)
{
	int nt = l->m->n_tensors, k = n;
	TVal **all = arena_alloc(l->a, ((size_t)n + (size_t)nr * (size_t)nt + 1) * sizeof *all);
	memcpy(all, first, (size_t)n * sizeof *all);
	for (int r = 0; r < nr; r++)
		for (int i = 0; rows[r] && i < nt; i++)
			all[k++] = rows[r][i];
	mark_live(l, live, all, k);
}

static void liveness(Lower *l)
{
	Model *m = l->m;
	Tir *t = l->t;
	TVal **roots = arena_alloc(l->a, (size_t)(m->n_outputs + m->n_params + 1) * sizeof *roots);
	int n = 0;
	for (int i = 0; i < m->n_outputs; i++)
		roots[n++] = (m->outputs[i]->tensor ? m->outputs[i]->tensor : m->outputs[i])->tval;
	for (int f = 0; f < FN_COUNT; f++)
		l->live[f] = arena_alloc(l->a, (size_t)t->n);
	mark_live(l, l->live[FN_PREDICT], roots, n);
	roots[n] = t->loss;
	mark_live(l, l->live[FN_FORWARD], roots, n + 1);
	n = 0;
	roots[n++] = t->loss;
	for (int i = 0; i < m->n_tensors; i++) {
		TVal *g = m->tensors[i]->kind == SYM_PARAM ? t->adj[m->tensors[i]->tval->id] : NULL;
		if (g && g->n_has)
			roots[n++] = g;
	}
	mark_live(l, l->live[FN_BACKWARD], roots, n);
	/* beyond the gradient: hvp and gnvp also return the gradient */
	TVal **more = arena_alloc(l->a, (size_t)(n + 2 * m->n_tensors + m->n_outputs + 2) * sizeof *more);
	TVal **rows[] = {t->hvp, t->gnvp};
	for (int k = 0; k < 2; k++) {
		if (!rows[k])
			continue;
		memcpy(more, roots, (size_t)n * sizeof *more);
		for (int i = 0; i < m->n_tensors; i++)
			more[n + i] = rows[k][i];
		mark_live(l, l->live[k ? FN_GNVP : FN_HVP], more, n + m->n_tensors);
	}
	if (t->jvp) {
		int k = 0;
		more[k++] = t->loss;
		more[k++] = t->jvp_loss;
		for (int i = 0; i < m->n_outputs; i++) {
			more[k++] = (m->outputs[i]->tensor ? m->outputs[i]->tensor : m->outputs[i])->tval;
			more[k++] = t->jvp[i];
		}
		mark_live(l, l->live[FN_JVP], more, k);
	}
	if (t->vjp) {
		more[0] = t->loss;
		memcpy(more + 1, t->vjp, (size_t)m->n_tensors * sizeof *more);
		mark_live(l, l->live[FN_VJP], more, 1 + m->n_tensors);
	}
	if (t->jac) {
		TVal **outs = arena_alloc(l->a, (size_t)(m->n_outputs + 1) * sizeof *outs);
		for (int i = 0; i < m->n_outputs; i++)
			outs[i] = (m->outputs[i]->tensor ? m->outputs[i]->tensor : m->outputs[i])->tval;
		mark_sweeps(l, l->live[FN_JACOBIAN], outs, m->n_outputs, t->jac, m->n_outputs);
	}
	if (t->hess && t->hess_dense) /* with the loss and the gradient */
		mark_sweeps(l, l->live[FN_HESSIAN], roots, n, t->hess, m->n_params);
	l->any = arena_alloc(l->a, (size_t)t->n);
	for (int id = 0; id < t->n; id++)
		for (int f = 0; f < FN_COUNT; f++)
			l->any[id] |= l->live[f][id];
}

/* Whether loops over the elements of v that exist are few (no mask). */
static bool few_runs(const bool *has, int size)
{
	int lo[MAX_RUNS], hi[MAX_RUNS];
	return runs_of(has, size, false, lo, hi, MAX_RUNS) <= MAX_RUNS;
}

/* Whether user u reads a SCATTER operand only in loops over ranges
 * where it exists (an index through it outside them would be outside its
 * operand: the C compiler's bounds warnings). */
static bool reads_in_runs(Lower *l, const TVal *u)
{
	int n;
	switch (u->kind) {
	case T_MAP: return few_runs(u->has, u->size);
	case T_FOLD: return true;
	case T_ACC:
		if (is_virtual(l, u))
			return false;
		for (int c = 0; c < 3; c++) {
			const bool *in = acc_class(l, u, c != 1, c != 2, &n);
			if (n && !few_runs(in, u->size))
				return false;
		}
		return true;
	default: return false;
	}
}

/* Which SCATTERs need no code: those read only in runs where they exist. */
static void inline_scatters(Lower *l)
{
	Tir *t = l->t;
	bool *live = l->any;
	l->inl = arena_alloc(l->a, (size_t)t->n);
	for (int id = 0; id < t->n; id++)
		l->inl[id] = t->vals[id]->kind == T_SCATTER && live[id] &&
			     few_runs(t->vals[id]->has, t->vals[id]->size);
	for (int id = t->n - 1; id >= 0; id--) {
		TVal *u = t->vals[id];
		for (int k = 0; live[id] && k < u->nargs; k++)
			if (l->inl[u->args[k]->id] && !reads_in_runs(l, u))
				l->inl[u->args[k]->id] = false;
	}
}

/*
 * Which GATHERs need no code: a broadcast (fewer elements than the result,
 * every one existing) whose table is affine and whose every reader is a map:
 * the map reads the operand at the computed index (t4[i] = t2[i] + b[i /
 * 36]) instead of a copy the size of the result.  Data movement only, so
 * the same bits.
 */
static void inline_broadcasts(Lower *l)
{
	Tir *t = l->t;
	bool *live = l->any;
	l->bcast_of = arena_alloc(l->a, (size_t)t->n * sizeof *l->bcast_of);
	for (int id = 0; id < t->n; id++) {
		TVal *v = t->vals[id];
		Affine f;
		if (v->kind != T_GATHER || !live[id] || v->n_has != v->size || v->size == 1 ||
		    v->args[0]->size >= v->size || v->args[0]->n_has != v->args[0]->size ||
		    !affine_of(v->idx, v->n_idx, &f))
			continue;
		l->bcast_of[id] = arena_alloc(l->a, sizeof f);
		*l->bcast_of[id] = f;
		l->inl[id] = true;
	}
	for (int id = 0; id < t->n; id++) {
		TVal *u = t->vals[id];
		for (int k = 0; live[id] && k < u->nargs; k++)
			if (u->kind != T_MAP && u->args[k]->kind == T_GATHER)
				l->inl[u->args[k]->id] = false;
	}
}

/* The value whose storage v reads through (v itself unless v is an index
 * into, or a copy of, another value). */
static const TVal *storage_root(const Lower *l, const TVal *v)
{
	while (is_virtual(l, v) && v->nargs > 0)
		v = v->kind == T_ACC && !v->args[0]->n_has ? v->args[1] : v->args[0];
	return l->t->vals[l->store[v->id]];
}

/* Storage: an ACC adds in place into its first operand's array when that
 * operand is a gradient array no later value (nor the gradient) reads. */
static void share_storage(Lower *l)
{
	Tir *t = l->t;
	bool *live = l->any;
	int *last = arena_alloc(l->a, (size_t)t->n * sizeof *last); /* last reader's id */
	/* the results, read at the end of their functions */
	for (int i = 0; i < l->m->n_tensors; i++) {
		TVal *g = l->m->tensors[i]->kind == SYM_PARAM ? t->adj[l->m->tensors[i]->tval->id] : NULL;
		TVal *more[] = {g, t->hvp ? t->hvp[i] : NULL, t->gnvp ? t->gnvp[i] : NULL,
				t->vjp ? t->vjp[i] : NULL};
		for (int k = 0; k < 4; k++)
			if (more[k])
				last[more[k]->id] = t->n;
	}
	for (int i = 0; t->jvp && i < l->m->n_outputs; i++)
		if (t->jvp[i])
			last[t->jvp[i]->id] = t->n;
	for (int r = 0; t->jac && r < l->m->n_outputs; r++)
		for (int i = 0; i < l->m->n_tensors; i++)
			if (t->jac[r][i])
				last[t->jac[r][i]->id] = t->n;
	for (int r = 0; t->hess && t->hess_dense && r < l->m->n_params; r++)
		for (int i = 0; t->hess[r] && i < l->m->n_tensors; i++)
			if (t->hess[r][i])
				last[t->hess[r][i]->id] = t->n;
	if (t->jvp_loss)
		last[t->jvp_loss->id] = t->n;
	for (int id = t->n - 1; id >= 0; id--) {
		TVal *v = t->vals[id];
		for (int k = 0; live[id] && k < v->nargs; k++) {
			int r = is_virtual(l, v) ? last[id] : id, *la = &last[v->args[k]->id];
			*la = r > *la ? r : *la;
		}
	}
	for (int id = 0; id < t->n; id++) {
		TVal *v = t->vals[id], *a = v->args[0];
		l->store[id] = id;
		if (id < t->n_forward || !live[id] || v->kind != T_ACC || is_virtual(l, v) || v->size == 1)
			continue;
		if (a->id >= t->n_forward && !is_virtual(l, a) && last[a->id] == id &&
		    storage_root(l, v->args[1]) != storage_root(l, a) && l->rowdep[a->id] == l->rowdep[id])
			l->store[id] = l->store[a->id];
	}
}

/* A tensor param's final adjoint, when it owns its storage, is stored in grad. */
static void grad_storage(Lower *l)
{
	Tir *t = l->t;
	for (int i = 0; i < l->m->n_tensors; i++) {
		Symbol *s = l->m->tensors[i];
		TVal *g = s->kind == SYM_PARAM ? t->adj[s->tval->id] : NULL;
		if (!g || g->id < t->n_forward || is_virtual(l, g) || g->size == 1)
			continue;
		int r = l->store[g->id];
		if (!l->grad_of[r])
			l->grad_of[r] = s;
	}
}

/* text as an identifier: "d_x[3]" -> "d_x_3", "d_M[0:3]" -> "d_M_0_3" */
static const char *ident_of(Lower *l, const char *text)
{
	char *s = arena_strndup(l->a, text, strlen(text)), *o = s;
	for (const char *c = text; *c; c++)
		if (*c == '_' || (*c >= '0' && *c <= '9') || ((*c | 32) >= 'a' && (*c | 32) <= 'z'))
			*o++ = *c;
		else if (*c == '[' || *c == ':' || *c == ',')
			*o++ = '_';
	*o = 0;
	return s;
}

/* Names: the model's first (leaves, bindings), then temporaries t1, t2, ...
 * for the forward program, then d_<value> for adjoints. */
static void name_values(Lower *l)
{
	Tir *t = l->t;
	bool *live = arena_alloc(l->a, (size_t)t->n);
	for (int id = 0; id < t->n; id++)
		live[id] = !is_virtual(l, t->vals[id]) && l->any[id];
	static const char *const loop_names[] = {"i", "j", "k", "acc", NULL};
	for (int i = 0; loop_names[i]; i++)
		names_take(l->names, loop_names[i]);
	for (int i = 0; i < l->m->n_tensors; i++)
		l->name[l->m->tensors[i]->tval->id] = names_take(l->names, l->m->tensors[i]->ident);
	for (int id = 0; id < t->n; id++)
		if (l->any[id] && t->vals[id]->kind == T_LEAF && t->vals[id]->sym->kind == SYM_DIR)
			l->name[id] = names_take(l->names, t->vals[id]->sym->ident);
	for (int id = 0; id < t->n_forward; id++)
		if (t->vals[id]->name && live[id])
			l->name[id] = names_take(l->names, t->vals[id]->name);
	for (int id = 0; id < t->n_forward; id++)
		if (!l->name[id] && live[id])
			l->name[id] = names_take(l->names, arena_printf(l->a, "t%d", ++l->temp));
	const char **want = arena_alloc(l->a, (size_t)t->n * sizeof *want);
	for (int s = t->n_steps - 1; s >= 0; s--)
		want[t->steps[s].sum->id] = name_of(l, t->steps[s].child);
	for (int id = t->n_forward; id < t->n; id++) {
		if (!live[id] || l->store[id] != id)
			continue;
		Symbol *p = l->grad_of[id];
		const char *w = p ? p->ident : want[id];
		l->name[id] = names_take(l->names, w ? arena_printf(l->a, "d_%s", ident_of(l, w))
						     : arena_printf(l->a, "t%d", ++l->temp));
	}
}

/* ---- the whole ---- */

/* About how many scalar operations a builtin makes: views none. */
static long builtin_cost(const Expr *e)
{
	switch (e->builtin) {
	case B_TRANSPOSE:
	case B_FLATTEN:
	case B_RESHAPE:
	case B_CONCAT:
	case B_SCAN: /* the steps are bindings (or expressions) counted as such */
	case B_MAP:
	case B_STACK:
	case B_DIAG:
		return 0;
	case B_ZEROS:
		return shape_size(e->shape);
	case B_OUTER:
	case B_CLAMP:
		return 2L * shape_size(e->shape);
	case B_CONV2D: /* each output a product of in_channels kh kw terms */
		return 2L * shape_size(e->shape) * (shape_size(e->args[1]->shape) /
						    e->args[1]->shape.dim[0]);
	default:
		return 4L * shape_size(e->args[0]->shape);
	}
}

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
			case E_BUILTIN: ops += builtin_cost(e); break;
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

/* ---- the batch: blocks of rows ---- */

/*
 * backward_batch(n, params, inputs, grad): the loss and the gradient summed
 * over n rows from zero in row order, the per-row backward's results added
 * one row after the other, as runtime/batch.c's canonical order says.  The
 * rows go through in blocks of `lanes`: each value that differs from row
 * to row (it depends on an input) is an array with a lane per row, element
 * i of the block's row r at [i * lanes + r], and each of its statements a
 * loop over the lanes: the same operations on the same operands as the
 * per-row function, in the same order, for each lane, so each lane holds
 * the bits the per-row function computes, and the loops over lanes
 * vectorize (a product's sum over k stays a sum in k order within a lane).
 * A short last block fills its empty lanes with its last row again; they
 * are computed and never summed.  The gradient: each param's adjoint is
 * added into grad lane after lane (row order); an outer product's
 * adjoint (a weight matrix's, d_W = d_z x') is added as it is formed,
 * grad[i, j] += d_z[i] * x[j] row after row, which is the same two
 * roundings per row in the same order.
 */

/* Whether param tensor s's adjoint g is an outer product the batch adds
 * into grad as it forms it (nothing else reads it). */
static bool fused_outer(Lower *l, const TVal *g)
{
	if (!g || g->kind != T_MATMUL || g->k != 1 || g->size == 1 || g->has || !l->rowdep[g->id] ||
	    g->args[0]->has || g->args[1]->has || l->store[g->id] != g->id)
		return false;
	for (int id = g->id + 1; id < l->t->n; id++)
		for (int k = 0; l->live[FN_BACKWARD][id] && k < l->t->vals[id]->nargs; k++)
			if (l->t->vals[id]->args[k] == g)
				return false;
	return true;
}

/* The input leaf (and the offset into it) that v is a view of, or NULL. */
static const TVal *input_under(const TVal *v, int *off)
{
	*off = 0;
	while (v->kind == T_VIEW) {
		*off += v->off;
		v = v->args[0];
	}
	return v->kind == T_LEAF && v->sym->kind == SYM_INPUT ? v : NULL;
}

/* y[j] of row r (jx the index text) for an outer product's update. */
typedef struct YRow {
	const TVal *y;
	const char *base;     /* y read from the rows as they are: in[r][base + j] */
	const char *copy;     /* y's lanes copied as rows: copy[r * n + j] */
	int n;
} YRow;

static const char *y_at(Lower *l, const YRow *y, const char *jx)
{
	if (y->base)
		return arena_printf(l->a, "%s[r][%s + %s]", l->in_var, y->base, jx);
	if (y->copy)
		return arena_printf(l->a, "%s[r * %d + %s]", y->copy, y->n, jx);
	return val_at(l, y->y, jx);
}

/* A tile of T rows i.. (i a variable or a number) by lanes columns j.. of
 * grad[at + i * n + j] += x[i] * y[j] in vector form: accumulator
 * t * nv + h holds columns j + h * vn.., its adds in row order. */
static void outer_tile_vectors(Lower *l, LFunc *f, const char *at, const TVal *x, const YRow *y,
			       const char *i, int T)
{
	int nv = l->lanes / l->vn;
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1)
			put(l, f, LI_OPEN, arena_printf(l->a, "for (int r = 0; r < %s; r++)", l->rows_var), NULL);
		for (int t = 0; t < T; t++)
			for (int h = 0; h < nv; h++) {
				const char *jh = h ? arena_printf(l->a, "j + %d", h * l->vn) : "j";
				const char *acc = l->vacc[t * nv + h];
				const char *gi = vec_of(l, arena_printf(l->a, "grad[%s + %s]", at,
									 ix_lin(l, plus(l, i, t), y->n, jh)));
				const char *p = op_text(l, OP_MUL, val_at(l, x, plus(l, i, t)), vec_of(l, y_at(l, y, jh)));
				put(l, f, LI_STMT, pass == 0 ? arena_printf(l->a, "%s_v %s = %s;", l->NAME, acc, gi)
						   : pass == 1 ? arena_printf(l->a, "%s += %s;", acc, p)
						   : arena_printf(l->a, "%s = %s;", gi, acc), NULL);
			}
		if (pass == 1)
			put_end(l, f);
	}
}

/* Rows ilo..ihi, columns jlo.. of grad[at + i * n + j] += x[i] * y[j],
 * one element at a time, row after row. */
static void outer_scalar(Lower *l, LFunc *f, const char *at, const TVal *x, const YRow *y, int ilo,
			 int ihi, int jlo)
{
	int n = y->n;
	if (ilo > ihi || jlo > n - 1)
		return;
	const char *i = ihi > ilo ? "i" : arena_printf(l->a, "%d", ilo);
	const char *j = n - 1 > jlo ? "j" : arena_printf(l->a, "%d", jlo);
	if (ihi > ilo)
		put_for(l, f, "i", ilo, ihi);
	put(l, f, LI_OPEN, arena_printf(l->a, "for (int r = 0; r < %s; r++)", l->rows_var), NULL);
	if (n - 1 > jlo)
		put_for(l, f, "j", jlo, n - 1);
	put(l, f, LI_STMT, arena_printf(l->a, "grad[%s + %s] += %s;", at, ix_lin(l, i, n, j),
					op_text(l, OP_MUL, val_at(l, x, i), y_at(l, y, j))), NULL);
	if (n - 1 > jlo)
		put_end(l, f);
	put_end(l, f);
	if (ihi > ilo)
		put_end(l, f);
}

/*
 * grad[at + i * n + j] += x[i] * y[j] over the block's rows, row after row:
 * a tile of tile(l) rows i by `lanes` columns j is held in sum (in vector
 * form: accumulator t * nv + h, columns j + h * vn..) while the rows go by
 * (each element's adds still in row order), then stored back; the edges
 * of the matrix one element at a time.
 */
static void emit_fused_outer(Lower *l, LFunc *f, Symbol *s, const TVal *g)
{
	const TVal *x = g->args[0];
	const char *at = arena_printf(l->a, "%s_PARAM_%s", l->NAME, s->ident), *R = l->rows_var;
	const char *q = l->q_var, *sum = l->sum_var;
	int off, L = l->lanes, m = g->m, n = g->n, T = tile(l);
	YRow y = {g->args[1], NULL, NULL, n};
	const TVal *in = input_under(y.y, &off);
	if (l->rowdep[y.y->id] && in) { /* read from the rows as they are */
		y.base = arena_printf(l->a, "%s_INPUT_%s", l->NAME, in->sym->ident);
		if (off)
			y.base = arena_printf(l->a, "%s + %d", y.base, off);
	} else if (l->rowdep[y.y->id]) { /* y's lanes as rows, read in j order */
		const char *yn = ident_of(l, name_of(l, y.y)); /* "%50", a value without a name: "t50" */
		y.copy = names_take(l->names, arena_printf(l->a, "%s%s_rows", *yn >= '0' && *yn <= '9' ? "t" : "", yn));
		put(l, f, LI_STMT, arena_printf(l->a, "%s %s[%d];", real(l), y.copy, L * n), NULL);
		put_for(l, f, "j", 0, n - 1);
		put_for(l, f, "r", 0, L - 1);
		put(l, f, LI_STMT, arena_printf(l->a, "%s[r * %d + j] = %s;", y.copy, n, val_at(l, y.y, "j")),
		    NULL);
		put_end(l, f);
		put_end(l, f);
	}
	put(l, f, LI_COMMENT, arena_printf(l->a, "d_%s[i, j] = %s[i] * %s[j] (line %d), added row by row",
					   s->ident, name_of(l, x), name_of(l, y.y), g->line), NULL);
	int mt = m >= T ? m / T * T : 0, nt = n / L * L;
	const char *jq = arena_printf(l->a, "j + %s", q);
	bool vec = l->vn && (y.base || y.copy); /* y[j..] contiguous */
	if (mt && nt) {
		put(l, f, LI_OPEN, arena_printf(l->a, "for (int i = 0; i < %d; i += %d)", mt, T), NULL);
		put(l, f, LI_OPEN, arena_printf(l->a, "for (int j = 0; j < %d; j += %d)", nt, L), NULL);
		if (vec) {
			put_pp(l, f, "#if %s_VECTORS");
			outer_tile_vectors(l, f, at, x, &y, "i", T);
			put_pp(l, f, "#else");
		}
		put(l, f, LI_STMT, arena_printf(l->a, "%s %s[%d];", real(l), sum, T * L), NULL);
		for (int pass = 0; pass < 3; pass++) {
			if (pass == 1)
				put(l, f, LI_OPEN, arena_printf(l->a, "for (int r = 0; r < %s; r++)", R), NULL);
			put_for(l, f, q, 0, L - 1);
			for (int t = 0; t < T; t++) {
				const char *el = arena_printf(l->a, "%s[%s%s]", sum, t ? arena_printf(l->a, "%d + ", t * L) : "", q);
				const char *gi = arena_printf(l->a, "grad[%s + %s]", at, ix_lin(l, plus(l, "i", t), n, jq));
				const char *p = op_text(l, OP_MUL, val_at(l, x, plus(l, "i", t)), y_at(l, &y, jq));
				put(l, f, LI_STMT, pass == 0 ? arena_printf(l->a, "%s = %s;", el, gi)
						   : pass == 1 ? arena_printf(l->a, "%s += %s;", el, p)
						   : arena_printf(l->a, "%s = %s;", gi, el), NULL);
			}
			put_end(l, f);
			if (pass == 1)
				put_end(l, f);
		}
		if (vec)
			put_pp(l, f, "#endif");
		put_end(l, f);
		put_end(l, f);
	}
	/* outside the tiles, one element at a time: columns nt.. of rows ..mt,
	 * then rows mt.. (in vector form: one smaller tile of the rows mt..
	 * over columns ..nt, then their columns nt..) */
	outer_scalar(l, f, at, x, &y, 0, mt - 1, nt);
	if (vec && mt < m && nt) {
		put_pp(l, f, "#if %s_VECTORS");
		put(l, f, LI_OPEN, arena_printf(l->a, "for (int j = 0; j < %d; j += %d)", nt, L), NULL);
		outer_tile_vectors(l, f, at, x, &y, arena_printf(l->a, "%d", mt), m - mt);
		put_end(l, f);
		outer_scalar(l, f, at, x, &y, mt, m - 1, nt);
		put_pp(l, f, "#else");
		outer_scalar(l, f, at, x, &y, mt, m - 1, 0);
		put_pp(l, f, "#endif");
	} else {
		outer_scalar(l, f, at, x, &y, mt, m - 1, 0);
	}
}

/* grad[at + ix] += g[ix] of one row */
static const char *sum_stmt(Lower *l, const Body *b, const char *ix)
{
	return arena_printf(l->a, "grad[%s] += %s;", ix_add_text(l, b->s, ix), val_at(l, b->v, ix));
}

/* The bytes of the batch's arrays for one block. */
static long batch_bytes(Lower *l, const bool *fused)
{
	long n = 0;
	for (int id = 0; id < l->t->n; id++) {
		TVal *v = l->t->vals[id];
		bool leaf = v->kind == T_LEAF && l->rowdep[id];
		if (l->live[FN_BACKWARD][id] && !fused[id] &&
		    (leaf || (!is_virtual(l, v) && l->store[id] == id)))
			n += (long)v->size * (l->rowdep[id] ? l->lanes : 1);
	}
	return n * (l->dt == DT_FLOAT ? 4 : 8);
}

#define BATCH_LANES 8 /* rows per block (16 for float measured slower: 4 x 16 tiles spill) */
#define BATCH_MAX_BYTES (1L << 20) /* a block's arrays, on the stack */

static void emit_batch_fn(Lower *l)
{
	LFunc *f = &l->prog->batch;
	Tir *t = l->t;
	Model *m = l->m;
	const char *r = real(l);
	int L = l->lanes = l->prog->lanes = BATCH_LANES;
	bool *fused = arena_alloc(l->a, (size_t)t->n);
	for (int i = 0; i < m->n_tensors; i++) {
		TVal *g = m->tensors[i]->kind == SYM_PARAM ? t->adj[m->tensors[i]->tval->id] : NULL;
		if (fused_outer(l, g))
			fused[g->id] = true;
	}
	/* the template loops over the rows with backward, the same bits: when
	 * the lanes would take too much memory, and for a scan, whose steps run
	 * one after another in each row, so that a block of rows gains little
	 * while its lanes over every step cost the compiler most of its time
	 * (2.6 of the hello RNN's 3.6 s with gcc -O2) */
	if (batch_bytes(l, fused) > BATCH_MAX_BYTES || loop_has_scan(m))
		return;
	int saved = l->prog->n_kernels;
	l->batch = true;
	l->n_tables = 0;
	l->rows_var = names_take(l->names, "rows");
	l->in_var = names_take(l->names, "in");
	l->q_var = names_take(l->names, "q");
	l->sum_var = names_take(l->names, "sum");
	l->vn = l->dt == DT_FLOAT ? 8 : 4; /* 32 bytes */
	for (int k = 0; k < tile(l) * L / l->vn; k++)
		l->vacc[k] = names_take(l->names, arena_printf(l->a, "acc%d", k));
	l->n_masks = 0;
	put(l, f, LI_COMMENT, "parameters", NULL);
	bool any = false;
	for (int i = 0; i < m->n_tensors; i++) {
		Symbol *s = m->tensors[i];
		TVal *v = s->tval;
		if (s->kind != SYM_PARAM || !l->live[FN_BACKWARD][v->id])
			continue;
		any = true;
		const char *fmt = s->elems ? "const %s *%s = params + %s_PARAM_%s;"
					   : "const %s %s = params[%s_PARAM_%s];";
		put(l, f, LI_STMT, arena_printf(l->a, fmt, r, l->name[v->id], l->NAME, s->ident), NULL);
	}
	if (!any)
		put(l, f, LI_STMT, "(void)params;", NULL);
	put(l, f, LI_STMT, arena_printf(l->a, "%s loss_sum = 0;", r), NULL);
	put(l, f, LI_OPEN, arena_printf(l->a, "for (int k = 0; k < %s_N_PARAMS; k++)", l->NAME), NULL);
	put(l, f, LI_STMT, "grad[k] = 0;", NULL);
	put_end(l, f);
	put(l, f, LI_OPEN, arena_printf(l->a, "for (int row = 0; row < n; row += %d)", L), NULL);
	put(l, f, LI_COMMENT, arena_printf(l->a, "a block of %d rows, row + r in lane r; a short block "
					   "repeats its last row in the lanes left, which are never summed", L), NULL);
	const char *R = l->rows_var, *IN = l->in_var;
	put(l, f, LI_STMT, arena_printf(l->a, "const int %s = n - row < %d ? n - row : %d;", R, L, L), NULL);
	put(l, f, LI_STMT, arena_printf(l->a, "const %s *%s[%d];", r, IN, L), NULL);
	put_for(l, f, "r", 0, L - 1);
	put(l, f, LI_STMT, arena_printf(l->a, "%s[r] = inputs + (long)(row + (r < %s ? r : %s - 1)) * %s_N_INPUTS;",
					IN, R, R, l->NAME), NULL);
	put_end(l, f);
	bool read_in = false;
	for (int i = 0; i < m->n_tensors; i++) {
		Symbol *s = m->tensors[i];
		TVal *v = s->tval;
		if (s->kind != SYM_INPUT || !l->live[FN_BACKWARD][v->id])
			continue;
		read_in = true;
		const char *at = arena_printf(l->a, "%s_INPUT_%s", l->NAME, s->ident);
		put(l, f, LI_STMT, arena_printf(l->a, "%s %s[%d];", r, l->name[v->id], v->size * L), NULL);
		if (v->size > 1)
			put_for(l, f, "i", 0, v->size - 1);
		put_for(l, f, "r", 0, L - 1);
		put(l, f, LI_STMT, arena_printf(l->a, "%s = %s[r][%s];", lane_at(l, l->name[v->id], v->size, "i"), IN,
						v->size > 1 ? arena_printf(l->a, "%s + i", at) : at), NULL);
		put_end(l, f);
		if (v->size > 1)
			put_end(l, f);
	}
	int line = -1, step = -1;
	for (int id = 0; id < t->n; id++) {
		TVal *v = t->vals[id];
		if (!l->live[FN_BACKWARD][id] || is_virtual(l, v) || fused[id])
			continue;
		if (id < t->n_forward) {
			line_comment(l, f, v, &line);
		} else {
			if (step < 0 && line >= 0) {
				put(l, f, LI_BLANK, NULL, NULL);
				put(l, f, LI_COMMENT, "backward pass, lane by lane", NULL);
				line = -1;
			}
			step_comment(l, f, v, &step);
		}
		l->rows = l->rowdep[id];
		emit_value(l, f, v);
		l->rows = false;
	}
	put(l, f, LI_BLANK, NULL, NULL);
	put(l, f, LI_COMMENT, "the gradient, summed over the block's rows in row order", NULL);
	for (int i = 0; i < m->n_tensors; i++) {
		Symbol *s = m->tensors[i];
		TVal *g = s->kind == SYM_PARAM ? t->adj[s->tval->id] : NULL;
		if (!g || !g->n_has)
			continue;
		if (fused[g->id]) {
			read_in = true;
			emit_fused_outer(l, f, s, g);
			continue;
		}
		Body b = {sum_stmt, g, arena_printf(l->a, "%s_PARAM_%s", l->NAME, s->ident), 0, NULL};
		l->rows = true;
		l->lane_to = R;
		put_each(l, f, g->has, g->size, false, &b);
		l->rows = false;
		l->lane_to = NULL;
	}
	if (!read_in)
		put(l, f, LI_STMT, arena_printf(l->a, "(void)%s;", IN), NULL);
	put(l, f, LI_OPEN, arena_printf(l->a, "for (int r = 0; r < %s; r++)", R), NULL);
	put(l, f, LI_STMT, arena_printf(l->a, "loss_sum += %s;", val_at(l, t->loss, "0")), NULL);
	put_end(l, f);
	put_end(l, f);
	put(l, f, LI_STMT, "return loss_sum;", NULL);
	l->vn = 0;
	l->batch = false;
	l->prog->n_kernels = saved;
}

/* rowdep[id]: value id depends on an input. */
static void row_dependence(Lower *l)
{
	Tir *t = l->t;
	l->rowdep = arena_alloc(l->a, (size_t)t->n);
	for (int id = 0; id < t->n; id++) {
		TVal *v = t->vals[id];
		l->rowdep[id] = v->kind == T_LEAF && v->sym->kind == SYM_INPUT;
		for (int k = 0; k < v->nargs; k++)
			l->rowdep[id] |= l->rowdep[v->args[k]->id];
	}
}

LoopProg *loop_build(Arena *a, Tir *t, Model *m)
{
	Lower L = {.a = a, .t = t, .m = m, .dt = t->dtype, .vlane = -1};
	Lower *l = &L;
	l->NAME = arena_upper(a, m->name);
	l->names = names_new(a, m);
	l->name = arena_alloc(a, (size_t)t->n * sizeof *l->name);
	l->store = arena_alloc(a, (size_t)t->n * sizeof *l->store);
	l->grad_of = arena_alloc(a, (size_t)t->n * sizeof *l->grad_of);
	l->step_of = arena_alloc(a, (size_t)t->n * sizeof *l->step_of);
	for (int id = 0; id < t->n; id++)
		l->step_of[id] = -1;
	for (int s = 0; s < t->n_steps; s++)
		for (int id = t->steps[s].first; id < t->steps[s].end; id++)
			l->step_of[id] = s;
	LoopProg *p = arena_alloc(a, sizeof *p);
	*p = (LoopProg){.arena = a, .model = m, .dtype = t->dtype, .n_tensors = t->n};
	l->prog = p;
	liveness(l);
	row_dependence(l);
	inline_scatters(l);
	inline_broadcasts(l);
	share_storage(l);
	grad_storage(l);
	name_values(l);
	p->loss = val_at(l, t->loss, "0");
	emit_forward_fn(l);
	emit_predict_fn(l);
	emit_backward_fn(l);
	emit_batch_fn(l);
	if (t->hvp)
		emit_product_fn(l, &p->hvp, FN_HVP, t->hvp, "hvp");
	if (t->gnvp)
		emit_product_fn(l, &p->gnvp, FN_GNVP, t->gnvp, "gnv");
	if (t->jvp)
		emit_jvp_fn(l);
	if (t->vjp)
		emit_vjp_fn(l);
	if (t->jac)
		emit_jacobian_fn(l);
	if (t->hess && t->hess_dense)
		emit_hessian_fn(l);
	LFunc *extra[] = {&p->hvp, &p->gnvp, &p->jvp, &p->vjp, &p->jacobian, &p->hessian};
	for (int k = 0; k < 6; k++)
		if (extra[k]->n)
			quiet_unread(l, extra[k]);
	if (loop_has_scan(m)) { /* each scan's steps as one loop (reroll.c) */
		const char *var = names_take(l->names, "t");
		LFunc *all[] = {&p->forward, &p->predict, &p->backward, &p->batch, &p->hvp, &p->gnvp,
				&p->jvp, &p->vjp, &p->jacobian, &p->hessian};
		for (int k = 0; k < 10; k++)
			loop_reroll(a, l->names, all[k], var);
	}
	return p;
}

static void dump_func(FILE *out, const char *what, const LFunc *f)
{
	fprintf(out, "%s: (%ld operations)\n", what, f->ops);
	int depth = 1;
	for (int i = 0; i < f->n; i++) {
		const LItem *it = &f->items[i];
		if (it->kind == LI_END)
			depth--;
		if (it->kind != LI_BLANK)
			fprintf(out, "%*s", 2 * depth, "");
		switch (it->kind) {
		case LI_STMT: fprintf(out, "%s%s%s\n", it->text, it->comment ? "  # " : "",
				      it->comment ? it->comment : ""); break;
		case LI_COMMENT: fprintf(out, "# %s\n", it->text); break;
		case LI_BLANK: fputc('\n', out); break;
		case LI_FOR: fprintf(out, "for %s = %d .. %d\n", it->var, it->from, it->to); break;
		case LI_IF: fprintf(out, "if %s\n", it->text); break;
		case LI_OPEN: fprintf(out, "%s\n", it->text); break;
		case LI_PP: fprintf(out, "%s\n", it->text); break;
		case LI_END: fprintf(out, "end\n"); break;
		}
		if (it->kind == LI_FOR || it->kind == LI_IF || it->kind == LI_OPEN)
			depth++;
	}
}

void loop_dump(FILE *out, const LoopProg *p)
{
	fprintf(out, "# loop program of %s: %d tensor values, %d kernels; loss = %s\n",
		p->model->name, p->n_tensors, p->n_kernels, p->loss);
	dump_func(out, "forward", &p->forward);
	dump_func(out, "predict", &p->predict);
	dump_func(out, "backward", &p->backward);
	if (p->batch.n)
		dump_func(out, "backward_batch", &p->batch);
}
