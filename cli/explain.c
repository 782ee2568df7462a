/*
 * explain.c: the chain rule shown the way lecture 4 teaches it.
 *
 *   symgrad explain MODEL.sg --at x=2,y=4,w=1 [--format text|json]
 *   symgrad graph MODEL.sg [--at ...] -o FILE.dot|FILE.svg|FILE.png
 *
 * explain prints the forward pass (each node and its value) and the backward
 * pass (each node's given dloss/dnode, its local gradients and what each
 * adds to its operands' adjoints), ending with every dloss/dparam.  graph
 * writes the computational graph in Graphviz DOT, with values, local
 * gradients and adjoints when --at is given.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* ---- values at a point ---- */

/* A number for people: shortest round-trip text, no ".0" on integers. */
/* A number for JSON: non-finite values have no JSON spelling and are null. */
static const char *json_num(Arena *a, double v)
{
	return isfinite(v) ? fmt_num(a, v) : "null";
}

/* Params not set by --at from the file path (a --save'd parameter file). */
static void at_params_file(const Model *m, const char *path, const char *const *names,
			   const char *par_set, double *params)
{
	sg_model sm = {.abi = SG_MODEL_ABI, .name = m->name, .n_params = m->n_params,
		       .param_names = names};
	double *p = xrealloc(NULL, (size_t)(m->n_params + 1) * sizeof *p);
	sg_error err;
	if (sg_params_load(path, &sm, p, &err) < 0) {
		free(p);
		diag_fatal("%s", err.msg);
	}
	for (int i = 0; i < m->n_params; i++)
		if (!par_set[i])
			params[i] = p[i];
	free(p);
}

/* Parses "x=2,y=4,w=1" (runtime/at.c's grammar, the same for every
 * command) into params and inputs; params come from params_file when given
 * (--at overrides), else their initial values; every input must be given. */
void at_parse(const Model *m, const char *spec, const char *params_file, double *params,
	      double *inputs)
{
	const char **in = xrealloc(NULL, (size_t)(m->n_inputs + 1) * sizeof *in);
	const char **par = xrealloc(NULL, (size_t)(m->n_params + 1) * sizeof *par);
	char *in_set = xrealloc(NULL, (size_t)m->n_inputs + 1);
	char *par_set = xrealloc(NULL, (size_t)m->n_params + 1);
	memset(in_set, 0, (size_t)m->n_inputs + 1);
	memset(par_set, 0, (size_t)m->n_params + 1);
	for (int i = 0; i < m->n_inputs; i++)
		in[i] = m->inputs[i]->name;
	for (int i = 0; i < m->n_params; i++) {
		par[i] = m->params[i]->name;
		params[i] = m->params[i]->init;
	}
	sg_error err;
	int rc = sg_at_parse(spec ? spec : "", m->n_inputs, in, inputs, in_set, m->n_params, par,
			     params, par_set, &err);
	const char *missing = NULL;
	for (int i = 0; rc == 0 && i < m->n_inputs && !missing; i++)
		if (!in_set[i])
			missing = in[i];
	if (rc == 0 && !missing && params_file)
		at_params_file(m, params_file, par, par_set, params);
	free(in);
	free(par);
	free(in_set);
	free(par_set);
	if (rc < 0)
		diag_usage("--at: %s", err.msg);
	if (missing)
		diag_usage("--at: no value for input '%s'", missing);
}

/* ---- node text ---- */

/* A value's text: its name when it has one, else its expression. */
static const char *explain_value(const Prog *p, const Node *n)
{
	const char *s = sched_operand_text(p, n, 0);
	size_t len = strlen(s);
	if (s[0] == '(' && s[len - 1] == ')')
		return sched_expr_text(p, n, 0);
	return s;
}

/* ---- a text table ---- */

typedef struct Table {
	const char **cell;
	int rows, cols, cap;
} Table;

