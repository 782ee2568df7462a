/*
 * parse_test.c: the parser.  Expressions are compared through --dump=ast's
 * prefix notation: "(- (pow x 2))" is -(x^2).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "helpers.h"

#define HEAD "input a, b, c, x\nparam w = 1\n"

/* The AST of binding r in "r = EXPR" (with inputs a b c x and param w). */
static const char *ast_of(const char *expr)
{
	Buf b = {0};
	buf_printf(&b, HEAD "r = %s\nloss = w * r\n", expr);
	buf_put(&b, "", 1);
	Unit *u = unit_compile(b.data, DT_DOUBLE);
	buf_free(&b);
	if (u->failed)
		cr_fatal("'%s' failed:\n%s", expr, u->err);
	return unit_ast(u, "r") + 4;
}

/* The first line of the error for a whole model text. */
static char *err_of(const char *text)
{
	Unit *u = unit_compile(text, DT_DOUBLE);
	cr_assert(u->failed, "should have failed:\n%s", text);
	char *nl = strchr(u->err, '\n');
	if (nl)
		*nl = '\0';
	return u->err;
}

Test(parse, precedence)
{
	cr_assert(eq(str, (char *)ast_of("-x^2"), "(- (pow x 2.0))"));
	cr_assert(eq(str, (char *)ast_of("a + b * c"), "(+ a (* b c))"));
	cr_assert(eq(str, (char *)ast_of("a * b + c"), "(+ (* a b) c)"));
	cr_assert(eq(str, (char *)ast_of("(a + b) * c"), "(* (+ a b) c)"));
	cr_assert(eq(str, (char *)ast_of("-a * b"), "(* (- a) b)"));
	cr_assert(eq(str, (char *)ast_of("a * -b"), "(* a (- b))"));
	cr_assert(eq(str, (char *)ast_of("a - -b"), "(- a (- b))"));
	cr_assert(eq(str, (char *)ast_of("- -a"), "(- (- a))"));
	cr_assert(eq(str, (char *)ast_of("2 * x^3"), "(* 2.0 (pow x 3.0))"));
	cr_assert(eq(str, (char *)ast_of("a / b^2"), "(/ a (pow b 2.0))"));
}

Test(parse, power_is_right_associative)
{
	cr_assert(eq(str, (char *)ast_of("a^b^c"), "(pow a (pow b c))"));
	cr_assert(eq(str, (char *)ast_of("x^-2"), "(pow x (- 2.0))"));
	cr_assert(eq(str, (char *)ast_of("2^-x^2"), "(pow 2.0 (- (pow x 2.0)))"));
	cr_assert(eq(str, (char *)ast_of("(a^b)^c"), "(pow (pow a b) c)"));
}

Test(parse, binary_operators_are_left_associative)
{
	cr_assert(eq(str, (char *)ast_of("a - b - c"), "(- (- a b) c)"));
	cr_assert(eq(str, (char *)ast_of("a / b / c"), "(/ (/ a b) c)"));
	cr_assert(eq(str, (char *)ast_of("a - b + c"), "(+ (- a b) c)"));
	cr_assert(eq(str, (char *)ast_of("a / b * c"), "(* (/ a b) c)"));
	cr_assert(eq(str, (char *)ast_of("a - (b - c)"), "(- a (- b c))"));
}

Test(parse, calls)
{
	cr_assert(eq(str, (char *)ast_of("exp(x)"), "(exp x)"));
	cr_assert(eq(str, (char *)ast_of("max(a, b) + min(b, c)"), "(+ (max a b) (min b c))"));
	cr_assert(eq(str, (char *)ast_of("pow(x, 0.5)"), "(pow x 0.5)"));
	cr_assert(eq(str, (char *)ast_of("exp(log(sqrt(x)))"), "(exp (log (sqrt x)))"));
	cr_assert(eq(str, (char *)ast_of("-sigmoid(a)^2"), "(- (pow (sigmoid a) 2.0))"));
	cr_assert(eq(str, (char *)ast_of("relu(a\n - b)"), "(relu (- a b))"));
	cr_assert(eq(str, (char *)ast_of("tanh(x) * softplus(x) / abs(x) - sin(x) + cos(x) * tan(x)"),
		     "(+ (- (/ (* (tanh x) (softplus x)) (abs x)) (sin x)) (* (cos x) (tan x)))"));
}

