/*
 * tmpl.c: rendering the program through a sandboxed Lua 5.4 template.
 *
 * The sandbox: only the base, string, table, math and utf8 libraries, with
 * dofile, loadfile, load, require, collectgarbage, print, string.dump,
 * math.random and math.randomseed removed (no I/O, no code loading, nothing
 * that varies from run to run); the string metatable is locked; templates are
 * loaded in text mode only, so bytecode is refused.  A count hook stops a
 * template after SG_TMPL_MAX_STEPS VM instructions and the allocator refuses
 * to grow past SG_TMPL_MAX_MEM bytes.  The generator does all file I/O.
 *
 * A template is a chunk that returns a function render(model) (or a table
 * with such a field) returning an array of {suffix = ".c", text = "..."}.
 * The model table is described in README "Templates"; every list in it is an
 * array, so ipairs gives a deterministic order.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"

#define SG_TMPL_MAX_STEPS 500000000L /* VM instructions: about 5 s */
#define SG_TMPL_MAX_MEM ((size_t)512 << 20)
#define HOOK_EVERY 10000

typedef struct Sandbox {
	size_t used, limit, peak;
	long steps;
	bool out_of_memory;
} Sandbox;

/* The capped allocator: refuses to grow past the limit. */
static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	Sandbox *sb = ud;
	if (!ptr)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		sb->used -= osize;
		return NULL;
	}
	if (nsize > osize && sb->used + (nsize - osize) > sb->limit) {
		sb->out_of_memory = true;
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (p)
		sb->used += nsize - osize;
	if (sb->used > sb->peak)
		sb->peak = sb->used;
	return p;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	Sandbox *sb;
	lua_getallocf(L, (void **)&sb);
	sb->steps += HOOK_EVERY;
	if (sb->steps > SG_TMPL_MAX_STEPS) {
		luaL_where(L, 0); /* the running Lua function's line */
		lua_pushfstring(L, "template exceeded the limit of %d instructions",
				(int)SG_TMPL_MAX_STEPS);
		lua_concat(L, 2);
		lua_error(L);
	}
}

static void open_lib(lua_State *L, const char *name, lua_CFunction f)
{
	luaL_requiref(L, name, f, 1);
	lua_pop(L, 1);
}

static void remove_field(lua_State *L, const char *table, const char *field)
{
	if (table) {
		lua_getglobal(L, table);
		lua_pushnil(L);
		lua_setfield(L, -2, field);
		lua_pop(L, 1);
	} else {
		lua_pushnil(L);
		lua_setglobal(L, field);
	}
}

static lua_State *sandbox_new(Sandbox *sb)
{
	lua_State *L = lua_newstate(sandbox_alloc, sb);
	if (!L)
		diag_fatal("cannot create the Lua state for the template");
	open_lib(L, LUA_GNAME, luaopen_base);
	open_lib(L, LUA_STRLIBNAME, luaopen_string);
	open_lib(L, LUA_TABLIBNAME, luaopen_table);
	open_lib(L, LUA_MATHLIBNAME, luaopen_math);
	open_lib(L, LUA_UTF8LIBNAME, luaopen_utf8);
	static const char *const base[] = {"dofile", "loadfile", "load", "require",
					   "collectgarbage", "print", NULL};
	for (int i = 0; base[i]; i++)
		remove_field(L, NULL, base[i]);
	remove_field(L, "string", "dump");
	remove_field(L, "math", "random");
	remove_field(L, "math", "randomseed");
	/* Lock the string metatable: getmetatable("") returns false. */
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 2);
	lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
	/* Templates make many short-lived strings: the generational collector
	 * frees them young. */
	lua_gc(L, LUA_GCGEN, 0, 0);
	return L;
}

/* ---- the model as Lua tables ---- */

static void set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, long v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, bool v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, k);
}

/* Scalars, flat: params, inputs, outputs or bindings.  An element of a
 * tensor also names its tensor and its offset in it. */
