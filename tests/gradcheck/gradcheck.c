/* gradcheck.c: see gradcheck.h. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"

double uniform(Rng *r, double lo, double hi)
{
	r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
	return lo + (hi - lo) * ((double)(r->s >> 11) * 0x1p-53);
}

/* The domain of one name in "w=0.5:3,x=-1:1", or -2:2. */
static void domain_of(const char *spec, const char *name, double *lo, double *hi)
{
	*lo = -2, *hi = 2;
	size_t n = strlen(name);
	for (const char *s = spec; s && *s; s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL)
		if (!strncmp(s, name, n) && s[n] == '=' && sscanf(s + n + 1, "%lf:%lf", lo, hi) != 2)
			cr_fatal("bad domain '%s'", spec);
}

void random_point(const Case *c, Rng *r, Point *pt)
{
	const sg_model *m = c->m;
	cr_assert(m->n_params <= MAXV && m->n_inputs <= MAXV && m->n_outputs <= MAXV);
	for (int tries = 0; tries < 10000; tries++) {
		double lo, hi;
		for (int i = 0; i < m->n_params; i++) {
			domain_of(c->domain, m->param_names[i], &lo, &hi);
			pt->p[i] = uniform(r, lo, hi);
		}
		for (int i = 0; i < m->n_inputs; i++) {
			domain_of(c->domain, m->input_names[i], &lo, &hi);
			pt->in[i] = uniform(r, lo, hi);
			if (m->input_classes && m->input_classes[i] > 0) /* an index: a whole number */
				pt->in[i] = floor(uniform(r, 0, m->input_classes[i]));
		}
		if (!c->ok || c->ok(pt->p, pt->in))
			return;
	}
	cr_fatal("%s: no acceptable point in the domain", m->name);
}

double central_difference(const sg_model *m, const Point *pt, int i)
{
	double p[MAXV];
	memcpy(p, pt->p, sizeof p);
	double h = 1e-6 * fmax(1.0, fabs(p[i]));
	double up = pt->p[i] + h, down = pt->p[i] - h;
	p[i] = up;
	double fu = m->forward_d(p, pt->in, NULL);
	p[i] = down;
	double fd = m->forward_d(p, pt->in, NULL);
	return (fu - fd) / (up - down);
}

const char *point_text(const sg_model *m, const Point *pt)
{
	static char buf[512];
	int n = 0;
	for (int i = 0; i < m->n_params && n < 400; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "%s=%.17g ", m->param_names[i], pt->p[i]);
	for (int i = 0; i < m->n_inputs && n < 400; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "%s=%.17g ", m->input_names[i], pt->in[i]);
	return buf;
}

Reference *reference_new(const char *file, Dtype dt)
{
	Reference *r = calloc(1, sizeof *r);
	r->c.arena = arena_new();
	r->c.dtype = dt;
	r->c.loops = SG_LOOPS_NEVER; /* the scalar DAG, which dag_eval evaluates */
	char *path = arena_printf(r->c.arena, "%s/%s", SOURCE_ROOT, file);
	sg_read_source(&r->c, path);
	/* a warning (an unused param) goes to stderr; the models have none */
	cr_assert(sg_compile(&r->c), "%s did not compile", file);
	r->n_params = r->c.model->n_params;
	r->vals = calloc((size_t)r->c.dag->n, sizeof *r->vals);
	return r;
}

void reference_free(Reference *r)
{
	arena_free(r->c.arena);
	free(r->vals);
	free(r);
}

double reference_eval(Reference *r, const double *p, const double *in, double *grad)
{
	dag_eval(r->c.dag, p, in, r->vals);
	for (int i = 0; i < r->n_params; i++)
		grad[i] = r->vals[r->c.grad->param_grad[i]->id];
	return r->vals[r->c.model->loss->node->id];
}

