/* gradcheck.h: random points, finite differences and the generator's own
 * evaluator, shared by the double and float gradient checks. */
#ifndef GRADCHECK_H
#define GRADCHECK_H

#include <stdbool.h>

#include "sg.h"
#include "sg_model.h"

#define POINTS 24 /* random points per model */
#define MAXV 32   /* params, inputs, outputs per model at most */

/* A model under test: its descriptor, its file (from the source root), the
 * domain "name=lo:hi,..." (default -2:2), and a test that keeps points away
 * from kinks and poles (NULL: every point). */
typedef struct Case {
	const sg_model *m;
	const char *file;
	const char *domain;
	bool (*ok)(const double *p, const double *in);
} Case;

typedef struct Rng {
	unsigned long long s;
} Rng;

typedef struct Point {
	double p[MAXV], in[MAXV], g[MAXV];
} Point;

double uniform(Rng *r, double lo, double hi);
/* A point of c's domain that c->ok accepts. */
void random_point(const Case *c, Rng *r, Point *pt);
/* (f(p + h) - f(p - h)) / 2h for param i, h = 1e-6 max(1, |p_i|). */
double central_difference(const sg_model *m, const Point *pt, int i);
/* "w=0.5 v=... x=..." for messages. */
const char *point_text(const sg_model *m, const Point *pt);

/* PyTorch's BCELoss at and near p = 0 and 1 (tests/gradcheck/bce_torch.txt,
 * written by tests/torch/bce_reference.py): n elements, the mean loss and
 * its gradient in p. */
typedef struct BceCase {
	int n;
	double p[4], y[4], loss, grad[4];
} BceCase;
/* The cases of dtype "double" or "float"; returns how many (at most max). */
int bce_torch_cases(const char *dtype, BceCase *out, int max);
/* One point of PyTorch's elementwise functions in float64
 * (tests/torch/functions_torch.txt, written by tests/torch/functions_reference.py):
 * the function's name, its operands, its value and its derivatives. */
typedef struct FnCase {
	char name[32];
	int arity;
	double x[2], value, d[2];
} FnCase;
/* The points of the file; returns how many (at most max). */
int functions_torch_cases(FnCase *out, int max);
/* a and b are the same bits (a signed zero is not the other zero). */
bool same_bits(double a, double b);
/* bce's batch with hard labels against the per-row sums, bit for bit, on
 * the models gc_bce_p and gc_bce_mean of either type. */
void bce_hard_labels(const sg_model *bce_p, const sg_model *bce_mean);

/* The generator's view of a model: compiled in-process, evaluated by dag_eval. */
typedef struct Reference {
	Compile c;
	int n_params;
	double *vals;
} Reference;
Reference *reference_new(const char *file, Dtype dt);
void reference_free(Reference *r);
/* The loss, and the gradient into grad. */
double reference_eval(Reference *r, const double *p, const double *in, double *grad);

#endif
