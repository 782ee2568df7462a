/*
 * lex_test.c: the lexer.  Tokens are compared as a compact text:
 * identifiers as themselves, numbers as N(value), punctuators quoted,
 * NEWLINE as ';' and EOF as '$'.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/redirect.h>
#include <string.h>

#include "helpers.h"

/* "yhat = x" -> "yhat '=' x ; $" */
static char *toks_text(const Unit *u)
{
	Buf b = {0};
	for (int i = 0; i < u->n_toks; i++) {
		const Token *t = &u->toks[i];
		if (i)
			buf_puts(&b, " ");
		switch (t->kind) {
		case TK_IDENT: buf_printf(&b, "%.*s", t->len, t->text); break;
		case TK_NUM: buf_printf(&b, "N(%.17g)", t->num); break;
		case TK_PUNCT: buf_printf(&b, "'%.*s'", t->len, t->text); break;
		case TK_NEWLINE: buf_puts(&b, ";"); break;
		case TK_EOF: buf_puts(&b, "$"); break;
		}
	}
	buf_put(&b, "", 1);
	return unit_keep(b.data);
}

static Unit *lex_ok(const char *text)
{
	Unit *u = unit_lex(text, strlen(text));
	if (u->failed)
		cr_fatal("lexing failed:\n%s", u->err);
	return u;
}

/* Lexes text that must fail; returns the first line of the message. */
static char *lex_err(const char *text, size_t len)
{
	Unit *u = unit_lex(text, len);
	cr_assert(u->failed, "lexing should have failed: %s", text);
	char *nl = strchr(u->err, '\n');
	if (nl)
		*nl = '\0';
	return u->err;
}

#define LEX_ERR(lit) lex_err(lit, sizeof lit - 1)

Test(lex, statement_tokens)
{
	Unit *u = lex_ok("yhat = x * w # the prediction\nloss = (yhat - y)^2\n");
	cr_assert(eq(str, toks_text(u),
		     "yhat '=' x '*' w ; loss '=' '(' yhat '-' y ')' '^' N(2) ; $"));
}

Test(lex, token_locations)
{
	Unit *u = lex_ok("model m\n\tyhat = x*w\n");
	/* model(1:1) m(1:7) NL yhat(2:2, after a tab) =(2:7) x(2:9) *(2:10) w(2:11) */
	cr_assert(eq(int, u->toks[1].loc.line, 1));
	cr_assert(eq(int, u->toks[1].loc.col, 7));
	cr_assert(eq(int, u->toks[3].loc.line, 2));
	cr_assert(eq(int, u->toks[3].loc.col, 2));
	cr_assert(eq(int, u->toks[3].loc.len, 4));
	cr_assert(eq(int, u->toks[6].loc.col, 10));
}

Test(lex, numbers)
{
	Unit *u = lex_ok("2 0.5 .5 1e-3 1E+3 1.e2 12.75e1 007 0 0.0 1e0");
	cr_assert(eq(str, toks_text(u),
		     "N(2) N(0.5) N(0.5) N(0.001) N(1000) N(100) N(127.5) N(7) N(0) N(0) N(1) ; $"));
	/* every value is exactly what strtod reads */
	cr_assert(eq(dbl, u->toks[3].num, 1e-3));
	cr_assert(eq(dbl, u->toks[1].num, 0.5));
	cr_assert(eq(dbl, u->toks[2].num, 0.5));
}

Test(lex, number_extremes_that_are_fine)
{
	/* the largest double, a subnormal, and zeros with huge exponents */
	Unit *u = lex_ok("1.7976931348623157e308 4e-320 0e-999 0.000e999");
	cr_assert(eq(dbl, u->toks[0].num, 1.7976931348623157e308));
	cr_assert(eq(dbl, u->toks[1].num, 4e-320));
	cr_assert(eq(dbl, u->toks[2].num, 0.0));
	cr_assert(eq(dbl, u->toks[3].num, 0.0));
}

