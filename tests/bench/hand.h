/* hand.h: hand-written gradients for the benchmarks (hand.c). */
#ifndef HAND_H
#define HAND_H
double hand_linear_backward(const double *p, const double *in, double *g);
double hand_ex4_4_backward(const double *p, const double *in, double *g);
double hand_diabetes_backward(const double *p, const double *in, double *g);
float hand_diabetes_backward_f(const float *p, const float *in, float *g);
double hand_diabetes_backward_batch(int n, const double *p, const double *in, double *g);
float hand_diabetes_backward_batch_f(int n, const float *p, const float *in, float *g);
#endif