static void push_symbols(lua_State *L, const Prog *p, Symbol **syms, int n, bool outputs)
{
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		Symbol *s = syms[i];
		int index = outputs ? i : s->index;
		lua_createtable(L, 0, 8);
		set_str(L, "name", s->name);
		set_str(L, "ident", s->ident);
		set_int(L, "index", index);
		set_int(L, "line", s->loc.line);
		if (s->tensor) {
			set_str(L, "tensor", s->tensor->ident);
			set_int(L, "offset", s->offset);
		}
		if (p && s->node && (s->kind == SYM_LET || s->node->nargs == 0))
			set_str(L, "value", sched_operand(p, s->node));
		if (p && s->node && s->node->op != OP_CONST && p->names[s->node->id])
			set_str(L, "cname", p->names[s->node->id]);
		if (s->kind == SYM_PARAM) {
			char b[64];
			fmt_c_literal(b, sizeof b, s->init, DT_DOUBLE);
			set_str(L, "init", b);
			fmt_shortest(b, sizeof b, s->init, DT_DOUBLE);
			set_str(L, "init_text", b);
		}
		lua_rawseti(L, -2, i + 1);
	}
}

/* Names as declared, scalar or tensor, each with its first index and size:
 * what the header's NAME_PARAM_x constants name. */
static void push_groups(lua_State *L, Symbol **flat, int n)
{
	lua_newtable(L);
	int k = 0;
	for (int i = 0; i < n;) {
		Symbol *t = flat[i]->tensor ? flat[i]->tensor : flat[i];
		lua_createtable(L, 0, 5);
		set_str(L, "name", t->ident);
		set_int(L, "index", i);
		set_int(L, "size", t->size);
		set_int(L, "rank", t->shape.rank);
		lua_createtable(L, t->shape.rank, 0);
		for (int r = 0; r < t->shape.rank; r++) {
			lua_pushinteger(L, t->shape.dim[r]);
			lua_rawseti(L, -2, r + 1);
		}
		lua_setfield(L, -2, "dims");
		lua_rawseti(L, -2, ++k);
		i += t->size;
	}
}

static void push_func(lua_State *L, const Prog *p, const Func *f)
{
	lua_createtable(L, 0, 4);
	lua_createtable(L, f->n_loads, 0);
	for (int i = 0; i < f->n_loads; i++) {
		const Node *n = f->loads[i];
		lua_createtable(L, 0, 6);
		set_str(L, "cname", p->names[n->id]);
		set_str(L, "name", n->sym->name);
		set_str(L, "ident", n->sym->ident);
		set_str(L, "kind", n->op == OP_PARAM ? "param" : "input");
		set_int(L, "index", n->sym->index);
		if (n->sym->tensor) {
			set_str(L, "tensor", n->sym->tensor->ident);
			set_int(L, "offset", n->sym->offset);
		}
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "loads");
	lua_createtable(L, f->n, 0);
	for (int i = 0; i < f->n; i++) {
		const PStmt *s = &f->stmts[i];
		lua_createtable(L, 0, 7);
		set_str(L, "name", s->name);
		set_str(L, "op", op_info[s->node->op].name);
		set_str(L, "expr", s->expr);
		set_str(L, "row_expr", sched_row_expr(p, s->node));
		/* a call into <math.h>: a loop with one does not vectorize */
		switch (s->node->op) {
		case OP_POW: case OP_EXP: case OP_LOG: case OP_SQRT: case OP_SIN: case OP_COS:
		case OP_TAN: case OP_TANH: case OP_SIGMOID: case OP_SOFTPLUS:
			set_bool(L, "call", true);
			break;
		default:
			break;
		}
		set_str(L, "comment", s->comment);
		set_int(L, "line", s->line);
		set_bool(L, "backward", s->backward);
		lua_createtable(L, s->node->nargs, 0);
		for (int k = 0; k < s->node->nargs; k++) {
			lua_pushstring(L, sched_operand(p, s->node->args[k]));
			lua_rawseti(L, -2, k + 1);
		}
		lua_setfield(L, -2, "args");
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "stmts");
	set_int(L, "forward_ops", f->n_fwd_ops);
	set_int(L, "backward_ops", f->n_bwd_ops);
}

/* Operands as C text: sched_operand ("t3", "w"), or sched_row_operand for
 * the batch's row blocks ("t3[r]", "w"). */
