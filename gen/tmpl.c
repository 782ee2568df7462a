/*
 * tmpl.c: rendering the program through a sandboxed Lua 5.4 template.
 *
 * The sandbox: only the base, string, table, math and utf8 libraries, with
 * dofile, loadfile, load, require, collectgarbage, print, string.dump,
 * math.random and math.randomseed removed (no I/O, no code loading, nothing
 * that varies from run to run); the string metatable is locked; templates are
 * loaded in text mode only, so bytecode is refused.  The generator does all
 * file I/O, and a render() result only names a suffix ("_extra.c"), never a
 * path.
 *
 * A template cannot hang or exhaust the machine.  The real limit is a count
 * of steps, the same on every machine: a count hook adds the VM instructions,
 * and the library functions that can loop in C without making anything
 * (pattern matching, which backtracks; the table functions over ranges and
 * #t; string.rep of empty strings) are replaced by copies of Lua 5.4's own
 * that count their work as instructions (tmpl_lib.c).  What no count sees is kept out:
 * __gc (finalizers run with hooks off) and __mode (the collector's work on
 * weak-keyed tables is quadratic, in one step); coroutines, which would need
 * hooks of their own, are not opened.  Once a limit is hit the template stays
 * stopped: pcall cannot catch it, and every later instruction or allocation
 * fails.  The allocator caps memory, and a CPU-time backstop, far above what
 * the step limit allows, catches whatever costs more than its count (one
 * instruction on a string near the memory cap): it is polled by the hook and
 * by the allocator.
 *
 * A template is a chunk that returns a function render(model) (or a table
 * with such a field) returning an array of {suffix = ".c", text = "..."}.
 * The model table is described in README "Templates"; every list in it is an
 * array, so ipairs gives a deterministic order.
 */
#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sg.h"
#include "tmpl_lib.h"

#define SG_TMPL_MAX_STEPS 500000000L /* instructions: about 1.5 s */
#define SG_TMPL_MAX_MEM ((size_t)512 << 20)
/* Each statement, param, input and output handed to the template adds to
 * its budget, so a model within the generator's limits always renders:
 * the built-in C template needs about 1.2 KiB and 210 instructions for one. */
#define SG_TMPL_STEPS_PER_ITEM 2000L
#define SG_TMPL_MEM_PER_ITEM ((size_t)4 << 10)
#define SG_TMPL_MEM_CAP ((size_t)16 << 30) /* never more, whatever the model */
#define SG_TMPL_CPU_PER_ITEM 50e-6            /* seconds: the backstop grows too */
#define SG_TMPL_MAX_CPU 60.0         /* seconds */
#define HOOK_EVERY 1000              /* instructions between two hook calls */
#define CPU_POLL 0.05                /* wall seconds between two CPU-time reads */
#define CPU_POLL_BYTES ((size_t)16 << 20) /* or bytes allocated */
#define SUFFIX_MAX 64

typedef struct Sandbox {
	TmplLimits lim;
	size_t used, peak;
	long steps;               /* instructions, and library work counted alike */
	bool out_of_memory;
	bool stopped;             /* a limit stopped the template: nothing runs any more */
	char why[LUA_IDSIZE + 96]; /* "file:line: template exceeded ..." */
	double cpu0;              /* CPU time when the template started */
	double next_poll;         /* wall time of the next CPU-time read */
	size_t grown, next_grown; /* bytes allocated, and when to poll next */
} Sandbox;

static Sandbox *sandbox_of(lua_State *L)
{
	void *sb;
	lua_getallocf(L, &sb);
	return sb;
}

