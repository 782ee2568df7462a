/*
 * tmpl_test.c: the template sandbox.  Every escape a template might try
 * fails with a message naming the template file (and line where there is
 * one), tmpl_render returns -1, and nothing crashes: Criterion runs each
 * test in its own process and reports a crash as a failure.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define LINEAR "model linear\ninput x, y\nparam w = 1.0\nyhat = x * w\nloss = (yhat - y)^2\noutput yhat\n"

typedef struct Result {
	int n;
	TmplFile *files;
	char *err;
} Result;

static Result render_len(const char *src, size_t len)
{
	Unit *u = unit_ok(LINEAR);
	Result r;
	r.n = unit_render(u, "bad.lua", src, len, &r.files, &r.err);
	return r;
}

static Result render(const char *src)
{
	return render_len(src, strlen(src));
}

/* The template fails with exactly this message (one line). */
static void fails_with(const char *src, const char *msg)
{
	Result r = render(src);
	cr_assert(eq(int, r.n, -1), "template should have failed:\n%s", src);
	cr_assert(eq(ptr, r.files, NULL));
	Buf b = {0};
	buf_printf(&b, "%s\n", msg);
	buf_put(&b, "", 1);
	cr_assert(eq(str, r.err, b.data));
}

/* A body run inside render(m), on line 2 of the template. */
#define IN_RENDER(body) "return function(m)\n" body "\nreturn {{suffix = '.c', text = 'x'}}\nend\n"

Test(sandbox, a_good_template_renders)
{
	Result r = render("return function(m)\n"
			  "  return {{suffix = '.c', text = m.name .. ' ' .. m.dtype .. ' ' .. m.loss},\n"
			  "          {suffix = '.h', text = m.params[1].name .. '=' .. m.params[1].init}}\n"
			  "end\n");
	cr_assert(eq(int, r.n, 2), "%s", r.err);
	cr_assert(eq(str, r.files[0].suffix, ".c"));
	cr_assert(eq(str, r.files[0].text, "linear double loss"));
	cr_assert(eq(str, r.files[1].text, "w=1.0"));
	cr_assert(eq(str, r.err, ""));
}

Test(sandbox, a_table_with_render_works_too)
{
	Result r = render("return {render = function(m) return {{suffix = '.c', text = 'ok'}} end}\n");
	cr_assert(eq(int, r.n, 1), "%s", r.err);
	cr_assert(eq(str, r.files[0].text, "ok"));
}

Test(sandbox, the_safe_libraries_are_there)
{
	Result r = render(IN_RENDER("assert(string.format('%d', 3) == '3' and table.concat({'a','b'}) == 'ab'\n"
				    " and math.floor(2.5) == 2 and utf8.char(233) == '\\u{e9}' and ('x'):rep(3) == 'xxx'\n"
				    " and select('#', 1, 2) == 2 and tostring(1) == '1' and pcall(error) == false)"));
	cr_assert(eq(int, r.n, 1), "%s", r.err);
}

Test(sandbox, os_execute)
{
	fails_with(IN_RENDER("os.execute('touch /tmp/symgrad-sandbox-escaped')"),
		   "bad.lua:2: attempt to index a nil value (global 'os')");
}

Test(sandbox, io_open)
{
	fails_with(IN_RENDER("io.open('/etc/passwd')"), "bad.lua:2: attempt to index a nil value (global 'io')");
}

Test(sandbox, require)
{
	fails_with(IN_RENDER("require('os')"), "bad.lua:2: attempt to call a nil value (global 'require')");
}

Test(sandbox, load)
{
	fails_with(IN_RENDER("load('return 1')()"), "bad.lua:2: attempt to call a nil value (global 'load')");
}

Test(sandbox, dofile)
{
	fails_with(IN_RENDER("dofile('/etc/passwd')"), "bad.lua:2: attempt to call a nil value (global 'dofile')");
}

Test(sandbox, loadfile)
{
	fails_with(IN_RENDER("loadfile('/etc/passwd')"), "bad.lua:2: attempt to call a nil value (global 'loadfile')");
}

Test(sandbox, string_dump)
{
	fails_with(IN_RENDER("string.dump(function() end)"), "bad.lua:2: attempt to call a nil value (field 'dump')");
}

Test(sandbox, debug_getinfo)
{
	fails_with(IN_RENDER("debug.getinfo(1)"), "bad.lua:2: attempt to index a nil value (global 'debug')");
}

Test(sandbox, package_loadlib)
{
	fails_with(IN_RENDER("package.loadlib('libc.so.6', 'system')"),
		   "bad.lua:2: attempt to index a nil value (global 'package')");
}

