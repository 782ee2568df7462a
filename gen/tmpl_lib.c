/*
 * tmpl_lib.c: the template sandbox's counted library functions.
 *
 * A Lua count hook sees only VM instructions; a library function written
 * in C runs as one.  These are Lua 5.4's own string and table functions
 * whose work can be unbounded in one call, copied with their work charged
 * to the template's instruction budget through tmpl_charge (tmpl.c), so the
 * instruction count stays the real, deterministic limit.
 */
#include <ctype.h>
#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <stddef.h>
#include <string.h>

#include "tmpl_lib.h"

/* ---- the string library, counted ----
 *
 * string.rep, find, match, gmatch and gsub as in Lua 5.4's lstrlib.c
 * (MIT licence, Copyright (C) 1994-2022 Lua.org, PUC-Rio), the same from
 * 5.4.0 to 5.4.8, with their work counted: a step per pattern item tried at
 * a subject position, per character a repetition or %b scans, per 64 bytes
 * compared.  One call can then no longer backtrack for hours
 * (("a"):rep(30):find(("a*"):rep(30) .. "b")) or scan a long subject once
 * per position (s:find(".-b")) uncounted. */

#define uchar(c) ((unsigned char)(c))
#define MAXSIZE (sizeof(size_t) < sizeof(int) ? (size_t)~(size_t)0 : (size_t)INT_MAX)
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define MAXCCALLS 200 /* depth of match's recursion */
#define LUA_MAXCAPTURES 32
#define L_ESC '%'
#define SPECIALS "^$*+?.([%-"

/* string.rep(s, n, sep); with nothing to repeat, Lua's loops n times. */
int tmpl_counted_rep(lua_State *L)
{
	size_t l, lsep;
	const char *s = luaL_checklstring(L, 1, &l);
	lua_Integer n = luaL_checkinteger(L, 2);
	const char *sep = luaL_optlstring(L, 3, "", &lsep);
	if (n <= 0 || l + lsep == 0) {
		lua_pushliteral(L, "");
		return 1;
	}
	if (l + lsep < l || l + lsep > MAXSIZE / (size_t)n)
		return luaL_error(L, "resulting string too large");
	size_t totallen = (size_t)n * l + (size_t)(n - 1) * lsep;
	luaL_Buffer b;
	char *p = luaL_buffinitsize(L, &b, totallen);
	while (n-- > 1) { /* the allocation above paid for this loop */
		memcpy(p, s, l);
		p += l;
		if (lsep > 0) {
			memcpy(p, sep, lsep);
			p += lsep;
		}
	}
	memcpy(p, s, l);
	luaL_pushresultsize(&b, totallen);
	return 1;
}

static size_t posrelatI(lua_Integer pos, size_t len)
{
	if (pos > 0)
		return (size_t)pos;
	else if (pos == 0)
		return 1;
	else if (pos < -(lua_Integer)len)
		return 1;
	return len + (size_t)pos + 1;
}

typedef struct MatchState {
	const char *src_init, *src_end, *p_end;
	lua_State *L;
	int matchdepth;
	unsigned char level; /* captures, finished or not */
	struct {
		const char *init;
		ptrdiff_t len;
	} capture[LUA_MAXCAPTURES];
} MatchState;

static const char *match(MatchState *ms, const char *s, const char *p);

static int check_capture(MatchState *ms, int l)
{
	l -= '1';
	if (l < 0 || l >= ms->level || ms->capture[l].len == CAP_UNFINISHED)
		return luaL_error(ms->L, "invalid capture index %%%d", l + 1);
	return l;
}

static int capture_to_close(MatchState *ms)
{
	int level = ms->level;
	for (level--; level >= 0; level--)
		if (ms->capture[level].len == CAP_UNFINISHED)
			return level;
	return luaL_error(ms->L, "invalid pattern capture");
}

static const char *classend(MatchState *ms, const char *p)
{
	switch (*p++) {
	case L_ESC:
		if (p == ms->p_end)
			luaL_error(ms->L, "malformed pattern (ends with '%%')");
		return p + 1;
	case '[':
		if (*p == '^')
			p++;
		do { /* look for a ']' */
			if (p == ms->p_end)
				luaL_error(ms->L, "malformed pattern (missing ']')");
			if (*(p++) == L_ESC && p < ms->p_end)
				p++; /* skip escapes (e.g. '%]') */
		} while (*p != ']');
		return p + 1;
	default:
		return p;
	}
}

