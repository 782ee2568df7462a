/*
 * fuzz_tmpl.c: libFuzzer harness over the template boundary.  The input is
 * the source of a Lua template (after the first byte); it renders a small
 * fixed model through tmpl_render, as `symgrad gen --template FILE` would.
 * Whatever the template does (syntax errors, loops, allocation bombs, calls
 * into model.canonical, garbage results), rendering must end in files or a
 * template error, never a crash, a hang or a leak.  The first byte picks the
 * dtype (bit 0), the loop program instead of the unrolled one (bit 1) and
 * --math libm (bit 2).
 *
 * The sandbox's limits are lowered (c.lua renders this model in about 10^4
 * instructions and 0.2 MiB) so that the loops and allocation bombs the
 * fuzzer finds quickly cost milliseconds, not the 5 s and 512 MiB of the
 * real limits; the limits themselves are tested in tests/unit/tmpl_test.c.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Scalars, a vector input, a matrix param, a let, an output: every list of
 * the model table has something in it, and the loop program a kernel. */
static const char model_src[] = "model fz\n"
				"input x[2], y\n"
				"param W[2, 2] = 0.5, b = 0.1\n"
				"h = tanh(W @ x + b)\n"
				"yhat = sum(h)\n"
				"loss = (yhat - y)^2\n"
				"output yhat, h\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 1 << 16)
		return 0;
	Arena *a = arena_new();
	jmp_buf jb;
	Compile *c = arena_alloc(a, sizeof *c);
	c->arena = a;
	c->dtype = data[0] & 1 ? DT_FLOAT : DT_DOUBLE;
	c->loops = data[0] & 2 ? SG_LOOPS_ALWAYS : SG_LOOPS_NEVER;
	c->math = data[0] & 4 ? SG_MATH_LIBM : SG_MATH_OWN;
	c->src = (Source){"fz.sg", model_src, sizeof model_src - 1};
	diag_set_recover(&jb);
	if (setjmp(jb) == 0 && sg_compile(c)) {
		TmplOpts o = {"fuzz.lua", (const char *)data + 1, size - 1, "fz_grad.h", "fz.sg", 0, 0};
		TmplFile *files;
		TmplLimits lim = {10000000, 32 << 20, 2.0};
		int n = tmpl_render_limited(c->loop ? NULL : c->prog, c->loop, &o, &lim, &files);
		for (int i = 0; i < n; i++)
			free(files[i].suffix), free(files[i].text);
		if (n >= 0)
			free(files);
	}
	diag_set_recover(NULL);
	arena_free(a);
	return 0;
}
