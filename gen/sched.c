/*
 * sched.c: the DAG as straight-line programs, with names and comments.
 *
 * Three functions are scheduled from the same DAG: forward (loss and
 * outputs), backward (loss and dloss/dparam) and predict (outputs only).
 * Each computes exactly the nodes its results need, in id order, which is a
 * topological order with the forward pass first.
 *
 * Names: a binding keeps its model name (yhat); the adjoint of a named node
 * is d_<name> (d_yhat); other values are t1, t2, ... in order.  A model name
 * that is a C keyword, a <math.h> identifier or a name the generated code
 * uses itself gets a trailing underscore (int -> int_), and every name is
 * checked against all others, so the output is always valid C.
 *
 * Comments: a forward statement names its source line; a backward statement
 * states its chain-rule step, "dloss/dw = dloss/dyhat * dyhat/dw".
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"
#include "symgrad.h"

/* ---- reserved names ---- */

static const char *const reserved[] = {
	/* C keywords, C89 to C23, and C++ words a header may meet */
	"auto", "break", "case", "char", "const", "continue", "default", "do",
	"double", "else", "enum", "extern", "float", "for", "goto", "if", "inline",
	"int", "long", "register", "restrict", "return", "short", "signed",
	"sizeof", "static", "struct", "switch", "typedef", "union", "unsigned",
	"void", "volatile", "while", "bool", "true", "false", "nullptr", "alignas",
	"alignof", "static_assert", "thread_local", "typeof", "typeof_unqual",
	"constexpr", "asm", "fortran", "main", "errno", "NULL",
	/* <math.h> macros and types */
	"NAN", "INFINITY", "HUGE_VAL", "HUGE_VALF", "HUGE_VALL", "FP_NAN",
	"FP_INFINITE", "FP_ZERO", "FP_SUBNORMAL", "FP_NORMAL", "FP_FAST_FMA",
	"FP_FAST_FMAF", "FP_FAST_FMAL", "FP_ILOGB0", "FP_ILOGBNAN", "MATH_ERRNO",
	"MATH_ERREXCEPT", "math_errhandling", "float_t", "double_t", "isnan",
	"isinf", "isfinite", "isnormal", "signbit", "fpclassify", "isgreater",
	"isgreaterequal", "isless", "islessequal", "islessgreater", "isunordered",
	"M_E", "M_LOG2E", "M_LOG10E", "M_LN2", "M_LN10", "M_PI", "M_PI_2", "M_PI_4",
	"M_1_PI", "M_2_PI", "M_2_SQRTPI", "M_SQRT2", "M_SQRT1_2", "DOMAIN", "SING",
	"OVERFLOW", "UNDERFLOW", "TLOSS", "PLOSS", "HUGE", "X_TLOSS",
	/* names the generated code uses */
	"params", "inputs", "outputs", "grad", "n", "i", "k", "r", "loss_sum", "row", "rows", "gsum", "gsum_rows",
	"vec", "hvp", "hess", "jac_params", "jac_inputs", "dparams", "dinputs", "doutputs",
	"dloss", "gparams", "ginputs", "gnv", "hess_values",
	"sg_model", "SG_MODEL_ABI", "size_t", "sgd_order", "sgd_lr", "sgd_sums", "sgd_p",
	"sgd_g", "sgd_p0", "sgd_bad", "sgd_sq", "sgd_step", "sgd_norms", "sgd_last", "sgd_end",
	"sgd_s0", "sgd_n0", "sgd_l0", "sgd_chk", "sgd_j", "bce_soft", "bce_q", "bce_l", NULL};

/* <math.h> functions; each also with an f or l suffix */
static const char *const math_funcs[] = {
	"acos", "asin", "atan", "atan2", "cos", "sin", "tan", "acosh", "asinh",
	"atanh", "cosh", "sinh", "tanh", "exp", "exp2", "expm1", "frexp", "ilogb",
	"ldexp", "log", "log10", "log1p", "log2", "logb", "modf", "scalbn",
	"scalbln", "cbrt", "fabs", "hypot", "pow", "sqrt", "erf", "erfc", "lgamma",
	"tgamma", "ceil", "floor", "nearbyint", "rint", "lrint", "llrint", "round",
	"lround", "llround", "trunc", "fmod", "remainder", "remquo", "copysign",
	"nan", "nextafter", "nexttoward", "fdim", "fmax", "fmin", "fma", "j0", "j1",
	"jn", "y0", "y1", "yn", "gamma", "drem", "finite", "significand", "scalb",
	"exp10", "pow10", "sincos", "isinf", "isnan", NULL};