static double clock_seconds(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Whether the template has used more CPU time than allowed.  Reading the
 * CPU clock is a system call (over a microsecond); the wall clock (tens of
 * nanoseconds, and never behind the CPU clock) rations it. */
static bool cpu_exceeded(Sandbox *sb)
{
	double now = clock_seconds(CLOCK_MONOTONIC);
	if (now < sb->next_poll)
		return false;
	sb->next_poll = now + CPU_POLL;
	return clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - sb->cpu0 > sb->lim.cpu_seconds;
}

/* Marks the template stopped, keeping the message with the line of the
 * innermost running Lua function, as luaL_where would; without L (in the
 * allocator) the message has no line. */
static void mark_stopped(lua_State *L, Sandbox *sb, bool cpu)
{
	char where[LUA_IDSIZE + 24] = "";
	lua_Debug ar;
	for (int level = 0; L && lua_getstack(L, level, &ar); level++) {
		lua_getinfo(L, "Sl", &ar);
		if (ar.currentline > 0) {
			snprintf(where, sizeof where, "%s:%d: ", ar.short_src, ar.currentline);
			break;
		}
	}
	if (cpu)
		snprintf(sb->why, sizeof sb->why, "%stemplate exceeded the CPU time limit of %g s",
			 where, sb->lim.cpu_seconds);
	else
		snprintf(sb->why, sizeof sb->why, "%stemplate exceeded the limit of %ld instructions",
			 where, sb->lim.steps);
	sb->stopped = true;
}

static void count_hook(lua_State *L, lua_Debug *ar);

/* Raises the stopped template's error; whatever Lua code runs after (a
 * __close handler) stops at its first instruction.  Does not return. */
static int raise_stopped(lua_State *L, Sandbox *sb)
{
	lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
	lua_pushstring(L, sb->why); /* when allocation fails, the memory error does as well */
	return lua_error(L);
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	Sandbox *sb = sandbox_of(L);
	sb->steps += HOOK_EVERY;
	if (!sb->stopped && sb->steps > sb->lim.steps)
		mark_stopped(L, sb, false);
	else if (!sb->stopped && cpu_exceeded(sb))
		mark_stopped(L, sb, true);
	if (sb->stopped)
		raise_stopped(L, sb);
}

/* Counts n steps of a library function's work, stopping the template when
 * they pass the limit. */
static void charge(lua_State *L, Sandbox *sb, lua_Unsigned n)
{
	if (!sb->stopped && n > (lua_Unsigned)(sb->lim.steps - sb->steps))
		mark_stopped(L, sb, false);
	if (sb->stopped)
		raise_stopped(L, sb);
	sb->steps += (long)n;
}

/* Counts n steps of library work done in C (tmpl_lib.c) against the
 * template's instruction budget. */
void tmpl_charge(lua_State *L, lua_Unsigned n)
{
	charge(L, sandbox_of(L), n);
}

/* The capped allocator: refuses to grow past the limit, or at all once the
 * template is stopped; every CPU_POLL_BYTES it polls the CPU time, since one
 * instruction can copy hundreds of MiB. */
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
	if (nsize > osize) {
		if (sb->stopped)
			return NULL;
		if (sb->used + (nsize - osize) > sb->lim.memory) {
			sb->out_of_memory = true;
			return NULL;
		}
		sb->grown += nsize - osize;
		if (sb->grown >= sb->next_grown) {
			sb->next_grown = sb->grown + CPU_POLL_BYTES;
			if (cpu_exceeded(sb)) {
				mark_stopped(NULL, sb, true);
				return NULL;
			}
		}
	}
	void *p = realloc(ptr, nsize);
	if (p)
		sb->used += nsize - osize;
	if (sb->used > sb->peak)
		sb->peak = sb->used;
	return p;
}

/* ---- the base library, guarded ---- */

/* Whether the value at k is the key "__gc" or "__mode". */
static bool forbidden_key(lua_State *L, int k)
{
	size_t n;
	const char *s = lua_type(L, k) == LUA_TSTRING ? lua_tolstring(L, k, &n) : NULL;
	return s && ((n == 4 && !memcmp(s, "__gc", 4)) || (n == 6 && !memcmp(s, "__mode", 6)));
}

/* The guard is the metatable of every metatable: it keeps __gc and __mode
 * out, through assignment (its __newindex, here: a metatable's missing
 * fields all come through it) and through rawset (guarded_rawset).  Upvalue
 * 1 of guarded_rawset and guarded_setmetatable is the guard. */
