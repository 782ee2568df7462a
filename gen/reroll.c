/*
 * reroll.c: a scan's steps in a loop program as one loop over the steps.
 *
 * The parser unrolls scan(cell, h0, xs) into one copy of the cell per step,
 * so loop.c emits every kernel once per step, forward and backward.  Here,
 * after loop.c has laid out a function's items, a run of T >= 3 blocks of
 * items that are the same code step after step becomes one loop
 *
 *   for (int t = t0; t <= t0 + T - 1; t++) { block 0, with t for the step }
 *
 * Blocks k and k + 1 must match token for token, except:
 *   - an integer that moves by a fixed stride per block (xs[5 + k], xs[10 + k],
 *     ...: xs[5 * t + k]; a loop's bounds alike);
 *   - a name declared in the block (at its top level): in block k + 1 the
 *     name declared at the same place in block k + 1 (this step's value), or
 *     the one of block k where block k read that of block k - 1 (the last
 *     step's value); block 0 then reads a name declared before the run (the
 *     peeled step's value: hs_0), which joins the array as its slot t0 - 1.
 * A name read outside its own block (by the next step, after the loop, or
 * by the backward pass) becomes an array over the steps, NAME_t[t][...];
 * one read only within its step stays a local of the loop's body.  So
 * iteration t does exactly block t's operations, in the same order, on the
 * same values: the same bits (tests/loops compares the forms).  Anything
 * else (a declaration that differs, a stride that is not fixed) and the
 * blocks stay as they are.
 *
 * Only models with a scan are rerolled (other models' code is unchanged),
 * and a block must declare a value: a step makes values, while the
 * statements of a tiled product, alike but declaring nothing, are unrolled
 * on purpose.  Runs are taken left to right, each the one reaching farthest
 * (so a run starts where a step starts rather than in its middle); a last
 * block declaring a model's binding (the stacked hs) stays after the loop,
 * under its name.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"

enum { K_OTHER, K_IDENT, K_INT };

typedef struct Tok {
	int at, len;
	int kind;
	long v;
} Tok;

typedef struct Line {
	Tok *tok;
	int n;
	uint32_t hash;       /* of everything but names and integers */
	int decl;            /* a top-level declaration: the name's token, else -1 */
	bool array;          /* the declaration is NAME[n]; (else NAME = ...;) */
} Line;

/* One name of the run: declared by block b at its j-th declaration. */
typedef struct Slot {
	const char *name;
	int b, j;
} Slot;

typedef struct Reroll {
	Arena *a;
	Names *names;
	LFunc *f;
	Line *line;          /* by item */
	/* the run being checked */
	int start, P, T, nd; /* nd: declarations per block */
	int *decl_at;        /* [nd]: their items in block 0 */
	Slot *slots;         /* [T * nd], by name */
	int *alias;          /* [nd]: the item declaring the name block 0 reads for
	                        slot t0 - 1, or -1 */
	bool *is_array;      /* [nd] */
	long *lin;           /* scratch: a token's value in each block */
} Reroll;

static const char *item_text(const LItem *it)
{
	return it->kind == LI_STMT || it->kind == LI_IF || it->kind == LI_OPEN ? it->text : NULL;
}