static void table_row(Table *t, const char **cells)
{
	if (t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cell = xrealloc(t->cell, (size_t)t->cap * (size_t)t->cols * sizeof *t->cell);
	}
	memcpy(t->cell + (size_t)t->rows++ * (size_t)t->cols, cells,
	       (size_t)t->cols * sizeof *cells);
}

/* Display width: code points, so ∂ counts as one column. */
static int width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

/* explain's text fits this many columns: a row too wide for it goes on
 * as many lines as it needs, each continuation indented four more. */
#define TEXT_COLS 100
#define CELL_CAP 40 /* a column's width when the table does not fit */

/* A line being written with wrapping: the column reached, the spaces owed
 * before the next piece (never written at the end of a line). */
typedef struct Line {
	FILE *out;
	int col, pad, cont; /* cont: the indent of continuation lines */
	bool written;       /* text on this line after its indent */
} Line;

static void line_break(Line *l)
{
	fprintf(l->out, "\n%*s", l->cont, "");
	l->col = l->cont;
	l->pad = 0;
	l->written = false;
}

/* Writes n bytes of s (display width sw) after the owed spaces; when that
 * would pass TEXT_COLS, first breaks the line, or, on a line with nothing
 * written yet (a row's empty first cells), owes fewer spaces. */
static void line_piece(Line *l, const char *s, size_t n, int sw)
{
	if (l->col + l->pad + sw > TEXT_COLS) {
		if (l->written)
			line_break(l);
		else if (l->col + l->pad > l->cont)
			l->pad = l->cont - l->col;
	}
	fprintf(l->out, "%*s%.*s", l->pad, "", (int)n, s);
	l->col += l->pad + sw;
	l->pad = 0;
	l->written = true;
}

/* Display width of the first n bytes of s. */
static int width_n(const char *s, size_t n)
{
	int w = 0;
	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xC0) != 0x80;
	return w;
}

/* Writes a cell: whole when it fits on the line, else word by word. */
static void line_cell(Line *l, const char *s)
{
	int sw = width(s);
	if (l->col + l->pad + sw <= TEXT_COLS || l->cont + sw <= TEXT_COLS) {
		line_piece(l, s, strlen(s), sw);
		return;
	}
	for (bool first = true; *s; first = false) {
		size_t n = strcspn(s, " ");
		if (!first)
			l->pad = 1;
		line_piece(l, s, n, width_n(s, n));
		s += n;
		s += strspn(s, " ");
	}
}

static void table_print(FILE *out, Table *t, const char *indent)
{
	int *w = xrealloc(NULL, (size_t)t->cols * sizeof *w), total = (int)strlen(indent);
	for (int c = 0; c < t->cols; c++) {
		w[c] = 0;
		for (int r = 0; r < t->rows; r++) {
			int k = width(t->cell[r * t->cols + c]);
			w[c] = k > w[c] ? k : w[c];
		}
		total += w[c] + (c ? 3 : 0);
	}
	for (int c = 0; c < t->cols && total > TEXT_COLS; c++)
		w[c] = w[c] > CELL_CAP ? CELL_CAP : w[c];
	int *x = xrealloc(NULL, (size_t)t->cols * sizeof *x); /* where columns start */
	for (int c = 0; c < t->cols; c++)
		x[c] = c ? x[c - 1] + w[c - 1] + 3 : (int)strlen(indent);
	for (int r = 0; r < t->rows; r++) {
		Line l = {out, (int)strlen(indent), 0, (int)strlen(indent) + 4, false};
		fputs(indent, out);
		int last = t->cols - 1;
		while (last > 0 && !*t->cell[r * t->cols + last])
			last--;
		for (int c = 0; c <= last; c++) {
			const char *s = t->cell[r * t->cols + c];
			int sw = width(s);
			/* a cell that goes on a new line starts under the rightmost
			 * column where it fits: the row's results stay stacked */
			l.cont = (int)strlen(indent) + 4;
			for (int k = c; k > 0; k--)
				if (x[k] + sw <= TEXT_COLS && x[k] > l.cont) {
					l.cont = x[k];
					break;
				}
			if (*s)
				line_cell(&l, s);
			/* the spaces to the next column (a wider cell: three) */
			l.pad += (sw < w[c] ? w[c] - sw : 0) + 3;
		}
		fputc('\n', out);
	}
	free(w);
	free(x);
	free(t->cell);
	t->cell = NULL;
	t->rows = t->cap = 0;
}