Test(parse, numbers_in_expressions)
{
	cr_assert(eq(str, (char *)ast_of(".5 * x + 1e-3"), "(+ (* 0.5 x) 0.001)"));
}

Test(parse, arity_errors)
{
	cr_assert(eq(str, err_of(HEAD "loss = exp(x, w)\n"),
		     "t.sg:3:8: error: function 'exp' takes 1 argument, but 2 were given"));
	cr_assert(eq(str, err_of(HEAD "loss = max(w)\n"),
		     "t.sg:3:8: error: function 'max' takes 2 arguments, but 1 was given"));
	cr_assert(eq(str, err_of(HEAD "loss = sigmoid()\n"),
		     "t.sg:3:8: error: function 'sigmoid' takes 1 argument, but 0 were given"));
	cr_assert(eq(str, err_of(HEAD "loss = pow(w, 2, 3)\n"),
		     "t.sg:3:8: error: function 'pow' takes 2 arguments, but 3 were given"));
	/* more arguments than the parser keeps */
	cr_assert(eq(str, err_of(HEAD "loss = relu(w,w,w,w,w,w,w,w,w,w)\n"),
		     "t.sg:3:8: error: function 'relu' takes 1 argument, but 10 were given"));
}

Test(parse, arity_error_caret_spans_the_call)
{
	Unit *u = unit_compile(HEAD "loss = 1 + min(w, x, a) * 2\n", DT_DOUBLE);
	cr_assert(eq(str, u->err, "t.sg:3:12: error: function 'min' takes 2 arguments, but 3 were given\n"
				  "loss = 1 + min(w, x, a) * 2\n"
				  "           ^~~~~~~~~~~~\n"));
}

Test(parse, call_errors)
{
	cr_assert(eq(str, err_of(HEAD "loss = expp(w)\n"), "t.sg:3:8: error: unknown function 'expp' (did you mean 'exp'?)"));
	cr_assert(eq(str, err_of(HEAD "loss = exp * w\n"), "t.sg:3:8: error: function 'exp' needs arguments: exp(...)"));
	cr_assert(eq(str, err_of(HEAD "loss = exp(w\n"), "t.sg:3:11: error: unbalanced parentheses: '(' is never closed"));
	cr_assert(eq(str, err_of(HEAD "loss = max(w x)\n"), "t.sg:3:14: error: expected ',' or ')' in the call, found 'x'"));
	cr_assert(eq(str, err_of(HEAD "loss = (w\n"), "t.sg:3:8: error: unbalanced parentheses: '(' is never closed"));
	cr_assert(eq(str, err_of(HEAD "loss = (w x)\n"), "t.sg:3:11: error: expected ')', found 'x'"));
	cr_assert(eq(str, err_of(HEAD "loss = w *\n"), "t.sg:3:11: error: expected an expression, found end of line"));
	cr_assert(eq(str, err_of(HEAD "loss = w x\n"), "t.sg:3:10: error: unexpected 'x' after the statement"));
}

Test(parse, symbols)
{
	Unit *u = unit_ok("model m\ninput x, y\nparam w = -2.5e-1, b = 2^3\ninput z\n"
			  "param v = 1/4\nh = x * w\nloss = (h + b*v*z - y)^2\noutput h, loss\n");
	Model *m = u->c.model;
	cr_assert(eq(str, (char *)m->name, "m"));
	cr_assert(eq(int, m->n_inputs, 3));
	cr_assert(eq(int, m->n_params, 3));
	cr_assert(eq(int, m->n_outputs, 2));
	cr_assert(eq(str, (char *)m->inputs[2]->name, "z"));
	cr_assert(eq(int, m->inputs[2]->index, 2));
	cr_assert(eq(int, m->params[1]->index, 1));
	cr_assert(eq(dbl, m->params[0]->init, -0.25));
	cr_assert(eq(dbl, m->params[1]->init, 8.0));
	cr_assert(eq(dbl, m->params[2]->init, 0.25));
	cr_assert(eq(str, (char *)m->loss->name, "loss"));
	cr_assert(eq(str, (char *)m->outputs[0]->name, "h"));
	cr_assert(eq(int, m->lets[0]->stmt->loc.line, 6));
	cr_assert(eq(str, (char *)m->lets[0]->stmt->text, "h = x * w"));
}