static uint32_t mix(uint32_t h, const char *s, int n)
{
	for (int i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* C tokens: names, numbers (an integer when only digits), punctuation. */
static void tokenize(Reroll *r, Line *ln, const char *s)
{
	int cap = 8, n = 0;
	Tok *t = arena_alloc(r->a, (size_t)cap * sizeof *t);
	for (int i = 0; s[i];) {
		if (isspace((unsigned char)s[i])) {
			i++;
			continue;
		}
		int j = i + 1, kind = K_OTHER;
		if (isalpha((unsigned char)s[i]) || s[i] == '_') {
			while (isalnum((unsigned char)s[j]) || s[j] == '_')
				j++;
			kind = K_IDENT;
		} else if (isdigit((unsigned char)s[i]) || (s[i] == '.' && isdigit((unsigned char)s[j]))) {
			while (isalnum((unsigned char)s[j]) || s[j] == '.' ||
			       ((s[j] == '+' || s[j] == '-') && strchr("eEpP", s[j - 1])))
				j++;
			kind = K_INT;
			for (int k = i; k < j; k++)
				if (!isdigit((unsigned char)s[k]))
					kind = K_OTHER;
		}
		if (n == cap) {
			Tok *g = arena_alloc(r->a, (size_t)(2 * cap) * sizeof *g);
			memcpy(g, t, (size_t)n * sizeof *t);
			t = g, cap *= 2;
		}
		t[n++] = (Tok){i, j - i, kind, kind == K_INT ? strtol(s + i, NULL, 10) : 0};
		i = j;
	}
	ln->tok = t;
	ln->n = n;
}

/* "double x[5];", "const double x = ...;", "double x = ...;": the name's token. */
static int decl_of(const char *s, const Line *ln, bool *array)
{
	int k = 0;
	if (k < ln->n && ln->tok[k].len == 5 && !strncmp(s + ln->tok[k].at, "const", 5))
		k++;
	if (k + 2 >= ln->n)
		return -1;
	const Tok *ty = &ln->tok[k], *nm = &ln->tok[k + 1], *next = &ln->tok[k + 2];
	bool real = (ty->len == 6 && !strncmp(s + ty->at, "double", 6)) ||
		    (ty->len == 5 && !strncmp(s + ty->at, "float", 5));
	if (!real || nm->kind != K_IDENT)
		return -1;
	if (s[next->at] == '=' && next->len == 1) {
		*array = false;
		return k + 1;
	}
	if (s[next->at] == '[' && k + 6 == ln->n && ln->tok[k + 3].kind == K_INT &&
	    s[ln->tok[k + 4].at] == ']' && s[ln->tok[k + 5].at] == ';') {
		*array = true;
		return k + 1;
	}
	return -1;
}

static void scan_items(Reroll *r)
{
	LFunc *f = r->f;
	r->line = arena_alloc(r->a, (size_t)(f->n + 1) * sizeof *r->line);
	for (int i = 0; i < f->n; i++) {
		const LItem *it = &f->items[i];
		Line *ln = &r->line[i];
		const char *s = item_text(it);
		uint32_t h = mix(2166136261u, (const char *)&it->kind, sizeof it->kind);
		ln->decl = -1;
		if (s) {
			tokenize(r, ln, s);
			for (int k = 0; k < ln->n; k++)
				if (ln->tok[k].kind == K_OTHER)
					h = mix(h, s + ln->tok[k].at, ln->tok[k].len);
				else
					h = mix(h, ln->tok[k].kind == K_IDENT ? "a" : "1", 1);
			if (it->kind == LI_STMT)
				ln->decl = decl_of(s, ln, &ln->array);
		}
		if (it->kind == LI_FOR)
			h = mix(h, it->var, (int)strlen(it->var));
		ln->hash = h;
	}
}

/* ---- checking a run ---- */

static const Slot *slot_of(const Reroll *r, const char *s, int len)
{
	for (int i = 0; i < r->T * r->nd; i++)
		if ((int)strlen(r->slots[i].name) == len && !strncmp(r->slots[i].name, s, (size_t)len))
			return &r->slots[i];
	return NULL;
}

/* Whether vals[0..T-1] move by a fixed stride. */
static bool linear(const long *v, int T)
{
	for (int b = 2; b < T; b++)
		if (v[b] - v[b - 1] != v[1] - v[0])
			return false;
	return true;
}

/* The declarations of the blocks: at the same items, nowhere else. */
static bool find_decls(Reroll *r)
{
	int depth = 0, nd = 0;
	r->decl_at = arena_alloc(r->a, (size_t)r->P * sizeof *r->decl_at);
	for (int i = 0; i < r->P; i++) {
		const LItem *it = &r->f->items[r->start + i];
		if (it->kind == LI_END && --depth < 0)
			return false;
		if (depth == 0 && r->line[r->start + i].decl >= 0)
			r->decl_at[nd++] = i;
		if (it->kind == LI_FOR || it->kind == LI_IF || it->kind == LI_OPEN)
			depth++;
	}
	if (depth || nd == 0) /* a step makes values: no declaration, no step */
		return false;
	r->nd = nd;
	r->slots = arena_alloc(r->a, (size_t)(r->T * nd + 1) * sizeof *r->slots);
	for (int b = 0; b < r->T; b++)
		for (int j = 0; j < nd; j++) {
			int at = r->start + b * r->P + r->decl_at[j];
			const Line *ln = &r->line[at];
			if (ln->decl < 0 || ln->array != r->line[r->start + r->decl_at[j]].array)
				return false;
			const Tok *t = &ln->tok[ln->decl];
			r->slots[b * nd + j] = (Slot){arena_strndup(r->a, r->f->items[at].text + t->at,
								    (size_t)t->len), b, j};
		}
	return true;
}

/* The item declaring name s before the run, or -1. */
static int decl_before(const Reroll *r, const char *s, int len)
{
	for (int i = r->start - 1; i >= 0; i--) {
		const Line *ln = &r->line[i];
		if (ln->decl < 0)
			continue;
		const Tok *t = &ln->tok[ln->decl];
		if (t->len == len && !strncmp(r->f->items[i].text + t->at, s, (size_t)len))
			return i;
	}
	return -1;
}

/* Token k of item i of each block. */
static bool check_token(Reroll *r, int i, int k)
{
	const Tok *t0 = &r->line[r->start + i].tok[k];
	const char *s0 = r->f->items[r->start + i].text;
	for (int b = 0; b < r->T; b++) {
		const Tok *t = &r->line[r->start + b * r->P + i].tok[k];
		if (t->kind != t0->kind)
			return false;
		r->lin[b] = t->v;
	}
	if (t0->kind == K_INT)
		return linear(r->lin, r->T);
	if (t0->kind == K_OTHER) {
		for (int b = 1; b < r->T; b++) {
			const Tok *t = &r->line[r->start + b * r->P + i].tok[k];
			if (t->len != t0->len ||
			    strncmp(r->f->items[r->start + b * r->P + i].text + t->at, s0 + t0->at, (size_t)t->len))
				return false;
		}
		return true;
	}
	/* a name: the same outside name throughout, or a block's own (d = 0) or
	 * the previous block's (d = 1), then block 0 reads the slot before */
	const Slot *first = NULL;
	int d = -1;
	for (int b = 0; b < r->T; b++) {
		const Tok *t = &r->line[r->start + b * r->P + i].tok[k];
		const char *s = r->f->items[r->start + b * r->P + i].text + t->at;
		const Slot *sl = slot_of(r, s, t->len);
		if (b == 0) {
			first = sl;
			continue;
		}
		if (!sl) {
			if (first || t->len != t0->len || strncmp(s, s0 + t0->at, (size_t)t->len))
				return false;
			continue;
		}
		if (d < 0)
			d = b - sl->b;
		if (d == 0 && !first)
			return false;
		if (sl->b != b - d || (d != 0 && d != 1) || (first && first->j != sl->j))
			return false;
		if (d == 1 && b == 1 && !first) { /* block 0 reads the peeled step's value */
			int at = decl_before(r, s0 + t0->at, t0->len);
			if (at < 0 || r->line[at].array != r->line[r->start + r->decl_at[sl->j]].array)
				return false;
			if (r->alias[sl->j] >= 0 && r->alias[sl->j] != at)
				return false;
			r->alias[sl->j] = at;
		}
		if (d == 1)
			r->is_array[sl->j] = true;
	}
	if (first && (first->b != 0 || d == 1 || (d < 0 && r->T > 1)))
		return false;
	return true;
}

/* An array's size must match the peeled value's: "double hs_0[5];" */
static bool same_decl(const Reroll *r, int x, int y)
{
	const Line *a = &r->line[x], *b = &r->line[y];
	if (a->n != b->n)
		return false;
	for (int k = 0; k < a->n; k++) {
		if (k == a->decl)
			continue;
		const Tok *s = &a->tok[k], *t = &b->tok[k];
		if (s->len != t->len || strncmp(r->f->items[x].text + s->at, r->f->items[y].text + t->at,
					       (size_t)s->len))
			return !a->array && k > a->decl; /* a scalar's value may differ */
	}
	return true;
}

/* Whether the T blocks at start are one loop's iterations. */
static bool check_run(Reroll *r)
{
	if (!find_decls(r))
		return false;
	r->alias = arena_alloc(r->a, (size_t)(r->nd + 1) * sizeof *r->alias);
	r->is_array = arena_alloc(r->a, (size_t)(r->nd + 1) * sizeof *r->is_array);
	for (int j = 0; j < r->nd; j++)
		r->alias[j] = -1;
	r->lin = arena_alloc(r->a, (size_t)r->T * sizeof *r->lin);
	for (int i = 0; i < r->P; i++) {
		const LItem *it = &r->f->items[r->start + i];
		const Line *ln = &r->line[r->start + i];
		for (int b = 1; b < r->T; b++) {
			const LItem *o = &r->f->items[r->start + b * r->P + i];
			if (r->line[r->start + b * r->P + i].n != ln->n || o->kind != it->kind)
				return false;
			if (it->kind == LI_FOR && strcmp(o->var, it->var))
				return false;
		}
		if (it->kind == LI_FOR) {
			for (int e = 0; e < 2; e++) {
				for (int b = 0; b < r->T; b++) {
					const LItem *o = &r->f->items[r->start + b * r->P + i];
					r->lin[b] = e ? o->to : o->from;
				}
				if (!linear(r->lin, r->T))
					return false;
			}
			const LItem *last = &r->f->items[r->start + (r->T - 1) * r->P + i];
			if ((it->from > it->to) != (last->from > last->to))
				return false;
		}
		for (int k = 0; k < ln->n; k++)
			if (!check_token(r, i, k))
				return false;
	}
	for (int j = 0; j < r->nd; j++)
		if (r->alias[j] >= 0 && !same_decl(r, r->alias[j], r->start + r->decl_at[j]))
			return false;
	return true;
}

/* ---- rewriting ---- */

typedef struct Out {
	LItem *items;
	int n, cap;
} Out;

static void out_put(Reroll *r, Out *o, LItem it)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 64;
		LItem *g = arena_alloc(r->a, (size_t)o->cap * sizeof *g);
		if (o->n)
			memcpy(g, o->items, (size_t)o->n * sizeof *g);
		o->items = g;
	}
	o->items[o->n++] = it;
}