/* ---- the walk shared by text and JSON ---- */

typedef struct Step {
	Node *parent, *child;
	Node *local;       /* d parent / d child through this operand */
	const Contrib *ct; /* diff's step: its term and running sum */
	double given;      /* dloss/dparent */
	double local_v;    /* the local gradient's value */
	double adds;       /* given * local */
	double running;    /* dloss/dchild after this step */
} Step;

typedef struct Walk {
	Compile *c;
	double *vals;      /* by node id */
	double *params, *inputs;
	Step *steps;
	int n_steps;
	double *running;   /* by forward node id */
} Walk;

/* Evaluates the model at --at and lists every chain-rule step in order. */
static void walk(Walk *w, const char *at, const char *params_file)
{
	Compile *c = w->c;
	Model *m = c->model;
	Dag *d = c->dag;
	Grad *g = c->grad;
	w->params = arena_alloc(c->arena, (size_t)(m->n_params + 1) * sizeof(double));
	w->inputs = arena_alloc(c->arena, (size_t)(m->n_inputs + 1) * sizeof(double));
	at_parse(m, at, params_file, w->params, w->inputs);
	int n_fwd = g->n_forward;
	w->steps = arena_alloc(c->arena, (size_t)(g->n_steps + 1) * sizeof *w->steps);
	/* diff's steps, in order, with their local gradients as nodes */
	int *k_used = arena_alloc(c->arena, (size_t)n_fwd * sizeof *k_used);
	for (int s = 0; s < g->n_steps; s++) {
		const Contrib *ct = g->steps[s];
		Node *p = ct->parent;
		int k = ct->child == p->args[0] && !(p->nargs > 1 && p->args[1] == ct->child &&
						      k_used[p->id] & 1) ? 0 : 1;
		k_used[p->id] |= 1 << k;
		w->steps[w->n_steps++] = (Step){p, ct->child, diff_local(d, p, k), ct, 0, 0, 0, 0};
	}
	w->vals = arena_alloc(c->arena, (size_t)d->n * sizeof(double));
	dag_eval(d, w->params, w->inputs, w->vals);
	/* The values the generated code computes: adjoints, terms, sums. */
	w->running = arena_alloc(c->arena, (size_t)n_fwd * sizeof(double));
	for (int i = 0; i < n_fwd; i++)
		w->running[i] = g->adj[i] ? w->vals[g->adj[i]->id] : 0;
	for (int s = 0; s < w->n_steps; s++) {
		Step *st = &w->steps[s];
		st->given = w->vals[g->adj[st->parent->id]->id];
		st->local_v = w->vals[st->local->id];
		st->adds = w->vals[st->ct->term->id];
		st->running = w->vals[st->ct->sum->id];
	}
}

/* The name of a forward node, for dloss/dname. */
static const char *fwd_name(const Prog *p, const Node *n)
{
	if (n->op == OP_INPUT || n->op == OP_PARAM)
		return n->sym->name;
	return p->names[n->id] ? p->names[n->id] : "?";
}

/* The name a statement defines, as shown (show_model_names). */
static const char *stmt_name(const Prog *p, const PStmt *s)
{
	return p->names[s->node->id] ? p->names[s->node->id] : s->name;
}

