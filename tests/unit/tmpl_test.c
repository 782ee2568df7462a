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
	unit_keep(b.data);
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

Test(sandbox, allocation_bomb_hits_the_memory_limit, .timeout = 90) /* 10 s under ASan alone */
{
	fails_with(IN_RENDER("local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(4096) .. i end"),
		   "bad.lua: error: template exceeded the memory limit of 512 MiB");
}

Test(sandbox, doubling_string_hits_the_memory_limit, .timeout = 90)
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

/* ---- paths: a suffix names a file beside -o, never a path (issue 11) ---- */

/* Result 2 carries the suffix given as Lua source; the template fails
 * with a message naming the template and quoting the suffix as shown. */
static void suffix_fails(const char *lua_suffix, const char *shown)
{
	Buf src = {0}, msg = {0};
	buf_printf(&src, "return function(m)\n  return {{suffix = '.c', text = 'a'}, "
			 "{suffix = %s, text = 'b'}}\nend\n", lua_suffix);
	buf_put(&src, "", 1);
	buf_printf(&msg, "bad.lua: error: render() result 2: suffix \"%s\" is not a plain file "
			 "suffix (1 to 64 letters, digits, '.', '_', '-' or '+', without \"..\")",
		   shown);
	buf_put(&msg, "", 1);
	unit_keep(src.data);
	unit_keep(msg.data);
	fails_with(src.data, msg.data);
}

Test(paths, a_suffix_cannot_leave_the_output_directory)
{
	suffix_fails("'/../../x'", "/../../x");
	suffix_fails("'/tmp/x'", "/tmp/x");
	suffix_fails("'_../x.c'", "_../x.c");
	suffix_fails("'..'", "..");
	suffix_fails("'\\\\..\\\\x'", "\\\\..\\\\x");
}

