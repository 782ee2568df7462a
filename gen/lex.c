/*
 * lex.c: source bytes to tokens.
 *
 * Tokens: identifiers [A-Za-z_][A-Za-z0-9_]*, numbers (decimal with optional
 * fraction and exponent), one-character punctuators, NEWLINE (statement end)
 * and EOF.  `#` starts a comment to the end of the line.  Newlines inside
 * parentheses or brackets are ignored, so long expressions may span lines.
 * The whole file must be UTF-8; non-ASCII characters may appear only in
 * comments.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"

typedef struct Lexer {
	Arena *arena;
	const Source *src;
	const char *p;      /* next byte */
	const char *bol;    /* start of the current line */
	int line;
	int depth;          /* open ( and [ */
	Token *toks;
	int n, cap;
} Lexer;

bool lex_is(const Token *t, const char *s)
{
	return (t->kind == TK_PUNCT || t->kind == TK_IDENT) &&
	       (size_t)t->len == strlen(s) && !memcmp(t->text, s, (size_t)t->len);
}

static Loc loc_at(const Lexer *lx, const char *p, int len)
{
	return (Loc){lx->src, lx->line, (int)(p - lx->bol) + 1, len > 0 ? len : 1};
}

static Token *push(Lexer *lx, TokenKind kind, const char *text, int len)
{
	if (lx->n == lx->cap) {
		lx->cap = lx->cap ? lx->cap * 2 : 256;
		Token *grown = arena_alloc(lx->arena, (size_t)lx->cap * sizeof *lx->toks);
		if (lx->n)
			memcpy(grown, lx->toks, (size_t)lx->n * sizeof *lx->toks);
		lx->toks = grown;
	}
	Token *t = &lx->toks[lx->n++];
	*t = (Token){kind, text, len, 0, loc_at(lx, text, len)};
	return t;
}

/* Length of the UTF-8 sequence at p (1..4), or 0 when it is malformed. */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
	if (p[0] < 0x80)
		return 1;
	int n = p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
	if (n == 0 || p[0] >= 0xF5 || end - p < n)
		return 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	unsigned cp = n == 2 ? (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu)
		    : n == 3 ? (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu)
			     : (p[0] & 0x07u) << 18 | (p[1] & 0x3Fu) << 12 |
				       (p[2] & 0x3Fu) << 6 | (p[3] & 0x3Fu);
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* Rejects bytes that are not UTF-8, and NULs, anywhere in the file. */
static void check_encoding(Lexer *lx)
{
	const unsigned char *p = (const unsigned char *)lx->src->text;
	const unsigned char *end = p + lx->src->len;
	const char *bol = lx->src->text;
	int line = 1;
	while (p < end) {
		int n = *p ? utf8_len(p, end) : 0;
		if (n == 0) {
			Loc loc = {lx->src, line, (int)((const char *)p - bol) + 1, 1};
			if (*p)
				diag_error(loc, "invalid UTF-8 byte 0x%02X", *p);
			diag_error(loc, "NUL byte in model file");
		}
		if (*p == '\n') {
			line++;
			bol = (const char *)p + 1;
		}
		p += n;
	}
}

static void lex_number(Lexer *lx)
{
	const char *s = lx->p;
	const char *q = s;
	while (*q >= '0' && *q <= '9')
		q++;
	if (*q == '.')
		for (q++; *q >= '0' && *q <= '9';)
			q++;
	if (*q == 'e' || *q == 'E') {
		const char *e = q + 1;
		if (*e == '+' || *e == '-')
			e++;
		if (*e < '0' || *e > '9')
			diag_error(loc_at(lx, s, (int)(e - s)), "malformed number: exponent has no digits");
		while (*e >= '0' && *e <= '9')
			e++;
		q = e;
	}
	if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '_' || *q == '.')
		diag_error(loc_at(lx, s, (int)(q - s) + 1), "malformed number '%.*s'",
			   (int)(q - s) + 1, s);
	char tmp[512];
	int len = (int)(q - s);
	if (len >= (int)sizeof tmp)
		diag_error(loc_at(lx, s, len), "number literal longer than %d characters",
			   (int)sizeof tmp - 1);
	memcpy(tmp, s, (size_t)len);
	tmp[len] = '\0';
	errno = 0;
	double v = strtod(tmp, NULL);
	if (errno == ERANGE && isinf(v))
		diag_error(loc_at(lx, s, len), "number '%s' overflows a double", tmp);
	if (v == 0) {
		for (const char *d = tmp; *d && *d != 'e' && *d != 'E'; d++)
			if (*d >= '1' && *d <= '9')
				diag_error(loc_at(lx, s, len),
					   "number '%s' underflows a double to 0", tmp);
	}
	push(lx, TK_NUM, s, len)->num = v;
	lx->p = q;
}

