/*
 * parse.c: tokens to an AST and a symbol table.
 *
 * A model is a list of statements, one per line:
 *
 *   model   = { [stmt] NEWLINE }
 *   stmt    = "model" IDENT
 *           | "input" decl { "," decl }
 *           | "param" decl "=" expr { "," decl "=" expr }
 *           | "output" IDENT { "," IDENT }
 *           | "residual" IDENT         (loss = sum(IDENT^2): least squares)
 *           | "def" IDENT "(" IDENT { "," IDENT } ")" "=" expr   (inlined per call)
 *           | IDENT "=" expr
 *   decl    = IDENT [ "[" NUM { "," NUM } "]" ]
 *   expr    = conjunction { "or" conjunction }
 *   conjunction = neg { "and" neg }
 *   neg     = "not" neg | compare
 *   compare = sum [ ("<" | "<=" | ">" | ">=" | "==" | "!=") sum ]   (no chains)
 *   sum     = term { ("+" | "-") term }
 *   term    = unary { ("*" | "/" | "@") unary }
 *   unary   = "-" unary | power
 *   power   = primary [ "^" unary ]           (right associative: -x^2 = -(x^2))
 *   primary = NUM | IDENT | IDENT "(" expr { "," expr } ")" | "(" expr ")"
 *
 * Names resolve as they are read, so a binding may only use earlier names;
 * `output` names resolve at the end.  Every symbol carries a Shape (rank 0
 * today) so vectors and matrices can be added to the same tables.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"
#include "symgrad.h"

/* def NAME(p1, ..., pn) = expr: a function of the model, inlined at each
 * call by parsing its body again with the parameters bound to the call's
 * arguments (so shapes are checked per call). */
#define MAX_DEF_PARAMS 8
typedef struct Def {
	const Token *name;
	const Token *param[MAX_DEF_PARAMS];
	int nparams;
	const Token *body;  /* the body's first token */
	bool used;
} Def;

typedef struct Parser {
	Arena *arena;
	Model *m;
	const Token *tok;
	int depth;
	const Token **out_toks; /* output names, resolved at the end */
	const Token *residual;  /* the residual statement's name, or NULL */
	int n_out, cap_out;
	Def *defs;
	int n_defs, cap_defs;
	int visible_defs;       /* how many defs a call may name (a body: the earlier ones) */
	const Def *in_def;      /* the body being expanded, or NULL */
	Expr **def_args;        /* and its parameters' arguments */
	long n_exprs;           /* made so far: defs may multiply them */
	const Token *let_tok;   /* the binding being read (its name), or NULL: names scan's steps */
} Parser;

static const char *const keywords[] = {"model", "input", "param", "output", "residual", "def", "and", "or",
				       "not", NULL};

/* ---- symbol table ---- */

static uint32_t hash_name(const char *s, size_t n)
{
	return (uint32_t)sg_fnv1a(SG_FNV_INIT, s, n);
}

Symbol *parse_lookup(const Model *m, const char *name, size_t len)
{
	if (!m->table_cap)
		return NULL;
	for (uint32_t i = hash_name(name, len) & (uint32_t)(m->table_cap - 1);;
	     i = (i + 1) & (uint32_t)(m->table_cap - 1)) {
		Symbol *s = m->table[i];
		if (!s)
			return NULL;
		if (strlen(s->name) == len && !memcmp(s->name, name, len))
			return s;
	}
}

static void table_insert(Arena *a, Model *m, Symbol *sym)
{
	if ((m->n_syms + 1) * 2 > m->table_cap) {
		Symbol **old = m->table;
		int old_cap = m->table_cap;
		m->table_cap = old_cap ? old_cap * 2 : 64;
		m->table = arena_alloc(a, (size_t)m->table_cap * sizeof *m->table);
		m->n_syms = 0;
		for (int i = 0; i < old_cap; i++)
			if (old[i])
				table_insert(a, m, old[i]);
	}
	uint32_t i = hash_name(sym->name, strlen(sym->name)) & (uint32_t)(m->table_cap - 1);
	while (m->table[i])
		i = (i + 1) & (uint32_t)(m->table_cap - 1);
	m->table[i] = sym;
	m->n_syms++;
}

/* Appends to one of the model's symbol lists. */
static void list_push(Arena *a, Symbol ***list, int *n, Symbol *s)
{
	if ((*n & (*n - 1)) == 0) {
		Symbol **grown = arena_alloc(a, (size_t)(*n ? *n * 2 : 1) * sizeof **list);
		if (*n)
			memcpy(grown, *list, (size_t)*n * sizeof **list);
		*list = grown;
	}
	(*list)[(*n)++] = s;
}

/* ---- built-in functions over vectors ---- */

const char *const builtin_names[B_COUNT] = {"sum", "mean", "dot", "softmax", "logsumexp",
					   "mse", "bce", "bce_logits", "cross_entropy", "clamp",
					   "transpose", "outer", "flatten", "reshape", "concat",
					   "conv2d", "maxpool2d", "avgpool2d", "scan", "map", "zeros",
					   "stack", "diag"};
/* the most arguments; conv2d, the pools, reshape and stack take fewer too
 * (min_arity); scan and map take a def and 2 or more arguments (scan_call) */
const int builtin_arity[B_COUNT] = {1, 1, 2, 1, 1, 2, 2, 2, 2, 3, 1, 2, 1, 5, 2, 5, 4, 4,
				    -1, -1, 1, 8, 1};

/* The fewest arguments of b: conv2d(x, K), maxpool2d(x, k), reshape(x, n). */
static int builtin_min_arity(Builtin b)
{
	switch (b) {
	case B_CONV2D:
	case B_MAXPOOL2D:
	case B_AVGPOOL2D:
	case B_RESHAPE: return 2;
	case B_STACK: return 1;
	default: return builtin_arity[b];
	}
}

static int builtin_lookup(const char *name, int len)
{
	for (int i = 0; i < B_COUNT; i++)
		if ((int)strlen(builtin_names[i]) == len && !memcmp(builtin_names[i], name, (size_t)len))
			return i;
	return -1;
}

/* ---- "did you mean" ---- */

/* The closest spelling to a mistyped name seen so far: edit distance at
 * most 2 (1 for names of 2 or 3 characters, none for one letter), the
 * first found among equals. */
typedef struct Near {
	const char *name;
	int len;
	const char *best;
	int dist;
} Near;