Test(sandbox, collectgarbage)
{
	fails_with(IN_RENDER("collectgarbage('count')"),
		   "bad.lua:2: attempt to call a nil value (global 'collectgarbage')");
}

Test(sandbox, print)
{
	fails_with(IN_RENDER("print('hello')"), "bad.lua:2: attempt to call a nil value (global 'print')");
}

Test(sandbox, math_random)
{
	fails_with(IN_RENDER("math.random()"), "bad.lua:2: attempt to call a nil value (field 'random')");
	fails_with(IN_RENDER("math.randomseed(1)"), "bad.lua:2: attempt to call a nil value (field 'randomseed')");
}

Test(sandbox, coroutine_is_not_opened)
{
	fails_with(IN_RENDER("coroutine.wrap(function() end)"),
		   "bad.lua:2: attempt to index a nil value (global 'coroutine')");
}

Test(sandbox, string_metatable_is_locked)
{
	fails_with(IN_RENDER("getmetatable('').__index = {}"), "bad.lua:2: attempt to index a boolean value");
	fails_with(IN_RENDER("setmetatable('', {})"),
		   "bad.lua:2: bad argument #1 to 'setmetatable' (table expected, got string)");
	Result r = render(IN_RENDER("assert(getmetatable('x') == false)"));
	cr_assert(eq(int, r.n, 1), "%s", r.err);
}

Test(sandbox, string_methods_cannot_reach_the_real_library)
{
	/* rawget on the (locked) metatable's __index is out of reach too */
	fails_with(IN_RENDER("rawget(getmetatable(''), '__index')"),
		   "bad.lua:2: bad argument #1 to 'rawget' (table expected, got boolean)");
}

Test(sandbox, bytecode_is_refused)
{
	/* a binary chunk: ESC "Lua", version 5.4, format 0, ... */
	static const char chunk[] = "\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08";
	Result r = render_len(chunk, sizeof chunk - 1);
	cr_assert(eq(int, r.n, -1));
	cr_assert(ne(ptr, strstr(r.err, "attempt to load a binary chunk"), NULL), "%s", r.err);
}

/* README "Templates": a template error is reported as template-file:line: message. */
Test(sandbox, bytecode_error_names_the_template)
{
	static const char chunk[] = "\x1bLua\x54\x00";
	Result r = render_len(chunk, sizeof chunk - 1);
	cr_assert(eq(int, r.n, -1));
	cr_assert(ne(ptr, strstr(r.err, "bad.lua"), NULL), "the message does not name the template: %s", r.err);
}

Test(sandbox, syntax_error_names_file_and_line)
{
	fails_with("return function(m)\n  local x = = 1\nend\n", "bad.lua:2: unexpected symbol near '='");
}

Test(sandbox, runtime_error_names_file_and_line)
{
	fails_with("return function(m)\n\n  error('my message')\nend\n", "bad.lua:3: my message");
	fails_with("return function(m)\n  return m.nothing.here\nend\n",
		   "bad.lua:2: attempt to index a nil value (field 'nothing')");
}

Test(sandbox, infinite_loop_hits_the_instruction_limit, .timeout = 60)
{
	Result r = render("return function(m)\n  while true do end\nend\n");
	cr_assert(eq(int, r.n, -1));
	cr_assert(ne(ptr, strstr(r.err, "template exceeded the limit of "), NULL), "%s", r.err);
	cr_assert(ne(ptr, strstr(r.err, " instructions\n"), NULL), "%s", r.err);
	/* README "Templates": the error names the template file and line */
	cr_assert(eq(int, strncmp(r.err, "bad.lua:2: ", 11), 0), "no template file and line: %s", r.err);
}

Test(sandbox, allocation_bomb_hits_the_memory_limit, .timeout = 30)
{
	fails_with(IN_RENDER("local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(4096) .. i end"),
		   "bad.lua: error: template exceeded the memory limit of 512 MiB");
}

Test(sandbox, doubling_string_hits_the_memory_limit, .timeout = 30)
{
	fails_with(IN_RENDER("local s = 'x' for i = 1, 40 do s = s .. s end"),
		   "bad.lua: error: template exceeded the memory limit of 512 MiB");
	fails_with(IN_RENDER("local s = string.rep('x', 1 << 30)"),
		   "bad.lua: error: template exceeded the memory limit of 512 MiB");
}

Test(sandbox, memory_is_usable_again_after_a_failed_allocation)
{
	Result r = render(IN_RENDER("local ok = pcall(string.rep, 'x', 1 << 30)\n"
				    "assert(not ok)\nlocal s = ('y'):rep(1000)"));
	cr_assert(eq(int, r.n, 1), "%s", r.err);
}