typedef struct Run {
	const char *var;      /* the loop's index */
	int t0;               /* its first value: 1 with a peeled step, else 0 */
	const char **arr;     /* [nd]: the array of a declaration, or NULL */
} Run;

/* c + k * t as text: "t", "5 * t + 5", "4 - t" */
static const char *lin_text(Reroll *r, const char *t, long c, long k)
{
	if (k == 0)
		return arena_printf(r->a, "%ld", c);
	const char *kt = labs(k) == 1 ? t : arena_printf(r->a, "%ld * %s", labs(k), t);
	if (k > 0)
		return c == 0 ? kt : c > 0 ? arena_printf(r->a, "%s + %ld", kt, c)
					   : arena_printf(r->a, "%s - %ld", kt, -c);
	return arena_printf(r->a, "%ld - %s", c, kt);
}

static bool simple_side(const char *s, int len, bool before)
{
	static const char *const ok_before[] = {"[", "(", ",", "=", "+", "return", "?", ":"};
	static const char *const ok_after[] = {"]", ")", ",", ";", "+", "-", "?", ":", "<", ">", "<=", ">="};
	const char *const *ok = before ? ok_before : ok_after;
	int n = before ? 8 : 12;
	for (int i = 0; i < n; i++)
		if ((int)strlen(ok[i]) == len && !strncmp(ok[i], s, (size_t)len))
			return true;
	return false;
}