static void push_operands(lua_State *L, const Prog *p, Node **nodes, int n, const char *key,
			  const char *(*text)(const Prog *, const Node *))
{
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		lua_pushstring(L, text(p, nodes[i]));
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, key);
}

/* The chain rule as data: per adjoint, the parents it sums over. */
static void push_adjoints(lua_State *L, const Prog *p)
{
	const Grad *g = p->grad;
	const Dag *d = p->dag;
	lua_newtable(L);
	int k = 0;
	for (int i = g->n_forward - 1; i >= 0; i--) {
		const Node *n = d->nodes[i];
		if (!g->adj[i] || !p->names[i] || n->op == OP_CONST)
			continue;
		lua_createtable(L, 0, 4);
		set_str(L, "name", p->names[i]);
		set_str(L, "value", sched_value_text(p, g->adj[i]));
		set_bool(L, "param", n->op == OP_PARAM);
		lua_newtable(L);
		int t = 0;
		const Node *last = NULL;
		const Contrib *list[256];
		int nl = 0;
		for (const Contrib *c = g->contribs[i]; c && nl < 256; c = c->next)
			list[nl++] = c;
		for (int j = nl - 1; j >= 0; j--) {
			if (list[j]->parent == last)
				continue;
			last = list[j]->parent;
			lua_createtable(L, 0, 3);
			set_str(L, "parent", p->names[last->id] ? p->names[last->id] : "?");
			set_bool(L, "is_loss", last == p->model->loss->node);
			set_str(L, "local_expr", explain_expr(p, last, 0));
			lua_rawseti(L, -2, ++t);
		}
		lua_setfield(L, -2, "terms");
		lua_rawseti(L, -2, ++k);
	}
}

/* model.canonical(i): dloss/dparam[i] expanded to canonical form, as text
 * and as LaTeX (nil when too large).  A function, so only templates that
 * ask pay for the expansion. */
static int lua_canonical(lua_State *L)
{
	const Prog *p = lua_touserdata(L, lua_upvalueindex(1));
	Canon **memo = lua_touserdata(L, lua_upvalueindex(2));
	lua_Integer i = luaL_checkinteger(L, 1);
	luaL_argcheck(L, i >= 1 && i <= p->model->n_params, 1, "no such param");
	Arena *a = p->dag->arena;
	Canon *c = canon_of_memo(a, p->dag, p->grad->param_grad[i - 1], memo);
	if (!c)
		return 0;
	lua_pushstring(L, canon_text(a, c, false));
	lua_pushstring(L, canon_text(a, c, true));
	return 2;
}

/* A loop program's function body: {kind = "stmt", text = ..., comment = ...},
 * {kind = "for", var = "i", from = 0, to = 99} (down when from > to),
 * {kind = "if", text = condition}, {kind = "end"}, {kind = "comment"},
 * {kind = "blank"}. */
static void push_lfunc(lua_State *L, const LFunc *f)
{
	static const char *const kinds[] = {"stmt", "comment", "blank", "for", "if", "end"};
	lua_createtable(L, 0, 2);
	lua_createtable(L, f->n, 0);
	for (int i = 0; i < f->n; i++) {
		const LItem *it = &f->items[i];
		lua_createtable(L, 0, 4);
		set_str(L, "kind", kinds[it->kind]);
		if (it->text)
			set_str(L, "text", it->text);
		if (it->comment)
			set_str(L, "comment", it->comment);
		if (it->kind == LI_FOR) {
			set_str(L, "var", it->var);
			set_int(L, "from", it->from);
			set_int(L, "to", it->to);
		}
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "items");
	set_int(L, "ops", f->ops);
}