bool sched_is_reserved(const char *name)
{
	for (int i = 0; reserved[i]; i++)
		if (!strcmp(name, reserved[i]))
			return true;
	size_t len = strlen(name);
	for (int i = 0; math_funcs[i]; i++) {
		size_t k = strlen(math_funcs[i]);
		if (!strncmp(name, math_funcs[i], k) &&
		    (len == k || (len == k + 1 && (name[k] == 'f' || name[k] == 'l'))))
			return true;
	}
	return false;
}

/* ---- a set of taken names ---- */

typedef struct NameSet {
	const char **slot;
	int *next;          /* per slot: the suffix take tries first for that name */
	int cap, n;
} NameSet;

static uint32_t str_hash(const char *s)
{
	return (uint32_t)sg_fnv1a(SG_FNV_INIT, s, strlen(s));
}

/* The slot holding name, or -1. */
static int set_find(const NameSet *s, const char *name)
{
	if (!s->cap)
		return -1;
	for (uint32_t i = str_hash(name) & (uint32_t)(s->cap - 1); s->slot[i];
	     i = (i + 1) & (uint32_t)(s->cap - 1))
		if (!strcmp(s->slot[i], name))
			return (int)i;
	return -1;
}

static bool set_has(const NameSet *s, const char *name)
{
	return set_find(s, name) >= 0;
}

static void set_put(Arena *a, NameSet *s, const char *name, int next);

static void set_grow(Arena *a, NameSet *s)
{
	NameSet old = *s;
	s->cap = old.cap ? old.cap * 2 : 256;
	s->slot = arena_alloc(a, (size_t)s->cap * sizeof *s->slot);
	s->next = arena_alloc(a, (size_t)s->cap * sizeof *s->next);
	s->n = 0;
	for (int i = 0; i < old.cap; i++)
		if (old.slot[i])
			set_put(a, s, old.slot[i], old.next[i]);
}

static void set_put(Arena *a, NameSet *s, const char *name, int next)
{
	if ((s->n + 1) * 2 > s->cap)
		set_grow(a, s);
	uint32_t i = str_hash(name) & (uint32_t)(s->cap - 1);
	while (s->slot[i])
		i = (i + 1) & (uint32_t)(s->cap - 1);
	s->slot[i] = name;
	s->next[i] = next;
	s->n++;
}

static void set_add(Arena *a, NameSet *s, const char *name)
{
	set_put(a, s, name, 1);
}

/* Takes `want`, or `want_`, `want_2`, `want_3`, ... (`x_` gives `x_1`,
 * `x_2`, ...) when taken or reserved; the set starts with every reserved
 * name (see reserve).  Never makes a "__", which C reserves.  The suffix
 * to try next is kept with `want`, so taking one name n times is linear. */
static const char *take(Arena *a, NameSet *s, const char *want)
{
	/* A name that starts like symgrad's own C names (sgmath.h's sg_
	 * functions and helpers, its SG_ and SGMATH_ macros) gets v_ in front:
	 * no suffix could keep sg_log clear of the helper sg_log_. */
	if (!strncmp(want, "sg_", 3) || !strncmp(want, "SG_", 3) || !strncmp(want, "SGMATH_", 7))
		want = arena_printf(a, "v_%s", want);
	const char *name = want;
	bool trailing = want[strlen(want) - 1] == '_';
	int at = set_find(s, want);
	int k = at >= 0 ? s->next[at] : 1;
	while (set_has(s, name)) {
		name = k == 1 && !trailing ? arena_printf(a, "%s_", want)
					   : arena_printf(a, "%s%s%d", want, trailing ? "" : "_", k);
		k++;
	}
	if (at >= 0)
		s->next[at] = k;
	set_add(a, s, name);
	return name;
}