Test(parse, param_initial_values)
{
	cr_assert(eq(str, err_of("input x\nparam w\nloss = x*w\n"),
		     "t.sg:2:8: error: parameter 'w' needs an initial value: param w = 0.5 or param w ~ uniform(-0.1, 0.1)"));
	cr_assert(eq(str, err_of("input x\nparam w = x\nloss = x*w\n"),
		     "t.sg:2:11: error: an initial value must be a number"));
	cr_assert(eq(str, err_of("input x\nparam v = 1, w = 2*v\nloss = x*w*v\n"),
		     "t.sg:2:20: error: an initial value must be a number"));
	cr_assert(eq(str, err_of("input x\nparam w = 1/0\nloss = x*w\n"),
		     "t.sg:2:11: error: initial value of 'w' is not finite"));
	cr_assert(eq(str, err_of("input x\nparam w = exp(1)\nloss = x*w\n"),
		     "t.sg:2:11: error: an initial value must be a number"));
}

Test(parse, names_resolve_in_order)
{
	cr_assert(eq(str, err_of(HEAD "loss = w * later\nlater = x\n"), "t.sg:3:12: error: unknown name 'later'"));
	/* the value is read before the name is declared: no self-reference */
	cr_assert(eq(str, err_of(HEAD "r = r + w\nloss = r\n"), "t.sg:3:5: error: unknown name 'r'"));
	cr_assert(eq(str, err_of(HEAD "loss = w\noutput nothing\n"), "t.sg:4:8: error: unknown name 'nothing' in output"));
	cr_assert(eq(str, err_of(HEAD "loss = w\noutput loss, loss\n"), "t.sg:4:14: error: 'loss' is already an output"));
	/* output may name anything, also what is defined after it */
	Unit *u = unit_ok(HEAD "output r, w, x\nr = x * w\nloss = r\n");
	cr_assert(eq(int, u->c.model->n_outputs, 3));
}

Test(parse, declaration_errors)
{
	cr_assert(eq(str, err_of(HEAD "w = x\nloss = w\n"), "t.sg:3:1: error: redefinition of 'w' (first defined at line 2)"));
	cr_assert(eq(str, err_of(HEAD "input a\nloss = w\n"), "t.sg:3:7: error: redefinition of 'a' (first defined at line 1)"));
	cr_assert(eq(str, err_of("input x, model\nparam w = 1\nloss = w\n"), "t.sg:1:10: error: 'model' is a keyword and cannot be a name"));
	cr_assert(eq(str, err_of("input x\nparam param = 1\nloss = x\n"), "t.sg:2:7: error: 'param' is a keyword and cannot be a name"));
	cr_assert(eq(str, err_of("input x\nparam w = 1\ninput = w\nloss = w\n"), "t.sg:3:7: error: expected a name, found '='"));
	cr_assert(eq(str, err_of("input x, exp\nparam w = 1\nloss = w\n"), "t.sg:1:10: error: 'exp' is a built-in function and cannot be a name"));
	cr_assert(eq(str, err_of(HEAD "max = w\nloss = w\n"), "t.sg:3:1: error: 'max' is a built-in function and cannot be a name"));
	cr_assert(eq(str, err_of(HEAD "sum = w\nloss = w\n"), "t.sg:3:1: error: 'sum' is a built-in function and cannot be a name"));
	cr_assert(eq(str, err_of(HEAD "_r = w\nloss = w\n"), "t.sg:3:1: error: names may not start with '_' or contain '__' (reserved in C)"));
	cr_assert(eq(str, err_of(HEAD "r__s = w\nloss = w\n"), "t.sg:3:1: error: names may not start with '_' or contain '__' (reserved in C)"));
}