/* ---- templates returning garbage ---- */

/* README "Templates": errors name the template file; this one does not. */
Test(sandbox, chunk_returns_no_function)
{
	static const char *const chunks[] = {"return 42\n", "", "return {}\n"};
	for (int i = 0; i < 3; i++) {
		Result r = render(chunks[i]);
		cr_assert(eq(int, r.n, -1));
		cr_assert(ne(ptr, strstr(r.err, "the template must return a function render(model) "
					       "or a table with one"), NULL), "%s", r.err);
		cr_expect(ne(ptr, strstr(r.err, "bad.lua"), NULL), "no template name in: %s", r.err);
	}
}

Test(sandbox, render_returns_no_table)
{
	fails_with("return function(m) return 42 end\n",
		   "bad.lua: error: render() must return an array of {suffix = ..., text = ...}");
	fails_with("return function(m) end\n",
		   "bad.lua: error: render() must return an array of {suffix = ..., text = ...}");
}

Test(sandbox, render_returns_bad_entries)
{
	fails_with("return function(m) return {{suffix = '.c'}} end\n",
		   "bad.lua: error: render() result 1 needs a string suffix and a string text");
	fails_with("return function(m) return {{suffix = '.c', text = 'a'}, {text = 'b'}} end\n",
		   "bad.lua: error: render() result 2 needs a string suffix and a string text");
	fails_with("return function(m) return {{suffix = '.c', text = {}}} end\n",
		   "bad.lua: error: render() result 1 needs a string suffix and a string text");
	fails_with("return function(m) return {'.c'} end\n",
		   "bad.lua: error: render() result 1 is not a table {suffix = ..., text = ...}");
}

Test(sandbox, render_returns_an_empty_array)
{
	Result r = render("return function(m) return {} end\n");
	cr_assert(eq(int, r.n, 0));
}

/* An array entry that is a number or a boolean cannot be indexed: the
 * result must be rejected with a message, not crash the generator. */
Test(sandbox, render_returns_an_array_of_numbers)
{
	Result r = render("return function(m) return {1} end\n");
	cr_assert(eq(int, r.n, -1));
	cr_assert(ne(ptr, strstr(r.err, "bad.lua"), NULL), "%s", r.err);
}

Test(sandbox, render_returns_an_array_of_booleans)
{
	Result r = render("return function(m) return {true} end\n");
	cr_assert(eq(int, r.n, -1));
	cr_assert(ne(ptr, strstr(r.err, "bad.lua"), NULL), "%s", r.err);
}

/* The result is read with raw accesses inside the protected call: its
 * metamethods never run, so they can neither crash nor hang symgrad. */
Test(sandbox, render_result_with_a_failing_len_metamethod)
{
	Result r = render("return function(m)\n"
			  "  return setmetatable({}, {__len = function() error('no length') end})\n"
			  "end\n");
	cr_assert(eq(int, r.n, 0), "%s", r.err); /* raw length 0: no files, no error here */
}

Test(sandbox, render_result_with_a_failing_index_metamethod)
{
	Result r = render("return function(m)\n"
			  "  local e = setmetatable({}, {__index = function() error('no field') end})\n"
			  "  return {e}\n"
			  "end\n");
	cr_assert(eq(int, r.n, -1));
	cr_assert(ne(ptr, strstr(r.err, "bad.lua: error: render() result 1 needs a string suffix"),
		     NULL), "%s", r.err);
}

Test(sandbox, render_result_with_a_looping_index_metamethod, .timeout = 60)
{
	Result r = render("return function(m)\n"
			  "  local e = setmetatable({}, {__index = function() while true do end end})\n"
			  "  return {e}\n"
			  "end\n");
	cr_assert(eq(int, r.n, -1));
	cr_assert(ne(ptr, strstr(r.err, "needs a string suffix"), NULL), "%s", r.err);
}

Test(sandbox, the_model_table_uses_arrays)
{
	Result r = render("return function(m)\n"
			  "  local out = {}\n"
			  "  for _, list in ipairs({m.params, m.inputs, m.outputs, m.bindings,\n"
			  "                         m.forward.stmts, m.backward.stmts, m.backward.grads}) do\n"
			  "    out[#out + 1] = tostring(#list)\n"
			  "  end\n"
			  "  return {{suffix = '.c', text = table.concat(out, ' ')}}\n"
			  "end\n");
	cr_assert(eq(int, r.n, 1), "%s", r.err);
	cr_assert(eq(str, r.files[0].text, "1 2 1 2 3 5 1"));
}