/* ---- naming ---- */

typedef struct Namer {
	Arena *arena;
	Prog *p;
	NameSet taken;
	int temp;
} Namer;

static bool named_leaf(const Node *n)
{
	return n->op == OP_INPUT || n->op == OP_PARAM;
}

/* The model name a forward node carries: a leaf's or a binding's. */
static const char *user_name(const Node *n, const char **user)
{
	return user[n->id] ? user[n->id] : named_leaf(n) ? n->sym->ident : NULL;
}

/* The names the generated header and file define for this model, which a
 * local variable must not take (a local named like the header guard would
 * expand to nothing; one named NAME_N_PARAMS would shadow the constant). */
static void reserve_generated(Namer *nm, const Model *m)
{
	Arena *a = nm->arena;
	const char *up = arena_upper(a, m->name);
	static const char *const upper[] = {"GRAD_H", "N_PARAMS", "N_INPUTS", "N_OUTPUTS",
					    "HESS_NNZ", "VECTORS", "V", "v", NULL};
	static const char *const lower[] = {"forward", "backward", "predict", "backward_batch",
					    "jacobian", "hessian", "hvp", "jvp", "vjp", "gnvp",
					    "hessian_sparse", "hess_colptr", "hess_rowidx", "gsum", "model", "param_names", "input_names",
					    "output_names", "param_init", NULL};
	for (int i = 0; upper[i]; i++)
		set_add(a, &nm->taken, arena_printf(a, "%s_%s", up, upper[i]));
	for (int i = 0; lower[i]; i++)
		set_add(a, &nm->taken, arena_printf(a, "%s_%s", m->name, lower[i]));
	Symbol **lists[] = {m->params, m->inputs, m->outputs};
	int counts[] = {m->n_params, m->n_inputs, m->n_outputs};
	const char *what[] = {"PARAM", "INPUT", "OUTPUT"};
	for (int l = 0; l < 3; l++)
		for (int i = 0; i < counts[l]; i++) {
			const Symbol *s = lists[l][i]->tensor ? lists[l][i]->tensor : lists[l][i];
			if (s != lists[l][i] && s->elems[0] != lists[l][i])
				continue; /* a tensor's names once, not once per element */
			set_add(a, &nm->taken, arena_printf(a, "%s_%s_%s", up, what[l], s->ident));
			set_add(a, &nm->taken, arena_printf(a, "%s_N_%s_%s", up, what[l], s->ident));
		}
}

static void reserve(Namer *nm, const Model *m)
{
	for (int i = 0; reserved[i]; i++)
		set_add(nm->arena, &nm->taken, reserved[i]);
	for (int i = 0; math_funcs[i]; i++) {
		set_add(nm->arena, &nm->taken, math_funcs[i]);
		set_add(nm->arena, &nm->taken, arena_printf(nm->arena, "%sf", math_funcs[i]));
		set_add(nm->arena, &nm->taken, arena_printf(nm->arena, "%sl", math_funcs[i]));
	}
	reserve_generated(nm, m);
}

/* The same naming for loop.c: every reserved name taken first. */
struct Names {
	Namer nm;
};

Names *names_new(Arena *a, const Model *m)
{
	Names *n = arena_alloc(a, sizeof *n);
	n->nm.arena = a;
	reserve(&n->nm, m);
	return n;
}

const char *names_take(Names *n, const char *want)
{
	return take(n->nm.arena, &n->nm.taken, want);
}

bool names_free(const Names *n, const char *name)
{
	return !set_has(&n->nm.taken, name);
}