/* Item i of block 0 with block-varying tokens in terms of the index. */
static const char *body_text(Reroll *r, const Run *run, int i)
{
	const LItem *it = &r->f->items[r->start + i];
	const Line *ln = &r->line[r->start + i];
	const char *s = it->text;
	Buf b = {0};
	int from = 0;
	for (int k = 0; k < ln->n; k++) {
		const Tok *t = &ln->tok[k];
		const char *rep = NULL;
		if (t->kind == K_INT) {
			long v0 = t->v, v1 = r->line[r->start + r->P + i].tok[k].v;
			if (v1 != v0) {
				rep = lin_text(r, run->var, v0 - (v1 - v0) * run->t0, v1 - v0);
				bool bare = k > 0 && k + 1 < ln->n &&
					    simple_side(s + ln->tok[k - 1].at, ln->tok[k - 1].len, true) &&
					    simple_side(s + ln->tok[k + 1].at, ln->tok[k + 1].len, false);
				if (!bare && strchr(rep, ' '))
					rep = arena_printf(r->a, "(%s)", rep);
			}
		} else if (t->kind == K_IDENT) {
			const Tok *t1 = &r->line[r->start + r->P + i].tok[k];
			const Slot *sl = slot_of(r, r->f->items[r->start + r->P + i].text + t1->at, t1->len);
			if (sl && run->arr[sl->j])
				rep = sl->b == 1 ? arena_printf(r->a, "%s[%s]", run->arr[sl->j], run->var)
						 : arena_printf(r->a, "%s[%s - 1]", run->arr[sl->j], run->var);
		}
		if (!rep)
			continue;
		buf_put(&b, s + from, (size_t)(t->at - from));
		buf_puts(&b, rep);
		from = t->at + t->len;
	}
	buf_puts(&b, s + from);
	const char *out = arena_strndup(r->a, b.data ? b.data : "", b.len);
	buf_free(&b);
	return out;
}