Test(lex, number_errors)
{
	cr_assert(eq(str, LEX_ERR("x = 1e\n"), "t.sg:1:5: error: malformed number: exponent has no digits"));
	cr_assert(eq(str, LEX_ERR("x = 1e+\n"), "t.sg:1:5: error: malformed number: exponent has no digits"));
	cr_assert(eq(str, LEX_ERR("x = 2E-x\n"), "t.sg:1:5: error: malformed number: exponent has no digits"));
	cr_assert(eq(str, LEX_ERR("x = 1.2.3\n"), "t.sg:1:5: error: malformed number '1.2.'"));
	cr_assert(eq(str, LEX_ERR("x = 2x\n"), "t.sg:1:5: error: malformed number '2x'"));
	cr_assert(eq(str, LEX_ERR("x = 1_0\n"), "t.sg:1:5: error: malformed number '1_'"));
	cr_assert(eq(str, LEX_ERR("x = 1e309\n"), "t.sg:1:5: error: number '1e309' overflows a double"));
	cr_assert(eq(str, LEX_ERR("x = 1e-400\n"), "t.sg:1:5: error: number '1e-400' underflows a double to 0"));
	cr_assert(eq(str, LEX_ERR("x = 0.00001e-330\n"), "t.sg:1:5: error: number '0.00001e-330' underflows a double to 0"));
}

Test(lex, number_error_caret)
{
	Unit *u = unit_lex("x = 1e309 + y\n", 14);
	cr_assert(eq(str, u->err, "t.sg:1:5: error: number '1e309' overflows a double\n"
				  "x = 1e309 + y\n"
				  "    ^~~~~\n"));
}

Test(lex, identifiers)
{
	Unit *u = lex_ok("_a1 a_b A9 x2y w");
	cr_assert(eq(str, toks_text(u), "_a1 a_b A9 x2y w ; $"));
	char name[64];
	memset(name, 'a', 63);
	name[63] = '\0';
	u = lex_ok(name);
	cr_assert(eq(int, u->toks[0].len, 63));
}

Test(lex, identifier_too_long)
{
	char text[80];
	memset(text, 'b', 64);
	strcpy(text + 64, " = 1\n");
	cr_assert(eq(str, lex_err(text, strlen(text)), "t.sg:1:1: error: name is longer than 63 characters"));
}

Test(lex, comments)
{
	/* a comment may hold anything, parentheses included, and ends at the newline */
	Unit *u = lex_ok("# (leading comment\nx # ) (\ny#z\n");
	cr_assert(eq(str, toks_text(u), "x ; y ; $"));
}

Test(lex, newlines_inside_parentheses_are_ignored)
{
	Unit *u = lex_ok("a = (x +\n  y)\nb = f(x,\n\n y)\nc = v[0,\n 1]\n");
	cr_assert(eq(str, toks_text(u),
		     "a '=' '(' x '+' y ')' ; b '=' f '(' x ',' y ')' ; c '=' v '[' N(0) ',' N(1) ']' ; $"));
	/* the token after the line break keeps its own line number */
	cr_assert(eq(int, u->toks[6].loc.line, 2));
}

Test(lex, blank_lines_and_crlf)
{
	Unit *u = lex_ok("\n\n  x\r\n\r\n\ty \n\n");
	cr_assert(eq(str, toks_text(u), "x ; y ; $"));
	u = lex_ok("x");
	cr_assert(eq(str, toks_text(u), "x ; $"));
	u = lex_ok("");
	cr_assert(eq(str, toks_text(u), "$"));
}

Test(lex, utf8_in_comments_is_accepted)
{
	Unit *u = lex_ok("# caf\xc3\xa9, \xe2\x88\x82loss/\xe2\x88\x82w, \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\nx\n");
	cr_assert(eq(str, toks_text(u), "x ; $"));
}

Test(lex, non_ascii_outside_comments)
{
	cr_assert(eq(str, LEX_ERR("caf\xc3\xa9 = 1\n"), "t.sg:1:4: error: unexpected character '\xc3\xa9'"));
}