static void name_nodes(Namer *nm, const char **user, const bool *live)
{
	Prog *p = nm->p;
	Dag *d = p->dag;
	Grad *g = p->grad;
	reserve(nm, p->model);
	/* Model names first, so they win over everything generated. */
	for (int i = 0; i < d->n; i++) {
		const char *u = user_name(d->nodes[i], user);
		if (u)
			p->names[i] = take(nm->arena, &nm->taken, u);
	}
	/* Adjoints of named nodes: d_<name>, nearest the params first. */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = g->n_forward - 1; i >= 0; i--) {
			Node *a = g->adj[i];
			if (!a || a->id < g->n_forward || p->names[a->id] || !live[a->id])
				continue;
			bool user_named = user_name(d->nodes[i], user) != NULL;
			if (pass == 0 && !user_named)
				continue;
			if (pass == 1 && !p->names[i])
				continue;
			p->names[a->id] = take(nm->arena, &nm->taken,
					       arena_printf(nm->arena, "d_%s", p->names[i]));
		}
		/* Forward temporaries are numbered before the second pass. */
		if (pass == 0)
			for (int i = 0; i < g->n_forward; i++)
				if (!p->names[i] && d->nodes[i]->nargs > 0 && live[i])
					p->names[i] = take(nm->arena, &nm->taken,
							   arena_printf(nm->arena, "t%d", ++nm->temp));
	}
	for (int i = g->n_forward; i < d->n; i++)
		if (!p->names[i] && d->nodes[i]->nargs > 0 && live[i])
			p->names[i] = take(nm->arena, &nm->taken,
					   arena_printf(nm->arena, "t%d", ++nm->temp));
}

/* ---- operands and expressions ---- */

const char *sched_operand(const Prog *p, const Node *n)
{
	if (n->op == OP_CONST) {
		char b[64];
		fmt_c_literal(b, sizeof b, n->value, p->dag->dtype);
		return arena_strndup(p->dag->arena, b, strlen(b));
	}
	sg_check(p->names[n->id]);
	return p->names[n->id];
}

static const char *cexpr_with(const Prog *p, const Node *n,
			      const char *(*operand)(const Prog *, const Node *));

/* A value that may not be computed by any function (an adjoint the
 * simplifier folded into its uses): its name, or its expression. */
const char *sched_value_text(const Prog *p, const Node *n)
{
	if (n->op == OP_CONST || p->names[n->id])
		return sched_operand(p, n);
	return arena_printf(p->dag->arena, "(%s)", cexpr_with(p, n, sched_value_text));
}

/* Fills an op's C spelling with its operands. */
static const char *cexpr(const Prog *p, const Node *n)
{
	return cexpr_with(p, n, sched_operand);
}

static const char *cexpr_with(const Prog *p, const Node *n,
			      const char *(*operand)(const Prog *, const Node *))
{
	const char *fmt = op_c(n->op, p->dag->dtype);
	Buf b = {0};
	for (const char *s = fmt; *s; s++) {
		if (s[0] == '%' && s[1] >= '0' && s[1] <= '2') {
			const Node *arg = n->args[s[1] - '0'];
			const char *text = operand(p, arg);
			size_t len = strlen(text);
			/* a negative constant as written (-100.0), in parentheses
			 * only after a '-' (--1.0 would read as a decrement) */
			if (arg->op == OP_CONST && text[0] == '(' && (s == fmt || s[-1] != '-'))
				buf_put(&b, text + 1, len - 2);
			else
				buf_puts(&b, text);
			s++;
		} else {
			buf_put(&b, s, 1);
		}
	}
	const char *r = arena_strndup(p->dag->arena, b.data, b.len);
	buf_free(&b);
	return r;
}

/* An operand in a statement over a block of rows: a value that varies by
 * row is an array indexed by r; params and constants are shared. */
const char *sched_row_operand(const Prog *p, const Node *n)
{
	if (n->op == OP_CONST || n->op == OP_PARAM)
		return sched_operand(p, n);
	return arena_printf(p->dag->arena, "%s[r]", sched_operand(p, n));
}

const char *sched_row_expr(const Prog *p, const Node *n)
{
	return cexpr_with(p, n, sched_row_operand);
}

/* ---- expressions for people (explain, templates) ---- */

