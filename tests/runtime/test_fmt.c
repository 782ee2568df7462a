/*
 * test_fmt.c: sg_fmt_repr against Python's repr.
 *
 * data/repr.txt holds `HEX REPR` lines made by data/gen_repr.py (Python's
 * float.hex and repr): powers of two down to subnormals, powers of ten,
 * the edges of fixed notation and their nextafter neighbours, the numbers
 * of the lecture traces and a few thousand random doubles.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "helpers.h"
#include "symgrad.h"

/* repr of v as a string in a static-free buffer. */
static char *repr(double v, char buf[SG_REPR_MAX])
{
	sg_fmt_repr(buf, SG_REPR_MAX, v);
	return buf;
}

Test(fmt, python_repr_data)
{
	char *text = th_read_file(SG_TEST_DATA "/repr.txt"), *line, *next;
	char buf[SG_REPR_MAX];
	int n = 0, bad = 0;

	for (line = text; *line; line = next) {
		char *sp = strchr(line, ' ');
		next = strchr(line, '\n');
		*next++ = '\0';
		*sp = '\0';
		repr(strtod(line, NULL), buf);
		if (strcmp(buf, sp + 1) != 0 && bad++ < 10)
			cr_log_error("%s: got %s, Python says %s", line, buf, sp + 1);
		n++;
	}
	free(text);
	cr_assert(lt(int, 8000, n)); /* Criterion 2.4.1 gt() is >= in C */
	cr_assert(eq(int, bad, 0), "%d of %d values differ from Python", bad, n);
}

Test(fmt, edges)
{
	char b[SG_REPR_MAX];

	cr_assert(eq(str, repr(0.0, b), "0.0"));
	cr_assert(eq(str, repr(-0.0, b), "-0.0"));
	cr_assert(eq(str, repr(INFINITY, b), "inf"));
	cr_assert(eq(str, repr(-INFINITY, b), "-inf"));
	cr_assert(eq(str, repr(NAN, b), "nan"));
	cr_assert(eq(str, repr(-NAN, b), "nan"));
	cr_assert(eq(str, repr(1e16, b), "1e+16"));
	cr_assert(eq(str, repr(9999999999999998.0, b), "9999999999999998.0"));
	cr_assert(eq(str, repr(1.5e16, b), "1.5e+16"));
	cr_assert(eq(str, repr(1e-4, b), "0.0001"));
	cr_assert(eq(str, repr(nextafter(1e-4, 0), b), "9.999999999999999e-05"));
	cr_assert(eq(str, repr(1e-5, b), "1e-05"));
	cr_assert(eq(str, repr(2.5e-310, b), "2.5e-310"));
	cr_assert(eq(str, repr(ldexp(1, -1074), b), "5e-324"));
	cr_assert(eq(str, repr(ldexp(1, -24), b), "5.960464477539063e-08"));
	cr_assert(eq(str, repr(ldexp(1, 89), b), "6.189700196426902e+26"));
	cr_assert(eq(str, repr(DBL_MAX, b), "1.7976931348623157e+308"));
	cr_assert(eq(str, repr(0.1, b), "0.1"));
	cr_assert(eq(str, repr(1.0 / 3, b), "0.3333333333333333"));
	cr_assert(eq(str, repr(100.0, b), "100.0"));
	cr_assert(eq(str, repr(-7.84, b), "-7.84"));
	cr_assert(eq(str, repr((double)-7.84f, b), "-7.840000152587891"));
	cr_assert(eq(str, repr(1e22, b), "1e+22"));
	cr_assert(eq(str, repr(123456789012345.6, b), "123456789012345.6"));
}

Test(fmt, length_and_truncation)
{
	char small[4];
	char b[SG_REPR_MAX];

	cr_assert(eq(int, sg_fmt_repr(small, sizeof small, -1.7976931348623157e308),
		     24));
	cr_assert(eq(str, small, "-1."));
	cr_assert(eq(int, sg_fmt_repr(b, sizeof b, -ldexp(1, -1074) * 3), 9));
	cr_assert(eq(str, b, "-1.5e-323"));
}