Test(lex, invalid_utf8_rejected)
{
	/* a lone continuation byte, overlong forms, a surrogate, beyond
	 * U+10FFFF, a truncated sequence, and bytes that never occur */
	cr_assert(eq(str, LEX_ERR("x\n# \x80\n"), "t.sg:2:3: error: invalid UTF-8 byte 0x80"));
	cr_assert(eq(str, LEX_ERR("# \xc0\x80\n"), "t.sg:1:3: error: invalid UTF-8 byte 0xC0"));
	cr_assert(eq(str, LEX_ERR("# \xc1\xbf\n"), "t.sg:1:3: error: invalid UTF-8 byte 0xC1"));
	cr_assert(eq(str, LEX_ERR("# \xe0\x80\xaf\n"), "t.sg:1:3: error: invalid UTF-8 byte 0xE0"));
	cr_assert(eq(str, LEX_ERR("# \xf0\x8f\xbf\xbf\n"), "t.sg:1:3: error: invalid UTF-8 byte 0xF0"));
	cr_assert(eq(str, LEX_ERR("# \xed\xa0\x80\n"), "t.sg:1:3: error: invalid UTF-8 byte 0xED"));
	cr_assert(eq(str, LEX_ERR("# \xf4\x90\x80\x80\n"), "t.sg:1:3: error: invalid UTF-8 byte 0xF4"));
	cr_assert(eq(str, LEX_ERR("# ab\xe2\x82"), "t.sg:1:5: error: invalid UTF-8 byte 0xE2"));
	cr_assert(eq(str, LEX_ERR("# \xe2\x82x\n"), "t.sg:1:3: error: invalid UTF-8 byte 0xE2"));
	cr_assert(eq(str, LEX_ERR("# \xfe\n"), "t.sg:1:3: error: invalid UTF-8 byte 0xFE"));
	cr_assert(eq(str, LEX_ERR("# \xff\n"), "t.sg:1:3: error: invalid UTF-8 byte 0xFF"));
	cr_assert(eq(str, LEX_ERR("# \xf8\x88\x80\x80\x80\n"), "t.sg:1:3: error: invalid UTF-8 byte 0xF8"));
}

/* 0xF5..0xF7 can start no UTF-8 sequence (RFC 3629: F5..FF never appear). */
Test(lex, invalid_utf8_lead_bytes_f5_to_f7)
{
	cr_assert(eq(str, LEX_ERR("# \xf5\x80\x80\n"), "t.sg:1:3: error: invalid UTF-8 byte 0xF5"));
	cr_assert(eq(str, LEX_ERR("# \xf7\xbf\xbf\xbf\n"), "t.sg:1:3: error: invalid UTF-8 byte 0xF7"));
}

Test(lex, nul_byte_rejected)
{
	cr_assert(eq(str, LEX_ERR("x = 1\ny = 2\0\n"), "t.sg:2:6: error: NUL byte in model file"));
	cr_assert(eq(str, LEX_ERR("# \0 in a comment\n"), "t.sg:1:3: error: NUL byte in model file"));
}

Test(lex, bad_characters)
{
	cr_assert(eq(str, LEX_ERR("x = a $ b\n"), "t.sg:1:7: error: unexpected character '$'"));
	cr_assert(eq(str, LEX_ERR("x = a ; b\n"), "t.sg:1:7: error: unexpected character ';'"));
	cr_assert(eq(str, LEX_ERR("x = a\x01\n"), "t.sg:1:6: error: unexpected character '\x01'"));
}

Test(lex, unbalanced_closing)
{
	cr_assert(eq(str, LEX_ERR("x = a)\n"), "t.sg:1:6: error: unbalanced parentheses: ')' has no opening match"));
	cr_assert(eq(str, LEX_ERR("x = (a))\n"), "t.sg:1:8: error: unbalanced parentheses: ')' has no opening match"));
	cr_assert(eq(str, LEX_ERR("x = a]\n"), "t.sg:1:6: error: unbalanced parentheses: ']' has no opening match"));
}

Test(lex, lex_is)
{
	Unit *u = lex_ok("model (");
	cr_assert(lex_is(&u->toks[0], "model"));
	cr_assert(not(lex_is(&u->toks[0], "mode")));
	cr_assert(not(lex_is(&u->toks[0], "models")));
	cr_assert(lex_is(&u->toks[1], "("));
	cr_assert(not(lex_is(&u->toks[2], ";")));
}

/* diag_error itself ends the process with status 1 */
Test(lex, error_exits_with_status_1, .exit_code = 1)
{
	Arena *a = arena_new();
	Source src = {"t.sg", "x = 1e\n", 7};
	int n;
	cr_redirect_stderr();
	lex_tokenize(a, &src, &n);
}
