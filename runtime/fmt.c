/*
 * fmt.c: Python's repr(float).
 *
 * Python prints the shortest decimal string that reads back to the same
 * double (David Gay's mode 0).  We find it by asking printf for 1, 2, ...
 * 17 significant digits, each correctly rounded, and taking the first that
 * strtod maps back to v.  At a power of two the rounding interval is
 * lopsided, so a correctly rounded p-digit string may miss it while its
 * neighbour one unit away on the wide side hits; we try both neighbours
 * before going to p+1 digits.  Then the digits are laid out like Python's
 * float_repr: fixed notation when the decimal exponent is in [-4, 16),
 * else d.ddde+XX.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symgrad.h"

/* Decimal digits (no point) and exponent: value = 0.d1d2... * 10^(exp+1). */
typedef struct digits {
	char d[24];
	int n;   /* number of digits */
	int exp; /* exponent of the first digit */
} digits;

/* Splits printf's "%.*e" output "d.ddde[+-]xx" of a positive v into dg. */
static void split_sci(const char *s, digits *dg)
{
	dg->n = 0;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			dg->d[dg->n++] = *s;
	dg->d[dg->n] = '\0';
	dg->exp = atoi(s + 1);
}

/* Reads dg back as a double. */
static double digits_value(const digits *dg)
{
	char buf[48];

	snprintf(buf, sizeof buf, "0.%se%d", dg->d, dg->exp + 1);
	return strtod(buf, NULL);
}

/* Adds delta (+1 or -1) to the last digit of dg, carrying; returns 0 when
 * the result has a different digit count (then it is not a candidate). */
static int digits_bump(digits *dg, int delta)
{
	int i = dg->n - 1;

	while (i >= 0) {
		int c = dg->d[i] - '0' + delta;
		if (c >= 0 && c <= 9) {
			dg->d[i] = (char)('0' + c);
			return dg->d[0] != '0';
		}
		dg->d[i] = delta > 0 ? '0' : '9';
		i--;
	}
	return 0;
}

/* Finds the shortest digits of positive finite v that read back to v. */
static void shortest(double v, digits *dg)
{
	char buf[40];
	int p, k;

	for (p = 1; p <= 17; p++) {
		snprintf(buf, sizeof buf, "%.*e", p - 1, v);
		split_sci(buf, dg);
		if (digits_value(dg) == v)
			return;
		for (k = -1; k <= 1; k += 2) {
			digits alt = *dg;
			if (digits_bump(&alt, k) && digits_value(&alt) == v) {
				*dg = alt;
				return;
			}
		}
	}
	snprintf(buf, sizeof buf, "%.16e", v); /* unreachable: 17 digits suffice */
	split_sci(buf, dg);
}

/* Drops trailing zero digits (keeping at least one). */
static void trim_zeros(digits *dg)
{
	while (dg->n > 1 && dg->d[dg->n - 1] == '0')
		dg->d[--dg->n] = '\0';
}

/* Lays out dg in fixed notation into out (room for 32 chars). */
static void layout_fixed(const digits *dg, char *out)
{
	int point = dg->exp + 1; /* digits before the decimal point */
	int i;

	if (point <= 0) {
		out += sprintf(out, "0.");
		for (i = 0; i < -point; i++)
			*out++ = '0';
		strcpy(out, dg->d);
		return;
	}
	for (i = 0; i < point; i++)
		*out++ = i < dg->n ? dg->d[i] : '0';
	*out++ = '.';
	if (point >= dg->n)
		*out++ = '0';
	for (i = point; i < dg->n; i++)
		*out++ = dg->d[i];
	*out = '\0';
}

/* Lays out dg as d[.ddd]e[+-]XX into out. */
static void layout_exp(const digits *dg, char *out)
{
	*out++ = dg->d[0];
	if (dg->n > 1) {
		*out++ = '.';
		memcpy(out, dg->d + 1, (size_t)dg->n - 1);
		out += dg->n - 1;
	}
	sprintf(out, "e%c%02d", dg->exp < 0 ? '-' : '+', abs(dg->exp));
}

/* Writes repr(v) into buf (n bytes); returns its length. */
int sg_fmt_repr(char *buf, size_t n, double v)
{
	char out[SG_REPR_MAX];
	char *o = out;
	digits dg;

	if (isnan(v))
		strcpy(out, "nan");
	else if (isinf(v))
		strcpy(out, v < 0 ? "-inf" : "inf");
	else if (v == 0)
		strcpy(out, signbit(v) ? "-0.0" : "0.0");
	else {
		if (v < 0)
			*o++ = '-';
		shortest(fabs(v), &dg);
		trim_zeros(&dg);
		if (dg.exp >= -4 && dg.exp < 16)
			layout_fixed(&dg, o);
		else
			layout_exp(&dg, o);
	}
	return snprintf(buf, n, "%s", out);
}

/* Writes repr(v) to f. */
int sg_print_repr(FILE *f, double v)
{
	char buf[SG_REPR_MAX];

	sg_fmt_repr(buf, sizeof buf, v);
	return fputs(buf, f);
}
