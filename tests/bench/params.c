/*
 * params.c: time to save and to load a parameter file of 10^6 parameters
 * through the runtime's API (sg_params_save / sg_params_load).
 *
 *   params FILE [RESULTS.csv]
 *
 * The parameters are a 1000 x 1000 matrix W (names W[i,j], as symgrad names
 * tensor elements) holding uniform values in (-1, 1) at full precision, like
 * trained weights.  Median of 3 saves and 3 loads; the loaded values are
 * checked against the saved ones bit for bit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "symgrad.h"

#define N 1000000
#define TRIALS 3

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: params FILE [RESULTS.csv]\n");
		return 2;
	}
	const char *path = argv[1];
	char **names = malloc(N * sizeof *names);
	double *p = malloc(N * sizeof *p), *q = malloc(N * sizeof *q);
	unsigned long long s = 42;
	if (!names || !p || !q)
		return 1;
	for (int i = 0; i < N; i++) {
		char buf[32];
		snprintf(buf, sizeof buf, "W[%d,%d]", i / 1000, i % 1000);
		names[i] = strdup(buf);
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (double)(s >> 11) * 0x1p-53 * 2 - 1;
	}
	sg_model m;
	memset(&m, 0, sizeof m);
	m.abi = SG_MODEL_ABI;
	m.name = "big";
	m.real_size = sizeof(double);
	m.n_params = N;
	m.param_names = (const char *const *)names;
	m.param_init = p;
	double ts[TRIALS], tl[TRIALS];
	sg_error err;
	for (int t = 0; t < TRIALS; t++) {
		double t0 = now();
		if (sg_params_save(path, &m, p, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		double t1 = now();
		memset(q, 0, N * sizeof *q);
		if (sg_params_load(path, &m, q, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		double t2 = now();
		if (memcmp(p, q, N * sizeof *p) != 0) {
			fprintf(stderr, "params: loaded values differ from saved ones\n");
			return 1;
		}
		ts[t] = t1 - t0;
		tl[t] = t2 - t1;
	}
	qsort(ts, TRIALS, sizeof *ts, cmp);
	qsort(tl, TRIALS, sizeof *tl, cmp);
	struct stat st;
	double mib = stat(path, &st) == 0 ? (double)st.st_size / 1048576.0 : 0;
	printf("| parameters | file size | save (median of %d) | load (median of %d) | round trip |\n",
	       TRIALS, TRIALS);
	printf("|---|---|---|---|---|\n");
	printf("| 1,000,000 (W[1000, 1000]) | %.1f MiB | %.2f s | %.2f s | bit for bit |\n", mib,
	       ts[TRIALS / 2], tl[TRIALS / 2]);
	if (argc > 2) {
		FILE *f = fopen(argv[2], "w");
		if (f) {
			fprintf(f, "params,file_mib,save_s,load_s\n%d,%.2f,%.4f,%.4f\n", N, mib,
				ts[TRIALS / 2], tl[TRIALS / 2]);
			fclose(f);
		}
	}
	return 0;
}