Test(parse, model_names)
{
	cr_assert(eq(str, err_of("model _m\n" HEAD "loss = w\n"), "t.sg:1:7: error: model name '_m' may not start or end with '_' or contain '__' (it prefixes C names: NAME_forward)"));
	cr_assert(eq(str, err_of("model my__m\n" HEAD "loss = w\n"), "t.sg:1:7: error: model name 'my__m' may not start or end with '_' or contain '__' (it prefixes C names: NAME_forward)"));
	cr_assert(eq(str, err_of("model a\nmodel b\n" HEAD "loss = w\n"), "t.sg:2:1: error: the model is already named 'a' (line 1)"));
	/* without a model statement: the file name as a C identifier */
	Unit *u = unit_ok(HEAD "loss = w\n");
	cr_assert(eq(str, (char *)u->c.model->name, "t"));
}

Test(parse, default_model_name_from_path)
{
	static const char *const cases[][2] = {
		{"dir/my-model.v2.sg", "my_model"}, {"3d.sg", "m3d"}, {"a.b/c.sg", "c"},
		{"x", "x"}, {"_hidden.sg", "hidden"}, {"sg.sg", "sg_1"}, {"+.sg", "model"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		Arena *a = arena_new();
		const char *text = HEAD "loss = w\n";
		Source src = {cases[i][0], text, strlen(text)};
		int n;
		Token *t = lex_tokenize(a, &src, &n);
		Model *m = parse_model(a, &src, t, 0);
		cr_expect(eq(str, (char *)m->name, (char *)cases[i][1]), "path %s", cases[i][0]);
		arena_free(a);
	}
}

/* The default name is a C prefix: never empty, never starting with '_'. */
Test(parse, default_model_name_is_a_c_prefix)
{
	static const char *const paths[] = {"+.sg", "dir/-.sg", "\xc3\xa9.sg", ".sg", "a-.sg"};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		Arena *a = arena_new();
		const char *text = HEAD "loss = w\n";
		Source src = {paths[i], text, strlen(text)};
		int n;
		Token *t = lex_tokenize(a, &src, &n);
		Model *m = parse_model(a, &src, t, 0);
		const char *name = m->name;
		size_t len = strlen(name);
		cr_expect(lt(sz, 0, len), "path '%s' gives an empty name", paths[i]);
		cr_expect(len == 0 || (name[0] != '_' && !strstr(name, "__") && name[len - 1] != '_'),
			  "path '%s' gives the prefix '%s'", paths[i], name);
		arena_free(a);
	}
}

Test(parse, model_level_errors)
{
	cr_assert(eq(str, err_of(HEAD "yhat = w\n"), "t.sg:3:8: error: the model has no 'loss = ...' statement"));
	cr_assert(eq(str, err_of("input x\nloss = x\n"), "t.sg:2:1: error: the model has no 'param': nothing to differentiate"));
	cr_assert(eq(str, err_of(""), "t.sg:1:1: error: empty model: expected inputs, params and a 'loss = ...' statement"));
	cr_assert(eq(str, err_of("# only\n# comments\n"), "t.sg:1:1: error: empty model: expected inputs, params and a 'loss = ...' statement"));
	cr_assert(eq(str, err_of(HEAD "3 = w\n"), "t.sg:3:1: error: expected a statement (model, input, param, output or name = expression), found '3'"));
	cr_assert(eq(str, err_of(HEAD "loss w\n"), "t.sg:3:6: error: expected '=' after 'loss', found 'w'"));
}

Test(parse, nesting_limit)
{
	/* 1001 nested parentheses are over the limit */
	Buf b = {0};
	buf_puts(&b, HEAD "loss = ");
	for (int i = 0; i < 1001; i++)
		buf_puts(&b, "(");
	buf_puts(&b, "w");
	for (int i = 0; i < 1001; i++)
		buf_puts(&b, ")");
	buf_put(&b, "\n", 2);
	char *e = err_of(b.data);
	buf_free(&b);
	cr_assert(not(eq(ptr, strstr(e, "error: expression nested deeper than 1000 levels (limit)"), NULL)), "%s", e);
}

/* README "Limits": expression nesting, 1000 levels.  A model that nests
 * parentheses 900 deep is within it. */