Test(paths, a_suffix_is_a_plain_file_suffix)
{
	suffix_fails("''", "");
	suffix_fails("'.h\\0/../x'", ".h\\000/../x"); /* NUL: C would see only ".h" */
	suffix_fails("' .h'", " .h");
	suffix_fails("'.h '", ".h ");
	suffix_fails("'.h\\n'", ".h\\n");
	suffix_fails("'.\\27[2J'", ".\\033[2J");
	suffix_fails("('x'):rep(65)", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...");
}

/* README "Templates": the first file goes to -o or standard output whatever
 * its suffix says, but its suffix is checked like the others. */
Test(paths, the_first_suffix_is_checked_too)
{
	fails_with("return function(m) return {{suffix = '/../x', text = 'a'}} end\n",
		   "bad.lua: error: render() result 1: suffix \"/../x\" is not a plain file suffix "
		   "(1 to 64 letters, digits, '.', '_', '-' or '+', without \"..\")");
}

Test(paths, plain_suffixes_are_fine)
{
	Result r = render("return function(m)\n"
			  "  return {{suffix = '.c', text = 'a'}, {suffix = '.h', text = 'b'},\n"
			  "          {suffix = '.tex', text = 'c'}, {suffix = '_extra.c', text = 'd'},\n"
			  "          {suffix = '-v2.c++', text = 'e'}, {suffix = ('x'):rep(64), text = 'f'}}\n"
			  "end\n");
	cr_assert(eq(int, r.n, 6), "%s", r.err);
	cr_assert(eq(str, r.files[3].suffix, "_extra.c"));
	cr_assert(eq(str, r.files[4].suffix, "-v2.c++"));
}

/* ---- limits that hold (issue 11) ---- */

typedef struct LimitedJob {
	Unit *u;
	TmplOpts o;
	TmplLimits lim;
	TmplFile *files;
	int n;
} LimitedJob;

static void render_limited_job(void *arg)
{
	LimitedJob *j = arg;
	j->n = tmpl_render_limited(j->u->c.prog, NULL, &j->o, &j->lim, &j->files);
}

/* Renders src within lim (zero fields: the defaults). */
static Result render_within(const char *src, TmplLimits lim)
{
	LimitedJob j = {unit_ok(LINEAR), {"bad.lua", src, strlen(src), "t_grad.h", "t.sg", 0, 0},
			lim, NULL, 0};
	Result r;
	r.err = capture_stderr(render_limited_job, &j);
	r.n = j.n;
	r.files = j.files;
	for (int i = 0; i < r.n; i++)
		unit_keep(r.files[i].suffix), unit_keep(r.files[i].text);
	if (r.n >= 0)
		unit_keep(r.files);
	return r;
}

/* A small step limit, so that a test stopped by it ends quickly. */
#define FEW_STEPS ((TmplLimits){.steps = 2000000})

/* The template is stopped by the step limit at line 2. */
static void stopped_at_line_2(const char *src, TmplLimits lim)
{
	Result r = render_within(src, lim);
	cr_assert(eq(int, r.n, -1), "template should have been stopped:\n%s", src);
	Buf b = {0};
	buf_printf(&b, "bad.lua:2: template exceeded the limit of %ld instructions\n", lim.steps);
	buf_put(&b, "", 1);
	unit_keep(b.data);
	cr_assert(eq(str, r.err, b.data), "%s", src);
}

/* Lua runs finalizers with hooks off: a looping __gc would run unbounded,
 * at the latest when the state is closed. */
Test(limits, gc_metamethods_are_refused, .timeout = 10)
{
	fails_with(IN_RENDER("setmetatable({}, {__gc = function() while true do end end})"),
		   "bad.lua:2: setmetatable: a metatable with __gc or __mode is not allowed in a "
		   "template");
	fails_with(IN_RENDER("setmetatable({}, {__gc = false})"),
		   "bad.lua:2: setmetatable: a metatable with __gc or __mode is not allowed in a "
		   "template");
}

/* Lua 5.4 manual 2.5.3: an object is marked for finalization only if its
 * metatable has __gc when it is set; one added later is never called. */
Test(limits, a_gc_added_later_never_runs, .timeout = 10)
{
	Result r = render(IN_RENDER("local mt = {}\nlocal t = setmetatable({}, mt)\n"
				    "rawset(mt, '__index', function() while true do end end)\n"
				    "local ok = pcall(rawset, mt, '__gc', function() while true do end end)"));
	cr_assert(eq(int, r.n, 1), "%s", r.err);
}

/* Weak-keyed tables cost the collector time quadratic in a chain of
 * entries, in one step with no hook: no weak tables, however __mode gets
 * into a metatable. */
Test(limits, weak_tables_are_refused, .timeout = 10)
{
	fails_with(IN_RENDER("setmetatable({}, {__mode = 'k'})"),
		   "bad.lua:2: setmetatable: a metatable with __gc or __mode is not allowed in a "
		   "template");
	fails_with(IN_RENDER("local mt = {} setmetatable({}, mt) mt.__mode = 'k'"),
		   "bad.lua:2: a metatable cannot get __gc or __mode in a template");
	fails_with(IN_RENDER("local mt = {} setmetatable({}, mt) rawset(mt, '__mode', 'k')"),
		   "bad.lua:2: a metatable cannot get __gc or __mode in a template");
	/* the only way around the guard: a metatable with its own metatable */
	fails_with(IN_RENDER("local mt = setmetatable({}, {}) setmetatable({}, mt)"),
		   "bad.lua:2: setmetatable: a table with a metatable cannot be a metatable in a "
		   "template");
	fails_with(IN_RENDER("local t = {} setmetatable(t, t)"),
		   "bad.lua:2: setmetatable: a table cannot be its own metatable in a template");
	fails_with(IN_RENDER("local mt = {} setmetatable({}, mt) setmetatable(mt, {})"),
		   "bad.lua:2: cannot change a protected metatable");
	/* what a class needs still works */
	Result r = render(IN_RENDER("local C = {} C.__index = C\n"
				    "local o = setmetatable({}, C)\nfunction C:name() return 'c' end\n"
				    "C[1] = 1 rawset(C, 'x', 2) table.insert(C, 3)\n"
				    "assert(o:name() == 'c' and getmetatable(o) == C and getmetatable(C) == false)"));
	cr_assert(eq(int, r.n, 1), "%s", r.err);
}

/* The chain that took seconds of collection, quadratic in its length. */
Test(limits, an_ephemeron_chain_is_refused, .timeout = 10)
{
	Result r = render(IN_RENDER(
		"local t = setmetatable({}, {})\ngetmetatable(t).__mode = 'k'\n"
		"local keys, x = {}, 1\nfor i = 1, 20000 do keys[i] = {} end\n"
		"for i = 20000, 2, -1 do x = (x * 1103515245 + 12345) % 2147483648\n"
		"  local j = x % i + 1 keys[i], keys[j] = keys[j], keys[i] end\n"
		"for i = 1, 19999 do t[keys[i]] = keys[i + 1] end\n"
		"keys = {keys[1]}\nfor i = 1, 3e6 do local y = {} end"));
	cr_assert(eq(int, r.n, -1));
	cr_assert(ne(ptr, strstr(r.err, "__mode"), NULL), "%s", r.err);
}

/* One pattern match is one C call: its backtracking is counted as
 * instructions, through string.* and through s:method() alike. */
Test(limits, pattern_backtracking_is_counted, .timeout = 10)
{
	static const char *const calls[] = {
		"local s = ('a'):rep(30) local x = s:find(('a*'):rep(30) .. 'b')",
		"local s = ('a'):rep(30) local x = string.find(s, ('a*'):rep(30) .. 'b')",
		"local s = ('a'):rep(30) local x = s:match(('a-'):rep(30) .. 'b')",
		"local s = ('a'):rep(30) local x = s:gsub(('a?'):rep(30) .. 'b', '')",
		"local s = ('a'):rep(30) for x in s:gmatch(('a*'):rep(30) .. 'b') do end",
		"local s = ('a'):rep(30) local x = s:find('^' .. ('a*'):rep(30) .. 'b', 2)",
	};
	for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
		char src[512];
		snprintf(src, sizeof src, IN_RENDER("%s"), calls[i]);
		stopped_at_line_2(src, FEW_STEPS);
	}
}

