/*
 * compare.c: prints everything a generated model computes, as exact hex
 * floats, at fixed pseudo-random points; built once against the unrolled
 * code and once against the loop code of one model, the two outputs must be
 * byte-identical (tests/loops/compare.sh).
 *
 * Build: cc -DMODEL=NAME_model -include NAME_grad.h compare.c NAME_grad.c -lm
 * or, for many models at once (tests/loops/random.sh), -DMODEL_LIST='"list.h"'
 * with one M(NAME_model) line per model in list.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MODEL_LIST /* many models: a file of M(NAME_model) lines */
#define M(name) extern const sg_model name;
#include MODEL_LIST
#undef M
static const sg_model *const models[] = {
#define M(name) &name,
#include MODEL_LIST
#undef M
};
#define MODEL (*models[0])
#else
extern const sg_model MODEL;
#endif

static unsigned long long state = 0x9E3779B97F4A7C15ull;

/* a uniform number in [lo, hi), or a small integer half of the time: ties,
 * zeros and class indices are where piecewise rules differ */
static double draw(double lo, double hi)
{
	state = state * 6364136223846793005ull + 1442695040888963407ull;
	unsigned r = (unsigned)(state >> 33);
	if (r & 1)
		return (double)((r >> 1) % 4);
	return lo + (hi - lo) * (double)(r >> 1) / 2147483648.0;
}

/* Input i (of a row: i modulo n_inputs) drawn in [lo, hi); an index input
 * (a class, E[tok]'s token) a whole number in its range instead, from the
 * same draw. */
static double draw_input(const sg_model *m, int i, double lo, double hi)
{
	double v = draw(lo, hi);
	int k = m->input_classes ? m->input_classes[i % m->n_inputs] : 0;
	return k > 0 ? floor((v - lo) / (hi - lo) * k) : v;
}

#define ROWS 21 /* two blocks of 8 rows and 5 left over */