static int match_class(int c, int cl)
{
	int res;
	switch (tolower(cl)) {
	case 'a': res = isalpha(c); break;
	case 'c': res = iscntrl(c); break;
	case 'd': res = isdigit(c); break;
	case 'g': res = isgraph(c); break;
	case 'l': res = islower(c); break;
	case 'p': res = ispunct(c); break;
	case 's': res = isspace(c); break;
	case 'u': res = isupper(c); break;
	case 'w': res = isalnum(c); break;
	case 'x': res = isxdigit(c); break;
	case 'z': res = (c == 0); break; /* deprecated option */
	default: return (cl == c);
	}
	return (islower(cl) ? res : !res);
}

static int matchbracketclass(int c, const char *p, const char *ec)
{
	int sig = 1;
	if (*(p + 1) == '^') {
		sig = 0;
		p++; /* skip the '^' */
	}
	while (++p < ec) {
		if (*p == L_ESC) {
			p++;
			if (match_class(c, uchar(*p)))
				return sig;
		} else if (*(p + 1) == '-' && p + 2 < ec) {
			p += 2;
			if (uchar(*(p - 2)) <= c && c <= uchar(*p))
				return sig;
		} else if (uchar(*p) == c)
			return sig;
	}
	return !sig;
}

static int singlematch(MatchState *ms, const char *s, const char *p, const char *ep)
{
	if (s >= ms->src_end)
		return 0;
	int c = uchar(*s);
	switch (*p) {
	case '.': return 1; /* matches any char */
	case L_ESC: return match_class(c, uchar(*(p + 1)));
	case '[': return matchbracketclass(c, p, ep - 1);
	default: return (uchar(*p) == c);
	}
}

static const char *matchbalance(MatchState *ms, const char *s, const char *p)
{
	if (p >= ms->p_end - 1)
		luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
	if (*s != *p)
		return NULL;
	int b = *p, e = *(p + 1), cont = 1;
	const char *from = s;
	while (++s < ms->src_end) {
		if (*s == e) {
			if (--cont == 0) {
				tmpl_charge(ms->L, (lua_Unsigned)(s - from));
				return s + 1;
			}
		} else if (*s == b)
			cont++;
	}
	tmpl_charge(ms->L, (lua_Unsigned)(s - from));
	return NULL; /* string ends out of balance */
}

static const char *max_expand(MatchState *ms, const char *s, const char *p, const char *ep)
{
	ptrdiff_t i = 0; /* counts maximum expand for item */
	while (singlematch(ms, s + i, p, ep))
		i++;
	tmpl_charge(ms->L, (lua_Unsigned)i);
	/* keeps trying to match with the maximum repetitions */
	while (i >= 0) {
		const char *res = match(ms, (s + i), ep + 1);
		if (res)
			return res;
		i--; /* else didn't match; reduce 1 repetition to try again */
	}
	return NULL;
}

static const char *min_expand(MatchState *ms, const char *s, const char *p, const char *ep)
{
	for (;;) {
		const char *res = match(ms, s, ep + 1);
		if (res != NULL)
			return res;
		else if (singlematch(ms, s, p, ep))
			s++; /* try with one more repetition */
		else
			return NULL;
	}
}

static const char *start_capture(MatchState *ms, const char *s, const char *p, int what)
{
	const char *res;
	int level = ms->level;
	if (level >= LUA_MAXCAPTURES)
		luaL_error(ms->L, "too many captures");
	ms->capture[level].init = s;
	ms->capture[level].len = what;
	ms->level = (unsigned char)(level + 1);
	if ((res = match(ms, s, p)) == NULL) /* match failed? */
		ms->level--;                   /* undo capture */
	return res;
}

static const char *end_capture(MatchState *ms, const char *s, const char *p)
{
	int l = capture_to_close(ms);
	const char *res;
	ms->capture[l].len = s - ms->capture[l].init; /* close capture */
	if ((res = match(ms, s, p)) == NULL)          /* match failed? */
		ms->capture[l].len = CAP_UNFINISHED;  /* undo capture */
	return res;
}