Test(limits, quadratic_matches_are_counted, .timeout = 10)
{
	stopped_at_line_2(IN_RENDER("local s = ('a'):rep(1e5) local x = s:find('.-b')"), FEW_STEPS);
	stopped_at_line_2(IN_RENDER("local s = ('(('):rep(5e4) local x = s:find('%b()')"), FEW_STEPS);
	stopped_at_line_2(IN_RENDER("local s = ('a'):rep(8e4) local x = s:find(('a'):rep(4e4) .. 'b', 1, true)"),
			  FEW_STEPS);
}

/* Matching as before: captures, anchors, %b, %f, back references,
 * position captures, gsub with a string, a table and a function. */
Test(limits, patterns_match_as_before)
{
	Result r = render(IN_RENDER(
		"local a, b, c = ('  key = value  '):match('^%s*(%w+)%s*=%s*(.-)%s*$')\n"
		"assert(a == 'key' and b == 'value' and c == nil)\n"
		"assert(('f(a(b)c) d'):match('%b()') == '(a(b)c)')\n"
		"assert(select(2, ('THE (quick) fox'):gsub('%f[%a]%a+', 'x')) == 3)\n"
		"assert(('hello hello'):find('(h%a+) %1') == 1)\n"
		"assert(select(3, ('abc'):find('()b()')) == 2)\n"
		"assert(('a.b'):find('.', 1, true) == 2 and ('a+b'):find('+', 1, true) == 2)\n"
		"assert(('abc'):gsub('%w', '%0%0') == 'aabbcc')\n"
		"assert(('$x $y'):gsub('%$(%w+)', {x = 1}) == '1 $y')\n"
		"assert(('abc'):gsub('', '-') == '-a-b-c-')\n"
		"assert(('abc'):gsub('b*', 'X') == 'XaXcX')\n"
		"local t = {} for k, v in ('a=1, b=2'):gmatch('(%w+)=(%w+)') do t[#t + 1] = k .. v end\n"
		"assert(table.concat(t) == 'a1b2')\n"
		"local n = 0 for w in ('one two'):gmatch('%a+', 4) do n = n + 1 end assert(n == 1)\n"
		"assert(('x'):gsub('x', function() return false end) == 'x')\n"
		"assert(not pcall(string.gsub, 'x', 'x', '%2'))\n"
		"assert(not pcall(string.find, 'x', '[a'))\n"
		"assert(select(2, pcall(string.rep)):find('bad argument #1 to \\'string.rep\\''))\n"
		"assert(select(2, pcall(string.find, 'x', '%')):find('malformed pattern'))\n"
		"assert(select(2, pcall(string.gsub, 'x', '.', true)):find('string/function/table expected'))"));
	cr_assert(eq(int, r.n, 1), "%s", r.err);
}

