/*
 * randmodel.c: random tensor models, for tests/loops/random.sh.
 *
 *   randmodel SEED COUNT DIR    writes DIR/r000.sg ... (COUNT models)
 *
 * Each model is valid: shapes agree (every expression is generated for the
 * shape it must have), the loss is a scalar and depends on a parameter.
 * Leaves are the model's params and inputs, made as they are first needed
 * (names p0, x1, p2, ... count up together, the style of issue 12's
 * reports), or constants; the expressions mix elementwise operators and
 * functions with broadcast scalars, rows and columns, '@' in every form, indexing (elements
 * and rows, also of parenthesized expressions), the reductions and losses,
 * and named bindings used again later.  The same SEED gives the same files.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXLEAF 256
#define MAXDIM 5

typedef struct Shape {
	int rank, d[2];
} Shape;

typedef struct Leaf {
	char name[16];
	Shape s;
	int param;       /* 1: param, 0: input */
} Leaf;

typedef struct Gen {
	unsigned long long rng;
	Leaf leaf[MAXLEAF];
	int n_leaf, n_names;
	Leaf bind[4];    /* bindings so far: used again like leaves */
	int n_bind;
	int bind_param[4];
	int uses_param;  /* the expression being made reads a param */
	char *buf;       /* the expression being made */
	size_t len, cap;
} Gen;

static int rnd(Gen *g, int n)
{
	g->rng = g->rng * 6364136223846793005ull + 1442695040888963407ull;
	return (int)((g->rng >> 33) % (unsigned)n);
}