/* "double x[5];" -> NULL; "const double x = e;" -> "x_t[t] = e;" (the name
 * already replaced in text). */
static const char *undeclare(const Line *ln, const char *text)
{
	/* the type words, before the name, are the same in text as in the source */
	return ln->array ? NULL : text + ln->tok[ln->decl].at;
}

/* The array of a declaration over slots 0..t0 + T - 1: "double hs_t[6][5];" */
static const char *array_decl(Reroll *r, const Run *run, int j)
{
	int at = r->start + r->decl_at[j];
	const Line *ln = &r->line[at];
	const char *s = r->f->items[at].text;
	int n = run->t0 + r->T;
	const Tok *ty = &ln->tok[ln->decl - 1];
	const char *type = arena_strndup(r->a, s + ty->at, (size_t)ty->len);
	if (!ln->array)
		return arena_printf(r->a, "%s %s[%d];", type, run->arr[j], n);
	return arena_printf(r->a, "%s %s[%d][%ld];", type, run->arr[j], n, ln->tok[ln->decl + 2].v);
}

/* A name of the run (or a peeled step's) outside the loop: its array's slot. */
static const char *outside_name(Reroll *r, const Run *run, const char *s, int len)
{
	const Slot *sl = slot_of(r, s, len);
	if (sl && run->arr[sl->j])
		return arena_printf(r->a, "%s[%d]", run->arr[sl->j], run->t0 + sl->b);
	for (int j = 0; j < r->nd; j++) {
		int x = r->alias[j];
		if (x < 0)
			continue;
		const Tok *t = &r->line[x].tok[r->line[x].decl];
		if (t->len == len && !strncmp(r->f->items[x].text + t->at, s, (size_t)len))
			return arena_printf(r->a, "%s[%d]", run->arr[j], run->t0 - 1);
	}
	return NULL;
}

static const char *rename_outside(Reroll *r, const Run *run, const LItem *it, const Line *ln)
{
	const char *s = item_text(it);
	if (!s)
		return NULL;
	Buf b = {0};
	int from = 0;
	bool any = false;
	for (int k = 0; k < ln->n; k++) {
		const Tok *t = &ln->tok[k];
		const char *rep = t->kind == K_IDENT ? outside_name(r, run, s + t->at, t->len) : NULL;
		if (!rep)
			continue;
		buf_put(&b, s + from, (size_t)(t->at - from));
		buf_puts(&b, rep);
		from = t->at + t->len;
		any = true;
	}
	buf_puts(&b, s + from);
	const char *out = any ? arena_strndup(r->a, b.data, b.len) : s;
	buf_free(&b);
	return out;
}

/* Whether a name of the run is read outside its own block. */
static void mark_outside(Reroll *r)
{
	int end = r->start + r->T * r->P;
	for (int i = end; i < r->f->n; i++) {
		const Line *ln = &r->line[i];
		const char *s = item_text(&r->f->items[i]);
		for (int k = 0; k < ln->n; k++) {
			if (ln->tok[k].kind != K_IDENT)
				continue;
			const Slot *sl = slot_of(r, s + ln->tok[k].at, ln->tok[k].len);
			if (sl)
				r->is_array[sl->j] = true;
		}
	}
	for (int j = 0; j < r->nd; j++)
		if (r->alias[j] >= 0)
			r->is_array[j] = true;
}

/* Whether name is taken in the function: a token of its items, or an array
 * named before it in this rewrite (arrays 0..j-1). */
