/*
 * fuzz_gen.c: libFuzzer harness over the whole generator path: lex, parse,
 * DAG, differentiate, simplify, schedule and render through the built-in C
 * template.  Bad input must end in a diagnostic (a longjmp back here), never
 * a crash, a hang or a leak.  The first byte picks the dtype.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 1 << 16)
		return 0;
	Arena *a = arena_new();
	jmp_buf jb;
	Compile *c = arena_alloc(a, sizeof *c);
	c->arena = a;
	c->dtype = data[0] & 1 ? DT_FLOAT : DT_DOUBLE;
	c->loops = data[0] & 2 ? SG_LOOPS_ALWAYS : SG_LOOPS_AUTO; /* loop programs too */
	c->src = (Source){"fuzz.sg", arena_strndup(a, (const char *)data + 1, size - 1), size - 1};
	diag_set_recover(&jb);
	if (setjmp(jb) == 0 && sg_compile(c)) {
		size_t len;
		const char *src = tmpl_builtin("c.lua", &len);
		TmplOpts o = {"templates/c.lua", src, len, "fuzz_grad.h", "fuzz.sg", 0, 0};
		TmplFile *files;
		int n = tmpl_render(c->loop ? NULL : c->prog, c->loop, &o, &files);
		for (int i = 0; i < n; i++)
			free(files[i].suffix), free(files[i].text);
		if (n >= 0)
			free(files);
	}
	diag_set_recover(NULL);
	arena_free(a);
	return 0;
}