/* pcall and xpcall cannot catch a limit: once stopped, a template stays
 * stopped. */
Test(limits, pcall_cannot_catch_the_step_limit, .timeout = 10)
{
	stopped_at_line_2(IN_RENDER("while true do pcall(function() while true do end end) end"),
			  FEW_STEPS);
	stopped_at_line_2(IN_RENDER("while true do xpcall(function() while true do end end, "
				    "function(e) return e end) end"), FEW_STEPS);
	stopped_at_line_2(IN_RENDER("while true do pcall(string.find, ('a'):rep(30), ('a*'):rep(30) .. 'b') end"),
			  FEW_STEPS);
}

/* __close runs with the hook on: it is stopped like any code. */
Test(limits, a_looping_close_metamethod_is_stopped, .timeout = 10)
{
	stopped_at_line_2(IN_RENDER("local x <close> = setmetatable({}, {__close = function() "
				    "while true do end end})"), FEW_STEPS);
}

/* string.rep of an empty string loops n times in C, making nothing. */
Test(limits, repeating_nothing_is_free, .timeout = 10)
{
	Result r = render(IN_RENDER("assert(string.rep('', math.maxinteger) == '')\n"
				    "assert(('x'):rep(3, '') == 'xxx' and ('x'):rep(3, ', ') == 'x, x, x')\n"
				    "assert(('x'):rep(0) == '' and ('x'):rep(-1) == '')"));
	cr_assert(eq(int, r.n, 1), "%s", r.err);
	stopped_at_line_2(IN_RENDER("while true do local s = string.rep('', 1e18) end"), FEW_STEPS);
}

/* The table functions loop in C over ranges given by their arguments or by
 * #t (which a raw table can make 2^61): that work is counted. */
Test(limits, table_functions_over_huge_ranges_are_counted, .timeout = 10)
{
	static const char *const calls[] = {
		"table.move({}, 1, math.maxinteger - 1, 1, {})",
		"table.concat(setmetatable({}, {__index = table.concat}), '', 1, math.maxinteger)",
		"table.concat(setmetatable({}, {__index = table.concat, __len = function() return 1e15 end}))",
		"table.insert(setmetatable({}, {__len = function() return math.maxinteger - 1 end}), 1, 'x')",
		"table.remove(setmetatable({}, {__len = function() return math.maxinteger - 1 end}), 1)",
		"table.sort(setmetatable({}, {__len = function() return (1 << 31) - 2 end, __index = rawlen}))",
	};
	for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
		char src[512];
		snprintf(src, sizeof src, IN_RENDER("%s"), calls[i]);
		stopped_at_line_2(src, FEW_STEPS);
	}
	/* a raw table whose border #t is 2^61: t[2^k] present for every k */
	Buf b = {0};
	buf_printf(&b, "return function(m)\n  table.insert({1, 2, 3, 4, [5] = 1");
	for (int k = 3; k <= 61; k++)
		buf_printf(&b, ", [1 << %d] = 1", k);
	buf_printf(&b, "}, 1, 'x')\nend\n");
	buf_put(&b, "", 1);
	unit_keep(b.data);
	stopped_at_line_2(b.data, FEW_STEPS);
}