static const char *match_capture(MatchState *ms, const char *s, int l)
{
	size_t len;
	l = check_capture(ms, l);
	len = (size_t)ms->capture[l].len;
	tmpl_charge(ms->L, len / 64);
	if ((size_t)(ms->src_end - s) >= len && memcmp(ms->capture[l].init, s, len) == 0)
		return s + len;
	return NULL;
}

static const char *match(MatchState *ms, const char *s, const char *p)
{
	if (ms->matchdepth-- == 0)
		luaL_error(ms->L, "pattern too complex");
init: /* using goto to optimize tail recursion */
	tmpl_charge(ms->L, 1);
	if (p != ms->p_end) { /* end of pattern? */
		switch (*p) {
		case '(': /* start capture */
			if (*(p + 1) == ')') /* position capture? */
				s = start_capture(ms, s, p + 2, CAP_POSITION);
			else
				s = start_capture(ms, s, p + 1, CAP_UNFINISHED);
			break;
		case ')': /* end capture */
			s = end_capture(ms, s, p + 1);
			break;
		case '$':
			if ((p + 1) != ms->p_end) /* is the '$' the last char in pattern? */
				goto dflt;          /* no; go to default */
			s = (s == ms->src_end) ? s : NULL; /* check end of string */
			break;
		case L_ESC: /* escaped sequences not in the format class[*+?-]? */
			switch (*(p + 1)) {
			case 'b': /* balanced string? */
				s = matchbalance(ms, s, p + 2);
				if (s != NULL) {
					p += 4;
					goto init; /* return match(ms, s, p + 4); */
				}              /* else fail (s == NULL) */
				break;
			case 'f': { /* frontier? */
				const char *ep;
				char previous;
				p += 2;
				if (*p != '[')
					luaL_error(ms->L, "missing '[' after '%%f' in pattern");
				ep = classend(ms, p); /* points to what is next */
				previous = (s == ms->src_init) ? '\0' : *(s - 1);
				if (!matchbracketclass(uchar(previous), p, ep - 1) &&
				    matchbracketclass(uchar(*s), p, ep - 1)) {
					p = ep;
					goto init; /* return match(ms, s, ep); */
				}
				s = NULL; /* match failed */
				break;
			}
			case '0': case '1': case '2': case '3': case '4':
			case '5': case '6': case '7': case '8': case '9':
				/* capture results (%0-%9)? */
				s = match_capture(ms, s, uchar(*(p + 1)));
				if (s != NULL) {
					p += 2;
					goto init; /* return match(ms, s, p + 2) */
				}
				break;
			default:
				goto dflt;
			}
			break;
		default:
		dflt: { /* pattern class plus optional suffix */
			const char *ep = classend(ms, p); /* points to optional suffix */
			/* does not match at least once? */
			if (!singlematch(ms, s, p, ep)) {
				if (*ep == '*' || *ep == '?' || *ep == '-') { /* accept empty? */
					p = ep + 1;
					goto init; /* return match(ms, s, ep + 1); */
				} else         /* '+' or no suffix */
					s = NULL; /* fail */
			} else { /* matched once */
				switch (*ep) { /* handle optional suffix */
				case '?': {    /* optional */
					const char *res;
					if ((res = match(ms, s + 1, ep + 1)) != NULL)
						s = res;
					else {
						p = ep + 1;
						goto init; /* else return match(ms, s, ep + 1); */
					}
					break;
				}
				case '+': /* 1 or more repetitions */
					s++;  /* 1 match already done */
					/* fallthrough */
				case '*': /* 0 or more repetitions */
					s = max_expand(ms, s, p, ep);
					break;
				case '-': /* 0 or more repetitions (minimum) */
					s = min_expand(ms, s, p, ep);
					break;
				default: /* no suffix */
					s++;
					p = ep;
					goto init; /* return match(ms, s + 1, ep); */
				}
			}
			break;
		}
		}
	}
	ms->matchdepth++;
	return s;
}

/* A plain search: memchr for the first byte, memcmp for the rest, each
 * counted per 64 bytes (a subject of a's and a needle of a's then b is
 * quadratic). */