/* A node as the model language writes it, over its operands' names. */
const char *sched_expr_text(const Prog *p, const Node *n, int depth)
{
	Arena *a = p->dag->arena;
	const OpInfo *o = &op_info[n->op];
	const char *x = n->nargs > 0 ? sched_operand_text(p, n->args[0], depth + 1) : "";
	const char *y = n->nargs > 1 ? sched_operand_text(p, n->args[1], depth + 1) : "";
	const char *z = n->nargs > 2 ? sched_operand_text(p, n->args[2], depth + 1) : "";
	switch (o->kind) {
	case K_INFIX: return arena_printf(a, "%s %s %s", x, o->spelling, y);
	case K_PREFIX: return arena_printf(a, "%s%s%s", o->spelling, n->op == OP_NOT ? " " : "", x);
	case K_LEAF: return sched_operand_text(p, n, depth);
	default:
		return n->nargs == 1 ? arena_printf(a, "%s(%s)", o->spelling, x)
		       : n->nargs == 2 ? arena_printf(a, "%s(%s, %s)", o->spelling, x, y)
				       : arena_printf(a, "%s(%s, %s, %s)", o->spelling, x, y, z);
	}
}

/* An operand: its name, or its value when it is a constant. */
const char *sched_operand_text(const Prog *p, const Node *n, int depth)
{
	if (n->op == OP_CONST)
		return fmt_num(p->dag->arena, n->value);
	if (n->op == OP_INPUT || n->op == OP_PARAM)
		return n->sym->name;
	if (p->names[n->id] && n->id < p->grad->n_forward)
		return p->names[n->id];
	if (depth > 3)
		return "...";
	return arena_printf(p->dag->arena, "(%s)", sched_expr_text(p, n, depth));
}

/* ---- comments ---- */

/* Removes comment delimiters from text that goes into a C comment. */
static const char *comment_safe(Arena *a, const char *s)
{
	Buf b = {0};
	for (; *s; s++) {
		buf_put(&b, s, 1);
		if ((s[0] == '*' && s[1] == '/') || (s[0] == '/' && s[1] == '*'))
			buf_put(&b, " ", 1);
	}
	const char *r = arena_strndup(a, b.data ? b.data : "", b.len);
	buf_free(&b);
	return r;
}

/* "dloss/dP * dP/dC", or "d(expr)/dC" when P is the loss itself. */
static const char *step_text(const Prog *p, const Contrib *c)
{
	Arena *a = p->dag->arena;
	const char *loss = p->model->loss->name;
	const char *cn = p->names[c->child->id];
	if (c->parent == p->model->loss->node)
		return arena_printf(a, "d(%s)/d%s", cexpr(p, c->parent), cn);
	const char *pn = p->names[c->parent->id];
	return arena_printf(a, "d%s/d%s * d%s/d%s", loss, pn, pn, cn);
}

/* The chain-rule comment of an adjoint: dloss/dC = sum of its steps. */
static const char *adjoint_text(const Prog *p, const Node *child)
{
	Arena *a = p->dag->arena;
	Buf b = {0};
	buf_printf(&b, "d%s/d%s = ", p->model->loss->name, p->names[child->id]);
	/* contribs are newest first; print them in the order they were made */
	const Contrib *list[64];
	int n = 0;
	for (const Contrib *c = p->grad->contribs[child->id]; c; c = c->next)
		if (n < 64)
			list[n++] = c;
	bool first = true;
	for (int i = n - 1; i >= 0; i--) {
		/* x*x gives two terms from one parent: d(x*x)/dx is their sum */
		if (i < n - 1 && list[i]->parent == list[i + 1]->parent)
			continue;
		buf_printf(&b, "%s%s", first ? "" : " + ", step_text(p, list[i]));
		first = false;
	}
	if (n == 64)
		buf_puts(&b, " + ...");
	const char *r = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return r;
}

static void comment_forward(Prog *p)
{
	Model *m = p->model;
	Dag *d = p->dag;
	/* Each forward node belongs to the first binding that reaches it. */
	Node **stack = xrealloc(NULL, (size_t)(2 * d->n + 1) * sizeof *stack);
	for (int k = 0; k < m->n_lets; k++) {
		Symbol *s = m->lets[k];
		int top = 0;
		if (!p->lines[s->node->id])
			stack[top++] = s->node;
		while (top) {
			Node *n = stack[--top];
			if (n->nargs == 0 || p->lines[n->id])
				continue;
			p->lines[n->id] = s->loc.line;
			p->comments[n->id] = comment_safe(d->arena, s->stmt->text);
			for (int i = 0; i < n->nargs; i++)
				stack[top++] = n->args[i];
		}
	}
	free(stack);
}