static void push_model(lua_State *L, const Prog *p, const LoopProg *lp, const TmplOpts *o)
{
	const Model *m = p ? p->model : lp->model;
	Arena *a = p ? p->dag->arena : lp->arena;
	lua_createtable(L, 0, 24);
	set_str(L, "name", m->name);
	set_str(L, "NAME", arena_upper(a, m->name));
	set_str(L, "source", o->model_path);
	set_str(L, "version", sg_version);
	set_str(L, "header", o->header_name);
	bool f = (p ? p->dag->dtype : lp->dtype) == DT_FLOAT;
	set_str(L, "dtype", f ? "float" : "double");
	set_str(L, "real", f ? "float" : "double");
	set_str(L, "lit_suffix", f ? "f" : "");
	set_bool(L, "vector_math", o->vector_math);
	set_str(L, "loss_name", m->loss->name);
	set_str(L, "loss", p ? sched_operand(p, m->loss->node) : lp->loss);
	push_symbols(L, p, m->params, m->n_params, false);
	lua_setfield(L, -2, "params");
	push_symbols(L, p, m->inputs, m->n_inputs, false);
	lua_setfield(L, -2, "inputs");
	push_symbols(L, p, m->outputs, m->n_outputs, true);
	lua_setfield(L, -2, "outputs");
	push_symbols(L, p, m->lets, m->n_lets, false);
	lua_setfield(L, -2, "bindings");
	push_groups(L, m->params, m->n_params);
	lua_setfield(L, -2, "param_groups");
	push_groups(L, m->inputs, m->n_inputs);
	lua_setfield(L, -2, "input_groups");
	push_groups(L, m->outputs, m->n_outputs);
	lua_setfield(L, -2, "output_groups");
	/* the model's statements, for header comments */
	lua_createtable(L, m->n_lets, 0);
	for (int i = 0, k = 0; i < m->n_lets; i++) {
		const Symbol *s = m->lets[i];
		if (s->tensor && s->tensor->elems[0] != s)
			continue; /* a tensor binding is one statement */
		lua_pushstring(L, s->stmt->text);
		lua_rawseti(L, -2, ++k);
	}
	lua_setfield(L, -2, "statements");
	if (!p) {
		/* model.loop: the loop program; the scalar program's fields are absent */
		lua_createtable(L, 0, 5);
		push_lfunc(L, &lp->forward);
		lua_setfield(L, -2, "forward");
		push_lfunc(L, &lp->backward);
		lua_setfield(L, -2, "backward");
		push_lfunc(L, &lp->predict);
		lua_setfield(L, -2, "predict");
		set_int(L, "tensors", lp->n_tensors);
		set_int(L, "kernels", lp->n_kernels);
		lua_setfield(L, -2, "loop");
		return;
	}
	push_func(L, p, &p->forward);
	lua_setfield(L, -2, "forward");
	push_func(L, p, &p->backward);
	push_operands(L, p, p->grad->param_grad, m->n_params, "grads", sched_operand);
	push_operands(L, p, p->grad->param_grad, m->n_params, "row_grads", sched_row_operand);
	set_str(L, "row_loss", sched_row_operand(p, m->loss->node));
	lua_setfield(L, -2, "backward");
	push_func(L, p, &p->predict);
	lua_setfield(L, -2, "predict");
	Node **outs = arena_alloc(a, (size_t)(m->n_outputs + 1) * sizeof *outs);
	for (int i = 0; i < m->n_outputs; i++)
		outs[i] = m->outputs[i]->node;
	push_operands(L, p, outs, m->n_outputs, "output_values", sched_operand);
	push_adjoints(L, p);
	lua_setfield(L, -2, "adjoints");
	lua_pushlightuserdata(L, (void *)p);
	lua_pushlightuserdata(L, arena_alloc(a, (size_t)p->dag->n * sizeof(Canon *)));
	lua_pushcclosure(L, lua_canonical, 2);
	lua_setfield(L, -2, "canonical");
}

/* ---- running ---- */

typedef struct RenderArgs {
	const Prog *p;
	const LoopProg *lp;
	const TmplOpts *o;
	TmplFile *files;    /* collected results, freed by the caller on error */
	int n;
} RenderArgs;

/* Copies render()'s array of {suffix, text} out of Lua, with raw accesses
 * only: a result's metamethods never run. */