static const char *lmemfind(MatchState *ms, const char *s1, size_t l1, const char *s2, size_t l2)
{
	if (l2 == 0)
		return s1; /* empty strings are everywhere */
	if (l2 > l1)
		return NULL; /* avoids a negative 'l1' */
	const char *init; /* to search for a '*s2' inside 's1' */
	l2--;             /* 1st char will be checked by 'memchr' */
	l1 = l1 - l2;     /* 's2' cannot be found after that */
	while (l1 > 0 && (init = memchr(s1, *s2, l1)) != NULL) {
		init++; /* 1st char is already checked */
		tmpl_charge(ms->L, 1 + ((size_t)(init - s1) + l2) / 64);
		if (memcmp(init, s2 + 1, l2) == 0)
			return init - 1;
		l1 -= (size_t)(init - s1); /* correct 'l1' and 's1' to try again */
		s1 = init;
	}
	return NULL; /* not found */
}

/* The i-th capture: its length, its address in *cap; or, for a position
 * capture, CAP_POSITION with the position pushed.  With no captures,
 * capture 0 is the whole match s..e. */
static ptrdiff_t get_onecapture(MatchState *ms, int i, const char *s, const char *e,
				const char **cap)
{
	if (i >= ms->level) {
		if (i != 0)
			luaL_error(ms->L, "invalid capture index %%%d", i + 1);
		*cap = s;
		return e - s;
	}
	ptrdiff_t capl = ms->capture[i].len;
	*cap = ms->capture[i].init;
	if (capl == CAP_UNFINISHED)
		luaL_error(ms->L, "unfinished capture");
	else if (capl == CAP_POSITION)
		lua_pushinteger(ms->L, (ms->capture[i].init - ms->src_init) + 1);
	return capl;
}

static void push_onecapture(MatchState *ms, int i, const char *s, const char *e)
{
	const char *cap;
	ptrdiff_t l = get_onecapture(ms, i, s, e, &cap);
	if (l != CAP_POSITION)
		lua_pushlstring(ms->L, cap, (size_t)l);
	/* else position was already pushed */
}

static int push_captures(MatchState *ms, const char *s, const char *e)
{
	int nlevels = (ms->level == 0 && s) ? 1 : ms->level;
	luaL_checkstack(ms->L, nlevels, "too many captures");
	for (int i = 0; i < nlevels; i++)
		push_onecapture(ms, i, s, e);
	return nlevels; /* number of strings pushed */
}

/* check whether pattern has no special characters */
static int nospecials(const char *p, size_t l)
{
	size_t upto = 0;
	do {
		if (strpbrk(p + upto, SPECIALS))
			return 0; /* pattern has a special character */
		upto += strlen(p + upto) + 1; /* may have more after \0 */
	} while (upto <= l);
	return 1; /* no special chars found */
}

static void prepstate(MatchState *ms, lua_State *L, const char *s, size_t ls, const char *p,
		      size_t lp)
{
	ms->L = L;
	ms->matchdepth = MAXCCALLS;
	ms->src_init = s;
	ms->src_end = s + ls;
	ms->p_end = p + lp;
}

static void reprepstate(MatchState *ms)
{
	ms->level = 0;
}

static int str_find_aux(lua_State *L, int find)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = posrelatI(luaL_optinteger(L, 3, 1), ls) - 1;
	if (init > ls) { /* start after string's end? */
		luaL_pushfail(L); /* cannot find anything */
		return 1;
	}
	MatchState ms;
	/* explicit request or no special characters? */
	if (find && (lua_toboolean(L, 4) || nospecials(p, lp))) {
		/* do a plain search */
		prepstate(&ms, L, s, ls, p, lp);
		const char *s2 = lmemfind(&ms, s + init, ls - init, p, lp);
		if (s2) {
			lua_pushinteger(L, (s2 - s) + 1);
			lua_pushinteger(L, (lua_Integer)((size_t)(s2 - s) + lp));
			return 2;
		}
	} else {
		const char *s1 = s + init;
		int anchor = (*p == '^');
		if (anchor) {
			p++;
			lp--; /* skip anchor character */
		}
		prepstate(&ms, L, s, ls, p, lp);
		do {
			const char *res;
			reprepstate(&ms);
			if ((res = match(&ms, s1, p)) != NULL) {
				if (find) {
					lua_pushinteger(L, (s1 - s) + 1); /* start */
					lua_pushinteger(L, res - s);      /* end */
					return push_captures(&ms, NULL, 0) + 2;
				}
				return push_captures(&ms, s1, res);
			}
		} while (s1++ < ms.src_end && !anchor);
	}
	luaL_pushfail(L); /* not found */
	return 1;
}