Test(parse, nesting_within_the_limit)
{
	Buf b = {0};
	buf_puts(&b, HEAD "loss = ");
	for (int i = 0; i < 900; i++)
		buf_puts(&b, "(");
	buf_puts(&b, "w");
	for (int i = 0; i < 900; i++)
		buf_puts(&b, ")");
	buf_put(&b, "\n", 2);
	Unit *u = unit_compile(b.data, DT_DOUBLE);
	buf_free(&b);
	cr_assert(not(u->failed), "900 nested parentheses rejected: %.80s", u->err);
}

Test(parse, deep_unary_chains_are_limited, .timeout = 10)
{
	Buf b = {0};
	buf_puts(&b, HEAD "loss = w * ");
	for (int i = 0; i < 100000; i++)
		buf_puts(&b, "-");
	buf_put(&b, "x\n", 3);
	char *e = err_of(b.data);
	buf_free(&b);
	cr_assert(not(eq(ptr, strstr(e, "nested deeper than 1000 levels"), NULL)), "%s", e);
}

Test(parse, diagnostics_with_crlf_and_tabs)
{
	Unit *u = unit_compile("input x\r\nparam w = 1\r\n\tloss = (x * v)^2\r\n", DT_DOUBLE);
	cr_assert(u->failed);
	/* the source line without its \r, the tab kept so the caret lines up */
	cr_assert(eq(str, u->err, "t.sg:3:14: error: unknown name 'v'\n"
				  "\tloss = (x * v)^2\n"
				  "\t            ^\n"));
}

Test(parse, diagnostic_exits_with_status_1, .exit_code = 1)
{
	Arena *a = arena_new();
	const char *text = "input x\nparam w\nloss = w\n";
	Source src = {"t.sg", text, strlen(text)};
	int n;
	fclose(stderr);
	parse_model(a, &src, lex_tokenize(a, &src, &n), 0);
}

/* ---- def: functions of the model, inlined at each call ---- */

/* The AST binding name has in a whole model text. */
static const char *ast_in(const char *text, const char *name)
{
	Unit *u = unit_compile(text, DT_DOUBLE);
	if (u->failed)
		cr_fatal("failed:\n%s", u->err);
	return unit_ast(u, name);
}

/* A call is its body with each parameter replaced by the argument's
 * expression (a parameter may shadow a model name), and defs may call
 * earlier defs. */
Test(parse, def_is_inlined)
{
	const char *with = ast_in("input x[3], y\nparam W[2, 3] = 0.5, b[2] = 0\n"
				  "def sq(r) = r * r\n"
				  "def layer(W, b, x) = sigmoid(W @ x + b)\n"
				  "def loss2(x, y) = sq(x - y)\n"
				  "h = layer(W, b, x)\nloss = loss2(h[0], y) + sq(h[1])\n", "loss");
	const char *inl = ast_in("input x[3], y\nparam W[2, 3] = 0.5, b[2] = 0\n"
				 "h = sigmoid(W @ x + b)\n"
				 "loss = (h[0] - y) * (h[0] - y) + h[1] * h[1]\n", "loss");
	cr_assert(eq(str, (char *)with, (char *)inl));
}

/* Shapes are checked per call: one def serves a vector and a scalar. */
Test(parse, def_shapes_per_call)
{
	const char *a = ast_in("input x[2], y\nparam w = 1\ndef twice(v) = v + v\n"
			       "loss = sum(twice(x)) * w + twice(y)\n", "loss");
	cr_assert(eq(str, (char *)a, "loss = (+ (* (sum (+ x x)) w) (+ y y))"));
}

/* A body may call only the defs above it: no recursion, direct or mutual. */
Test(parse, def_calls_only_earlier_defs)
{
	char *e = err_of("input x, y\nparam w = 1\ndef f(a) = f(a)\nloss = f(x) * w\n");
	cr_assert(eq(str, e, "t.sg:3:12: error: a def may call only the defs above it, not 'f' "
			     "(no recursion)"), "%s", e);
	e = err_of("input x, y\nparam w = 1\ndef f(a) = g(a)\ndef g(a) = f(a)\nloss = g(x) * w\n");
	cr_assert(eq(str, e, "t.sg:3:12: error: a def may call only the defs above it, not 'g' "
			     "(no recursion)"), "%s", e);
}