int bce_torch_cases(const char *dtype, BceCase *out, int max)
{
	char path[4096], line[2048];
	snprintf(path, sizeof path, "%s/tests/gradcheck/bce_torch.txt", SOURCE_ROOT);
	FILE *f = fopen(path, "r");
	cr_assert(f != NULL, "%s: cannot open", path);
	int k = 0;
	while (fgets(line, sizeof line, f)) {
		char dt[16], *s = line;
		int n, used;
		if (line[0] == '#' || sscanf(s, "%15s %d%n", dt, &n, &used) != 2 || strcmp(dt, dtype))
			continue;
		cr_assert(n >= 1 && n <= 4 && k < max, "bce_torch.txt: bad line %s", line);
		BceCase *c = &out[k++];
		c->n = n;
		double *dst[] = {c->p, c->y, &c->loss, c->grad};
		int counts[] = {n, n, 1, n};
		s += used;
		for (int part = 0; part < 4; part++)
			for (int i = 0; i < counts[part]; i++) {
				char *end;
				dst[part][i] = strtod(s, &end);
				cr_assert(end != s, "bce_torch.txt: short line %s", line);
				s = end;
			}
	}
	fclose(f);
	return k;
}

/* The numbers of one line, after its name: 3 for a function of one operand
 * (x, value, derivative), 5 for two (x, y, value, d/dx, d/dy). */
static int fn_numbers(const char *s, double *v)
{
	int n = 0;
	for (char *end; n < 5; n++, s = end) {
		v[n] = strtod(s, &end);
		if (end == s)
			break;
	}
	return n;
}

int functions_torch_cases(FnCase *out, int max)
{
	char path[4096], line[1024];
	snprintf(path, sizeof path, "%s/tests/torch/functions_torch.txt", SOURCE_ROOT);
	FILE *f = fopen(path, "r");
	cr_assert(f != NULL, "%s: cannot open", path);
	int k = 0;
	while (fgets(line, sizeof line, f)) {
		FnCase *c = &out[k];
		double v[5];
		int used;
		if (line[0] == '#' || sscanf(line, "%31s%n", c->name, &used) != 1)
			continue;
		int n = fn_numbers(line + used, v);
		cr_assert(k < max && (n == 3 || n == 5), "functions_torch.txt: bad line %s", line);
		c->arity = n == 3 ? 1 : 2;
		c->x[0] = v[0], c->x[1] = n == 5 ? v[1] : 0;
		c->value = v[n - 1 - c->arity];
		c->d[0] = v[n - c->arity], c->d[1] = n == 5 ? v[4] : 0;
		k++;
	}
	fclose(f);
	return k;
}

bool same_bits(double a, double b)
{
	return !memcmp(&a, &b, sizeof a);
}

/* The batch of n rows against the per-row sums, loss and gradient, bit for
 * bit, in the model's type (p and rows given in double, exact in float:
 * every value below is a float). */
static void batch_is_rows_sum(const sg_model *m, const double *p, const double *rows, int n,
			      const char *what, int k, int pattern)
{
	enum { MP = 4, MR = 21 * 4 };
	double g[MP], sum_g[MP] = {0}, batch_g[MP], sum = 0, batch;
	cr_assert(m->n_params <= MP && n * m->n_inputs <= MR);
	if (m->backward_f) {
		float pf[MP], xf[MR], gf[MP], sum_gf[MP] = {0}, batch_gf[MP], sumf = 0;
		for (int i = 0; i < m->n_params; i++)
			pf[i] = (float)p[i];
		for (int i = 0; i < n * m->n_inputs; i++)
			xf[i] = (float)rows[i];
		for (int r = 0; r < n; r++) {
			sumf += m->backward_f(pf, xf + r * m->n_inputs, gf);
			for (int i = 0; i < m->n_params; i++)
				sum_gf[i] += gf[i];
		}
		batch = m->backward_batch_f(n, pf, xf, batch_gf);
		sum = sumf;
		for (int i = 0; i < m->n_params; i++)
			sum_g[i] = sum_gf[i], batch_g[i] = batch_gf[i];
	} else {
		for (int r = 0; r < n; r++) {
			sum += m->backward_d(p, rows + r * m->n_inputs, g);
			for (int i = 0; i < m->n_params; i++)
				sum_g[i] += g[i];
		}
		batch = m->backward_batch_d(n, p, rows, batch_g);
	}
	cr_assert(same_bits(batch, sum), "%s, p %d, pattern %d, %d rows: loss %a, rows %a", what,
		  k, pattern, n, batch, sum);
	for (int i = 0; i < m->n_params; i++)
		cr_assert(same_bits(batch_g[i], sum_g[i]),
			  "%s, p %d, pattern %d, %d rows: gradient %d %a, rows %a", what, k, pattern,
			  n, i, batch_g[i], sum_g[i]);
}