static void comment_backward(Prog *p)
{
	Grad *g = p->grad;
	Arena *a = p->dag->arena;
	const char *loss = p->model->loss->name;
	/* A value computed on the way to a step's term is "part of" that step:
	 * found from the term down its operands (not by when it was made: the
	 * tensor IR makes a whole vector's pieces at the first element's step),
	 * stopping at forward values, adjoints, and other steps' terms. */
	bool *stop = arena_alloc(a, (size_t)p->dag->n + 1);
	for (int s = 0; s < g->n_steps; s++)
		stop[g->steps[s]->term->id] = stop[g->steps[s]->sum->id] = true;
	for (int i = 0; i < g->n_forward; i++)
		if (g->adj[i])
			stop[g->adj[i]->id] = true;
	Node **stack = xrealloc(NULL, (size_t)(3 * p->dag->n + 1) * sizeof *stack);
	for (int s = 0; s < g->n_steps; s++) {
		const Contrib *c = g->steps[s];
		const char *part = NULL;
		int top = 0;
		for (int k = 0; k < c->term->nargs; k++)
			stack[top++] = c->term->args[k];
		while (top) {
			Node *n = stack[--top];
			if (n->id < g->n_forward || stop[n->id] || p->comments[n->id] || n->nargs == 0)
				continue;
			if (!part)
				part = arena_printf(a, "part of %s", step_text(p, c));
			p->comments[n->id] = part;
			for (int k = 0; k < n->nargs; k++)
				stack[top++] = n->args[k];
		}
	}
	/* what is left on the way to an adjoint (the partial sums of a
	 * product's adjoint) is part of that adjoint: dloss/dh1_5 */
	for (int i = 0; i < g->n_forward; i++) {
		const Node *adj = g->adj[i];
		int top = 0;
		if (!adj || adj->id < g->n_forward || !p->names[i])
			continue;
		for (int k = 0; k < adj->nargs; k++)
			stack[top++] = adj->args[k];
		const char *part = NULL;
		while (top) {
			Node *n = stack[--top];
			if (n->id < g->n_forward || stop[n->id] || p->comments[n->id] || n->nargs == 0)
				continue;
			if (!part)
				part = arena_printf(a, "part of d%s/d%s", loss, p->names[i]);
			p->comments[n->id] = part;
			for (int k = 0; k < n->nargs; k++)
				stack[top++] = n->args[k];
		}
	}
	free(stack);
	/* values made in a step that no term reaches */
	for (int s = 0; s < g->n_steps; s++) {
		const Contrib *c = g->steps[s];
		for (int id = c->first; id < c->end; id++)
			if (!p->comments[id] && !stop[id])
				p->comments[id] = arena_printf(a, "part of %s", step_text(p, c));
	}
	for (int s = 0; s < g->n_steps; s++) {
		const Contrib *c = g->steps[s];
		if (c->term->id >= g->n_forward)
			p->comments[c->term->id] = step_text(p, c);
		/* a running sum names the adjoint it adds up (the tensor IR may
		 * have made it at an earlier step: no test of c->first) */
		if (c->sum != c->term && c->sum->id >= g->n_forward)
			p->comments[c->sum->id] = arena_printf(a, "d%s/d%s so far, + %s", loss,
							       p->names[c->child->id], step_text(p, c));
	}
	/* An adjoint shared by several values (every + passes its adjoint on
	 * unchanged) names the step that made it and the value it is named for. */
	const char **made = arena_alloc(a, (size_t)p->dag->n * sizeof *made);
	for (int i = g->n_forward - 1; i >= 0; i--) {
		Node *adj = g->adj[i];
		if (!adj || adj->id < g->n_forward || !p->names[i])
			continue;
		const char *text = adjoint_text(p, p->dag->nodes[i]);
		if (!made[adj->id])
			made[adj->id] = text;
		const char *name = p->names[adj->id];
		bool named_here = name && !strncmp(name, "d_", 2) && !strcmp(name + 2, p->names[i]);
		if (named_here && made[adj->id] != text)
			p->comments[adj->id] = arena_printf(a, "%s, so %s", made[adj->id], text);
		else if (named_here || made[adj->id] == text)
			p->comments[adj->id] = text;
	}
	for (int i = g->n_forward; i < p->dag->n; i++)
		if (p->comments[i])
			p->comments[i] = comment_safe(a, p->comments[i]);
}