static bool taken(const Reroll *r, const char **arr, int j, const char *name)
{
	size_t len = strlen(name);
	for (int k = 0; k < j; k++)
		if (arr[k] && !strcmp(arr[k], name))
			return true;
	for (int i = 0; i < r->f->n; i++) {
		const char *s = item_text(&r->f->items[i]);
		for (int k = 0; k < r->line[i].n; k++) {
			const Tok *t = &r->line[i].tok[k];
			if (t->kind == K_IDENT && (size_t)t->len == len && !strncmp(s + t->at, name, len))
				return true;
		}
	}
	return false;
}

/* The array's name: hs_1 -> hs_t, t8 -> t8_t, unique in the function (a
 * local name: each function may have its hs_t), and not one of the model's. */
static const char *array_name(Reroll *r, const char **arr, int j, const char *name)
{
	const char *u = strrchr(name, '_');
	size_t n = strlen(name);
	if (u && u[1] && strspn(u + 1, "0123456789") == strlen(u + 1))
		n = (size_t)(u - name);
	const char *want = arena_printf(r->a, "%.*s_t", (int)n, name);
	const char *s = want;
	for (int k = 2; taken(r, arr, j, s) || !names_free(r->names, s); k++)
		s = arena_printf(r->a, "%s_%d", want, k);
	return s;
}

/* The function's items with the run as a loop. */
static int rewrite(Reroll *r, const char *var)
{
	mark_outside(r);
	Run run = {var, 0, NULL};
	int after = 0;
	run.arr = arena_alloc(r->a, (size_t)(r->nd + 1) * sizeof *run.arr);
	int first_alias = -1;
	for (int j = 0; j < r->nd; j++) {
		if (r->alias[j] >= 0) {
			run.t0 = 1;
			if (first_alias < 0 || r->alias[j] < first_alias)
				first_alias = r->alias[j];
		}
		if (r->is_array[j])
			run.arr[j] = array_name(r, run.arr, j, r->slots[j].name);
	}
	Out o = {0};
	int end = r->start + r->T * r->P;
	for (int i = 0; i < r->f->n; i++) {
		LItem it = r->f->items[i];
		const Line *ln = &r->line[i];
		if (i == first_alias || (i == r->start && first_alias < 0))
			for (int j = 0; j < r->nd; j++)
				if (run.arr[j])
					out_put(r, &o, (LItem){LI_STMT, array_decl(r, &run, j), NULL, NULL, 0, 0});
		if (i == r->start) {
			out_put(r, &o, (LItem){LI_COMMENT, arena_printf(r->a, "steps %d to %d: one "
			    "iteration per step, the same operations as each step unrolled",
			    run.t0, run.t0 + r->T - 1), NULL, NULL, 0, 0});
			out_put(r, &o, (LItem){LI_FOR, NULL, NULL, run.var, run.t0, run.t0 + r->T - 1});
			for (int k = 0; k < r->P; k++) {
				LItem b = r->f->items[r->start + k];
				const Line *bl = &r->line[r->start + k];
				if (b.kind == LI_FOR) {
					const LItem *n1 = &r->f->items[r->start + r->P + k];
					if (n1->from != b.from || n1->to != b.to) {
						const char *lo = lin_text(r, run.var, b.from - (long)(n1->from - b.from) * run.t0, n1->from - b.from);
						const char *hi = lin_text(r, run.var, b.to - (long)(n1->to - b.to) * run.t0, n1->to - b.to);
						b = (LItem){LI_OPEN, arena_printf(r->a, b.from <= b.to
							? "for (int %s = %s; %s <= %s; %s++)" : "for (int %s = %s; %s >= %s; %s--)",
							b.var, lo, b.var, hi, b.var), NULL, NULL, 0, 0};
					}
				} else if (b.kind == LI_COMMENT) {
					bool same = true;
					for (int q = 1; q < r->T; q++) {
						const char *c = r->f->items[r->start + q * r->P + k].text;
						same &= c == b.text || (c && b.text && !strcmp(c, b.text));
					}
					if (!same && b.text)
						b.text = arena_printf(r->a, "%s; as at %s = %d", b.text, run.var, run.t0);
				} else if (item_text(&b)) {
					b.text = body_text(r, &run, k);
					bool own = false;
					for (int j = 0; j < r->nd; j++)
						own |= r->decl_at[j] == k && run.arr[j];
					if (own && bl->decl >= 0) {
						b.text = undeclare(bl, b.text);
						if (!b.text)
							continue;
					}
					if (b.comment) {
						for (int q = 1; q < r->T; q++) {
							const char *c = r->f->items[r->start + q * r->P + k].comment;
							if (!c || strcmp(c, b.comment))
								b.comment = NULL;
						}
					}
				}
				out_put(r, &o, b);
			}
			out_put(r, &o, (LItem){LI_END, NULL, NULL, NULL, 0, 0});
			after = o.n;
			i = end - 1;
			continue;
		}
		bool alias_decl = false;
		for (int j = 0; j < r->nd; j++)
			alias_decl |= r->alias[j] == i;
		const char *text = rename_outside(r, &run, &it, ln);
		if (alias_decl) {
			if (ln->array)
				continue;
			/* "const double x = e;": the slot's assignment */
			const char *after = strchr(text, '=');
			const char *name = outside_name(r, &run, it.text + ln->tok[ln->decl].at,
							ln->tok[ln->decl].len);
			text = arena_printf(r->a, "%s %s", name, after);
		}
		if (text)
			it.text = text;
		out_put(r, &o, it);
	}
	r->f->items = o.items;
	r->f->n = o.n;
	r->f->cap = o.cap;
	return after;
}