int tmpl_counted_find(lua_State *L)
{
	return str_find_aux(L, 1);
}

int tmpl_counted_match(lua_State *L)
{
	return str_find_aux(L, 0);
}

/* state for 'gmatch' */
typedef struct GMatchState {
	const char *src;       /* current position */
	const char *p;         /* pattern */
	const char *lastmatch; /* end of last match */
	MatchState ms;         /* match state */
} GMatchState;

static int gmatch_aux(lua_State *L)
{
	GMatchState *gm = lua_touserdata(L, lua_upvalueindex(3));
	gm->ms.L = L;
	for (const char *src = gm->src; src <= gm->ms.src_end; src++) {
		const char *e;
		reprepstate(&gm->ms);
		if ((e = match(&gm->ms, src, gm->p)) != NULL && e != gm->lastmatch) {
			gm->src = gm->lastmatch = e;
			return push_captures(&gm->ms, src, e);
		}
	}
	return 0; /* not found */
}

int tmpl_counted_gmatch(lua_State *L)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = posrelatI(luaL_optinteger(L, 3, 1), ls) - 1;
	lua_settop(L, 2); /* keep strings on closure to avoid being collected */
	GMatchState *gm = lua_newuserdatauv(L, sizeof(GMatchState), 0);
	if (init > ls)       /* start after string's end? */
		init = ls + 1; /* avoid overflows in 's + init' */
	prepstate(&gm->ms, L, s, ls, p, lp);
	gm->src = s + init;
	gm->p = p;
	gm->lastmatch = NULL;
	lua_pushcclosure(L, gmatch_aux, 3);
	return 1;
}

static void add_s(MatchState *ms, luaL_Buffer *b, const char *s, const char *e)
{
	size_t l;
	lua_State *L = ms->L;
	const char *news = lua_tolstring(L, 3, &l);
	const char *p;
	while ((p = memchr(news, L_ESC, l)) != NULL) {
		luaL_addlstring(b, news, (size_t)(p - news));
		p++;                 /* skip ESC */
		if (*p == L_ESC)     /* '%%' */
			luaL_addchar(b, *p);
		else if (*p == '0') /* '%0' */
			luaL_addlstring(b, s, (size_t)(e - s));
		else if (isdigit(uchar(*p))) { /* '%n' */
			const char *cap;
			ptrdiff_t resl = get_onecapture(ms, *p - '1', s, e, &cap);
			if (resl == CAP_POSITION)
				luaL_addvalue(b); /* add position to accumulated result */
			else
				luaL_addlstring(b, cap, (size_t)resl);
		} else
			luaL_error(L, "invalid use of '%c' in replacement string", L_ESC);
		l -= (size_t)(p + 1 - news);
		news = p + 1;
	}
	luaL_addlstring(b, news, l);
}

/* Adds the replacement value to b; returns whether the original string
 * changed (a function or table giving nil or false keeps it). */
static int add_value(MatchState *ms, luaL_Buffer *b, const char *s, const char *e, int tr)
{
	lua_State *L = ms->L;
	switch (tr) {
	case LUA_TFUNCTION: { /* call the function */
		lua_pushvalue(L, 3);
		int n = push_captures(ms, s, e); /* all captures as arguments */
		lua_call(L, n, 1);
		break;
	}
	case LUA_TTABLE: /* index the table */
		push_onecapture(ms, 0, s, e); /* first capture is the index */
		lua_gettable(L, 3);
		break;
	default: /* LUA_TNUMBER or LUA_TSTRING */
		add_s(ms, b, s, e);
		return 1;
	}
	if (!lua_toboolean(L, -1)) { /* nil or false? */
		lua_pop(L, 1);
		luaL_addlstring(b, s, (size_t)(e - s)); /* keep original text */
		return 0;
	} else if (!lua_isstring(L, -1))
		return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
	luaL_addvalue(b); /* add result to accumulator */
	return 1;
}