/* The wrapped table functions behave as Lua's, __len called once. */
Test(limits, table_functions_work_as_before)
{
	Result r = render(IN_RENDER(
		"local t = {3, 1, 2} table.sort(t) assert(table.concat(t, ',') == '1,2,3')\n"
		"table.sort(t, function(a, b) return a > b end) assert(table.concat(t) == '321')\n"
		"table.insert(t, 'x') table.insert(t, 1, 'y') assert(table.concat(t) == 'y321x')\n"
		"assert(table.remove(t) == 'x' and table.remove(t, 1) == 'y' and table.concat(t) == '321')\n"
		"assert(table.remove({}) == nil and table.remove({}, 0) == nil)\n"
		"assert(table.concat(table.move({1, 2, 3}, 1, 3, 2), '') == '1123')\n"
		"assert(table.concat({1, 2, 3}, '-', 2) == '2-3' and table.concat({}, 'x') == '')\n"
		"assert(select('#', table.unpack({1, 2, 3})) == 3 and select('#', table.unpack({}, 1, 2)) == 2)\n"
		"local calls = 0\n"
		"local p = setmetatable({}, {__len = function() calls = calls + 1 return 2 end,\n"
		"  __index = function(_, i) return 'v' .. i end})\n"
		"assert(table.concat(p) == 'v1v2' and calls == 1)\n"
		"assert(select('#', table.unpack(p)) == 2 and calls == 2)\n"
		"assert(not pcall(table.insert, {}, 5, 'x') and not pcall(table.insert, {}, 1, 2, 3))\n"
		"assert(select(2, pcall(table.concat, {{}})):find('invalid value %(table%) at index 1 in table for \\'concat\\''))\n"
		"assert(select(2, pcall(table.insert, 1, 2)):find('table expected, got number'))"));
	cr_assert(eq(int, r.n, 1), "%s", r.err);
}

/* A CPU-time backstop stops anything the step count misses; here a lower
 * one stops a plain loop before the steps run out. */
Test(limits, the_cpu_time_backstop, .timeout = 10)
{
	Result r = render_within(IN_RENDER("while true do end"),
				 (TmplLimits){.steps = 400000000, .cpu_seconds = 0.1});
	cr_assert(eq(int, r.n, -1));
	cr_assert(eq(str, r.err, "bad.lua:2: template exceeded the CPU time limit of 0.1 s\n"));
}

/* Each instruction here copies 64 MiB: the backstop must not wait for the
 * next 1000 instructions. */
Test(limits, the_cpu_time_backstop_watches_allocation, .timeout = 10)
{
	Result r = render_within(IN_RENDER("local s = ('x'):rep(1 << 25)\n"
					   "for i = 1, 1e9 do local t = s .. s end"),
				 (TmplLimits){.cpu_seconds = 0.1});
	cr_assert(eq(int, r.n, -1));
	cr_assert(ne(ptr, strstr(r.err, "template exceeded the CPU time limit of 0.1 s\n"), NULL),
		  "%s", r.err);
}

/* Returning one string many times returned its length many times over. */
Test(limits, returned_text_counts_against_the_memory_limit, .timeout = 10)
{
	fails_with("return function(m)\n  local s, r = ('x'):rep(16 << 20), {}\n"
		   "  for i = 1, 64 do r[i] = {suffix = '.' .. i, text = s} end\n  return r\nend\n",
		   "bad.lua: error: render() returned more than 512 MiB of text (the memory limit)");
	Result r = render_within("return function(m)\n  local s = ('x'):rep(3 << 20)\n"
				 "  return {{suffix = '.c', text = s}, {suffix = '.h', text = s}}\nend\n",
				 (TmplLimits){.memory = 8 << 20});
	cr_assert(eq(int, r.n, 2), "%s", r.err);
	r = render_within("return function(m)\n  local s = ('x'):rep(3 << 20)\n"
			  "  return {{suffix = '.c', text = s}, {suffix = '.h', text = s},\n"
			  "          {suffix = '.t', text = s}}\nend\n", (TmplLimits){.memory = 8 << 20});
	cr_assert(eq(int, r.n, -1));
	cr_assert(eq(str, r.err, "bad.lua: error: render() returned more than 8 MiB of text (the memory limit)\n"));
}