static void explain_text(Walk *w)
{
	Compile *c = w->c;
	Prog *p = c->prog;
	Model *m = c->model;
	Arena *a = c->arena;
	const char *L = m->loss->name;
	/* "Forward pass at x = 2, y = 4, w = 1:", wrapped between values */
	Line l = {stdout, 0, 0, 2, false};
	line_piece(&l, "Forward pass at", 15, 15);
	int n_at = m->n_inputs + m->n_params;
	for (int i = 0; i < n_at; i++) {
		const char *item = i < m->n_inputs
			? arena_printf(a, "%s = %s", m->inputs[i]->name, fmt_num(a, w->inputs[i]))
			: arena_printf(a, "%s = %s", m->params[i - m->n_inputs]->name,
				       fmt_num(a, w->params[i - m->n_inputs]));
		item = arena_printf(a, "%s%s", item, i + 1 < n_at ? "," : ":");
		l.pad = 1;
		line_piece(&l, item, strlen(item), width(item));
	}
	printf("\n");
	Table t = {NULL, 0, 3, 0};
	for (int i = 0; i < p->forward.n; i++) {
		const PStmt *s = &p->forward.stmts[i];
		const char *row[] = {arena_printf(a, "%s = %s", stmt_name(p, s), sched_expr_text(p, s->node, 0)),
				     arena_printf(a, "= %s", fmt_num(a, w->vals[s->node->id])),
				     s->line ? arena_printf(a, "(line %d)", s->line) : ""};
		table_row(&t, row);
	}
	table_print(stdout, &t, "  ");

	printf("\nBackward pass, from the given ∂%s/∂%s = 1:\n", L, L);
	t.cols = 4;
	const Node *last_parent = NULL;
	for (int s = 0; s < w->n_steps; s++) {
		const Step *st = &w->steps[s];
		const char *pn = fwd_name(p, st->parent), *cn = fwd_name(p, st->child);
		bool first = st->parent != last_parent;
		last_parent = st->parent;
		const char *local = explain_value(p, st->local);
		const char *lv = fmt_num(a, st->local_v);
		const char *row[] = {
			first ? arena_printf(a, "%s = %s", pn, sched_expr_text(p, st->parent, 0)) : "",
			first ? arena_printf(a, "given ∂%s/∂%s = %s", L, pn, fmt_num(a, st->given)) : "",
			!strcmp(local, lv) ? arena_printf(a, "local gradient ∂%s/∂%s = %s", pn, cn, lv)
					   : arena_printf(a, "local gradient ∂%s/∂%s = %s = %s", pn, cn,
							  local, lv),
			arena_printf(a, "∂%s/∂%s += %s · %s = %s", L, cn, fmt_num(a, st->given), lv,
				     fmt_num(a, st->running))};
		table_row(&t, row);
	}
	table_print(stdout, &t, "  ");
	printf("\nSo, by the chain rule:\n");
	for (int i = 0; i < m->n_params; i++)
		printf("  ∂%s/∂%s = %s\n", L, m->params[i]->name,
		       fmt_num(a, w->vals[c->grad->param_grad[i]->id]));
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void explain_json(Walk *w)
{
	Compile *c = w->c;
	Prog *p = c->prog;
	Model *m = c->model;
	Arena *a = c->arena;
	printf("{\"model\": ");
	json_string(m->name);
	printf(", \"at\": {");
	for (int i = 0; i < m->n_inputs; i++)
		printf("%s\"%s\": %s", i ? ", " : "", m->inputs[i]->name, json_num(a, w->inputs[i]));
	for (int i = 0; i < m->n_params; i++)
		printf(", \"%s\": %s", m->params[i]->name, json_num(a, w->params[i]));
	printf("},\n \"forward\": [");
	for (int i = 0; i < p->forward.n; i++) {
		const PStmt *s = &p->forward.stmts[i];
		printf("%s\n  {\"name\": \"%s\", \"expr\": ", i ? "," : "", stmt_name(p, s));
		json_string(sched_expr_text(p, s->node, 0));
		printf(", \"value\": %s, \"line\": %d}", json_num(a, w->vals[s->node->id]), s->line);
	}
	printf("],\n \"backward\": [");
	for (int s = 0; s < w->n_steps; s++) {
		const Step *st = &w->steps[s];
		printf("%s\n  {\"node\": \"%s\", \"wrt\": \"%s\", \"given\": %s, \"local\": ",
		       s ? "," : "", fwd_name(p, st->parent), fwd_name(p, st->child),
		       json_num(a, st->given));
		json_string(explain_value(p, st->local));
		printf(", \"local_value\": %s, \"adds\": %s, \"adjoint\": %s}",
		       json_num(a, st->local_v), json_num(a, st->adds), json_num(a, st->running));
	}
	printf("],\n \"loss\": %s,\n \"grad\": {", json_num(a, w->vals[m->loss->node->id]));
	for (int i = 0; i < m->n_params; i++)
		printf("%s\"%s\": %s", i ? ", " : "", m->params[i]->name,
		       json_num(a, w->vals[c->grad->param_grad[i]->id]));
	printf("}}\n");
}

/* ---- command line ---- */

typedef struct ExplainOpts {
	const char *model, *at, *format, *out, *params, *dtype_name;
	Dtype dtype;
} ExplainOpts;

#define EXPLAIN_HELP                                                                  \
	"usage: symgrad explain MODEL.sg --at NAME=V[,NAME=V...] [--params P] "          \
	"[--format text|json]\n"                                                           \
	"         [--dtype double|float]\n"                                                 \
	"Prints the forward pass at a point, then the backward pass in the lecture's\n"    \
	"words: for each node the given dloss/dnode, each local gradient, and what it\n"   \
	"adds to its operands' adjoints; last every dloss/dparam.\n"                       \
	"  --at N=V,...     inputs (and params; the model's values otherwise)\n"           \
	"  --params P       params from a file (--at overrides)\n"                         \
	"  --format json    the same for tools\n"
#define GRAPH_HELP                                                                    \
	"usage: symgrad graph MODEL.sg [--at NAME=V,...] [--params P] "                    \
	"-o FILE.dot|svg|png|json\n"                                                       \
	"         [--format dot|json]\n"                                                    \
	"Writes the computational graph (Graphviz DOT; svg and png through dot),\n"        \
	"with values and gradients at the point when --at is given (6 significant\n"       \
	"digits; every digit in JSON).\n"                                                  \
	"  --at N=V,...     the point (inputs, and params to override)\n"                  \
	"  --params P       params from a file (train --save); needs --at\n"              \
	"  --format json    nodes and edges as JSON (the default for -o FILE.json)\n"

static void parse_opts(ExplainOpts *o, int argc, char **argv, bool graph)
{
	args a = {.argc = argc, .argv = argv};
	int rc;
	while ((rc = args_next(&a)) > 0) {
		if (rc == 1 && (args_is(&a, "help") || args_is(&a, "h"))) {
			exit(args_help(graph ? GRAPH_HELP : EXPLAIN_HELP));
		}
		const char **slot = rc == 2 ? &o->model
				    : args_is(&a, "at") ? &o->at
				    : args_is(&a, "params") ? &o->params
				    : args_is(&a, "format") ? &o->format
				    : args_is(&a, "o") && graph ? &o->out
				    : args_is(&a, "dtype") ? &o->dtype_name : NULL;
		if (!slot)
			diag_usage("unknown option '%s' for %s", a.arg, argv[0]);
		if (rc == 2 && o->model)
			diag_usage("more than one model file given");
		if (!(*slot = rc == 2 ? a.arg : args_value(&a)))
			exit(2);
	}
	if (rc < 0)
		exit(2);
	if (o->dtype_name && strcmp(o->dtype_name, "double") && strcmp(o->dtype_name, "float"))
		diag_usage("--dtype must be double or float, not '%s'", o->dtype_name);
	o->dtype = o->dtype_name && !strcmp(o->dtype_name, "float") ? DT_FLOAT : DT_DOUBLE;
	if (!o->model)
		diag_usage("usage: symgrad %s MODEL.sg %s", argv[0],
			   graph ? "[--at x=1,w=2] [--params P] -o FILE.dot|svg|png"
				 : "--at x=1,w=2 [--params P] [--format json]");
}

/* explain and graph write no C, so they show the model's own names: a
 * binding the C code had to rename (r, the batch's row index; a C keyword
 * or a <math.h> name) keeps its name, not the C local's "r_".  The first
 * binding of a node names it, as in sched_build; model names are distinct
 * and taken before any generated one, so the names shown stay distinct. */
static void show_model_names(Compile *c)
{
	Prog *p = c->prog;
	const Model *m = c->model;
	int n = p->dag->n;
	const char **names = arena_alloc(c->arena, (size_t)n * sizeof *names);
	bool *bound = arena_alloc(c->arena, (size_t)n);

	memcpy(names, p->names, (size_t)n * sizeof *names);
	for (int k = 0; k < m->n_lets; k++) {
		const Node *v = m->lets[k]->node;
		if (v->nargs > 0 && !bound[v->id] && names[v->id])
			names[v->id] = m->lets[k]->ident;
		bound[v->id] = true;
	}
	p->names = names;
}

static void compile_model(Compile *c, const ExplainOpts *o)
{
	c->dtype = o->dtype;
	sg_read_source(c, o->model);
	sg_compile(c);
	show_model_names(c);
}

int cmd_explain(Arena *a, int argc, char **argv)
{
	ExplainOpts o = {0};
	parse_opts(&o, argc, argv, false);
	if (!o.at)
		diag_usage("explain needs a point: --at x=2,y=4,w=1");
	if (o.format && strcmp(o.format, "text") && strcmp(o.format, "json"))
		diag_usage("--format must be text or json, not '%s'", o.format);
	Compile c = {.arena = a, .loops = SG_LOOPS_NEVER}; /* explains the scalar DAG */
	compile_model(&c, &o);
	Walk w = {&c, NULL, NULL, NULL, NULL, 0, NULL};
	walk(&w, o.at, o.params);
	if (o.format && !strcmp(o.format, "json"))
		explain_json(&w);
	else
		explain_text(&w);
	return 0; /* main reports a failed write to standard output */
}

/* ---- graph ---- */

/* A number in a picture: 6 significant digits (%.6g: 0.0304714, 1e-07),
 * so labels stay short; --format json has every digit. */
static const char *num6(Arena *a, double v)
{
	if (isnan(v))
		return "nan";
	if (isinf(v))
		return v < 0 ? "-inf" : "inf";
	return arena_printf(a, "%.6g", v);
}

static void dot_node(Buf *b, const Walk *w, const Prog *p, const Node *n)
{
	Arena *a = p->dag->arena;
	const char *L = p->model->loss->name;
	const char *name = fwd_name(p, n);
	bool leaf = n->op == OP_INPUT || n->op == OP_PARAM;
	buf_printf(b, "  n%d [label=\"%s", n->id,
		   leaf ? arena_printf(a, "%s (%s)", name, n->op == OP_PARAM ? "param" : "input")
			: arena_printf(a, "%s = %s", name, sched_expr_text(p, n, 0)));
	if (w) {
		buf_printf(b, "\\n= %s", num6(a, w->vals[n->id]));
		if (n->needs_grad)
			buf_printf(b, "\\n∂%s/∂%s = %s", L, name, num6(a, w->running[n->id]));
	}
	buf_printf(b, "\"%s];\n", n->op == OP_PARAM ? ", shape=ellipse, style=bold"
				  : leaf ? ", shape=ellipse" : "");
}

/* The DOT text of the forward graph; edges carry local gradients at --at. */
static char *dot_text(Compile *c, Walk *w)
{
	Prog *p = c->prog;
	Arena *a = c->arena;
	Buf b = {0};
	buf_printf(&b, "digraph \"%s\" {\n  rankdir=LR;\n", c->model->name);
	buf_puts(&b, "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
	buf_puts(&b, "  edge [fontname=\"Helvetica\", fontsize=10];\n");
	const Func *f = &p->forward;
	for (int i = 0; i < f->n_loads; i++)
		dot_node(&b, w, p, f->loads[i]);
	for (int i = 0; i < f->n; i++)
		dot_node(&b, w, p, f->stmts[i].node);
	for (int i = 0; i < f->n; i++) {
		const Node *n = f->stmts[i].node;
		for (int k = 0; k < n->nargs; k++) {
			const Node *arg = n->args[k];
			if (arg->op == OP_CONST)
				continue;
			buf_printf(&b, "  n%d -> n%d", arg->id, n->id);
			const Step *st = NULL;
			for (int s = 0; w && s < w->n_steps; s++)
				if (w->steps[s].parent == n && w->steps[s].child == arg)
					st = &w->steps[s];
			if (st)
				buf_printf(&b, " [label=\"∂%s/∂%s = %s\"]", fwd_name(p, n), fwd_name(p, arg),
					   num6(a, st->local_v));
			buf_puts(&b, ";\n");
		}
	}
	buf_puts(&b, "}\n");
	return b.data;
}

/* s as a JSON string. */
static void buf_json_string(Buf *b, const char *s)
{
	buf_puts(b, "\"");
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			buf_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			buf_printf(b, "\\u%04x", *s);
		else
			buf_put(b, s, 1);
	buf_puts(b, "\"");
}

/* One node of the JSON graph: id, name, kind, expression, and with --at
 * its value and adjoint, every digit. */
static void json_node(Buf *b, const Walk *w, const Prog *p, const Node *n, bool first)
{
	Arena *a = p->dag->arena;
	bool leaf = n->op == OP_INPUT || n->op == OP_PARAM;
	buf_printf(b, "%s\n  {\"id\": \"n%d\", \"name\": ", first ? "" : ",", n->id);
	buf_json_string(b, fwd_name(p, n));
	buf_printf(b, ", \"kind\": \"%s\"", n->op == OP_PARAM ? "param" : leaf ? "input" : "op");
	if (!leaf) {
		buf_puts(b, ", \"expr\": ");
		buf_json_string(b, sched_expr_text(p, n, 0));
	}
	if (w) {
		buf_printf(b, ", \"value\": %s", json_num(a, w->vals[n->id]));
		if (n->needs_grad)
			buf_printf(b, ", \"adjoint\": %s", json_num(a, w->running[n->id]));
	}
	buf_puts(b, "}");
}

/* The graph as JSON: {"model", "nodes": [...], "edges": [{"from", "to",
 * "local"}]}, the same nodes and edges as the DOT text, numbers in full. */
static char *json_text(Compile *c, Walk *w)
{
	Prog *p = c->prog;
	Arena *a = c->arena;
	const Func *f = &p->forward;
	Buf b = {0};
	bool first = true;
	buf_puts(&b, "{\"model\": ");
	buf_json_string(&b, c->model->name);
	buf_puts(&b, ",\n \"nodes\": [");
	for (int i = 0; i < f->n_loads; i++, first = false)
		json_node(&b, w, p, f->loads[i], first);
	for (int i = 0; i < f->n; i++, first = false)
		json_node(&b, w, p, f->stmts[i].node, first);
	buf_puts(&b, "],\n \"edges\": [");
	first = true;
	for (int i = 0; i < f->n; i++) {
		const Node *n = f->stmts[i].node;
		for (int k = 0; k < n->nargs; k++) {
			const Node *arg = n->args[k];
			if (arg->op == OP_CONST)
				continue;
			buf_printf(&b, "%s\n  {\"from\": \"n%d\", \"to\": \"n%d\"", first ? "" : ",",
				   arg->id, n->id);
			first = false;
			const Step *st = NULL;
			for (int s = 0; w && s < w->n_steps; s++)
				if (w->steps[s].parent == n && w->steps[s].child == arg)
					st = &w->steps[s];
			if (st)
				buf_printf(&b, ", \"local\": %s", json_num(a, st->local_v));
			buf_puts(&b, "}");
		}
	}
	buf_puts(&b, "]}\n");
	return b.data;
}

/* Runs Graphviz's dot to render text as format; its output (malloc'd, *len
 * bytes), or NULL when dot is not installed.  The result is written by
 * emit_file like every other output, never by dot itself. */
static char *render_dot(const char *text, const char *format, size_t *len)
{
	FILE *in = tmpfile();
	int out[2];
	if (!in || fputs(text, in) < 0 || fflush(in) != 0 || fseek(in, 0, SEEK_SET) != 0)
		diag_fatal("cannot write a temporary file: %s", strerror(errno));
	if (pipe(out) != 0)
		diag_fatal("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		diag_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(fileno(in), 0);
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		char fmt[16];
		snprintf(fmt, sizeof fmt, "-T%s", format);
		execlp("dot", "dot", fmt, (char *)NULL);
		_exit(127);
	}
	fclose(in);
	close(out[1]);
	Buf b = {0};
	char chunk[65536];
	ssize_t r;
	while ((r = read(out[0], chunk, sizeof chunk)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			diag_fatal("reading Graphviz's output: %s", strerror(errno));
		buf_put(&b, chunk, (size_t)r);
	}
	close(out[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		buf_free(&b);
		return NULL;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || b.len == 0)
		diag_fatal("Graphviz's dot failed to render the graph as %s", format);
	*len = b.len;
	return b.data;
}

int cmd_graph(Arena *a, int argc, char **argv)
{
	ExplainOpts o = {0};
	parse_opts(&o, argc, argv, true);
	if (!o.out)
		diag_usage("graph needs an output file: -o FILE.dot, FILE.svg, FILE.png, FILE.json "
			   "or - (DOT to stdout)");
	if (o.format && strcmp(o.format, "dot") && strcmp(o.format, "json"))
		diag_usage("--format must be dot or json, not '%s'", o.format);
	if (o.params && !o.at)
		diag_usage("--params needs --at (the inputs of the point to show)");
	const char *ext = strrchr(o.out, '.');
	ext = o.format ? o.format : !strcmp(o.out, "-") ? "dot" : ext ? ext + 1 : "";
	if (strcmp(ext, "dot") && strcmp(ext, "gv") && strcmp(ext, "svg") && strcmp(ext, "png") &&
	    strcmp(ext, "json"))
		diag_usage("-o: the file must end in .dot, .svg, .png or .json, not '%s'", o.out);
	Compile c = {.arena = a, .loops = SG_LOOPS_NEVER}; /* explains the scalar DAG */
	compile_model(&c, &o);
	Walk w = {&c, NULL, NULL, NULL, NULL, 0, NULL};
	if (o.at)
		walk(&w, o.at, o.params);
	if (!strcmp(ext, "json")) {
		char *text = json_text(&c, o.at ? &w : NULL);
		emit_file(o.out, text, strlen(text));
		free(text);
		return 0;
	}
	char *text = dot_text(&c, o.at ? &w : NULL);
	bool ok = true;
	if (!strcmp(ext, "dot") || !strcmp(ext, "gv")) {
		emit_file(o.out, text, strlen(text));
	} else {
		size_t len;
		char *image = render_dot(text, ext, &len);
		if (image)
			emit_file(o.out, image, len);
		else
			fprintf(stderr, "symgrad: error: rendering .%s needs Graphviz's 'dot', which is "
					"not installed (apt-get install graphviz), or write -o "
					"FILE.dot\n", ext);
		ok = image != NULL;
		free(image);
	}
	free(text);
	return ok ? 0 : 1;
}