int tmpl_counted_gsub(lua_State *L)
{
	size_t srcl, lp;
	const char *src = luaL_checklstring(L, 1, &srcl); /* subject */
	const char *p = luaL_checklstring(L, 2, &lp);     /* pattern */
	const char *lastmatch = NULL;                      /* end of last match */
	int tr = lua_type(L, 3);                           /* replacement type */
	lua_Integer max_s = luaL_optinteger(L, 4, (lua_Integer)srcl + 1);
	int anchor = (*p == '^');
	lua_Integer n = 0; /* replacement count */
	int changed = 0;
	MatchState ms;
	luaL_Buffer b;
	luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION ||
				    tr == LUA_TTABLE, 3, "string/function/table");
	luaL_buffinit(L, &b);
	if (anchor) {
		p++;
		lp--; /* skip anchor character */
	}
	prepstate(&ms, L, src, srcl, p, lp);
	while (n < max_s) {
		const char *e;
		reprepstate(&ms);
		if ((e = match(&ms, src, p)) != NULL && e != lastmatch) { /* match? */
			n++;
			changed = add_value(&ms, &b, src, e, tr) | changed;
			src = lastmatch = e;
		} else if (src < ms.src_end) /* otherwise, skip one character */
			luaL_addchar(&b, *src++);
		else
			break; /* end of subject */
		if (anchor)
			break;
	}
	if (!changed)
		lua_pushvalue(L, 1); /* return original string */
	else {
		luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
		luaL_pushresult(&b);
	}
	lua_pushinteger(L, n); /* number of substitutions */
	return 2;
}

/* ---- the table library, counted ----
 *
 * insert, remove, move, concat and unpack as in Lua 5.4's ltablib.c, with
 * the elements they walk counted: the range is the caller's, or #t, which
 * __len or a raw table ({[1] = 1, [2] = 1, [4] = 1, ..., [2^61] = 1} has a
 * border at 2^61) can make astronomical. */

#define TAB_R 1 /* read */
#define TAB_W 2 /* write */
#define TAB_L 4 /* length */
#define TAB_RW (TAB_R | TAB_W)

static int checkfield(lua_State *L, const char *key, int n)
{
	lua_pushstring(L, key);
	return (lua_rawget(L, -n) != LUA_TNIL);
}

/* Checks that arg is a table or behaves like one. */
static void checktab(lua_State *L, int arg, int what)
{
	if (lua_type(L, arg) != LUA_TTABLE) {
		int n = 1; /* number of elements to pop */
		if (lua_getmetatable(L, arg) && (!(what & TAB_R) || checkfield(L, "__index", ++n)) &&
		    (!(what & TAB_W) || checkfield(L, "__newindex", ++n)) &&
		    (!(what & TAB_L) || checkfield(L, "__len", ++n)))
			lua_pop(L, n);
		else
			luaL_checktype(L, arg, LUA_TTABLE); /* force an error */
	}
}

static lua_Integer aux_getn(lua_State *L, int n, int w)
{
	checktab(L, n, w | TAB_L);
	return luaL_len(L, n);
}

int tmpl_counted_insert(lua_State *L)
{
	lua_Integer pos; /* where to insert new element */
	lua_Integer e = aux_getn(L, 1, TAB_RW);
	e = luaL_intop(+, e, 1); /* first empty element */
	switch (lua_gettop(L)) {
	case 2: /* called with only 2 arguments */
		pos = e; /* insert new element at the end */
		break;
	case 3:
		pos = luaL_checkinteger(L, 2); /* 2nd argument is the position */
		/* check whether 'pos' is in [1, e] */
		luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
		tmpl_charge(L, (lua_Unsigned)e - (lua_Unsigned)pos);
		for (lua_Integer i = e; i > pos; i--) { /* move up elements */
			lua_geti(L, 1, i - 1);
			lua_seti(L, 1, i); /* t[i] = t[i - 1] */
		}
		break;
	default:
		return luaL_error(L, "wrong number of arguments to 'insert'");
	}
	lua_seti(L, 1, pos); /* t[pos] = v */
	return 0;
}

int tmpl_counted_remove(lua_State *L)
{
	lua_Integer size = aux_getn(L, 1, TAB_RW);
	lua_Integer pos = luaL_optinteger(L, 2, size);
	if (pos != size) /* validate 'pos' if given */
		/* check whether 'pos' is in [1, size + 1] */
		luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 1,
			      "position out of bounds");
	if (pos < size)
		tmpl_charge(L, (lua_Unsigned)size - (lua_Unsigned)pos);
	lua_geti(L, 1, pos); /* result = t[pos] */
	for (; pos < size; pos++) {
		lua_geti(L, 1, pos + 1);
		lua_seti(L, 1, pos); /* t[pos] = t[pos + 1] */
	}
	lua_pushnil(L);
	lua_seti(L, 1, pos); /* remove entry t[pos] */
	return 1;
}