#define RUN(T, F, FMT)                                                                  \
	do {                                                                            \
		T *params = calloc((size_t)m->n_params + 1, sizeof(T));                 \
		T *inputs = calloc((size_t)(m->n_inputs + 1) * ROWS, sizeof(T));        \
		T *outputs = calloc((size_t)m->n_outputs + 1, sizeof(T));               \
		T *grad = calloc((size_t)m->n_params + 1, sizeof(T));                   \
		for (int pt = 0; pt < points; pt++) {                                   \
			for (int i = 0; i < m->n_params; i++)                           \
				params[i] = (T)(m->param_init[i] * (pt ? draw(0.5, 1.5) : 1.0)); \
			for (int i = 0; i < m->n_inputs * ROWS; i++)                    \
				inputs[i] = (T)draw_input(m, i, -2, 2);                            \
			printf("point %d\n", pt);                                       \
			printf("forward " FMT "\n", (double)m->forward_##F(params, inputs, outputs)); \
			for (int i = 0; i < m->n_outputs; i++)                          \
				printf("  %s " FMT "\n", m->output_names[i], (double)outputs[i]); \
			m->predict_##F(params, inputs, outputs);                        \
			for (int i = 0; i < m->n_outputs; i++)                          \
				printf("  predict %s " FMT "\n", m->output_names[i], (double)outputs[i]); \
			printf("backward " FMT "\n", (double)m->backward_##F(params, inputs, grad)); \
			for (int i = 0; i < m->n_params; i++)                           \
				printf("  d %s " FMT "\n", m->param_names[i], (double)grad[i]); \
			printf("batch " FMT "\n", (double)m->backward_batch_##F(ROWS, params, inputs, grad)); \
			for (int i = 0; i < m->n_params; i++)                           \
				printf("  d %s " FMT "\n", m->param_names[i], (double)grad[i]); \
			BEYOND(T, F, FMT);                                              \
		}                                                                       \
		free(params), free(inputs), free(outputs), free(grad);                  \
	} while (0)

/* A NaN as the one NaN: IEEE 754 does not say which operand's payload
 * and sign an operation on two NaNs keeps, and the simplifier may write a
 * product's operands in either order (x * y and y * x are the same number
 * otherwise); second-order programs meet more NaNs (0 * Inf in a saturated
 * bce's curvature) than the gradient does. */
static double one_nan(double x)
{
	return isnan(x) ? NAN : x;
}

/* The functions beyond the gradient the model has (gen --hvp, --gnvp,
 * --jvp, --jacobian, --hessian, --vjp), at the same point, with drawn
 * directions; NaNs as one. */
#define BEYOND(T, F, FMT)                                                               \
	do {                                                                            \
		int np = m->n_params, ni = m->n_inputs, no = m->n_outputs;              \
		T *v = calloc((size_t)(3 * np + 2 * ni + 3 * no + 3), sizeof(T));      \
		T *r = v + np, *di = r + np, *gi = di + ni, *dout = gi + ni, *o2 = dout + no + 1; \
		T *g2 = o2 + no + 1, dl;                                                \
		for (int i = 0; i < np; i++)                                            \
			v[i] = (T)draw(-1, 1);                                          \
		for (int i = 0; i < ni; i++)                                            \
			di[i] = (T)draw(-1, 1);                                         \
		for (int i = 0; i < no; i++)                                            \
			dout[i] = (T)draw(-1, 1);                                       \
		if (m->hvp_##F) {                                                       \
			printf("hvp " FMT "\n", one_nan((double)m->hvp_##F(params, inputs, v, g2, r))); \
			for (int i = 0; i < np; i++)                                    \
				printf("  %s " FMT " " FMT "\n", m->param_names[i], one_nan((double)g2[i]), one_nan((double)r[i])); \
		}                                                                       \
		if (m->gnvp_##F) {                                                      \
			printf("gnvp " FMT "\n", one_nan((double)m->gnvp_##F(params, inputs, v, g2, r))); \
			for (int i = 0; i < np; i++)                                    \
				printf("  %s " FMT " " FMT "\n", m->param_names[i], one_nan((double)g2[i]), one_nan((double)r[i])); \
		}                                                                       \
		if (m->jvp_##F) {                                                       \
			printf("jvp " FMT, one_nan((double)m->jvp_##F(params, inputs, v, di, o2, g2, &dl))); \
			printf(" " FMT "\n", one_nan((double)dl));                              \
			for (int i = 0; i < no; i++)                                    \
				printf("  %s " FMT " " FMT "\n", m->output_names[i], one_nan((double)o2[i]), one_nan((double)g2[i])); \
		}                                                                       \
		if (m->jacobian_##F) {                                                  \
			T *jp = calloc((size_t)(no + 1) * (size_t)(np + ni + 1), sizeof(T)), *jx = jp + (size_t)no * (size_t)np; \
			m->jacobian_##F(params, inputs, o2, jp, jx);                    \
			for (int i = 0; i < no * (np + ni); i++)                        \
				printf("  jacobian %d " FMT "\n", i, one_nan((double)jp[i])); \
			free(jp);                                                       \
		}                                                                       \
		if (m->hessian_##F) {                                                   \
			T *h = calloc((size_t)np * (size_t)np + 1, sizeof(T));          \
			printf("hessian " FMT "\n", one_nan((double)m->hessian_##F(params, inputs, g2, h))); \
			for (int i = 0; i < np * np; i++)                               \
				printf("  hessian %d " FMT "\n", i, one_nan((double)h[i])); \
			free(h);                                                        \
		}                                                                       \
		if (m->vjp_##F) {                                                       \
			printf("vjp " FMT "\n", one_nan((double)m->vjp_##F(params, inputs, (T)draw(-1, 1), dout, r, gi))); \
			for (int i = 0; i < np; i++)                                    \
				printf("  %s " FMT "\n", m->param_names[i], one_nan((double)r[i])); \
			for (int i = 0; i < ni; i++)                                    \
				printf("  %s " FMT "\n", m->input_names[i], one_nan((double)gi[i])); \
		}                                                                       \
		free(v);                                                                \
	} while (0)

/* "fd N": N gradient coordinates against central differences (double). */
static int finite_differences(const sg_model *m, int n)
{
	double *p = calloc((size_t)m->n_params + 1, sizeof *p);
	double *in = calloc((size_t)m->n_inputs + 1, sizeof *in);
	double *g = calloc((size_t)m->n_params + 1, sizeof *g);
	for (int i = 0; i < m->n_params; i++)
		p[i] = m->param_init[i];
	for (int i = 0; i < m->n_inputs; i++)
		in[i] = draw_input(m, i, -1, 1);
	m->backward_d(p, in, g);
	double worst = 0;
	int bad = 0;
	for (int t = 0; t < n; t++) {
		state = state * 6364136223846793005ull + 1442695040888963407ull;
		int i = (int)((state >> 33) % (unsigned long long)m->n_params);
		double keep = p[i], h = 1e-6 * (fabs(keep) > 1 ? fabs(keep) : 1);
		p[i] = keep + h;
		double up = m->forward_d(p, in, NULL);
		p[i] = keep - h;
		double down = m->forward_d(p, in, NULL);
		p[i] = keep;
		double fd = (up - down) / (2 * h);
		double err = fabs(fd - g[i]) / (fabs(fd) > 1 ? fabs(fd) : 1);
		if (err > worst)
			worst = err;
		/* !(err <= tol): a NaN gradient or difference fails */
		if (!(err <= 1e-6)) {
			printf("%s: gradient %.17g, central difference %.17g\n", m->param_names[i], g[i], fd);
			bad++;
		}
	}
	printf("%d coordinates, largest difference %.3g\n", n, worst);
	free(p), free(in), free(g);
	return bad ? 1 : 0;
}

/* The batch's loss and gradient at the model's initial params over ROWS
 * drawn rows, in decimal (for comparisons with a tolerance). */
static int batch_decimal(const sg_model *m)
{
	double *p = calloc((size_t)m->n_params + 1, sizeof *p);
	double *in = calloc((size_t)(m->n_inputs + 1) * ROWS, sizeof *in);
	double *g = calloc((size_t)m->n_params + 1, sizeof *g);
	for (int i = 0; i < m->n_params; i++)
		p[i] = m->param_init[i];
	for (int i = 0; i < m->n_inputs * ROWS; i++)
		in[i] = draw_input(m, i, -2, 2);
	printf("batch %.17g\n", m->backward_batch_d(ROWS, p, in, g));
	for (int i = 0; i < m->n_params; i++)
		printf("d_%s %.17g\n", m->param_names[i], g[i]);
	free(p), free(in), free(g);
	return 0;
}

/* backward_batch over ROWS drawn rows against backward row by row, summed
 * in row order from zero: the same bits (loss and every gradient). */
#define ROWSUM(T, F)                                                                    \
	do {                                                                            \
		int np = m->n_params, ni = m->n_inputs;                                 \
		T *p = calloc((size_t)np + 1, sizeof(T)), *g = calloc((size_t)np + 1, sizeof(T)); \
		T *s = calloc((size_t)np + 1, sizeof(T)), *b = calloc((size_t)np + 1, sizeof(T)); \
		T *in = calloc((size_t)(ni + 1) * ROWS, sizeof(T));                     \
		for (int i = 0; i < np; i++)                                            \
			p[i] = (T)m->param_init[i];                                     \
		for (int i = 0; i < ni * ROWS; i++)                                     \
			in[i] = (T)draw_input(m, i, -2, 2);                                       \
		T loss = 0;                                                             \
		for (int r = 0; r < ROWS; r++) {                                        \
			loss += m->backward_##F(p, in + (long)r * ni, g);               \
			for (int i = 0; i < np; i++)                                    \
				s[i] += g[i];                                           \
		}                                                                       \
		T bl = m->backward_batch_##F(ROWS, p, in, b);                           \
		for (int i = 0; i < np; i++)                                            \
			bad += memcmp(&s[i], &b[i], sizeof(T)) != 0;                    \
		bad += memcmp(&loss, &bl, sizeof(T)) != 0;                              \
		printf("batch of %d rows against the rows summed: %d of %d results differ\n", \
		       ROWS, bad, np + 1);                                              \
		free(p), free(g), free(s), free(b), free(in);                           \
	} while (0)

static int row_sum(const sg_model *m)
{
	int bad = 0;
	if (m->forward_d)
		ROWSUM(double, d);
	else
		ROWSUM(float, f);
	return bad ? 1 : 0;
}

/* Everything m computes at `points` points, as hex floats. */
static void run(const sg_model *m, int points)
{
	if (m->forward_d)
		RUN(double, d, "%a");
	else
		RUN(float, f, "%a");
}

int main(int argc, char **argv)
{
	const sg_model *m = &MODEL;
	if (argc > 2 && !strcmp(argv[1], "fd"))
		return finite_differences(m, atoi(argv[2]));
	if (argc > 1 && !strcmp(argv[1], "rowsum"))
		return row_sum(m);
	if (argc > 1 && !strcmp(argv[1], "batch") && m->backward_batch_d)
		return batch_decimal(m);
	int points = argc > 1 ? atoi(argv[1]) : 20;
#ifdef MODEL_LIST
	for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
		printf("model %s\n", models[i]->name);
		run(models[i], points);
	}
#else
	run(m, points);
#endif
	return 0;
}