static void put(Gen *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (g->len + (size_t)n + 1 > g->cap) {
		g->cap = (g->len + (size_t)n + 1) * 2;
		g->buf = realloc(g->buf, g->cap);
		if (!g->buf)
			exit(2);
	}
	va_start(ap, fmt);
	vsnprintf(g->buf + g->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	g->len += (size_t)n;
}

static int same(Shape a, Shape b)
{
	return a.rank == b.rank && (a.rank < 1 || a.d[0] == b.d[0]) && (a.rank < 2 || a.d[1] == b.d[1]);
}

static Shape scalar(void) { return (Shape){0, {0, 0}}; }
static Shape vec(int n) { return (Shape){1, {n, 0}}; }
static Shape mat(int r, int c) { return (Shape){2, {r, c}}; }
static int dim(Gen *g) { return 1 + rnd(g, MAXDIM); }

static Leaf *new_leaf(Gen *g)
{
	if (g->n_leaf == MAXLEAF) {
		fprintf(stderr, "randmodel: more than %d leaves\n", MAXLEAF);
		exit(2);
	}
	return &g->leaf[g->n_leaf++];
}

/* A param or input of shape s: an existing one, or a new one. */
static void leaf(Gen *g, Shape s)
{
	int found[MAXLEAF + 4], n = 0;
	for (int i = 0; i < g->n_leaf; i++)
		if (same(g->leaf[i].s, s))
			found[n++] = i;
	for (int i = 0; i < g->n_bind; i++)
		if (same(g->bind[i].s, s))
			found[n++] = MAXLEAF + i;
	if (n && rnd(g, 3)) {
		int k = found[rnd(g, n)];
		const Leaf *l = k >= MAXLEAF ? &g->bind[k - MAXLEAF] : &g->leaf[k];
		g->uses_param |= k >= MAXLEAF ? g->bind_param[k - MAXLEAF] : l->param;
		put(g, "%s", l->name);
		return;
	}
	Leaf *l = new_leaf(g);
	l->s = s;
	l->param = rnd(g, 3) != 0;
	snprintf(l->name, sizeof l->name, "%c%d", l->param ? 'p' : 'x', g->n_names++);
	g->uses_param |= l->param;
	put(g, "%s", l->name);
}

static void expr(Gen *g, Shape s, int depth);

/* A vector of length n: a row of a matrix expression. */
static void row_of(Gen *g, int n, int depth)
{
	int rows = dim(g);
	put(g, "(");
	expr(g, mat(rows, n), depth - 1);
	put(g, ")[%d]", rnd(g, rows));
}

/* A leaf of shape s (leaf()), its name copied to name[16]. */
static void named_leaf(Gen *g, Shape s, char *name)
{
	size_t at = g->len;
	leaf(g, s);
	snprintf(name, 16, "%.*s", (int)(g->len - at), g->buf + at);
}

/* A scalar that reads one matrix both whole and by a row, the scalar DAG's
 * shared case: (W @ v)[i] + W[i] @ v, W and v leaves or bindings. */
static void row_beside_product(Gen *g)
{
	int rows = dim(g), cols = dim(g), i = rnd(g, rows);
	char w[16], v[16];
	put(g, "((");
	named_leaf(g, mat(rows, cols), w);
	put(g, " @ ");
	named_leaf(g, vec(cols), v);
	put(g, ")[%d] + %s[%d] @ %s)", i, w, i, v);
}

/* An expression of shape s: '@' in a form that gives s. */
static void matmul(Gen *g, Shape s, int depth)
{
	int k = dim(g);
	Shape a, b;
	switch (s.rank) {
	case 0: a = vec(k), b = vec(k); break;
	case 1:
		if (rnd(g, 2))
			a = mat(s.d[0], k), b = vec(k);
		else
			a = vec(k), b = mat(k, s.d[0]);
		break;
	default: a = mat(s.d[0], k), b = mat(k, s.d[1]); break;
	}
	put(g, "(");
	expr(g, a, depth - 1);
	put(g, " @ ");
	expr(g, b, depth - 1);
	put(g, ")");
}

/* A scalar from a reduction or a loss. */
static void reduction(Gen *g, int depth)
{
	int n = dim(g);
	static const char *const one[] = {"sum", "mean", "logsumexp"};
	switch (rnd(g, 7)) {
	case 0: case 1: case 2:
	{
		int f = rnd(g, 3); /* logsumexp takes vectors only */
		put(g, "%s(", one[f]);
		expr(g, rnd(g, 4) || f == 2 ? vec(n) : mat(n, dim(g)), depth - 1);
		put(g, ")");
		break;
	}
	case 3:
		put(g, "%s(", rnd(g, 2) ? "dot" : "mse");
		expr(g, vec(n), depth - 1);
		put(g, ", ");
		expr(g, vec(n), depth - 1);
		put(g, ")");
		break;
	case 4:
		put(g, "bce(sigmoid(");
		expr(g, vec(n), depth - 1);
		put(g, "), sigmoid(");
		expr(g, vec(n), depth - 1);
		put(g, "))");
		break;
	case 5:
		put(g, "bce_logits(");
		expr(g, vec(n), depth - 1);
		put(g, ", ");
		expr(g, vec(n), depth - 1);
		put(g, ")");
		break;
	default:
		put(g, "cross_entropy(");
		expr(g, vec(n), depth - 1);
		put(g, ", ");
		leaf(g, scalar()); /* the class: whatever its value, the code compiles */
		put(g, ")");
		break;
	}
}

/* A condition gating a value: ((not) a CMP b (and|or c CMP 0)) * d,
 * where(a CMP b, c, d), clamp(a, lo, hi) or sign(a). */
static void condition(Gen *g, Shape s, int depth)
{
	static const char *const cmp[] = {"<", "<=", ">", ">=", "==", "!="};
	int form = rnd(g, 6);
	if (form == 0) {
		put(g, "sign(");
		expr(g, s, depth - 1);
		put(g, ")");
		return;
	}
	/* a param read by a comparison alone does not make the loss depend on
	 * it (where(p > x, x, x) is x) */
	int uses = g->uses_param;
	if (form <= 2) { /* the branches may be NaN where not selected */
		put(g, "%s(", form == 1 ? "where" : "clamp");
		expr(g, s, depth - 1);
		if (form == 1) {
			put(g, " %s ", cmp[rnd(g, 6)]), expr(g, rnd(g, 2) ? s : scalar(), depth - 1);
			g->uses_param = uses;
		}
		put(g, ", ");
		expr(g, rnd(g, 3) ? s : scalar(), depth - 1);
		put(g, ", ");
		expr(g, rnd(g, 3) ? s : scalar(), depth - 1);
		put(g, ")");
		return;
	}
	put(g, "((%s", rnd(g, 3) == 0 ? "not " : "");
	expr(g, s, depth - 1);
	put(g, " %s ", cmp[rnd(g, 6)]);
	expr(g, rnd(g, 2) ? s : scalar(), depth - 1);
	if (rnd(g, 2)) {
		put(g, " %s ", rnd(g, 2) ? "and" : "or");
		expr(g, s, depth - 1);
		put(g, " %s 0", cmp[rnd(g, 6)]);
	}
	g->uses_param = uses;
	put(g, ") * ");
	expr(g, s, depth - 1);
	put(g, ")");
}

/* A function whose derivative is finite on part of the line only, its
 * operand guarded into that part, as log's and sqrt's are. */
static void guarded(Gen *g, Shape s, int depth)
{
	static const char *const open[] = {"asin(0.5 * softsign(", "acos(0.5 * softsign(",
					   "atanh(0.5 * softsign(", "acosh(abs(", "log1p(abs(",
					   "log2(abs(", "cbrt(abs("};
	static const char *const close[] = {"))", "))", "))", ") + 1.5)", "))", ") + 0.5)",
					    ") + 0.5)"};
	int f = rnd(g, 7);
	put(g, "%s", open[f]);
	expr(g, s, depth - 1);
	put(g, "%s", close[f]);
}

/* A function of two operands, the second maybe a broadcast scalar; atan2's
 * and hypot's kept positive, away from their pole at (0, 0). */
static void binary_func(Gen *g, Shape s, int depth)
{
	static const char *const name[] = {"atan2", "hypot", "leaky_relu"};
	int f = rnd(g, 3);
	put(g, "%s(", name[f]);
	expr(g, s, depth - 1);
	put(g, f < 2 ? ", abs(" : ", ");
	expr(g, rnd(g, 2) ? s : scalar(), depth - 1);
	put(g, f < 2 ? ") + 0.5)" : ")");
}

/* Two operands that broadcast to the matrix s (NumPy's rules): s beside a
 * row [c] or [1, c] or a column [r, 1], either way round, or a column
 * beside a row. */
static void broadcast_pair(Gen *g, Shape s, Shape *a, Shape *b)
{
	Shape row = rnd(g, 2) ? vec(s.d[1]) : mat(1, s.d[1]), col = mat(s.d[0], 1);
	Shape part = rnd(g, 2) ? row : col;
	switch (rnd(g, 3)) {
	case 0: *a = s, *b = part; break;
	case 1: *a = part, *b = s; break;
	default: *a = col, *b = row; break;
	}
}

static void expr(Gen *g, Shape s, int depth)
{
	static const char *const infix[] = {"+", "-", "*"};
	static const char *const func[] = {"exp", "tanh", "sigmoid", "relu", "abs", "softplus",
					   "sin", "cos", "tan", "-", "softsign", "atan", "sinh",
					   "cosh", "asinh", "expm1", "exp2", "erf", "erfc", "square",
					   "gelu", "silu", "elu", "logsigmoid"};
	const int n_func = (int)(sizeof func / sizeof func[0]);
	int choice = depth <= 0 ? 0 : rnd(g, 10);
	switch (choice) {
	case 0: case 1:
		if (s.rank == 0 && rnd(g, 4) == 0)
			put(g, "%d.5", rnd(g, 3));
		else if (s.rank == 0 && rnd(g, 3) == 0) { /* an element */
			Shape t = rnd(g, 2) ? vec(dim(g)) : mat(dim(g), dim(g));
			leaf(g, t);
			if (t.rank == 1)
				put(g, "[%d]", rnd(g, t.d[0]));
			else
				put(g, "[%d, %d]", rnd(g, t.d[0]), rnd(g, t.d[1]));
		} else {
			leaf(g, s);
		}
		break;
	case 2: case 3: { /* elementwise, maybe a broadcast scalar, row or column */
		int k = rnd(g, 4);
		Shape a = k == 0 ? scalar() : s, b = k == 1 ? scalar() : s;
		if (k == 3 && s.rank == 2)
			broadcast_pair(g, s, &a, &b);
		put(g, "(");
		expr(g, a, depth - 1);
		put(g, " %s ", infix[rnd(g, 3)]);
		expr(g, b, depth - 1);
		put(g, ")");
		break;
	}
	case 4: /* a quotient kept away from 0 */
		put(g, "(");
		expr(g, s, depth - 1);
		put(g, " / (abs(");
		expr(g, rnd(g, 2) ? s : scalar(), depth - 1);
		put(g, ") + 0.5))");
		break;
	case 5:
		put(g, "%s(", func[rnd(g, n_func)]);
		expr(g, s, depth - 1);
		put(g, ")");
		break;
	case 6:
		switch (rnd(g, 7)) {
		case 0: put(g, "log(abs("); expr(g, s, depth - 1); put(g, ") + 0.5)"); break;
		case 1: put(g, "sqrt(abs("); expr(g, s, depth - 1); put(g, ") + 0.5)"); break;
		case 2:
			if (rnd(g, 2)) {
				put(g, "("); expr(g, s, depth - 1); put(g, ")^%d", 2 + rnd(g, 2));
			} else { /* pow with a real exponent, maybe a param */
				put(g, "pow(abs("); expr(g, s, depth - 1); put(g, ") + 0.5, ");
				if (rnd(g, 2))
					put(g, "0.5");
				else
					leaf(g, scalar());
				put(g, ")");
			}
			break;
		case 3:
			condition(g, s, depth);
			break;
		case 4: guarded(g, s, depth); break;
		case 5: binary_func(g, s, depth); break;
		default:
			put(g, "%s(", rnd(g, 2) ? "max" : "min");
			expr(g, s, depth - 1);
			put(g, ", ");
			expr(g, rnd(g, 2) ? s : scalar(), depth - 1);
			put(g, ")");
		}
		break;
	case 7:
		if (s.rank == 0 && rnd(g, 4) == 0)
			row_beside_product(g);
		else if (s.rank == 0)
			reduction(g, depth);
		else if (s.rank == 1 && rnd(g, 2))
			put(g, "softmax("), expr(g, s, depth - 1), put(g, ")");
		else
			matmul(g, s, depth);
		break;
	case 8:
		if (s.rank == 1) {
			row_of(g, s.d[0], depth);
			break;
		}
		matmul(g, s, depth);
		break;
	default:
		matmul(g, s, depth);
		break;
	}
}

static Shape any_shape(Gen *g)
{
	switch (rnd(g, 3)) {
	case 0: return scalar();
	case 1: return vec(dim(g));
	default: return mat(dim(g), dim(g));
	}
}

static void model(Gen *g, FILE *out, int index)
{
	char *lines[5];
	int n_lines = 0;
	g->n_leaf = g->n_names = g->n_bind = 0;
	int nb = rnd(g, 3);
	for (int b = 0; b <= nb; b++) {
		int last = b == nb;
		Shape s = last ? scalar() : any_shape(g);
		g->len = 0;
		g->uses_param = 0;
		if (last)
			put(g, "loss = ");
		else
			put(g, "h%d = ", b);
		expr(g, s, 2 + rnd(g, 3));
		if (last && !g->uses_param) { /* the loss must depend on a param */
			put(g, " + sum(");
			Leaf *l = new_leaf(g);
			l->s = vec(dim(g));
			l->param = 1;
			snprintf(l->name, sizeof l->name, "p%d", g->n_names++);
			put(g, "%s)", l->name);
		}
		lines[n_lines] = malloc(g->len + 1);
		if (!lines[n_lines])
			exit(2);
		memcpy(lines[n_lines++], g->buf, g->len + 1);
		if (!last) {
			Leaf *bl = &g->bind[g->n_bind];
			snprintf(bl->name, sizeof bl->name, "h%d", b);
			bl->s = s;
			g->bind_param[g->n_bind++] = g->uses_param;
		}
	}
	fprintf(out, "# random tensor model %d (tests/loops/randmodel.c)\nmodel r%03d\n", index, index);
	for (int i = 0; i < g->n_leaf; i++) {
		const Leaf *l = &g->leaf[i];
		fprintf(out, "%s %s", l->param ? "param" : "input", l->name);
		if (l->s.rank == 1)
			fprintf(out, "[%d]", l->s.d[0]);
		else if (l->s.rank == 2)
			fprintf(out, "[%d, %d]", l->s.d[0], l->s.d[1]);
		fprintf(out, "%s\n", l->param ? " ~ uniform(-1, 1)" : "");
	}
	for (int i = 0; i < n_lines; i++) {
		fprintf(out, "%s\n", lines[i]);
		free(lines[i]);
	}
	if (g->n_bind && rnd(g, 2))
		fprintf(out, "output h0\n");
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: randmodel SEED COUNT DIR\n");
		return 2;
	}
	Gen g = {0};
	g.rng = strtoull(argv[1], NULL, 0) * 0x9E3779B97F4A7C15ull + 1;
	int count = atoi(argv[2]);
	for (int i = 0; i < count; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/r%03d.sg", argv[3], i);
		FILE *f = fopen(path, "w");
		if (!f) {
			perror(path);
			return 1;
		}
		model(&g, f, i);
		if (fclose(f)) {
			perror(path);
			return 1;
		}
	}
	free(g.buf);
	return 0;
}
