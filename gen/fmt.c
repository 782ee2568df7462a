/*
 * fmt.c: numbers as text, exactly: the shortest decimal that reads back to
 * the same double (or float), as the model language, C and people read it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"

void fmt_shortest(char *buf, size_t n, double v, Dtype dt)
{
	if (isnan(v)) {
		snprintf(buf, n, "nan");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, n, v < 0 ? "-inf" : "inf");
		return;
	}
	/* Reading back is exact at 17 digits (9 for float), and a precision
	 * that reads back stays exact at every larger one: bisect for the least. */
	int lo = 1, hi = dt == DT_FLOAT ? 9 : 17;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		snprintf(buf, n, "%.*g", mid, v);
		double back = dt == DT_FLOAT ? (double)strtof(buf, NULL) : strtod(buf, NULL);
		if (back == v)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* Python's repr: positional from 1e-4 to below 1e16 (-100.0, 1000.0,
	 * 0.001), else an exponent (1e+16, 2.5e-07); %g alone would write
	 * -100 as -1e+02 */
	char e[48];
	snprintf(e, sizeof e, "%.*e", lo - 1, v);
	int exp10 = atoi(strchr(e, 'e') + 1);
	if (exp10 >= -4 && exp10 < 16)
		snprintf(buf, n, "%.*f", lo - 1 - exp10 > 0 ? lo - 1 - exp10 : 0, v);
	else
		snprintf(buf, n, "%.*g", lo, v);
	if (!strpbrk(buf, ".en"))
		strncat(buf, ".0", n - strlen(buf) - 1);
}

void fmt_c_literal(char *buf, size_t n, double v, Dtype dt)
{
	const char *f = dt == DT_FLOAT ? "F" : "";
	if (isnan(v)) {
		snprintf(buf, n, "NAN");
	} else if (isinf(v)) {
		snprintf(buf, n, "%sHUGE_VAL%s%s", v < 0 ? "(-" : "", f, v < 0 ? ")" : "");
	} else {
		char tmp[48];
		fmt_shortest(tmp, sizeof tmp, v, dt);
		snprintf(buf, n, "%s%s%s%s", v < 0 || signbit(v) ? "(" : "", tmp,
			 dt == DT_FLOAT ? "f" : "", v < 0 || signbit(v) ? ")" : "");
	}
}

const char *fmt_num(Arena *a, double v)
{
	char b[48];
	fmt_shortest(b, sizeof b, v, DT_DOUBLE);
	size_t n = strlen(b);
	if (n > 2 && !strcmp(b + n - 2, ".0"))
		b[n - 2] = '\0';
	return arena_strndup(a, b, strlen(b));
}