/*
 * bce's batch with hard labels (templates/c.lua hard_bce): a block whose
 * labels are all 0 or 1 and whose p are all in [0, 1] takes one log a row
 * instead of two; any other block is computed as written.  Both must give
 * the per-row function's bits: the loss and the gradient of 16 and of 21
 * rows (a whole block, and one with a short block after it) equal the
 * per-row sums, for p at 0, -0, the smallest subnormal, where 1 - p rounds
 * to 1, inside, where p rounds 1 - p, at 1, and outside [0, 1] (NaN, 1.5,
 * -0.5, Inf), each in the model's type; for labels all +0, all -0, all 1,
 * mixed, and mixed with one soft label (0.25), a NaN or a 2.  Once with one
 * bce a row (gc_bce_p), once with four in one loop over the block
 * (gc_bce_mean, the odd label in a row's last element).
 */
void bce_hard_labels(const sg_model *bce_p, const sg_model *bce_mean)
{
	static const double pd[] = {0.0, -0.0, 0x1p-1074, 0x1p-60, 1e-8, 0.25, 0.5, 0.75,
				    1 - 0x1p-20, 1 - 0x1p-53, 1.0, NAN, 1.5, -0.5, INFINITY};
	static const double pf[] = {0.0, -0.0, 0x1p-149, 0x1p-30, 0x1.5798eep-27, 0.25, 0.5, 0.75,
				    1 - 0x1p-12, 1 - 0x1p-24, 1.0, NAN, 1.5, -0.5, INFINITY};
	static const double odd[] = {0.25, NAN, 2.0}, mix[3] = {0.0, 1.0, -0.0};
	enum { NP = sizeof pd / sizeof pd[0] };
	const double *ps = bce_p->backward_f ? pf : pd;
	int hard = 0;
	for (int k = 0; k < NP; k++) {
		for (int pattern = 0; pattern < 7; pattern++) {
			double y[21], y4[21 * 4], p4[4];
			for (int r = 0; r < 21; r++)
				y[r] = pattern < 3 ? mix[pattern] : mix[(r * 7 + pattern) % 3];
			if (pattern >= 4)
				y[5 + pattern] = odd[pattern - 4];
			hard += pattern < 4 && ps[k] >= 0 && ps[k] <= 1;
			/* four p: this one and three after it */
			for (int i = 0; i < 4; i++)
				p4[i] = ps[(k + 5 * i) % NP];
			for (int r = 0; r < 21 * 4; r++)
				y4[r] = pattern < 3 ? mix[pattern] : mix[(r * 5 + pattern) % 3];
			if (pattern >= 4)
				y4[4 * (pattern + 5) + 3] = odd[pattern - 4];
			for (int n = 16; n <= 21; n += 5) {
				batch_is_rows_sum(bce_p, &ps[k], y, n, "bce_p", k, pattern);
				batch_is_rows_sum(bce_mean, p4, y4, n, "bce_mean", k, pattern);
			}
		}
	}
	cr_assert(eq(int, hard, 4 * 11));
}
