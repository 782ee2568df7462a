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
 *           | IDENT "=" expr
 *   decl    = IDENT [ "[" NUM { "," NUM } "]" ]
 *   expr    = term { ("+" | "-") term }
 *   term    = unary { ("*" | "/") unary }
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

typedef struct Parser {
	Arena *arena;
	Model *m;
	const Token *tok;
	int depth;
	const Token **out_toks; /* output names, resolved at the end */
	int n_out, cap_out;
} Parser;

static const char *const keywords[] = {"model", "input", "param", "output", NULL};

/* ---- symbol table ---- */

static uint32_t hash_name(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
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

/* ---- helpers ---- */

static const char *tok_desc(Parser *p, const Token *t)
{
	switch (t->kind) {
	case TK_NEWLINE: return "end of line";
	case TK_EOF: return "end of file";
	default: return arena_printf(p->arena, "'%.*s'", t->len, t->text);
	}
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
	Expr *e = arena_alloc(p->arena, sizeof *e);
	e->kind = kind;
	e->loc = loc;
	return e;
}

/* Declares a new name; redefinitions and reserved words are errors. */
static Symbol *declare(Parser *p, const Token *t, SymKind kind)
{
	Op op;
	if (is_keyword(t))
		diag_error(t->loc, "'%.*s' is a keyword and cannot be a name", t->len, t->text);
	if (op_lookup_func(t->text, (size_t)t->len, &op))
		diag_error(t->loc, "'%.*s' is a built-in function and cannot be a name",
			   t->len, t->text);
	Symbol *old = parse_lookup(p->m, t->text, (size_t)t->len);
	if (old)
		diag_error(t->loc, "redefinition of '%s' (first defined at line %d)",
			   old->name, old->loc.line);
	Symbol *s = arena_alloc(p->arena, sizeof *s);
	s->kind = kind;
	s->name = arena_strndup(p->arena, t->text, (size_t)t->len);
	s->loc = t->loc;
	table_insert(p->arena, p->m, s);
	return s;
}

/* ---- expressions ---- */

static Expr *expr(Parser *p);

static void enter(Parser *p)
{
	if (++p->depth > SG_MAX_DEPTH)
		diag_error(p->tok->loc, "expression nested deeper than %d levels (limit)",
			   SG_MAX_DEPTH);
}

/* call = IDENT "(" expr { "," expr } ")" */
static Expr *call(Parser *p, const Token *name)
{
	Op op;
	if (!op_lookup_func(name->text, (size_t)name->len, &op))
		diag_error(name->loc, "unknown function '%.*s'", name->len, name->text);
	Expr *e = new_expr(p, E_CALL, name->loc);
	e->op = op;
	const Token *open = p->tok - 1;
	Expr *args[8];
	int n = 0;
	if (!lex_is(p->tok, ")")) {
		do {
			Expr *a = expr(p);
			if (n < 8)
				args[n] = a;
			n++;
		} while (accept(p, ","));
	}
	if (!lex_is(p->tok, ")"))
		diag_error(p->tok->kind == TK_EOF || p->tok->kind == TK_NEWLINE ? open->loc : p->tok->loc,
			   p->tok->kind == TK_EOF || p->tok->kind == TK_NEWLINE
				   ? "unbalanced parentheses: '(' is never closed%s"
				   : "expected ',' or ')' in call%s", "");
	const Token *close = p->tok++;
	if (n != op_info[op].arity) {
		Loc l = name->loc;
		l.len = (int)(close->text + 1 - name->text);
		diag_error(l, "function '%s' takes %d argument%s, but %d %s given",
			   op_info[op].spelling, op_info[op].arity,
			   op_info[op].arity == 1 ? "" : "s", n, n == 1 ? "was" : "were");
	}
	e->nargs = n;
	e->args = arena_alloc(p->arena, (size_t)n * sizeof *e->args);
	memcpy(e->args, args, (size_t)n * sizeof *args);
	return e;
}

/* primary = NUM | IDENT | call | "(" expr ")" */
static Expr *primary(Parser *p)
{
	const Token *t = p->tok;
	if (t->kind == TK_NUM) {
		p->tok++;
		Expr *e = new_expr(p, E_NUM, t->loc);
		e->num = t->num;
		return e;
	}
	if (t->kind == TK_IDENT) {
		p->tok++;
		if (accept(p, "("))
			return call(p, t);
		Op op;
		if (op_lookup_func(t->text, (size_t)t->len, &op))
			diag_error(t->loc, "function '%.*s' needs arguments: %.*s(...)",
				   t->len, t->text, t->len, t->text);
		Symbol *s = parse_lookup(p->m, t->text, (size_t)t->len);
		if (!s)
			diag_error(t->loc, "unknown name '%.*s'", t->len, t->text);
		s->used = true;
		Expr *e = new_expr(p, E_NAME, t->loc);
		e->sym = s;
		return e;
	}
	if (accept(p, "(")) {
		Expr *e = expr(p);
		if (!lex_is(p->tok, ")")) {
			if (p->tok->kind == TK_EOF || p->tok->kind == TK_NEWLINE)
				diag_error(t->loc, "unbalanced parentheses: '(' is never closed");
			diag_error(p->tok->loc, "expected ')', found %s", tok_desc(p, p->tok));
		}
		p->tok++;
		return e;
	}
	diag_error(t->loc, "expected an expression, found %s", tok_desc(p, t));
}

static Expr *binary(Parser *p, Op op, const Token *t, Expr *a, Expr *b)
{
	Expr *e = new_expr(p, E_BINARY, t->loc);
	e->op = op;
	e->nargs = 2;
	e->args = arena_alloc(p->arena, 2 * sizeof *e->args);
	e->args[0] = a;
	e->args[1] = b;
	return e;
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

/* unary = "-" unary | power */
static Expr *unary(Parser *p)
{
	enter(p);
	const Token *t = p->tok;
	Expr *e;
	if (accept(p, "-")) {
		e = new_expr(p, E_UNARY, t->loc);
		e->op = OP_NEG;
		e->nargs = 1;
		e->args = arena_alloc(p->arena, sizeof *e->args);
		e->args[0] = unary(p);
	} else {
		e = power(p);
	}
	p->depth--;
	return e;
}

/* term = unary { ("*" | "/") unary } */
static Expr *term(Parser *p)
{
	Expr *e = unary(p);
	for (;;) {
		const Token *t = p->tok;
		if (accept(p, "*"))
			e = binary(p, OP_MUL, t, e, unary(p));
		else if (accept(p, "/"))
			e = binary(p, OP_DIV, t, e, unary(p));
		else
			return e;
	}
}

/* expr = term { ("+" | "-") term } */
static Expr *expr(Parser *p)
{
	enter(p);
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
	p->depth--;
	return e;
}

Expr *parse_expr_at(Arena *a, Model *m, const Token **pos)
{
	Parser p = {a, m, *pos, 0, NULL, 0, 0};
	Expr *e = expr(&p);
	*pos = p.tok;
	return e;
}

/* ---- statements ---- */

/* Evaluates a parameter's initializer, which may only use numbers. */
static double const_value(const Expr *e)
{
	switch (e->kind) {
	case E_NUM:
		return e->num;
	case E_UNARY:
		return -const_value(e->args[0]);
	case E_BINARY: {
		double a = const_value(e->args[0]), b = const_value(e->args[1]), r;
		if (!simp_fold(DT_DOUBLE, e->op, a, b, &r))
			r = pow(a, b);
		return r;
	}
	case E_NAME:
	case E_CALL:
		break;
	}
	diag_error(e->loc, "an initial value must be a number");
}

/* decl = IDENT [ "[" NUM { "," NUM } "]" ] */
static Symbol *decl(Parser *p, SymKind kind)
{
	const Token *t = expect_ident(p, "a name");
	Symbol *s = declare(p, t, kind);
	if (lex_is(p->tok, "["))
		diag_error(p->tok->loc, "vector and matrix shapes are not supported yet");
	return s;
}

static void stmt_input(Parser *p)
{
	do {
		Symbol *s = decl(p, SYM_INPUT);
		s->index = p->m->n_inputs;
		list_push(p->arena, &p->m->inputs, &p->m->n_inputs, s);
	} while (accept(p, ","));
}

static void stmt_param(Parser *p)
{
	do {
		Symbol *s = decl(p, SYM_PARAM);
		if (!lex_is(p->tok, "="))
			diag_error(p->tok->loc, "parameter '%s' needs an initial value: param %s = 0.5",
				   s->name, s->name);
		p->tok++;
		const Token *at = p->tok;
		s->init = const_value(expr(p));
		if (!isfinite(s->init))
			diag_error(at->loc, "initial value of '%s' is not finite", s->name);
		s->index = p->m->n_params;
		list_push(p->arena, &p->m->params, &p->m->n_params, s);
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
	if (t->text[0] == '_' || dunder)
		diag_error(t->loc, "model name '%.*s' may not start with '_' or contain '__'",
			   t->len, t->text);
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
	if (!lex_is(p->tok, "="))
		diag_error(p->tok->loc, "expected '=' after '%.*s', found %s", name->len,
			   name->text, tok_desc(p, p->tok));
	p->tok++;
	Expr *value = expr(p);
	Symbol *s = declare(p, name, SYM_LET); /* after the value: no self-reference */
	s->value = value;
	Stmt *st = arena_alloc(p->arena, sizeof *st);
	st->sym = s;
	st->loc = name->loc;
	st->text = line_text(p, name);
	s->stmt = st;
	list_push(p->arena, &p->m->lets, &p->m->n_lets, s);
	if (!strcmp(s->name, "loss"))
		p->m->loss = s;
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
	char *s = arena_alloc(a, n + 3);
	size_t k = 0;
	if (n == 0 || (base[0] >= '0' && base[0] <= '9') || base[0] == '_')
		s[k++] = 'm', s[k++] = '_';
	for (size_t i = 0; i < n; i++) {
		char c = base[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (ok || (k && s[k - 1] != '_'))
			s[k++] = ok ? c : '_';
	}
	if (k > SG_MAX_IDENT)
		k = SG_MAX_IDENT;
	s[k] = '\0';
	return s;
}

static void resolve_outputs(Parser *p)
{
	for (int i = 0; i < p->n_out; i++) {
		const Token *t = p->out_toks[i];
		Symbol *s = parse_lookup(p->m, t->text, (size_t)t->len);
		if (!s)
			diag_error(t->loc, "unknown name '%.*s' in output", t->len, t->text);
		for (int j = 0; j < p->m->n_outputs; j++)
			if (p->m->outputs[j] == s)
				diag_error(t->loc, "'%s' is already an output", s->name);
		s->used = true;
		list_push(p->arena, &p->m->outputs, &p->m->n_outputs, s);
	}
}

Model *parse_model(Arena *a, const Source *src, const Token *toks)
{
	Model *m = arena_alloc(a, sizeof *m);
	m->src = src;
	Parser p = {a, m, toks, 0, NULL, 0, 0};
	while (p.tok->kind != TK_EOF) {
		if (p.tok->kind != TK_NEWLINE)
			statement(&p);
		if (p.tok->kind == TK_NEWLINE)
			p.tok++;
	}
	resolve_outputs(&p);
	Loc end = p.tok->loc;
	if (!m->n_lets && !m->n_params && !m->n_inputs)
		diag_error((Loc){src, 1, 1, 1}, "empty model: expected inputs, params and a "
						 "'loss = ...' statement");
	if (!m->loss)
		diag_error(end, "the model has no 'loss = ...' statement");
	if (!m->n_params)
		diag_error(m->loss->loc, "the model has no 'param': nothing to differentiate");
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
	default:
		fprintf(out, "(%s", op_info[e->op].spelling);
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
		fprintf(out, "%s = ", m->lets[i]->name);
		dump_expr(out, m->lets[i]->value);
		fprintf(out, "  # line %d\n", m->lets[i]->loc.line);
	}
	for (int i = 0; i < m->n_outputs; i++)
		fprintf(out, "output %s\n", m->outputs[i]->name);
}
