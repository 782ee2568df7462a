/*
 * sgd_hand.c: the lecture-4 loop written by hand in C, the limit the
 * trainer's per-sample SGD is measured against (built -O3 -march=native by
 * run.sh).  The lecture's Python:
 *     grad = 2 * x * (x * w - y)
 *     w = w - 0.01 * grad
 * with the loss of each row summed, as symgrad train does for its log.
 */
#include <stddef.h>

/* One pass over n rows (x, y); returns the summed loss. */
double hand_sgd_epoch(double *w, const double *rows, size_t n, double lr)
{
	double v = *w, sum = 0;

	for (size_t i = 0; i < n; i++) {
		double x = rows[2 * i], y = rows[2 * i + 1], d = x * v - y;
		sum += d * d;
		v = v - lr * (2 * x * d);
	}
	*w = v;
	return sum;
}

/* The same with symgrad's order of operations, dloss/dw = (d + d) * x:
 * one more dependent operation on the chain through w than 2 * x * d,
 * whose 2 * x does not depend on w. */
double hand_sgd_epoch_dd(double *w, const double *rows, size_t n, double lr)
{
	double v = *w, sum = 0;

	for (size_t i = 0; i < n; i++) {
		double x = rows[2 * i], y = rows[2 * i + 1], d = x * v - y;
		sum += d * d;
		v = v - lr * ((d + d) * x);
	}
	*w = v;
	return sum;
}