/* Copies a1[f..e] into tt[t...], in increasing order where possible. */
int tmpl_counted_move(lua_State *L)
{
	lua_Integer f = luaL_checkinteger(L, 2);
	lua_Integer e = luaL_checkinteger(L, 3);
	lua_Integer t = luaL_checkinteger(L, 4);
	int tt = !lua_isnoneornil(L, 5) ? 5 : 1; /* destination table */
	checktab(L, 1, TAB_R);
	checktab(L, tt, TAB_W);
	if (e >= f) { /* otherwise, nothing to move */
		lua_Integer n, i;
		luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
		n = e - f + 1; /* number of elements to move */
		luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
		tmpl_charge(L, (lua_Unsigned)n);
		if (t > e || t <= f || (tt != 1 && !lua_compare(L, 1, tt, LUA_OPEQ))) {
			for (i = 0; i < n; i++) {
				lua_geti(L, 1, f + i);
				lua_seti(L, tt, t + i);
			}
		} else {
			for (i = n - 1; i >= 0; i--) {
				lua_geti(L, 1, f + i);
				lua_seti(L, tt, t + i);
			}
		}
	}
	lua_pushvalue(L, tt); /* return destination table */
	return 1;
}

static void addfield(lua_State *L, luaL_Buffer *b, lua_Integer i)
{
	lua_geti(L, 1, i);
	if (!lua_isstring(L, -1))
		luaL_error(L, "invalid value (%s) at index %I in table for 'concat'",
			   luaL_typename(L, -1), i);
	luaL_addvalue(b);
}

int tmpl_counted_concat(lua_State *L)
{
	luaL_Buffer b;
	lua_Integer last = aux_getn(L, 1, TAB_R);
	size_t lsep;
	const char *sep = luaL_optlstring(L, 2, "", &lsep);
	lua_Integer i = luaL_optinteger(L, 3, 1);
	last = luaL_optinteger(L, 4, last);
	if (i <= last)
		tmpl_charge(L, (lua_Unsigned)last - (lua_Unsigned)i + 1);
	luaL_buffinit(L, &b);
	for (; i < last; i++) {
		addfield(L, &b, i);
		luaL_addlstring(&b, sep, lsep);
	}
	if (i == last) /* add last value (if interval was not empty) */
		addfield(L, &b, i);
	luaL_pushresult(&b);
	return 1;
}

int tmpl_counted_unpack(lua_State *L)
{
	lua_Unsigned n;
	lua_Integer i = luaL_optinteger(L, 2, 1);
	lua_Integer e = luaL_opt(L, luaL_checkinteger, 3, luaL_len(L, 1));
	if (i > e)
		return 0; /* empty range */
	n = (lua_Unsigned)e - (lua_Unsigned)i; /* number of elements minus 1 */
	if (n >= (unsigned int)INT_MAX || !lua_checkstack(L, (int)(++n)))
		return luaL_error(L, "too many results to unpack");
	tmpl_charge(L, n);
	for (; i < e; i++) /* push arg[i..e - 1] (to avoid overflows) */
		lua_geti(L, 1, i);
	lua_geti(L, 1, e); /* push last element */
	return (int)n;
}

/* table.sort: Lua's own (upvalue 1), after counting n log2 n steps for the
 * comparisons it makes in C.  Checking its arguments first keeps Lua's
 * messages; a __len metamethod runs twice. */
int tmpl_counted_sort(lua_State *L)
{
	lua_Integer n = aux_getn(L, 1, TAB_RW);
	if (n > 1) {
		luaL_argcheck(L, n < INT_MAX, 1, "array too big");
		if (!lua_isnoneornil(L, 2))
			luaL_checktype(L, 2, LUA_TFUNCTION);
		int log2n = 1;
		while (log2n < 32 && ((lua_Integer)1 << log2n) < n)
			log2n++;
		tmpl_charge(L, (lua_Unsigned)n * (lua_Unsigned)log2n);
	}
	lua_settop(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, 2, 0);
	return 0;
}