static int guard_newindex(lua_State *L)
{
	if (forbidden_key(L, 2))
		return luaL_error(L, "a metatable cannot get __gc or __mode in a template");
	lua_settop(L, 3);
	lua_rawset(L, 1);
	return 0;
}

static int guarded_rawset(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checkany(L, 2);
	luaL_checkany(L, 3);
	lua_settop(L, 3);
	if (lua_getmetatable(L, 1)) {
		bool guarded = lua_rawequal(L, -1, lua_upvalueindex(1));
		lua_pop(L, 1);
		if (guarded && forbidden_key(L, 2))
			return luaL_error(L, "a metatable cannot get __gc or __mode in a template");
	}
	lua_rawset(L, 1);
	return 1;
}

/* Makes the table at mt safe as a metatable, or raises an error: no __gc,
 * no __mode, and the guard as its metatable.  A table with another
 * metatable (or itself) cannot be one: writes to it would pass no guard. */
static void guard_metatable(lua_State *L, int mt)
{
	static const char *const keys[] = {"__gc", "__mode"};
	for (int i = 0; i < 2; i++) {
		lua_pushstring(L, keys[i]);
		bool present = lua_rawget(L, mt) != LUA_TNIL; /* as Lua looks them up */
		lua_pop(L, 1);
		if (present)
			luaL_error(L, "setmetatable: a metatable with __gc or __mode is not allowed in "
				      "a template");
	}
	if (lua_rawequal(L, 1, mt))
		luaL_error(L, "setmetatable: a table cannot be its own metatable in a template");
	if (lua_getmetatable(L, mt)) {
		bool guarded = lua_rawequal(L, -1, lua_upvalueindex(1));
		lua_pop(L, 1);
		if (!guarded)
			luaL_error(L, "setmetatable: a table with a metatable cannot be a metatable "
				      "in a template");
		return;
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_setmetatable(L, mt);
}

/* setmetatable(t, mt), Lua's, with mt guarded.  Lua 5.4 marks an object
 * for finalization only when its metatable has __gc as it is set (manual
 * 2.5.3), so the guard closes that path; __mode is read at each collection,
 * so it must never get in. */
static int guarded_setmetatable(lua_State *L)
{
	int t = lua_type(L, 2);
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
	if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
		return luaL_error(L, "cannot change a protected metatable");
	lua_settop(L, 2);
	if (t == LUA_TTABLE)
		guard_metatable(L, 2);
	lua_setmetatable(L, 1);
	return 1;
}

/* pcall and xpcall, Lua's, except that a stopped template stays stopped. */
static int finish_pcall(lua_State *L, int status, int extra)
{
	Sandbox *sb = sandbox_of(L);
	if (sb->stopped)
		return raise_stopped(L, sb);
	if (status != LUA_OK) {
		lua_pushboolean(L, 0);
		lua_pushvalue(L, -2);
		return 2;
	}
	return lua_gettop(L) - extra;
}

static int guarded_pcall(lua_State *L)
{
	luaL_checkany(L, 1);
	lua_pushboolean(L, 1);
	lua_insert(L, 1);
	return finish_pcall(L, lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0), 0);
}

static int guarded_xpcall(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushboolean(L, 1);
	lua_pushvalue(L, 1);
	lua_rotate(L, 3, 2);
	return finish_pcall(L, lua_pcall(L, n - 2, LUA_MULTRET, 2), 2);
}

/* ---- the sandbox ---- */

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

/* Sets table.field (or the global field) to f with nup upvalues (popped):
 * in the library's own table, so that s:find(), through the string
 * metatable's __index, finds it too. */
static void replace_field(lua_State *L, const char *table, const char *field, lua_CFunction f,
			  int nup)
{
	lua_pushcclosure(L, f, nup);
	if (table) {
		lua_getglobal(L, table);
		lua_insert(L, -2);
		lua_setfield(L, -2, field);
		lua_pop(L, 1);
	} else
		lua_setglobal(L, field);
}