/* ---- functions ---- */

/* Schedules the nodes roots need, in id order. */
static void build_func(Prog *p, Func *f, Node **roots, int n_roots)
{
	Dag *d = p->dag;
	Arena *a = d->arena;
	bool *need = xrealloc(NULL, (size_t)d->n);
	memset(need, 0, (size_t)d->n);
	for (int i = 0; i < n_roots; i++)
		need[roots[i]->id] = true;
	for (int i = d->n - 1; i >= 0; i--)
		if (need[i])
			for (int k = 0; k < d->nodes[i]->nargs; k++)
				need[d->nodes[i]->args[k]->id] = true;
	int count = 0, loads = 0;
	for (int i = 0; i < d->n; i++) {
		count += need[i] && d->nodes[i]->nargs > 0;
		loads += need[i] && named_leaf(d->nodes[i]);
	}
	f->stmts = arena_alloc(a, (size_t)count * sizeof *f->stmts);
	f->loads = arena_alloc(a, (size_t)loads * sizeof *f->loads);
	for (int i = 0; i < d->n; i++) {
		Node *n = d->nodes[i];
		if (!need[i])
			continue;
		if (named_leaf(n)) {
			f->loads[f->n_loads++] = n;
			continue;
		}
		if (n->nargs == 0)
			continue;
		bool bw = i >= p->grad->n_forward;
		f->stmts[f->n++] = (PStmt){n, p->names[i], cexpr(p, n),
					   p->comments[i] ? p->comments[i] : "", p->lines[i], bw};
		if (bw)
			f->n_bwd_ops++;
		else
			f->n_fwd_ops++;
	}
	free(need);
}

/* A function of roots: first, then n nodes of each of the lists. */
static void build_roots(Prog *p, Func *f, Node *first, int nlists, ...)
{
	va_list ap;
	int n = first ? 1 : 0;
	va_start(ap, nlists);
	for (int k = 0; k < nlists; k++) {
		(void)va_arg(ap, Node **);
		n += va_arg(ap, int);
	}
	va_end(ap);
	Node **roots = xrealloc(NULL, (size_t)(n + 1) * sizeof *roots);
	int at = 0;
	if (first)
		roots[at++] = first;
	va_start(ap, nlists);
	for (int k = 0; k < nlists; k++) {
		Node **list = va_arg(ap, Node **);
		int nl = va_arg(ap, int);
		memcpy(roots + at, list, (size_t)nl * sizeof *roots);
		at += nl;
	}
	va_end(ap);
	build_func(p, f, roots, n);
	free(roots);
}

/* The functions beyond the gradient: the Jacobian (outputs and their
 * derivatives), the Hessian, dense and sparse, the HVP and the Gauss-Newton
 * product (loss, gradient and theirs), the JVP (loss, outputs and their
 * tangents) and the VJP (loss and the pulled-back cotangents). */
static void build_extra(Prog *p, Node *loss)
{
	Model *m = p->model;
	Grad *g = p->grad;
	int np = m->n_params, no = m->n_outputs, ni = m->n_inputs;
	Node **outs = xrealloc(NULL, (size_t)(no + 1) * sizeof *outs);
	for (int i = 0; i < no; i++)
		outs[i] = m->outputs[i]->node;
	if (g->jac_params)
		build_roots(p, &p->jacobian, NULL, 3, outs, no, g->jac_params, no * np, g->jac_inputs,
			    no * ni);
	if (g->hess)
		build_roots(p, &p->hessian, loss, 2, g->param_grad, np, g->hess, np * np);
	if (g->hess_sparse)
		build_roots(p, &p->hessian_sparse, loss, 2, g->param_grad, np, g->hess_sparse,
			    g->hess_nnz);
	if (g->hvp)
		build_roots(p, &p->hvp, loss, 2, g->param_grad, np, g->hvp, np);
	if (g->gnvp)
		build_roots(p, &p->gnvp, loss, 2, g->param_grad, np, g->gnvp, np);
	if (g->jvp)
		build_roots(p, &p->jvp, loss, 3, outs, no, &g->jvp_loss, 1, g->jvp, no);
	if (g->vjp_params)
		build_roots(p, &p->vjp, loss, 2, g->vjp_params, np, g->vjp_inputs, ni);
	free(outs);
}