/* ---- finding runs ---- */

static bool same_hashes(const Reroll *r, int x, int y, int P)
{
	for (int i = 0; i < P; i++)
		if (r->line[x + i].hash != r->line[y + i].hash)
			return false;
	return true;
}

/* Whether the name is one loop.c makes up: t12, d_t12, or a step's hs_3, d_hs_3. */
static bool made_up(const char *s)
{
	const char *u = strrchr(s, '_');
	if (u && u[1] && strspn(u + 1, "0123456789") == strlen(u + 1))
		return true;
	if (!strncmp(s, "d_", 2))
		s += 2;
	return s[0] == 't' && s[1] && strspn(s + 1, "0123456789") == strlen(s + 1);
}

/* Whether the last block declares a name of the model's (the stacked hs, the
 * loss): that block is left after the loop, so the name stays in the code. */
static bool named_last(const Reroll *r)
{
	for (int j = 0; j < r->nd; j++)
		if (!made_up(r->slots[(r->T - 1) * r->nd + j].name))
			return true;
	return false;
}

/* The longest checked run of blocks of P items at start: its block count, or 0. */
static int run_at(Reroll *r, int start, int P)
{
	int n = r->f->n, T = 1;
	while (start + (T + 1) * P <= n && same_hashes(r, start, start + T * P, P))
		T++;
	for (; T >= 3; T--) {
		r->start = start, r->P = P, r->T = T;
		if (check_run(r) && !named_last(r))
			return T;
	}
	return 0;
}

/* The run at start reaching farthest (the fewest items per block on a tie). */
static int best_at(Reroll *r, int start, int *P)
{
	int best = 0;
	*P = 0;
	for (int p = 1; start + 3 * p <= r->f->n; p++) {
		if (!same_hashes(r, start, start + p, p) || !same_hashes(r, start, start + 2 * p, p))
			continue;
		int T = run_at(r, start, p);
		if (T && start + T * p > best)
			best = start + T * p, *P = p;
	}
	return best;
}

/* Rerolls every run of f, left to right. */
static void reroll_func(Arena *a, Names *names, LFunc *f, const char *var)
{
	Reroll r = {.a = a, .names = names, .f = f};
	for (int pos = 0; pos < f->n;) {
		scan_items(&r);
		int P, end = 0, at = -1;
		for (int s = pos; s < f->n && at < 0; s++)
			if ((end = best_at(&r, s, &P)) > 0)
				at = s;
		if (at < 0)
			return;
		/* a later start may reach farther: a step's start rather than its middle */
		int first_P = P;
		for (int s = at + 1; s <= at + first_P && s < f->n; s++) {
			int p, e = best_at(&r, s, &p);
			if (e > end)
				end = e, at = s, P = p;
		}
		int T = run_at(&r, at, P);
		sg_check(T >= 3);
		pos = rewrite(&r, var);
	}
}

bool loop_has_scan(const Model *m)
{
	for (int i = 0; i < m->n_lets; i++)
		if (m->lets[i]->stmt && m->lets[i]->stmt->step)
			return true;
	return false;
}

void loop_reroll(Arena *a, Names *names, LFunc *f, const char *var)
{
	if (f->n)
		reroll_func(a, names, f, var);
}