/* Replaces the functions that would work outside the step count:
 * setmetatable and rawset (guarded), pcall and xpcall (a stop passes
 * through), and the string and table functions that loop in C (counted). */
static void replace_uncounted(lua_State *L)
{
	/* the guard: {__newindex = guard_newindex, __metatable = false} */
	lua_createtable(L, 0, 2);
	lua_pushcfunction(L, guard_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pushvalue(L, -1);
	replace_field(L, NULL, "setmetatable", guarded_setmetatable, 1);
	replace_field(L, NULL, "rawset", guarded_rawset, 1);
	replace_field(L, NULL, "pcall", guarded_pcall, 0);
	replace_field(L, NULL, "xpcall", guarded_xpcall, 0);
	static const luaL_Reg string_fns[] = {{"rep", tmpl_counted_rep}, {"find", tmpl_counted_find},
		{"match", tmpl_counted_match}, {"gmatch", tmpl_counted_gmatch}, {"gsub", tmpl_counted_gsub},
		{NULL, NULL}};
	for (const luaL_Reg *r = string_fns; r->name; r++)
		replace_field(L, "string", r->name, r->func, 0);
	static const luaL_Reg table_fns[] = {{"insert", tmpl_counted_insert}, {"remove", tmpl_counted_remove},
		{"move", tmpl_counted_move}, {"concat", tmpl_counted_concat}, {"unpack", tmpl_counted_unpack},
		{NULL, NULL}};
	for (const luaL_Reg *r = table_fns; r->name; r++)
		replace_field(L, "table", r->name, r->func, 0);
	lua_getglobal(L, "table");
	lua_getfield(L, -1, "sort");
	lua_remove(L, -2);
	replace_field(L, "table", "sort", tmpl_counted_sort, 1);
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
	replace_uncounted(L);
	/* Lock the string metatable: getmetatable("") returns false. */
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 2);
	/* The hook is the main thread's only: coroutines, which would run
	 * without it, are not opened. */
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
		if (s->kind == SYM_INPUT && s->classes > 0) {
			char b[32];
			snprintf(b, sizeof b, "%d", s->classes);
			set_str(L, "classes", b);
		}
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
		set_str(L, "kind", n->op == OP_PARAM ? "param" : n->sym->kind == SYM_DIR ? "dir" : "input");
		if (n->sym->kind == SYM_DIR) { /* read from array at its tensor's index */
			set_str(L, "param", n->sym->dir_of->tensor ? n->sym->dir_of->tensor->ident
								    : n->sym->dir_of->ident);
			set_str(L, "array", n->sym->array);
			set_str(L, "of", n->sym->of);
		}
		set_int(L, "index", n->sym->index);
		/* a direction's element is at its own tensor's place */
		const Symbol *at = n->sym->kind == SYM_DIR ? n->sym->dir_of : n->sym;
		if (at->tensor) {
			set_str(L, "tensor", at->tensor->ident);
			set_int(L, "offset", at->offset);
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
		/* an elementary function: the batch gives each run of them a
		 * loop of its own (one that vectorizes with symgrad's own
		 * functions, not with <math.h>'s); smaller loops than the
		 * whole row in one keep more values in registers */
		if (op_info[s->node->op].flags & OPF_CALL)
			set_bool(L, "call", true);
		set_str(L, "tex", op_info[s->node->op].tex);
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

/* The integers list[0..n) as a field key. */
static void push_ints(lua_State *L, const int *list, int n, const char *key)
{
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		lua_pushinteger(L, list[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, key);
}

/* The model's outputs, as operands: the field outputs. */
static void push_outputs(lua_State *L, const Prog *p)
{
	const Model *m = p->model;
	Node **outs = xrealloc(NULL, (size_t)(m->n_outputs + 1) * sizeof *outs);
	for (int i = 0; i < m->n_outputs; i++)
		outs[i] = m->outputs[i]->node;
	push_operands(L, p, outs, m->n_outputs, "outputs", sched_operand);
	free(outs);
}

/* The functions beyond the gradient, when asked for, nil otherwise:
 * model.jacobian (a function with outputs, jac_params and jac_inputs,
 * row-major, one row per output), model.hessian (grads and hess,
 * row-major), model.hessian_sparse (grads, values, colptr and rowidx:
 * compressed sparse columns, 0-based), model.hvp and model.gnvp (grads and
 * hv), model.jvp (outputs, dloss: one operand, doutputs) and model.vjp
 * (gparams, ginputs). */
static void push_extra(lua_State *L, const Prog *p)
{
	const Grad *g = p->grad;
	const Model *m = p->model;
	int np = m->n_params;
	if (g->jac_params) {
		push_func(L, p, &p->jacobian);
		push_outputs(L, p);
		push_operands(L, p, g->jac_params, m->n_outputs * np, "jac_params", sched_operand);
		push_operands(L, p, g->jac_inputs, m->n_outputs * m->n_inputs, "jac_inputs",
			      sched_operand);
		lua_setfield(L, -2, "jacobian");
	}
	if (g->hess) {
		push_func(L, p, &p->hessian);
		push_operands(L, p, g->param_grad, np, "grads", sched_operand);
		push_operands(L, p, g->hess, np * np, "hess", sched_operand);
		lua_setfield(L, -2, "hessian");
	}
	if (g->hess_sparse) {
		push_func(L, p, &p->hessian_sparse);
		push_operands(L, p, g->param_grad, np, "grads", sched_operand);
		push_operands(L, p, g->hess_sparse, g->hess_nnz, "values", sched_operand);
		push_ints(L, g->hess_colptr, np + 1, "colptr");
		push_ints(L, g->hess_rowidx, g->hess_nnz, "rowidx");
		lua_setfield(L, -2, "hessian_sparse");
	}
	Node **const vecs[] = {g->hvp, g->gnvp};
	const Func *vf[] = {&p->hvp, &p->gnvp};
	static const char *const vk[] = {"hvp", "gnvp"};
	for (int k = 0; k < 2; k++)
		if (vecs[k]) {
			push_func(L, p, vf[k]);
			push_operands(L, p, g->param_grad, np, "grads", sched_operand);
			push_operands(L, p, vecs[k], np, "hv", sched_operand);
			lua_setfield(L, -2, vk[k]);
		}
	if (g->jvp) {
		push_func(L, p, &p->jvp);
		push_outputs(L, p);
		push_operands(L, p, (Node **)&g->jvp_loss, 1, "dloss", sched_operand);
		push_operands(L, p, g->jvp, m->n_outputs, "doutputs", sched_operand);
		lua_setfield(L, -2, "jvp");
	}
	if (g->vjp_params) {
		push_func(L, p, &p->vjp);
		push_operands(L, p, g->vjp_params, np, "gparams", sched_operand);
		push_operands(L, p, g->vjp_inputs, m->n_inputs, "ginputs", sched_operand);
		lua_setfield(L, -2, "vjp");
	}
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
			set_str(L, "local_expr", sched_expr_text(p, last, 0));
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
 * {kind = "if", text = condition}, {kind = "open", text = "for (...)"},
 * {kind = "end"}, {kind = "comment"},
 * {kind = "blank"}, {kind = "pp", text = "#if ..."} (a preprocessor line). */
static void push_lfunc(lua_State *L, const LFunc *f)
{
	static const char *const kinds[] = {"stmt", "comment", "blank", "for", "if", "end",
					    "open", "pp"};
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
	/* symgrad's own functions, which the template copies as the code calls them */
	size_t sgmath_len;
	set_str(L, "sgmath", tmpl_builtin("sgmath.h", &sgmath_len));
	set_str(L, "loss_name", m->loss->name);
	/* 'residual r': r's elements are the outputs residual_first (0-based) on */
	set_int(L, "residual_first", m->n_residuals ? m->residual_first : 0);
	set_int(L, "n_residuals", m->n_residuals);
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
	/* the model's statements, for header comments: its functions first */
	lua_createtable(L, m->n_lets, 0);
	int k = 0;
	for (int i = 0; i < m->n_defs; i++) {
		lua_pushstring(L, m->defs[i]);
		lua_rawseti(L, -2, ++k);
	}
	for (int i = 0; i < m->n_lets; i++) {
		const Symbol *s = m->lets[i];
		if ((s->tensor && s->tensor->elems[0] != s) || s->stmt->step)
			continue; /* a tensor binding is one statement, a scan too */
		lua_pushstring(L, s->stmt->text);
		lua_rawseti(L, -2, ++k);
	}
	lua_setfield(L, -2, "statements");
	if (lp) {
		/* model.loop: the loop program, when the model is in loop form */
		lua_createtable(L, 0, 5);
		push_lfunc(L, &lp->forward);
		lua_setfield(L, -2, "forward");
		push_lfunc(L, &lp->backward);
		lua_setfield(L, -2, "backward");
		push_lfunc(L, &lp->predict);
		lua_setfield(L, -2, "predict");
		if (lp->batch.n) {
			push_lfunc(L, &lp->batch);
			lua_setfield(L, -2, "batch");
			set_int(L, "lanes", lp->lanes);
			set_bool(L, "vectors", lp->vectors);
		}
		set_int(L, "tensors", lp->n_tensors);
		set_int(L, "kernels", lp->n_kernels);
		lua_setfield(L, -2, "loop");
		/* the functions beyond the gradient it has: model.hvp, ... */
		const LFunc *x[] = {&lp->hvp, &lp->gnvp, &lp->jvp, &lp->vjp, &lp->jacobian,
				    &lp->hessian};
		static const char *const xn[] = {"hvp", "gnvp", "jvp", "vjp", "jacobian", "hessian"};
		for (int k = 0; k < 6; k++)
			if (x[k]->n) {
				push_lfunc(L, x[k]);
				lua_setfield(L, -2, xn[k]);
			}
	}
	if (!p)
		return; /* the c template in loop form needs no scalar program */
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
	push_extra(L, p);
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

/* Whether s is a plain file suffix: 1 to SUFFIX_MAX letters, digits, '.',
 * '_', '-' or '+', without "..".  It is appended to the -o path's stem, so
 * it must not climb out of that directory, nor hide a NUL from C. */
static bool plain_suffix(const char *s, size_t len)
{
	if (len == 0 || len > SUFFIX_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '.' && c != '_' && c != '-' && c != '+')
			return false;
	}
	return !strstr(s, "..");
}

/* s as the inside of a C string literal, cut after SUFFIX_MAX bytes. */
static const char *quoted(char buf[4 * SUFFIX_MAX + 4], const char *s, size_t len)
{
	char *o = buf;
	for (size_t i = 0; i < len && i < SUFFIX_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			o += sprintf(o, "\\%c", c);
		else if (c == '\n')
			o += sprintf(o, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			o += sprintf(o, "\\%03o", c);
		else
			*o++ = (char)c;
	}
	strcpy(o, len > SUFFIX_MAX ? "..." : "");
	return buf;
}

/* Pushes result i's suffix and text, checked: the generator writes the
 * text beside -o, so the suffix must be plain; *total (unless total is
 * NULL) counts the text returned so far, against the memory limit. */
static void push_result(lua_State *L, int i, size_t *total)
{
	lua_rawgeti(L, -1, i + 1);
	if (!lua_istable(L, -1))
		luaL_error(L, "render() result %d is not a table {suffix = ..., text = ...}", i + 1);
	lua_pushliteral(L, "suffix");
	lua_rawget(L, -2);
	lua_pushliteral(L, "text");
	lua_rawget(L, -3);
	lua_remove(L, -3);
	if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "render() result %d needs a string suffix and a string text", i + 1);
	size_t n, len;
	const char *suffix = lua_tolstring(L, -2, &n);
	char buf[4 * SUFFIX_MAX + 4];
	if (!plain_suffix(suffix, n))
		luaL_error(L, "render() result %d: suffix \"%s\" is not a plain file suffix (1 to %d "
			      "letters, digits, '.', '_', '-' or '+', without \"..\")",
			   i + 1, quoted(buf, suffix, n), SUFFIX_MAX);
	if (!total)
		return;
	lua_tolstring(L, -1, &len);
	size_t cap = sandbox_of(L)->lim.memory;
	*total += len;
	if (len > cap || *total > cap) /* one string repeated in every file, say */
		luaL_error(L, "render() returned more than %d MiB of text (the memory limit)",
			   (int)(cap >> 20));
}

/* Copies render()'s array of {suffix, text} out of Lua, with raw accesses
 * only: a result's metamethods never run.  All are checked before any is
 * copied. */
static void collect(lua_State *L, RenderArgs *ra)
{
	if (!lua_istable(L, -1))
		luaL_error(L, "render() must return an array of {suffix = ..., text = ...}");
	lua_Unsigned count = lua_rawlen(L, -1);
	if (count > 64)
		luaL_error(L, "render() returned %d files; at most 64", (int)count);
	size_t total = 0;
	for (int i = 0; i < (int)count; i++) {
		push_result(L, i, &total);
		lua_pop(L, 2);
	}
	ra->files = xrealloc(NULL, (size_t)(count ? count : 1) * sizeof *ra->files);
	for (int i = 0; i < (int)count; i++) {
		push_result(L, i, NULL);
		size_t len;
		const char *text = lua_tolstring(L, -1, &len);
		TmplFile *tf = &ra->files[i];
		tf->suffix = strdup(lua_tostring(L, -2));
		tf->text = xrealloc(NULL, len + 1);
		memcpy(tf->text, text, len + 1);
		tf->len = len;
		ra->n = i + 1;
		lua_pop(L, 2);
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

/* Reports a template error through diag.c as "TEMPLATE:LINE: message",
 * adding the template's name where Lua's message has no position. */
static void report_error(lua_State *L, const Sandbox *sb, const TmplOpts *o)
{
	/* stopped, the state allocates no more: lua_tostring of a number would fail */
	const char *msg = sb->stopped ? NULL : lua_tostring(L, -1);
	char limit[96];
	if (sb->stopped) {
		msg = sb->why;
	} else if (sb->out_of_memory) {
		snprintf(limit, sizeof limit, "template exceeded the memory limit of %zu MiB",
			 sb->lim.memory >> 20);
		msg = limit;
	}
	diag_report(o->template_name, msg ? msg : "template error");
}

int tmpl_render(const Prog *p, const LoopProg *lp, TmplOpts *o, TmplFile **files)
{
	return tmpl_render_limited(p, lp, o, NULL, files);
}

/* The number of items the model table holds (statements, params, inputs,
 * outputs), which scales the template's budget. */
static long model_items(const Prog *p, const LoopProg *lp)
{
	const Model *m = p ? p->model : lp->model;
	long n = (long)m->n_params + m->n_inputs + m->n_outputs;
	if (p)
		n += p->forward.n + p->backward.n + p->predict.n;
	if (lp)
		n += lp->forward.n + lp->backward.n + lp->predict.n;
	return n;
}

int tmpl_render_limited(const Prog *p, const LoopProg *lp, TmplOpts *o, const TmplLimits *lim,
			TmplFile **files)
{
	long items = model_items(p, lp);
	size_t mem = SG_TMPL_MAX_MEM + (size_t)items * SG_TMPL_MEM_PER_ITEM;
	Sandbox sb = {.lim = {SG_TMPL_MAX_STEPS + items * SG_TMPL_STEPS_PER_ITEM,
			      mem < SG_TMPL_MEM_CAP ? mem : SG_TMPL_MEM_CAP,
			      SG_TMPL_MAX_CPU + (double)items * SG_TMPL_CPU_PER_ITEM},
		      .cpu0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID),
		      .next_grown = CPU_POLL_BYTES};
	if (lim && lim->steps)
		sb.lim.steps = lim->steps;
	if (lim && lim->memory)
		sb.lim.memory = lim->memory;
	if (lim && lim->cpu_seconds)
		sb.lim.cpu_seconds = lim->cpu_seconds;
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