static void lex_ident(Lexer *lx)
{
	const char *s = lx->p, *q = s;
	while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '_' ||
	       (*q >= '0' && *q <= '9'))
		q++;
	if (q - s > SG_MAX_IDENT)
		diag_error(loc_at(lx, s, (int)(q - s)),
			   "name is longer than %d characters", SG_MAX_IDENT);
	push(lx, TK_IDENT, s, (int)(q - s));
	lx->p = q;
}

/* Spellings of other languages, with the one symgrad reads instead. */
static const char *const misspelled[][2] = {
	{"**", "'^' for powers (x^2)"}, {"=>", "'>='"}, {"=<", "'<='"},
	{"&&", "'and'"}, {"||", "'or'"}, {"!", "'not x' or 'x != y'"},
	{"&", "'and'"}, {"|", "'or'"}, {NULL, NULL},
};

/* The length of the two-character operator at s, or 0. */
static int two_char_op(const char *s)
{
	static const char *const ops[] = {"<=", ">=", "==", "!=", NULL};
	for (int i = 0; ops[i]; i++)
		if (s[0] == ops[i][0] && s[1] == ops[i][1])
			return 2;
	return 0;
}

static void lex_punct(Lexer *lx)
{
	const char *s = lx->p;
	char c = *s;
	int two = two_char_op(s);
	if (two) {
		push(lx, TK_PUNCT, s, two);
		lx->p += two;
		return;
	}
	for (int i = 0; misspelled[i][0]; i++) {
		size_t n = strlen(misspelled[i][0]);
		if (!strncmp(s, misspelled[i][0], n))
			diag_error(loc_at(lx, s, (int)n), "'%s' is not an operator of symgrad: write %s",
				   misspelled[i][0], misspelled[i][1]);
	}
	if (!strchr("+-*/^(),=[]~@<>:'", c) || c == '\0') {
		int n = utf8_len((const unsigned char *)s,
				 (const unsigned char *)lx->src->text + lx->src->len);
		diag_error(loc_at(lx, s, n ? n : 1), "unexpected character '%.*s'",
			   n ? n : 1, s);
	}
	if (c == '(' || c == '[')
		lx->depth++;
	if (c == ')' || c == ']') {
		if (lx->depth == 0)
			diag_error(loc_at(lx, s, 1), "unbalanced parentheses: '%c' has no opening match", c);
		lx->depth--;
	}
	push(lx, TK_PUNCT, s, 1);
	lx->p++;
}

Token *lex_tokenize(Arena *a, const Source *src, int *count)
{
	Lexer lx = {a, src, src->text, src->text, 1, 0, NULL, 0, 0};
	check_encoding(&lx);
	const char *end = src->text + src->len;
	while (lx.p < end) {
		char c = *lx.p;
		if (c == '\n') {
			if (lx.depth == 0 && lx.n && lx.toks[lx.n - 1].kind != TK_NEWLINE)
				push(&lx, TK_NEWLINE, lx.p, 1);
			lx.p++;
			lx.line++;
			lx.bol = lx.p;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			lx.p++;
		} else if (c == '#') {
			while (lx.p < end && *lx.p != '\n')
				lx.p++;
		} else if ((c >= '0' && c <= '9') || (c == '.' && lx.p[1] >= '0' && lx.p[1] <= '9')) {
			lex_number(&lx);
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
			lex_ident(&lx);
		} else {
			lex_punct(&lx);
		}
	}
	if (lx.n && lx.toks[lx.n - 1].kind != TK_NEWLINE)
		push(&lx, TK_NEWLINE, lx.p, 1);
	push(&lx, TK_EOF, lx.p, 1);
	*count = lx.n;
	return lx.toks;
}