/* Marks the n nodes of list live. */
static void mark_live(bool *live, Node *const *list, int n)
{
	for (int i = 0; list && i < n; i++)
		live[list[i]->id] = true;
}

Prog *sched_build(Arena *a, Dag *d, Model *m, Grad *g)
{
	Prog *p = arena_alloc(a, sizeof *p);
	p->model = m;
	p->dag = d;
	p->grad = g;
	p->names = arena_alloc(a, (size_t)d->n * sizeof *p->names);
	p->comments = arena_alloc(a, (size_t)d->n * sizeof *p->comments);
	p->lines = arena_alloc(a, (size_t)d->n * sizeof *p->lines);

	/* A binding names its node unless an earlier binding or a leaf did. */
	const char **user = arena_alloc(a, (size_t)d->n * sizeof *user);
	for (int k = 0; k < m->n_lets; k++) {
		Node *n = m->lets[k]->node;
		if (n->nargs > 0 && !user[n->id])
			user[n->id] = m->lets[k]->ident;
	}
	/* Only values some function computes get a temporary's name. */
	bool *live = arena_alloc(a, (size_t)d->n);
	live[m->loss->node->id] = true;
	for (int i = 0; i < m->n_outputs; i++)
		live[m->outputs[i]->node->id] = true;
	for (int i = 0; i < m->n_params; i++)
		live[g->param_grad[i]->id] = true;
	int np = m->n_params, no = m->n_outputs;
	mark_live(live, g->jac_params, no * np);
	mark_live(live, g->jac_inputs, no * m->n_inputs);
	mark_live(live, g->hess, g->hess ? np * np : 0);
	mark_live(live, g->hess_sparse, g->hess_nnz);
	mark_live(live, g->hvp, np);
	mark_live(live, g->gnvp, np);
	mark_live(live, g->jvp, no);
	mark_live(live, &g->jvp_loss, g->jvp_loss ? 1 : 0);
	mark_live(live, g->vjp_params, np);
	mark_live(live, g->vjp_inputs, m->n_inputs);
	for (int i = d->n - 1; i >= 0; i--)
		if (live[i])
			for (int k = 0; k < d->nodes[i]->nargs; k++)
				live[d->nodes[i]->args[k]->id] = true;
	Namer nm = {a, p, {0}, 0};
	name_nodes(&nm, user, live);
	comment_forward(p);
	comment_backward(p);

	int nr = 1 + m->n_params + m->n_outputs;
	Node **roots = arena_alloc(a, (size_t)nr * sizeof *roots);
	roots[0] = m->loss->node;
	for (int i = 0; i < m->n_outputs; i++)
		roots[1 + i] = m->outputs[i]->node;
	build_func(p, &p->forward, roots, 1 + m->n_outputs);
	build_func(p, &p->predict, roots + 1, m->n_outputs);
	for (int i = 0; i < m->n_params; i++)
		roots[1 + i] = g->param_grad[i];
	build_func(p, &p->backward, roots, 1 + m->n_params);
	build_extra(p, roots[0]);
	return p;
}

void sched_dump(FILE *out, const Prog *p)
{
	const Func *f = &p->backward;
	fprintf(out, "# backward: %d forward + %d backward operations\n", f->n_fwd_ops,
		f->n_bwd_ops);
	for (int i = 0; i < f->n_loads; i++)
		fprintf(out, "%s = %s %s\n", p->names[f->loads[i]->id],
			f->loads[i]->op == OP_PARAM ? "param" : "input", f->loads[i]->sym->name);
	for (int i = 0; i < f->n; i++)
		fprintf(out, "%s = %s    # %s\n", f->stmts[i].name, f->stmts[i].expr,
			f->stmts[i].comment);
	for (int i = 0; i < p->model->n_params; i++)
		fprintf(out, "grad[%s] = %s\n", p->model->params[i]->name,
			sched_operand(p, p->grad->param_grad[i]));
}