/* Levenshtein distance of a (n bytes) and b (m bytes); names are short. */
static int edit_distance(const char *a, int n, const char *b, int m)
{
	int row[SG_MAX_IDENT + 2];
	for (int j = 0; j <= m; j++)
		row[j] = j;
	for (int i = 1; i <= n; i++) {
		int diag = row[0];
		row[0] = i;
		for (int j = 1; j <= m; j++) {
			int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[m];
}

static void near_try(Near *nr, const char *cand, int m)
{
	int limit = nr->len <= 1 ? 0 : nr->len <= 3 ? 1 : 2; /* any letter is 1 from x */
	if (m > SG_MAX_IDENT || abs(m - nr->len) > limit)
		return;
	int d = edit_distance(nr->name, nr->len, cand, m);
	if (d > 0 && d <= limit && d < nr->dist) {
		nr->best = cand;
		nr->dist = d;
	}
}

/* " (did you mean 'x'?)" or "". */
static const char *near_text(Parser *p, const Near *nr)
{
	return nr->best ? arena_printf(p->arena, " (did you mean '%s'?)", nr->best) : "";
}

/* ---- helpers ---- */

static const char *tok_desc(Parser *p, const Token *t)
{
	switch (t->kind) {
	case TK_NEWLINE: return "end of line";
	case TK_EOF: return "end of file";
	default: return arena_printf(p->arena, "'%.*s'", t->len, t->text);
	}
}

/* A '(' at open is not closed where p->tok stands.  At the end of the
 * line or file, or at the first word of a later line that starts a new
 * statement (inside parentheses a newline does not end the statement, so
 * the parser only notices at the next statement), the error is at the '('
 * itself, with a note at where the statement ran on to; otherwise this
 * returns and the caller reports the unexpected token. */
static void check_unclosed(Parser *p, const Token *open)
{
	const Token *t = p->tok;
	if (t->kind == TK_EOF || t->kind == TK_NEWLINE)
		diag_error(open->loc, "unbalanced parentheses: '(' is never closed");
	bool starts_statement = t[-1].loc.line < t->loc.line &&
				(lex_is(t + 1, "=") || lex_is(t, "input") || lex_is(t, "param") ||
				 lex_is(t, "output") || lex_is(t, "model") || lex_is(t, "def"));
	if (!starts_statement)
		return;
	diag_push_note(t->loc, arena_printf(p->arena, "the statement runs on to line %d, "
					    "where %s starts the next one", t->loc.line,
					    tok_desc(p, t)));
	diag_error(open->loc, "unbalanced parentheses: '(' is never closed");
}

static bool accept(Parser *p, const char *s)
{
	if (!lex_is(p->tok, s))
		return false;
	p->tok++;
	return true;
}

static const Token *expect_ident(Parser *p, const char *what)
{
	if (p->tok->kind != TK_IDENT)
		diag_error(p->tok->loc, "expected %s, found %s", what, tok_desc(p, p->tok));
	return p->tok++;
}

static bool is_keyword(const Token *t)
{
	for (int i = 0; keywords[i]; i++)
		if (lex_is(t, keywords[i]))
			return true;
	return false;
}

static Expr *new_expr(Parser *p, ExprKind kind, Loc loc)
{
	if (++p->n_exprs > SG_MAX_NODES)
		diag_error(loc, "the model's expressions have more than %d operations (limit; a "
				"def calling defs multiplies their bodies)", SG_MAX_NODES);
	Expr *e = arena_alloc(p->arena, sizeof *e);
	e->kind = kind;
	e->loc = loc;
	return e;
}

/* Sets e's height from its operands: a + b + c + ... builds a deep tree
 * without nesting, and every later pass recurses on the tree. */
static Expr *grown(Expr *e)
{
	for (int i = 0; i < e->nargs; i++)
		if (e->args[i]->height + 1 > e->height)
			e->height = e->args[i]->height + 1;
	if (e->height > SG_MAX_CHAIN)
		diag_error(e->loc, "expression has a chain of more than %d operations (limit): "
				   "split it into named steps", SG_MAX_CHAIN);
	return e;
}

/* The def named t among the first n, or NULL. */
static Def *find_def(Parser *p, const Token *t, int n)
{
	for (int i = 0; i < n; i++)
		if (p->defs[i].name->len == t->len && !memcmp(p->defs[i].name->text, t->text, (size_t)t->len))
			return &p->defs[i];
	return NULL;
}

/* Declares a new name; redefinitions and reserved words are errors. */
static Symbol *declare(Parser *p, const Token *t, SymKind kind)
{
	Op op;
	if (is_keyword(t))
		diag_error(t->loc, "'%.*s' is a keyword and cannot be a name", t->len, t->text);
	if (op_lookup_func(t->text, (size_t)t->len, &op) || builtin_lookup(t->text, t->len) >= 0)
		diag_error(t->loc, "'%.*s' is a built-in function and cannot be a name",
			   t->len, t->text);
	bool dunder = false;
	for (int i = 1; i < t->len; i++)
		dunder |= t->text[i - 1] == '_' && t->text[i] == '_';
	if (t->text[0] == '_' || dunder)
		diag_error(t->loc, "names may not start with '_' or contain '__' (reserved in C)");
	Symbol *old = parse_lookup(p->m, t->text, (size_t)t->len);
	if (old)
		diag_error(t->loc, "redefinition of '%s' (first defined at line %d)",
			   old->name, old->loc.line);
	const Def *def = find_def(p, t, p->n_defs);
	if (def)
		diag_error(t->loc, "'%.*s' is a function (defined at line %d)", t->len, t->text,
			   def->name->loc.line);
	Symbol *s = arena_alloc(p->arena, sizeof *s);
	s->kind = kind;
	s->name = arena_strndup(p->arena, t->text, (size_t)t->len);
	s->ident = s->name;
	s->loc = t->loc;
	s->size = 1;
	table_insert(p->arena, p->m, s);
	return s;
}

/* ---- shapes ---- */

int shape_size(Shape s)
{
	int n = 1;
	for (int i = 0; i < s.rank; i++)
		n *= s.dim[i];
	return n;
}

const char *shape_text(Arena *a, Shape s)
{
	switch (s.rank) {
	case 0: return "scalar";
	case 1: return arena_printf(a, "[%d]", s.dim[0]);
	case 2: return arena_printf(a, "[%d, %d]", s.dim[0], s.dim[1]);
	case 3: return arena_printf(a, "[%d, %d, %d]", s.dim[0], s.dim[1], s.dim[2]);
	default: return arena_printf(a, "[%d, %d, %d, %d]", s.dim[0], s.dim[1], s.dim[2], s.dim[3]);
	}
}

bool shape_equal(Shape a, Shape b)
{
	if (a.rank != b.rank)
		return false;
	for (int i = 0; i < a.rank; i++)
		if (a.dim[i] != b.dim[i])
			return false;
	return true;
}

static bool same_shape(Shape a, Shape b)
{
	if (a.rank != b.rank)
		return false;
	for (int i = 0; i < a.rank; i++)
		if (a.dim[i] != b.dim[i])
			return false;
	return true;
}

/* Elementwise operands broadcast as NumPy's and PyTorch's do: shapes
 * aligned at their last dimension, each pair of dimensions equal or one of
 * them 1 (a missing leading dimension counts as 1), the result the larger
 * of each pair.  A vector [n] is a row: [3, 4] + [4] adds it to each row,
 * [3, 1] * [4] gives [3, 4], and a scalar goes with any shape. */
static Shape broadcast(Parser *p, Loc at, const char *what, Shape a, Shape b)
{
	Shape r = a.rank >= b.rank ? a : b;
	for (int k = 1; k <= a.rank && k <= b.rank; k++) {
		int da = a.dim[a.rank - k], db = b.dim[b.rank - k];
		if (da != db && da != 1 && db != 1)
			diag_error(at, "shapes %s and %s do not match for %s: dimensions %d and %d "
				       "differ and neither is 1 (broadcasting aligns the last "
				       "dimensions)", shape_text(p->arena, a), shape_text(p->arena, b),
				   what, da, db);
		r.dim[r.rank - k] = da == 1 ? db : da;
	}
	return r;
}

/* [m,n] @ [n] -> [m], [m,n] @ [n,p] -> [m,p], [n] @ [n,p] -> [p], [n] @ [n] -> scalar */
static Shape matmul_shape(Parser *p, Loc at, Shape a, Shape b)
{
	if (a.rank == 0 || b.rank == 0)
		diag_error(at, "'@' multiplies vectors and matrices, not a scalar (%s @ %s): use '*'",
			   shape_text(p->arena, a), shape_text(p->arena, b));
	if (a.rank > 2 || b.rank > 2)
		diag_error(at, "'@' multiplies vectors and matrices, not %s @ %s: flatten or reshape "
			       "the tensor first", shape_text(p->arena, a), shape_text(p->arena, b));
	int inner_a = a.dim[a.rank - 1], inner_b = b.dim[0];
	if (inner_a != inner_b)
		diag_error(at, "shapes %s and %s do not match for '@': inner dimensions %d and %d differ",
			   shape_text(p->arena, a), shape_text(p->arena, b), inner_a, inner_b);
	Shape r = {0, {0, 0}};
	if (a.rank == 2)
		r.dim[r.rank++] = a.dim[0];
	if (b.rank == 2)
		r.dim[r.rank++] = b.dim[1];
	return r;
}

/* ---- expressions ---- */

static Expr *expr(Parser *p);

static void enter(Parser *p)
{
	if (++p->depth > SG_MAX_DEPTH)
		diag_error(p->tok->loc, "expression nested deeper than %d levels (limit)",
			   SG_MAX_DEPTH);
}

static Expr *binary(Parser *p, Op op, const Token *t, Expr *a, Expr *b)
{
	Expr *e = new_expr(p, E_BINARY, t->loc);
	e->op = op;
	e->nargs = 2;
	e->args = arena_alloc(p->arena, 2 * sizeof *e->args);
	e->args[0] = a;
	e->args[1] = b;
	e->shape = broadcast(p, t->loc, arena_printf(p->arena, "'%.*s'", t->len, t->text),
			     a->shape, b->shape);
	return grown(e);
}

/* reshape(x, d1, ..., dn), n from 1 to 4: whole-number literals whose
 * product is x's size. */
static Shape reshape_shape(Parser *p, const Token *name, Expr **args, int nargs)
{
	Shape s = {nargs - 1, {0}};
	long total = 1;
	for (int k = 0; k < s.rank; k++) {
		const Expr *d = args[k + 1];
		if (d->kind != E_NUM || d->num != floor(d->num) || d->num < 1 || d->num > SG_MAX_DIM)
			diag_error(d->loc, "reshape's sizes must be whole numbers from 1 to %d",
				   SG_MAX_DIM);
		s.dim[k] = (int)d->num;
		total *= s.dim[k];
	}
	int size = shape_size(args[0]->shape);
	if (total != size) {
		Buf dims = {0}, by = {0};
		for (int k = 0; k < s.rank; k++) {
			buf_printf(&dims, ", %d", s.dim[k]);
			buf_printf(&by, k ? " x %d" : "%d", s.dim[k]);
		}
		const char *d = arena_strndup(p->arena, dims.data, dims.len);
		const char *x = arena_strndup(p->arena, by.data, by.len);
		buf_free(&dims);
		buf_free(&by);
		diag_error(name->loc, "reshape(%s%s): %d elements cannot be %s",
			   shape_text(p->arena, args[0]->shape), d, size, x);
	}
	return s;
}

/* A whole-number literal argument of conv2d or a pool, from lo up. */
static int int_arg(Parser *p, const Token *name, const Expr *e, const char *what, int lo)
{
	(void)p;
	if (e->kind != E_NUM || e->num != floor(e->num) || e->num < lo || e->num > SG_MAX_DIM)
		diag_error(e->loc, "%.*s's %s must be a whole number of at least %d", name->len,
			   name->text, what, lo);
	return (int)e->num;
}

/* The size of a window's positions: (n + 2 pad - k) / stride + 1, or an
 * error naming the shapes when the window does not fit. */
static int window_positions(Parser *p, const Token *name, Shape x, int n, int k, int stride,
			    int pad, const char *kshape)
{
	if (n + 2 * pad < k)
		diag_error(name->loc, "%.*s: a %s window does not fit in %s (padding %d)", name->len,
			   name->text, kshape, shape_text(p->arena, x), pad);
	return (n + 2 * pad - k) / stride + 1;
}

/* conv2d(x, K [, b] [, stride [, padding]]): x [C, H, W], K [O, C, kh, kw],
 * b [O]; the result [O, (H + 2p - kh) / s + 1, (W + 2p - kw) / s + 1]. */
static Shape conv2d_shape(Parser *p, const Token *name, Expr **args, int nargs)
{
	Arena *a = p->arena;
	Shape x = args[0]->shape, k = args[1]->shape;
	bool bias = nargs > 2 && args[2]->shape.rank == 1;
	int at = 2 + bias, stride = 1, pad = 0;
	if (x.rank != 3 || k.rank != 4 || k.dim[1] != x.dim[0])
		diag_error(name->loc, "conv2d(x, K) needs x [channels, height, width] and K [out, "
				      "channels, height, width] of the same channels, not %s and %s",
			   shape_text(a, x), shape_text(a, k));
	if (bias && args[2]->shape.dim[0] != k.dim[0])
		diag_error(args[2]->loc, "conv2d's bias needs one element per output channel: %s "
					 "for K %s", shape_text(a, args[2]->shape), shape_text(a, k));
	if (nargs > at + 2 || (nargs > 2 && !bias && args[2]->shape.rank != 0))
		diag_error(name->loc, "conv2d takes (x, K), (x, K, stride, padding), (x, K, b) or "
				      "(x, K, b, stride, padding)");
	if (nargs > at)
		stride = int_arg(p, name, args[at], "stride", 1);
	if (nargs > at + 1)
		pad = int_arg(p, name, args[at + 1], "padding", 0);
	const char *ks = arena_printf(a, "%d x %d", k.dim[2], k.dim[3]);
	int oh = window_positions(p, name, x, x.dim[1], k.dim[2], stride, pad, ks);
	int ow = window_positions(p, name, x, x.dim[2], k.dim[3], stride, pad, ks);
	return (Shape){3, {k.dim[0], oh, ow}};
}

/* maxpool2d(x, k [, stride [, padding]]), avgpool2d alike: x [C, H, W],
 * windows k x k (stride k unless given, PyTorch's default), padding 0
 * unless given and at most k / 2 (PyTorch's limit), the last incomplete
 * windows dropped (floor, as PyTorch). */
static Shape pool_shape(Parser *p, const Token *name, Expr **args, int nargs)
{
	Shape x = args[0]->shape;
	if (x.rank != 3)
		diag_error(name->loc, "%.*s needs x [channels, height, width], not %s", name->len,
			   name->text, shape_text(p->arena, x));
	int k = int_arg(p, name, args[1], "kernel size", 1);
	int stride = nargs > 2 ? int_arg(p, name, args[2], "stride", 1) : k;
	int pad = nargs > 3 ? int_arg(p, name, args[3], "padding", 0) : 0;
	if (2 * pad > k)
		diag_error(args[3]->loc, "%.*s's padding must be at most half the window: %d for a "
					 "%d x %d window (at most %d)",
			   name->len, name->text, pad, k, k, k / 2);
	const char *ks = arena_printf(p->arena, "%d x %d", k, k);
	int oh = window_positions(p, name, x, x.dim[1], k, stride, pad, ks);
	int ow = window_positions(p, name, x, x.dim[2], k, stride, pad, ks);
	return (Shape){3, {x.dim[0], oh, ow}};
}

/* The scalar input c reads: an input, or an element of an input tensor read
 * with constant indices (ys[t]); NULL for anything else. */
static Symbol *input_of(const Expr *c)
{
	if (c->kind == E_NAME && c->sym->kind == SYM_INPUT && c->shape.rank == 0)
		return c->sym;
	if (c->kind == E_INDEX && c->nargs == 1 && c->args[0]->kind == E_NAME &&
	    c->args[0]->sym->kind == SYM_INPUT && c->args[0]->sym->elems && c->shape.rank == 0)
		return c->args[0]->sym->elems[c->off];
	return NULL;
}

/* An input used as the class of cross_entropy over n classes, or as an index
 * into n rows or elements (E[tok]): the runtime checks its range. */
static void mark_class(const Expr *c, int n)
{
	Symbol *s = input_of(c);
	if (s && (s->classes == 0 || n < s->classes))
		s->classes = n;
}

/* The shape a built-in function gives its arguments, or a shape error. */
static Shape builtin_shape(Parser *p, const Token *name, Builtin b, Expr **args, int nargs)
{
	Arena *a = p->arena;
	Shape x = args[0]->shape, y = builtin_arity[b] > 1 ? args[1]->shape : x;
	Shape scalar = {0, {0, 0}};
	const char *fn = builtin_names[b];
	switch (b) {
	case B_SUM:
	case B_MEAN:
		return scalar;
	case B_SOFTMAX:
	case B_LOGSUMEXP:
		if (x.rank != 1)
			diag_error(args[0]->loc, "%s needs a vector, not %s", fn, shape_text(a, x));
		return b == B_SOFTMAX ? x : scalar;
	case B_DOT:
		if (x.rank != 1 || !same_shape(x, y))
			diag_error(name->loc, "dot needs two vectors of one length, not %s and %s",
				   shape_text(a, x), shape_text(a, y));
		return scalar;
	case B_MSE:
	case B_BCE:
	case B_BCE_LOGITS: /* elementwise terms, then their mean over the broadcast shape */
		broadcast(p, name->loc, arena_printf(a, "'%s'", fn), x, y);
		return scalar;
	case B_CROSS_ENTROPY:
		if (x.rank != 1 || y.rank != 0)
			diag_error(name->loc, "cross_entropy(logits, class) needs a vector of logits "
					      "and a scalar class index, not %s and %s",
				   shape_text(a, x), shape_text(a, y));
		mark_class(args[1], x.dim[0]);
		return scalar;
	case B_TRANSPOSE:
		return x.rank == 2 ? (Shape){2, {x.dim[1], x.dim[0]}} : x;
	case B_OUTER:
		if (x.rank != 1 || y.rank != 1)
			diag_error(name->loc, "outer needs two vectors, not %s and %s", shape_text(a, x),
				   shape_text(a, y));
		return (Shape){2, {x.dim[0], y.dim[0]}};
	case B_FLATTEN:
		return x.rank == 0 ? x : (Shape){1, {shape_size(x), 0}};
	case B_RESHAPE:
		return reshape_shape(p, name, args, nargs);
	case B_CONCAT:
		if (x.rank != 1 || y.rank != 1)
			diag_error(name->loc, "concat needs two vectors, not %s and %s (flatten a matrix "
					      "first)", shape_text(a, x), shape_text(a, y));
		if ((long)x.dim[0] + y.dim[0] > SG_MAX_DIM)
			diag_error(name->loc, "concat makes a vector longer than %d (limit)", SG_MAX_DIM);
		return (Shape){1, {x.dim[0] + y.dim[0], 0}};
	case B_CLAMP: /* elementwise: a scalar bound broadcasts */
		return broadcast(p, name->loc, "'clamp'", broadcast(p, name->loc, "'clamp'", x, y),
				 args[2]->shape);
	case B_CONV2D:
		return conv2d_shape(p, name, args, nargs);
	case B_MAXPOOL2D:
	case B_AVGPOOL2D:
		return pool_shape(p, name, args, nargs);
	case B_ZEROS: {
		const Expr *d = args[0];
		if (d->kind != E_NUM || d->num != floor(d->num) || d->num < 1 || d->num > SG_MAX_DIM)
			diag_error(d->loc, "zeros' size must be a whole number from 1 to %d", SG_MAX_DIM);
		return (Shape){1, {(int)d->num, 0}};
	}
	case B_STACK: /* the arguments as rows: [k, n] of vectors, [k] of scalars */
		for (int k = 1; k < nargs; k++)
			if (!same_shape(x, args[k]->shape))
				diag_error(name->loc, "stack needs arguments of one shape, not %s and %s",
					   shape_text(a, x), shape_text(a, args[k]->shape));
		if (x.rank > 1)
			diag_error(name->loc, "stack needs scalars or vectors, not %s", shape_text(a, x));
		return x.rank == 0 ? (Shape){1, {nargs, 0}} : (Shape){2, {nargs, x.dim[0]}};
	case B_DIAG: /* a vector's diagonal matrix, a square matrix's diagonal */
		if (x.rank == 1 && (long)x.dim[0] * x.dim[0] > SG_MAX_ELEMS)
			diag_error(name->loc, "diag makes a matrix of more than %d elements (limit)",
				   SG_MAX_ELEMS);
		if (x.rank == 1)
			return (Shape){2, {x.dim[0], x.dim[0]}};
		if (x.rank != 2 || x.dim[0] != x.dim[1])
			diag_error(name->loc, "diag needs a vector or a square matrix, not %s",
				   shape_text(a, x));
		return (Shape){1, {x.dim[0], 0}};
	case B_SCAN: /* scan_call */
	case B_MAP:
	case B_COUNT:
		break;
	}
	unreachable();
}

/* A function (operator, builtin or def above) close to t's spelling. */
static const char *near_function(Parser *p, const Token *t)
{
	Near nr = {t->text, t->len, NULL, 99};
	for (int i = 0; i < OP_COUNT; i++)
		if (op_info[i].kind == K_FUNC)
			near_try(&nr, op_info[i].spelling, (int)strlen(op_info[i].spelling));
	for (int i = 0; i < B_COUNT; i++)
		near_try(&nr, builtin_names[i], (int)strlen(builtin_names[i]));
	for (int i = 0; i < p->visible_defs; i++)
		near_try(&nr, p->defs[i].name->text, p->defs[i].name->len);
	return near_text(p, &nr);
}

/* The arguments of a call after its "(" (open), up to the ")": their
 * count, the first 8 in args. */
static int call_args(Parser *p, const Token *open, Expr **args)
{
	int n = 0;
	if (!lex_is(p->tok, ")")) {
		do {
			Expr *a = expr(p);
			if (n < 8)
				args[n] = a;
			n++;
		} while (accept(p, ","));
	}
	if (!lex_is(p->tok, ")")) {
		check_unclosed(p, open);
		diag_error(p->tok->loc, "expected ',' or ')' in the call, found %s",
			   tok_desc(p, p->tok));
	}
	return n;
}

static void arity_error(const Token *name, const Token *close, const char *spelling, int arity,
			int n)
{
	Loc l = name->loc;
	l.len = (int)(close->text + 1 - name->text);
	diag_error(l, "function '%s' takes %d argument%s, but %d %s given", spelling, arity,
		   arity == 1 ? "" : "s", n, n == 1 ? "was" : "were");
}

/* def's body, parsed again with each parameter standing for args[i];
 * errors in it name the call (at, spelling) too (a note). */
static Expr *inline_def(Parser *p, Def *def, Expr **args, Loc at, const char *spelling)
{
	def->used = true;
	const Token *saved_tok = p->tok;
	const Def *saved_def = p->in_def;
	Expr **saved_args = p->def_args;
	int saved_visible = p->visible_defs;
	p->in_def = def;
	p->def_args = args;
	p->visible_defs = (int)(def - p->defs);
	p->tok = def->body;
	diag_push_note(at, arena_printf(p->arena, "in the call of '%s'", spelling));
	Expr *e = expr(p);
	if (p->tok->kind != TK_NEWLINE && p->tok->kind != TK_EOF)
		diag_error(p->tok->loc, "unexpected %s after the body of '%s'", tok_desc(p, p->tok),
			   spelling);
	diag_pop_note();
	p->tok = saved_tok;
	p->in_def = saved_def;
	p->def_args = saved_args;
	p->visible_defs = saved_visible;
	return e;
}

/* A call of a def: its body with the call's arguments. */
static Expr *expand(Parser *p, const Token *name, Def *def)
{
	Expr **args = arena_alloc(p->arena, 8 * sizeof *args);
	int n = call_args(p, p->tok - 1, args);
	const Token *close = p->tok++;
	const char *spelling = arena_strndup(p->arena, name->text, (size_t)name->len);
	if (n != def->nparams)
		arity_error(name, close, spelling, def->nparams, n);
	Loc at = name->loc;
	at.len = (int)(close->text + 1 - name->text);
	return inline_def(p, def, args, at, spelling);
}

static Expr *scan_call(Parser *p, const Token *name, Builtin b);

/* call = IDENT "(" expr { "," expr } ")" */
static Expr *call(Parser *p, const Token *name)
{
	Op op = OP_CONST;
	Def *def = find_def(p, name, p->n_defs);
	if (def && def - p->defs >= p->visible_defs)
		diag_error(name->loc, "a def may call only the defs above it, not '%.*s' (no "
				      "recursion)", name->len, name->text);
	if (def)
		return expand(p, name, def);
	int b = builtin_lookup(name->text, name->len);
	if (b == B_SCAN || b == B_MAP)
		return scan_call(p, name, (Builtin)b);
	if (b < 0 && !op_lookup_func(name->text, (size_t)name->len, &op))
		diag_error(name->loc, "unknown function '%.*s'%s", name->len, name->text,
			   near_function(p, name));
	int arity = b >= 0 ? builtin_arity[b] : op_info[op].arity;
	const char *spelling = b >= 0 ? builtin_names[b] : op_info[op].spelling;
	Expr *e = new_expr(p, b >= 0 ? E_BUILTIN : E_CALL, name->loc);
	e->op = op;
	e->builtin = (Builtin)(b >= 0 ? b : 0);
	Expr *args[8];
	int n = call_args(p, p->tok - 1, args);
	const Token *close = p->tok++;
	if (n > arity || (n != arity && (b < 0 || n < builtin_min_arity((Builtin)b))))
	{
		if (b >= 0 && builtin_min_arity((Builtin)b) < arity) {
			Loc l = name->loc;
			l.len = (int)(close->text + 1 - name->text);
			diag_error(l, "function '%s' takes %d to %d arguments, but %d %s given", spelling,
				   builtin_min_arity((Builtin)b), arity, n, n == 1 ? "was" : "were");
		}
		arity_error(name, close, spelling, arity, n);
	}
	e->nargs = n;
	e->args = arena_alloc(p->arena, (size_t)n * sizeof *e->args);
	memcpy(e->args, args, (size_t)n * sizeof *args);
	if (b >= 0)
		e->shape = builtin_shape(p, name, (Builtin)b, e->args, n);
	else {
		e->shape = args[0]->shape;
		for (int k = 1; k < n; k++)
			e->shape = broadcast(p, name->loc, arena_printf(p->arena, "'%s'", spelling),
					     e->shape, args[k]->shape);
	}
	return grown(e);
}

/* index = "[" NUM { "," NUM } "]": constant indices into a vector or matrix */
/* A whole number n in [0, max] (max: the dimension's size, also allowed as
 * a range's end when end is set). */
static int index_number(Parser *p, int size, int dim, Shape s, bool end)
{
	const Token *t = p->tok;
	if (t->kind != TK_NUM || t->num != floor(t->num) || memchr(t->text, '.', (size_t)t->len) ||
	    memchr(t->text, 'e', (size_t)t->len))
		diag_error(t->loc, "an index must be a whole number like 0 or 3");
	if (t->num > size || (t->num == size && !end))
		diag_error(t->loc, "index %.0f is out of range for dimension %d of %s", t->num,
			   dim + 1, shape_text(p->arena, s));
	p->tok++;
	return (int)t->num;
}

/* Component k of an index: NUM, or a range [NUM] ":" [NUM] whose bounds
 * default to the whole dimension. */
static void index_part(Parser *p, Expr *e, Shape s, int k)
{
	const Token *t = p->tok;
	int size = s.dim[k], lo = 0, hi = size;
	bool has_lo = t->kind == TK_NUM;
	if (has_lo)
		lo = index_number(p, size, k, s, false);
	e->range[k] = accept(p, ":");
	if (!e->range[k] && !has_lo)
		diag_error(t->loc, "expected an index or a range like 1:3, found %s", tok_desc(p, t));
	if (e->range[k] && p->tok->kind == TK_NUM)
		hi = index_number(p, size, k, s, true);
	if (e->range[k] && hi <= lo)
		diag_error(t->loc, "the range %d:%d of dimension %d of %s is empty", lo, hi, k + 1,
			   shape_text(p->arena, s));
	e->idx[k] = lo;
	e->end[k] = e->range[k] ? hi : lo + 1;
}

/* Shape and offset of e's view into base shape s: one index drops its
 * dimension, a range keeps it; a piece of several rows that is not whole
 * rows (a column M[:, 1], a sub-matrix M[1:3, 0:2]) is strided. */
static void index_view(Parser *p, Expr *e, Shape s)
{
	int rows = s.dim[0], cols = s.rank == 2 ? s.dim[1] : 1;
	bool row_range = e->range[0];
	if (s.rank == 2 && e->nidx == 1) { /* M[i] or M[a:b]: whole rows */
		e->idx[1] = 0, e->end[1] = cols, e->range[1] = true;
	}
	int r = e->end[0] - e->idx[0], c = s.rank == 2 ? e->end[1] - e->idx[1] : 1;
	e->strided = s.rank == 2 && row_range && r > 1 && c < cols;
	(void)rows, (void)p;
	e->off = e->idx[0] * cols + (s.rank == 2 ? e->idx[1] : 0);
	if (s.rank == 1)
		e->shape = row_range ? (Shape){1, {r, 0}} : (Shape){0, {0, 0}};
	else if (row_range && e->strided && !e->range[1])
		e->shape = (Shape){1, {r, 0}}; /* M[a:b, j]: a column's piece, a vector */
	else if (row_range)
		e->shape = (Shape){2, {r, c}};
	else
		e->shape = e->range[1] ? (Shape){1, {c, 0}} : (Shape){0, {0, 0}};
}

/* "[" input [ "," part ] "]": v[tok] (an element), E[tok] (a row: an
 * embedding lookup), E[tok, j] (an element of that row, E[tok][j], also a
 * range: E[tok, 1:3]), with tok an input holding a whole number (a token id,
 * a class), checked against the dimension's size by the runtime as a class
 * is. */
static Expr *data_index(Parser *p, Expr *e, Expr *base)
{
	Expr *i = expr(p);
	if (!input_of(i))
		diag_error(i->loc, "an index must be a whole number like 3, a range like 1:3, or a "
				   "scalar input (a token id or class, E[tok])");
	const Token *comma = p->tok;
	bool col = accept(p, ",");
	if (col && base->shape.rank != 2)
		diag_error(comma->loc, "too many indices for %s", shape_text(p->arena, base->shape));
	mark_class(i, base->shape.dim[0]);
	e->args = arena_alloc(p->arena, 2 * sizeof *e->args);
	e->args[0] = base;
	e->args[1] = i;
	e->nargs = 2;
	e->shape = base->shape.rank == 2 ? (Shape){1, {base->shape.dim[1], 0}} : (Shape){0, {0, 0}};
	grown(e);
	if (col) { /* E[tok, j] is E[tok][j]: a constant index into the row */
		if (p->tok->kind != TK_NUM && !lex_is(p->tok, ":"))
			diag_error(p->tok->loc, "only the first index may come from data: E[tok, j] "
						"takes a whole number or a range for j, found %s",
				   tok_desc(p, p->tok));
		Expr *row = e;
		e = new_expr(p, E_INDEX, row->loc);
		e->nargs = 1;
		e->args = arena_alloc(p->arena, sizeof *e->args);
		e->args[0] = row;
		index_part(p, e, row->shape, e->nidx++);
		index_view(p, e, row->shape);
	}
	if (!accept(p, "]"))
		diag_error(p->tok->loc, "expected ']', found %s", tok_desc(p, p->tok));
	return grown(e);
}

/* index = "[" part { "," part } "]", part = NUM | [NUM] ":" [NUM]:
 * an element, a row, or a contiguous slice (v[2:5], M[1:3], M[0, 2:4]) */
static Expr *index_expr(Parser *p, Expr *base)
{
	const Token *open = p->tok - 1;
	Expr *e = new_expr(p, E_INDEX, open->loc);
	e->nargs = 1;
	e->args = arena_alloc(p->arena, sizeof *e->args);
	e->args[0] = base;
	if (base->shape.rank > 2)
		diag_error(open->loc, "indexing a %s tensor is not supported yet: flatten or reshape it "
				      "first", shape_text(p->arena, base->shape));
	if (p->tok->kind != TK_NUM && !lex_is(p->tok, ":"))
		return data_index(p, e, base);
	do {
		if (e->nidx == 2 || e->nidx >= base->shape.rank)
			diag_error(p->tok->loc, "too many indices for %s",
				   shape_text(p->arena, base->shape));
		index_part(p, e, base->shape, e->nidx++);
	} while (accept(p, ","));
	if (!accept(p, "]"))
		diag_error(p->tok->loc, "expected ']', found %s", tok_desc(p, p->tok));
	index_view(p, e, base->shape);
	return grown(e);
}

/* A copy of e, node for node: an argument a body uses twice is two trees,
 * so every pass over the AST stays linear in its size, which new_expr
 * bounds (recursion as deep as the tree, SG_MAX_CHAIN, as in every pass). */
static Expr *clone(Parser *p, const Expr *e)
{
	Expr *c = new_expr(p, e->kind, e->loc);
	*c = *e;
	if (e->nargs) {
		c->args = arena_alloc(p->arena, (size_t)e->nargs * sizeof *c->args);
		for (int k = 0; k < e->nargs; k++)
			c->args[k] = clone(p, e->args[k]);
	}
	return c;
}

/* A model name (or, in a def's body, a parameter) close to t's spelling. */
static const char *near_name(Parser *p, const Token *t)
{
	Near nr = {t->text, t->len, NULL, 99};
	for (int i = 0; i < p->m->table_cap; i++)
		if (p->m->table[i])
			near_try(&nr, p->m->table[i]->name, (int)strlen(p->m->table[i]->name));
	for (int i = 0; p->in_def && i < p->in_def->nparams; i++)
		near_try(&nr, p->in_def->param[i]->text, p->in_def->param[i]->len);
	return near_text(p, &nr);
}

/* Inside a def's body, a parameter named t: a copy of its argument. */
static Expr *def_param(Parser *p, const Token *t)
{
	if (!p->in_def)
		return NULL;
	for (int i = 0; i < p->in_def->nparams; i++) {
		const Token *q = p->in_def->param[i];
		if (q->len == t->len && !memcmp(q->text, t->text, (size_t)t->len))
			return clone(p, p->def_args[i]);
	}
	return NULL;
}

/* ---- scan and map: a def over the steps of sequences ---- */

static const char *line_text(Parser *p, const Token *first);
static void make_elems(Parser *p, Symbol *t);

/* Step t of a sequence: element t of a vector, row t of a matrix. */
static Expr *step_row(Parser *p, const Expr *seq, int t)
{
	Expr *e = new_expr(p, E_INDEX, seq->loc);
	e->nargs = 1;
	e->args = arena_alloc(p->arena, sizeof *e->args);
	e->args[0] = clone(p, seq);
	e->nidx = 1;
	e->idx[0] = t;
	e->end[0] = t + 1;
	index_view(p, e, seq->shape);
	return grown(e);
}

/* The state after step t of a scan: a binding of its own, so each step is
 * computed once and the next reads it by name (a tree that copied the
 * state into every use would grow as 2^t for a cell using it twice).  It
 * is named after the statement's binding, hs[t] (C: hs_t; a vector's
 * elements hs[t,j], C: hs_t_j, the names of the stacked matrix's elements),
 * and is no name the model can use: hs[t] reads it. */
static Expr *step_state(Parser *p, const Token *at, Expr *value, int t)
{
	const Token *line = p->let_tok ? p->let_tok : at;
	const char *base = p->let_tok ? arena_strndup(p->arena, line->text, (size_t)line->len) : "scan";
	Symbol *s = arena_alloc(p->arena, sizeof *s);
	s->kind = SYM_LET;
	s->name = arena_printf(p->arena, "%s[%d]", base, t);
	s->ident = arena_printf(p->arena, "%s_%d", base, t);
	s->loc = at->loc;
	s->size = 1;
	s->value = value;
	s->shape = value->shape;
	s->used = true;
	Stmt *st = arena_alloc(p->arena, sizeof *st);
	st->sym = s;
	st->loc = line->loc;
	st->text = arena_printf(p->arena, "%s, step %d", line_text(p, line), t);
	st->step = true;
	s->stmt = st;
	if (s->shape.rank == 0) {
		list_push(p->arena, &p->m->lets, &p->m->n_lets, s);
	} else {
		make_elems(p, s);
		for (int i = 0; i < s->size; i++) {
			s->elems[i]->name = arena_printf(p->arena, "%s[%d,%d]", base, t, i);
			s->elems[i]->ident = arena_printf(p->arena, "%s_%d_%d", base, t, i);
			list_push(p->arena, &p->m->lets, &p->m->n_lets, s->elems[i]);
		}
	}
	Expr *e = new_expr(p, E_NAME, at->loc);
	e->sym = s;
	e->shape = s->shape;
	return e;
}

/* The steps' sequences args[first..n-1]: vectors or matrices of one
 * length, which is returned. */
static int steps_of(Parser *p, const char *fn, Expr **args, int first, int n)
{
	int T = 0;
	for (int k = first; k < n; k++) {
		Shape s = args[k]->shape;
		if (s.rank == 0)
			diag_error(args[k]->loc, "%s's sequences are vectors (step t: element t) or "
						 "matrices (step t: row t), not a scalar", fn);
		if (k > first && s.dim[0] != T)
			diag_error(args[k]->loc, "%s's sequences have one length: %s has %d steps, "
						 "but %s has %d", fn, shape_text(p->arena, s), s.dim[0],
				   shape_text(p->arena, args[first]->shape), T);
		T = s.dim[0];
	}
	return T;
}

/* scan(cell, h0, xs, ...): h[t] = cell(h[t-1], xs[t], ...) for t = 0, 1,
 * ..., T - 1 with h[-1] = h0, the states stacked, [T, n] ([T] for a scalar
 * state); map(f, xs, ...): f(xs[t], ...) stacked alike.  The steps are
 * unrolled here, each a call of the def (so the generated code is what the
 * calls written out would give, and reverse mode through the steps is
 * back-propagation through time); a sequence's step t is its element or
 * row t. */
static Expr *scan_call(Parser *p, const Token *name, Builtin b)
{
	bool scan = b == B_SCAN;
	const char *fn = builtin_names[b];
	const Token *open = p->tok - 1, *f = p->tok;
	Def *def = f->kind == TK_IDENT ? find_def(p, f, p->visible_defs) : NULL;
	if (!def)
		diag_error(f->loc, "%s's first argument must be the name of a def above it: %s", fn,
			   scan ? "scan(cell, h0, xs) with def cell(h, x) = ..."
				: "map(f, xs) with def f(x) = ...");
	p->tok++;
	if (!accept(p, ","))
		diag_error(p->tok->loc, "expected ',' after '%.*s' in %s(...), found %s", f->len,
			   f->text, fn, tok_desc(p, p->tok));
	Expr *args[8];
	int n = call_args(p, open, args);
	const Token *close = p->tok++;
	Loc at = name->loc;
	at.len = (int)(close->text + 1 - name->text);
	const char *spelling = arena_strndup(p->arena, f->text, (size_t)f->len);
	int first = scan ? 1 : 0;
	if (scan && def->nparams < 2)
		diag_error(f->loc, "scan's cell '%s' takes %d parameter%s: it needs the state, then "
				   "a step of each sequence", spelling, def->nparams,
			   def->nparams == 1 ? "" : "s");
	if (n != def->nparams)
		diag_error(at, "%s(%s, ...): '%s' takes %d parameter%s, so %d argument%s must follow "
			       "it (%s%d sequence%s), not %d", fn, spelling, spelling, def->nparams,
			   def->nparams == 1 ? "" : "s", def->nparams, def->nparams == 1 ? "" : "s",
			   scan ? "the initial state and " : "", def->nparams - first,
			   def->nparams - first == 1 ? "" : "s", n);
	int T = steps_of(p, fn, args, first, n);
	if (scan && args[0]->shape.rank > 1)
		diag_error(args[0]->loc, "scan's state must be a scalar or a vector, not %s",
			   shape_text(p->arena, args[0]->shape));
	Expr **rows = arena_alloc(p->arena, (size_t)T * sizeof *rows);
	for (int t = 0; t < T; t++) {
		Expr **a = arena_alloc(p->arena, 8 * sizeof *a);
		if (scan)
			a[0] = t == 0 ? args[0] : rows[t - 1];
		for (int k = first; k < n; k++)
			a[k] = step_row(p, args[k], t);
		Expr *v = inline_def(p, def, a, at, spelling);
		if (scan && !same_shape(v->shape, args[0]->shape))
			diag_error(at, "scan: the cell '%s' gives %s at step %d, but the state (h0) is "
				       "%s: the cell must keep the state's shape", spelling,
				   shape_text(p->arena, v->shape), t, shape_text(p->arena, args[0]->shape));
		if (!scan && v->shape.rank > 1)
			diag_error(at, "map: '%s' gives %s; a step's value must be a scalar or a vector",
				   spelling, shape_text(p->arena, v->shape));
		rows[t] = scan ? step_state(p, name, v, t) : v;
	}
	Shape r = rows[0]->shape;
	if ((long)T * shape_size(r) > SG_MAX_ELEMS)
		diag_error(at, "%s makes %ld elements, more than %d (limit)", fn,
			   (long)T * shape_size(r), SG_MAX_ELEMS);
	Expr *e = new_expr(p, E_BUILTIN, name->loc);
	e->builtin = b;
	e->nargs = T;
	e->args = rows;
	e->shape = r.rank == 0 ? (Shape){1, {T, 0}} : (Shape){2, {T, r.dim[0]}};
	return grown(e);
}

/* primary = NUM | IDENT | call | "(" expr ")", then any [indices] */
static Expr *primary(Parser *p)
{
	const Token *t = p->tok;
	Expr *e;
	if (t->kind == TK_NUM) {
		p->tok++;
		e = new_expr(p, E_NUM, t->loc);
		e->num = t->num;
	} else if (t->kind == TK_IDENT) {
		p->tok++;
		if (accept(p, "(")) {
			enter(p);
			e = call(p, t);
			p->depth--;
		} else {
			Op op;
			if (op_lookup_func(t->text, (size_t)t->len, &op) ||
			    builtin_lookup(t->text, t->len) >= 0)
				diag_error(t->loc, "function '%.*s' needs arguments: %.*s(...)",
					   t->len, t->text, t->len, t->text);
			e = def_param(p, t);
			if (!e) {
				Symbol *s = parse_lookup(p->m, t->text, (size_t)t->len);
				if (!s)
					diag_error(t->loc, "unknown name '%.*s'%s", t->len, t->text,
						   near_name(p, t));
				s->used = true;
				e = new_expr(p, E_NAME, t->loc);
				e->sym = s;
				e->shape = s->shape;
			}
		}
	} else if (accept(p, "(")) {
		enter(p);
		e = expr(p);
		p->depth--;
		if (!lex_is(p->tok, ")")) {
			check_unclosed(p, t);
			diag_error(p->tok->loc, "expected ')', found %s", tok_desc(p, p->tok));
		}
		p->tok++;
	} else {
		diag_error(t->loc, "expected an expression, found %s", tok_desc(p, t));
	}
	for (;;) {
		if (lex_is(p->tok, "[")) {
			if (e->shape.rank == 0)
				diag_error(p->tok->loc, "a scalar cannot be indexed");
			p->tok++;
			e = index_expr(p, e);
		} else if (lex_is(p->tok, "'")) { /* W': transpose(W) */
			Expr *t = new_expr(p, E_BUILTIN, p->tok->loc);
			t->builtin = B_TRANSPOSE;
			t->nargs = 1;
			t->args = arena_alloc(p->arena, sizeof *t->args);
			t->args[0] = e;
			t->shape = e->shape.rank == 2 ? (Shape){2, {e->shape.dim[1], e->shape.dim[0]}}
						      : e->shape;
			p->tok++;
			e = grown(t);
		} else {
			return e;
		}
	}
}

static Expr *unary(Parser *p);

/* power = primary [ "^" unary ] */
static Expr *power(Parser *p)
{
	Expr *a = primary(p);
	const Token *t = p->tok;
	if (!accept(p, "^"))
		return a;
	return binary(p, OP_POW, t, a, unary(p));
}

/* A prefix operator op (token t, already read) over operand(p). */
static Expr *prefix(Parser *p, Op op, const Token *t, Expr *(*operand)(Parser *))
{
	enter(p);
	Expr *e = new_expr(p, E_UNARY, t->loc);
	e->op = op;
	e->nargs = 1;
	e->args = arena_alloc(p->arena, sizeof *e->args);
	e->args[0] = operand(p);
	e->shape = e->args[0]->shape;
	grown(e);
	p->depth--;
	return e;
}

/* unary = "-" unary | power */
static Expr *unary(Parser *p)
{
	const Token *t = p->tok;
	return accept(p, "-") ? prefix(p, OP_NEG, t, unary) : power(p);
}

/* term = unary { ("*" | "/" | "@") unary } */
static Expr *term(Parser *p)
{
	Expr *e = unary(p);
	for (;;) {
		const Token *t = p->tok;
		if (accept(p, "*")) {
			e = binary(p, OP_MUL, t, e, unary(p));
		} else if (accept(p, "/")) {
			e = binary(p, OP_DIV, t, e, unary(p));
		} else if (accept(p, "@")) {
			Expr *m = new_expr(p, E_MATMUL, t->loc);
			m->nargs = 2;
			m->args = arena_alloc(p->arena, 2 * sizeof *m->args);
			m->args[0] = e;
			m->args[1] = unary(p);
			m->shape = matmul_shape(p, t->loc, e->shape, m->args[1]->shape);
			e = grown(m);
		} else {
			return e;
		}
	}
}

/* sum = term { ("+" | "-") term } */
static Expr *sum(Parser *p)
{
	Expr *e = term(p);
	for (;;) {
		const Token *t = p->tok;
		if (accept(p, "+"))
			e = binary(p, OP_ADD, t, e, term(p));
		else if (accept(p, "-"))
			e = binary(p, OP_SUB, t, e, term(p));
		else
			break;
	}
	return e;
}

/* The comparison operator at t, or false. */
static bool compare_op(const Token *t, Op *op)
{
	static const Op ops[] = {OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE};
	for (int i = 0; i < (int)(sizeof ops / sizeof *ops); i++)
		if (t->kind == TK_PUNCT && lex_is(t, op_info[ops[i]].spelling)) {
			*op = ops[i];
			return true;
		}
	return false;
}

/* compare = sum [ op sum ]: 1 or 0; a < b < c is an error, not Python's chain */
static Expr *compare(Parser *p)
{
	Expr *e = sum(p);
	const Token *t = p->tok;
	Op op;
	if (!compare_op(t, &op))
		return e;
	p->tok++;
	e = binary(p, op, t, e, sum(p));
	if (compare_op(p->tok, &op))
		diag_error(p->tok->loc, "comparisons do not chain: write (a < b) and (b < c)");
	return e;
}

/* neg = "not" neg | compare */
static Expr *neg(Parser *p)
{
	const Token *t = p->tok;
	return accept(p, "not") ? prefix(p, OP_NOT, t, neg) : compare(p);
}

/* conjunction = neg { "and" neg } */
static Expr *conjunction(Parser *p)
{
	Expr *e = neg(p);
	for (const Token *t = p->tok; accept(p, "and"); t = p->tok)
		e = binary(p, OP_AND, t, e, neg(p));
	return e;
}

/* expr = conjunction { "or" conjunction } */
static Expr *expr(Parser *p)
{
	Expr *e = conjunction(p);
	for (const Token *t = p->tok; accept(p, "or"); t = p->tok)
		e = binary(p, OP_OR, t, e, conjunction(p));
	return e;
}

Expr *parse_expr_at(Arena *a, Model *m, const Token **pos)
{
	Parser p = {.arena = a, .m = m, .tok = *pos};
	Expr *e = expr(&p);
	*pos = p.tok;
	return e;
}

/* ---- statements ---- */

/* Evaluates a constant expression: numbers and arithmetic only. */
static double const_value(const Expr *e)
{
	switch (e->kind) {
	case E_NUM:
		return e->num;
	case E_UNARY: { /* -x, not x */
		double r;
		sg_check(op_fold(DT_DOUBLE, e->op, const_value(e->args[0]), 0.0, &r));
		return r;
	}
	case E_BINARY: {
		double a = const_value(e->args[0]), b = const_value(e->args[1]), r;
		if (!op_fold(DT_DOUBLE, e->op, a, b, &r))
			r = pow(a, b);
		return r;
	}
	default:
		break;
	}
	diag_error(e->loc, "an initial value must be a number");
}

/* The elements of a tensor symbol: x[0], x[1], ... or W[0,0], W[0,1], ... */
static void make_elems(Parser *p, Symbol *t)
{
	t->size = shape_size(t->shape);
	t->elems = arena_alloc(p->arena, (size_t)t->size * sizeof *t->elems);
	for (int i = 0; i < t->size; i++) {
		Symbol *e = arena_alloc(p->arena, sizeof *e);
		*e = *t;
		e->elems = NULL;
		e->tensor = t;
		e->offset = i;
		e->size = 1;
		e->shape = (Shape){0, {0, 0}};
		int at[SG_MAX_RANK], rest = i;
		for (int k = t->shape.rank - 1; k >= 0; k--) {
			at[k] = rest % t->shape.dim[k];
			rest /= t->shape.dim[k];
		}
		Buf name = {0}, ident = {0};
		buf_printf(&name, "%s[", t->name);
		buf_printf(&ident, "%s", t->name);
		for (int k = 0; k < t->shape.rank; k++) {
			buf_printf(&name, k ? ",%d" : "%d", at[k]);
			buf_printf(&ident, "_%d", at[k]);
		}
		e->name = arena_printf(p->arena, "%s]", name.data);
		e->ident = arena_strndup(p->arena, ident.data, ident.len);
		buf_free(&name);
		buf_free(&ident);
		t->elems[i] = e;
	}
}

/* dims = "[" NUM { "," NUM } "]" after a declared name */
static Shape dims(Parser *p)
{
	Shape s = {0, {0, 0}};
	const Token *open = p->tok;
	if (!accept(p, "["))
		return s;
	long total = 1;
	do {
		const Token *t = p->tok;
		if (t->kind != TK_NUM || t->num != floor(t->num) || t->num < 1 ||
		    memchr(t->text, '.', (size_t)t->len) || memchr(t->text, 'e', (size_t)t->len))
			diag_error(t->loc, "a dimension must be a whole number of at least 1");
		if (s.rank == SG_MAX_RANK)
			diag_error(t->loc, "at most %d dimensions", SG_MAX_RANK);
		if (t->num > SG_MAX_DIM)
			diag_error(t->loc, "dimension %.0f is larger than %d (limit)", t->num, SG_MAX_DIM);
		s.dim[s.rank++] = (int)t->num;
		total *= (long)t->num;
		p->tok++;
	} while (accept(p, ","));
	if (!accept(p, "]"))
		diag_error(p->tok->loc, "expected ']', found %s", tok_desc(p, p->tok));
	if (total > SG_MAX_ELEMS)
		diag_error(open->loc, "%ld elements is more than %d (limit)", total, SG_MAX_ELEMS);
	return s;
}

/* decl = IDENT [ dims ]; a tensor's elements join the flat list */
static Symbol *decl(Parser *p, SymKind kind, Symbol ***list, int *n)
{
	const Token *t = expect_ident(p, "a name");
	Symbol *s = declare(p, t, kind);
	s->shape = dims(p);
	s->index = *n;
	list_push(p->arena, &p->m->tensors, &p->m->n_tensors, s);
	if (s->shape.rank == 0) {
		list_push(p->arena, list, n, s);
		return s;
	}
	make_elems(p, s);
	for (int i = 0; i < s->size; i++) {
		s->elems[i]->index = *n;
		list_push(p->arena, list, n, s->elems[i]);
	}
	return s;
}

static void stmt_input(Parser *p)
{
	do
		decl(p, SYM_INPUT, &p->m->inputs, &p->m->n_inputs);
	while (accept(p, ","));
}

/* ---- random initial values ---- */

static double rng_uniform(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * ((double)(sg_splitmix64(s) >> 11) * 0x1p-53);
}

/* Box-Muller; one value per call, so the sequence does not depend on pairs. */
static double rng_normal(uint64_t *s, double mean, double std)
{
	double u = 1.0 - rng_uniform(s, 0, 1), v = rng_uniform(s, 0, 1);
	return mean + std * sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* init = "=" number-expr | "~" dist [ "(" number-expr { "," number-expr } ")" ] */
static void initializer(Parser *p, Symbol *s)
{
	double *vals = arena_alloc(p->arena, (size_t)s->size * sizeof *vals);
	if (accept(p, "=")) {
		const Token *at = p->tok;
		double v = const_value(expr(p));
		if (!isfinite(v))
			diag_error(at->loc, "initial value of '%s' is not finite", s->name);
		for (int i = 0; i < s->size; i++)
			vals[i] = v;
	} else if (accept(p, "~")) {
		const Token *d = expect_ident(p, "a distribution: uniform, normal or linear");
		double arg[2] = {0, 0};
		int n = 0;
		if (accept(p, "(")) {
			do {
				const Token *at = p->tok;
				if (n == 2)
					diag_error(at->loc, "too many arguments for '%.*s'", d->len, d->text);
				arg[n++] = const_value(expr(p));
			} while (accept(p, ","));
			if (!accept(p, ")"))
				diag_error(p->tok->loc, "expected ')', found %s", tok_desc(p, p->tok));
		}
		uint64_t *rs = &p->m->seed;
		if (lex_is(d, "uniform") && n == 2) {
			for (int i = 0; i < s->size; i++)
				vals[i] = rng_uniform(rs, arg[0], arg[1]);
		} else if (lex_is(d, "normal") && n == 2) {
			for (int i = 0; i < s->size; i++)
				vals[i] = rng_normal(rs, arg[0], arg[1]);
		} else if (lex_is(d, "linear") && (n == 1 || (n == 0 && s->shape.rank >= 2))) {
			/* PyTorch's nn.Linear: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in));
			 * nn.Conv2d's kernel [out, in, kh, kw] alike, fan_in = in kh kw */
			double fan_in = n == 1 ? arg[0] : (double)(s->size / s->shape.dim[0]);
			if (!(fan_in >= 1))
				diag_error(d->loc, "linear(fan_in) needs fan_in >= 1");
			double bound = 1.0 / sqrt(fan_in);
			for (int i = 0; i < s->size; i++)
				vals[i] = rng_uniform(rs, -bound, bound);
		} else {
			diag_error(d->loc, "unknown initializer '%.*s' with %d argument%s: use "
					   "uniform(a, b), normal(mean, std), linear (for a matrix) or "
					   "linear(fan_in)", d->len, d->text, n, n == 1 ? "" : "s");
		}
	} else {
		diag_error(p->tok->loc, "parameter '%s' needs an initial value: param %s = 0.5 or "
					"param %s ~ uniform(-0.1, 0.1)", s->name, s->name, s->name);
	}
	if (s->elems)
		for (int i = 0; i < s->size; i++)
			s->elems[i]->init = vals[i];
	else
		s->init = vals[0];
}

static void stmt_param(Parser *p)
{
	do {
		Symbol *s = decl(p, SYM_PARAM, &p->m->params, &p->m->n_params);
		initializer(p, s);
	} while (accept(p, ","));
}

static void stmt_output(Parser *p)
{
	do {
		const Token *t = expect_ident(p, "an output name");
		if (p->n_out == p->cap_out) {
			p->cap_out = p->cap_out ? p->cap_out * 2 : 8;
			const Token **grown = arena_alloc(p->arena, (size_t)p->cap_out * sizeof *grown);
			if (p->n_out)
				memcpy(grown, p->out_toks, (size_t)p->n_out * sizeof *grown);
			p->out_toks = grown;
		}
		p->out_toks[p->n_out++] = t;
	} while (accept(p, ","));
}

/* A model name is a C prefix: no leading underscore, no "__". */
static void stmt_model(Parser *p, const Token *kw)
{
	const Token *t = expect_ident(p, "a model name");
	if (p->m->name_loc.src)
		diag_error(kw->loc, "the model is already named '%s' (line %d)", p->m->name,
			   p->m->name_loc.line);
	bool dunder = false;
	for (int i = 1; i < t->len; i++)
		dunder |= t->text[i - 1] == '_' && t->text[i] == '_';
	if (t->text[0] == '_' || dunder || t->text[t->len - 1] == '_')
		diag_error(t->loc, "model name '%.*s' may not start or end with '_' or contain "
				   "'__' (it prefixes C names: NAME_forward)", t->len, t->text);
	if (lex_is(t, "sg"))
		diag_error(t->loc, "model name 'sg' is reserved: its descriptor sg_model would "
				   "clash with the type of the same name");
	p->m->name = arena_strndup(p->arena, t->text, (size_t)t->len);
	p->m->name_loc = t->loc;
}

/* The source line of a statement, trimmed, for comments in generated code. */
static const char *line_text(Parser *p, const Token *first)
{
	const char *s = first->text - (first->loc.col - 1);
	const char *e = s;
	while (*e && *e != '\n' && *e != '#')
		e++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	return arena_strndup(p->arena, s, (size_t)(e - s));
}

static void stmt_let(Parser *p, const Token *name)
{
	if (++p->m->n_stmts > SG_MAX_STMTS)
		diag_error(name->loc, "more than %d binding statements (limit)", SG_MAX_STMTS);
	if (!lex_is(p->tok, "="))
		diag_error(p->tok->loc, "expected '=' after '%.*s', found %s", name->len,
			   name->text, tok_desc(p, p->tok));
	p->tok++;
	p->let_tok = name;
	Expr *value = expr(p);
	p->let_tok = NULL;
	Symbol *s = declare(p, name, SYM_LET); /* after the value: no self-reference */
	s->value = value;
	s->shape = value->shape;
	Stmt *st = arena_alloc(p->arena, sizeof *st);
	st->sym = s;
	st->loc = name->loc;
	st->text = line_text(p, name);
	s->stmt = st;
	if (s->shape.rank == 0) {
		list_push(p->arena, &p->m->lets, &p->m->n_lets, s);
	} else {
		make_elems(p, s);
		for (int i = 0; i < s->size; i++)
			list_push(p->arena, &p->m->lets, &p->m->n_lets, s->elems[i]);
	}
	if (!strcmp(s->name, "loss")) {
		if (s->shape.rank != 0)
			diag_error(name->loc, "the loss must be a scalar, not %s: use sum(...) or "
					      "mean(...)", shape_text(p->arena, s->shape));
		p->m->loss = s;
	}
}

/* A def's name or parameter: an identifier that is no keyword, function
 * or (for the name) model name. */
static const Token *def_ident(Parser *p, const char *what)
{
	const Token *t = expect_ident(p, what);
	Op op;
	if (is_keyword(t))
		diag_error(t->loc, "'%.*s' is a keyword and cannot be a name", t->len, t->text);
	if (op_lookup_func(t->text, (size_t)t->len, &op) || builtin_lookup(t->text, t->len) >= 0)
		diag_error(t->loc, "'%.*s' is a built-in function and cannot be a name",
			   t->len, t->text);
	return t;
}

static const char *line_text(Parser *p, const Token *first);

/* def NAME "(" IDENT { "," IDENT } ")" "=" expr: the body is read at each
 * call (expand); here only its end of line is found. */
static void stmt_def(Parser *p, const Token *kw)
{
	const Token *name = def_ident(p, "a function name after 'def'");
	Symbol *s = parse_lookup(p->m, name->text, (size_t)name->len);
	Def *old = find_def(p, name, p->n_defs);
	if (s || old)
		diag_error(name->loc, "redefinition of '%.*s' (first defined at line %d)", name->len,
			   name->text, s ? s->loc.line : old->name->loc.line);
	if (p->n_defs == p->cap_defs) {
		int cap = p->cap_defs ? 2 * p->cap_defs : 8;
		Def *grown = arena_alloc(p->arena, (size_t)cap * sizeof *grown);
		if (p->n_defs)
			memcpy(grown, p->defs, (size_t)p->n_defs * sizeof *grown);
		p->defs = grown;
		p->cap_defs = cap;
	}
	Def *d = &p->defs[p->n_defs];
	*d = (Def){.name = name};
	if (!accept(p, "("))
		diag_error(p->tok->loc, "expected '(' after 'def %.*s', found %s", name->len, name->text,
			   tok_desc(p, p->tok));
	do {
		const Token *q = def_ident(p, "a parameter name");
		for (int i = 0; i < d->nparams; i++)
			if (d->param[i]->len == q->len && !memcmp(d->param[i]->text, q->text, (size_t)q->len))
				diag_error(q->loc, "parameter '%.*s' is named twice", q->len, q->text);
		if (d->nparams == MAX_DEF_PARAMS)
			diag_error(q->loc, "a function takes at most %d parameters", MAX_DEF_PARAMS);
		d->param[d->nparams++] = q;
	} while (accept(p, ","));
	if (!accept(p, ")"))
		diag_error(p->tok->loc, "expected ',' or ')' after a parameter, found %s",
			   tok_desc(p, p->tok));
	if (!accept(p, "="))
		diag_error(p->tok->loc, "expected '=' and the function's body, found %s",
			   tok_desc(p, p->tok));
	if (p->tok->kind == TK_NEWLINE || p->tok->kind == TK_EOF)
		diag_error(p->tok->loc, "expected the function's body, found %s", tok_desc(p, p->tok));
	d->body = p->tok;
	while (p->tok->kind != TK_NEWLINE && p->tok->kind != TK_EOF)
		p->tok++;
	p->visible_defs = ++p->n_defs;
	const char **texts = arena_alloc(p->arena, (size_t)p->n_defs * sizeof *texts);
	if (p->m->n_defs)
		memcpy(texts, p->m->defs, (size_t)p->m->n_defs * sizeof *texts);
	texts[p->m->n_defs++] = line_text(p, kw);
	p->m->defs = texts;
}

static void statement(Parser *p)
{
	const Token *t = p->tok;
	if (t->kind != TK_IDENT)
		diag_error(t->loc, "expected a statement (model, input, param, output or "
				   "name = expression), found %s", tok_desc(p, t));
	p->tok++;
	if (lex_is(t, "model"))
		stmt_model(p, t);
	else if (lex_is(t, "input"))
		stmt_input(p);
	else if (lex_is(t, "param"))
		stmt_param(p);
	else if (lex_is(t, "output"))
		stmt_output(p);
	else if (lex_is(t, "residual")) {
		if (p->residual)
			diag_error(t->loc, "the model already names its residual ('%.*s', line %d)",
				   p->residual->len, p->residual->text, p->residual->loc.line);
		p->residual = expect_ident(p, "the residual's name");
	}
	else if (lex_is(t, "def"))
		stmt_def(p, t);
	else
		stmt_let(p, t);
	if (p->tok->kind != TK_NEWLINE && p->tok->kind != TK_EOF)
		diag_error(p->tok->loc, "unexpected %s after the statement", tok_desc(p, p->tok));
}

/* The default model name: the file's base name made into a C identifier. */
static const char *default_name(Arena *a, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strcspn(base, ".");
	char *s = arena_alloc(a, n + 8);
	size_t k = 0;
	for (size_t i = 0; i < n && k < SG_MAX_IDENT - 2; i++) {
		char c = base[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (ok || (k && s[k - 1] != '_'))
			s[k++] = ok ? c : '_';
	}
	while (k > 0 && s[k - 1] == '_')
		k--;
	s[k] = '\0';
	if (k == 0)
		return "model";
	if (s[0] >= '0' && s[0] <= '9')
		return arena_printf(a, "m%s", s);
	if (!strcmp(s, "sg"))
		return "sg_1";
	return s;
}

/* Whether e is r^2, square(r) or r * r, for the residual r. */
static bool is_square_of(const Expr *e, const Symbol *r)
{
	const Expr *a = e->nargs > 0 ? e->args[0] : NULL;
	if (!a || a->kind != E_NAME || a->sym != r)
		return false;
	if (e->kind == E_BINARY && e->op == OP_POW)
		return e->args[1]->kind == E_NUM && e->args[1]->num == 2;
	if (e->kind == E_BINARY && e->op == OP_MUL)
		return e->args[1]->kind == E_NAME && e->args[1]->sym == r;
	return e->kind == E_CALL && e->op == OP_SQUARE;
}

/* residual r: r becomes an output (after the declared ones, unless it is
 * one), and the loss must be exactly the sum of r's squares, which is what
 * least squares (train --optimizer lm) minimizes through r's Jacobian. */
static void resolve_residual(Parser *p)
{
	Model *m = p->m;
	const Token *t = p->residual;
	Symbol *r = parse_lookup(m, t->text, (size_t)t->len);
	if (!r)
		diag_error(t->loc, "unknown name '%.*s' in residual%s", t->len, t->text,
			   near_name(p, t));
	if (r->kind != SYM_LET)
		diag_error(t->loc, "the residual '%s' must be a binding (r = yhat - y), not %s",
			   r->name, r->kind == SYM_PARAM ? "a param" : "an input");
	r->used = true;
	const Expr *e = m->loss ? m->loss->value : NULL;
	bool sum = e && e->kind == E_BUILTIN && e->builtin == B_SUM;
	if (e && !(r->shape.rank == 0 ? is_square_of(e, r) : sum && is_square_of(e->args[0], r)))
		diag_error(e->loc, "with 'residual %s' the loss must be the sum of its squares: "
			   "loss = %s", r->name, r->shape.rank == 0 ? arena_printf(p->arena, "%s^2", r->name)
								  : arena_printf(p->arena, "sum(%s^2)", r->name));
	m->residual_first = -1;
	for (int j = 0; j < m->n_outputs; j++)
		if (m->outputs[j] == r || m->outputs[j]->tensor == r) {
			m->residual_first = j;
			break;
		}
	if (m->residual_first < 0) {
		m->residual_first = m->n_outputs;
		if (!r->elems)
			list_push(p->arena, &m->outputs, &m->n_outputs, r);
		for (int k = 0; r->elems && k < r->size; k++)
			list_push(p->arena, &m->outputs, &m->n_outputs, r->elems[k]);
	}
	m->n_residuals = r->size;
}

static void resolve_outputs(Parser *p)
{
	for (int i = 0; i < p->n_out; i++) {
		const Token *t = p->out_toks[i];
		Symbol *s = parse_lookup(p->m, t->text, (size_t)t->len);
		if (!s)
			diag_error(t->loc, "unknown name '%.*s' in output", t->len, t->text);
		for (int j = 0; j < p->m->n_outputs; j++)
			if (p->m->outputs[j] == s || p->m->outputs[j]->tensor == s)
				diag_error(t->loc, "'%s' is already an output", s->name);
		s->used = true;
		if (!s->elems)
			list_push(p->arena, &p->m->outputs, &p->m->n_outputs, s);
		for (int k = 0; s->elems && k < s->size; k++)
			list_push(p->arena, &p->m->outputs, &p->m->n_outputs, s->elems[k]);
	}
}

Model *parse_model(Arena *a, const Source *src, const Token *toks, uint64_t seed)
{
	Model *m = arena_alloc(a, sizeof *m);
	m->src = src;
	m->seed = seed;
	Parser p = {.arena = a, .m = m, .tok = toks};
	while (p.tok->kind != TK_EOF) {
		if (p.tok->kind != TK_NEWLINE)
			statement(&p);
		if (p.tok->kind == TK_NEWLINE)
			p.tok++;
	}
	resolve_outputs(&p);
	for (int i = 0; i < p.n_defs; i++)
		if (!p.defs[i].used)
			diag_warning(p.defs[i].name->loc, "function '%.*s' is never called (its body "
				     "is checked only where it is called)", p.defs[i].name->len,
				     p.defs[i].name->text);
	/* "no loss" points at the last token of the file, not past its end */
	Loc end = p.tok > toks ? p.tok[-1].loc : p.tok->loc;
	for (const Token *t = p.tok; t > toks; t--)
		if (t[-1].kind != TK_NEWLINE) {
			end = t[-1].loc;
			break;
		}
	if (!m->n_lets && !m->n_params && !m->n_inputs)
		diag_error((Loc){src, 1, 1, 1}, "empty model: expected inputs, params and a "
						 "'loss = ...' statement");
	if (!m->loss)
		diag_error(end, "the model has no 'loss = ...' statement");
	if (!m->n_params)
		diag_error(m->loss->loc, "the model has no 'param': nothing to differentiate");
	if (p.residual)
		resolve_residual(&p);
	if (!m->name)
		m->name = default_name(a, src->path);
	return m;
}

/* ---- --dump=ast ---- */

static void dump_expr(FILE *out, const Expr *e)
{
	switch (e->kind) {
	case E_NUM: {
		char b[40];
		fmt_shortest(b, sizeof b, e->num, DT_DOUBLE);
		fputs(b, out);
		return;
	}
	case E_NAME:
		fputs(e->sym->name, out);
		return;
	case E_INDEX:
		dump_expr(out, e->args[0]);
		if (e->nargs == 2) {
			fputc('[', out);
			dump_expr(out, e->args[1]);
			fputc(']', out);
			return;
		}
		for (int k = 0; k < e->nidx; k++) {
			fputs(k ? "," : "[", out);
			if (e->range[k])
				fprintf(out, "%d:%d", e->idx[k], e->end[k]);
			else
				fprintf(out, "%d", e->idx[k]);
		}
		fputc(']', out);
		return;
	default:
		fprintf(out, "(%s", e->kind == E_MATMUL ? "@" : e->kind == E_BUILTIN
				      ? builtin_names[e->builtin] : op_info[e->op].spelling);
		for (int i = 0; i < e->nargs; i++) {
			fputc(' ', out);
			dump_expr(out, e->args[i]);
		}
		fputc(')', out);
	}
}

void parse_dump(FILE *out, const Model *m)
{
	fprintf(out, "model %s\n", m->name);
	for (int i = 0; i < m->n_inputs; i++)
		fprintf(out, "input %s  # index %d\n", m->inputs[i]->name, i);
	for (int i = 0; i < m->n_params; i++) {
		char b[40];
		fmt_shortest(b, sizeof b, m->params[i]->init, DT_DOUBLE);
		fprintf(out, "param %s = %s  # index %d\n", m->params[i]->name, b, i);
	}
	for (int i = 0; i < m->n_lets; i++) {
		const Symbol *s = m->lets[i]->tensor ? m->lets[i]->tensor : m->lets[i];
		if (s->elems && s->elems[0] != m->lets[i])
			continue;
		fprintf(out, "%s", s->name);
		if (s->elems)
			for (int k = 0; k < s->shape.rank; k++)
				fprintf(out, k ? ", %d" : "[%d", s->shape.dim[k]);
		if (s->elems)
			fputc(']', out);
		fprintf(out, " = ");
		dump_expr(out, s->value);
		fprintf(out, "  # line %d\n", s->loc.line);
	}
	for (int i = 0; i < m->n_outputs; i++)
		fprintf(out, "output %s\n", m->outputs[i]->name);
}