static void collect(lua_State *L, RenderArgs *ra)
{
	if (!lua_istable(L, -1))
		luaL_error(L, "render() must return an array of {suffix = ..., text = ...}");
	lua_Unsigned count = lua_rawlen(L, -1);
	if (count > 64)
		luaL_error(L, "render() returned %d files; at most 64", (int)count);
	ra->files = xrealloc(NULL, (size_t)(count ? count : 1) * sizeof *ra->files);
	for (int i = 0; i < (int)count; i++) {
		lua_rawgeti(L, -1, i + 1);
		if (!lua_istable(L, -1))
			luaL_error(L, "render() result %d is not a table {suffix = ..., text = ...}", i + 1);
		lua_pushliteral(L, "suffix");
		lua_rawget(L, -2);
		lua_pushliteral(L, "text");
		lua_rawget(L, -3);
		if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "render() result %d needs a string suffix and a string text", i + 1);
		size_t len;
		const char *text = lua_tolstring(L, -1, &len);
		TmplFile *tf = &ra->files[i];
		tf->suffix = strdup(lua_tostring(L, -2));
		tf->text = xrealloc(NULL, len + 1);
		memcpy(tf->text, text, len + 1);
		tf->len = len;
		ra->n = i + 1;
		lua_pop(L, 3);
	}
}

/* In protected mode: builds the model table, calls render(model) and
 * collects its result, so any Lua error ends as a message, never a panic. */
static int render_call(lua_State *L)
{
	/* 1: the chunk's result, 2: RenderArgs */
	RenderArgs *ra = lua_touserdata(L, 2);
	lua_pop(L, 1);
	push_model(L, ra->p, ra->lp, ra->o);
	if (lua_istable(L, 1)) {
		lua_pushliteral(L, "render");
		lua_rawget(L, 1);
		lua_replace(L, 1);
	}
	if (!lua_isfunction(L, 1))
		luaL_error(L, "the template must return a function render(model) or a table "
			      "with one");
	lua_call(L, 1, 1); /* render(model) */
	collect(L, ra);
	return 0;
}

/* Lua's last resort: an error outside any protected call. */
static int panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);
	fprintf(stderr, "symgrad: internal error: unprotected Lua error: %s\n",
		msg ? msg : "?");
	abort();
}

/* Prints a template error as "TEMPLATE:LINE: message", adding the
 * template's name where Lua's message has no position. */
static void report_error(lua_State *L, const Sandbox *sb, const TmplOpts *o)
{
	const char *msg = lua_tostring(L, -1);
	size_t n = strlen(o->template_name);
	if (sb->out_of_memory)
		fprintf(stderr, "%s: error: template exceeded the memory limit of %zu MiB\n",
			o->template_name, SG_TMPL_MAX_MEM >> 20);
	else if (msg && !strncmp(msg, o->template_name, n) && msg[n] == ':')
		fprintf(stderr, "%s\n", msg);
	else
		fprintf(stderr, "%s: error: %s\n", o->template_name, msg ? msg : "template error");
}

int tmpl_render(const Prog *p, const LoopProg *lp, TmplOpts *o, TmplFile **files)
{
	Sandbox sb = {0, SG_TMPL_MAX_MEM, 0, 0, false};
	lua_State *L = sandbox_new(&sb);
	lua_atpanic(L, panic);
	char *chunk = arena_printf(p ? p->dag->arena : lp->arena, "@%s", o->template_name);
	RenderArgs ra = {p, lp, o, NULL, 0};
	int rc = luaL_loadbufferx(L, o->template_src, o->template_len, chunk, "t");
	if (rc == LUA_OK)
		rc = lua_pcall(L, 0, 1, 0);
	if (rc == LUA_OK) {
		lua_pushcfunction(L, render_call);
		lua_insert(L, -2);
		lua_pushlightuserdata(L, &ra);
		rc = lua_pcall(L, 2, 0, 0);
	}
	if (rc != LUA_OK)
		report_error(L, &sb, o);
	lua_close(L);
	o->steps = sb.steps;
	o->memory = sb.peak;
	if (rc != LUA_OK) {
		for (int i = 0; i < ra.n; i++)
			free(ra.files[i].suffix), free(ra.files[i].text);
		free(ra.files);
		*files = NULL;
		return -1;
	}
	*files = ra.files;
	return ra.n;
}
