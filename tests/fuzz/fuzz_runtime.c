/*
 * fuzz_runtime.c: libFuzzer harness over the runtime's readers of files that
 * users write by hand: CSV data (with and without a header, with the
 * missing-column flag) and parameter files.  The first byte picks the
 * reader.  Every input must end in data or a clean error, never a crash, a
 * hang or a leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symgrad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A model with a vector input, scalars and a matrix param. */
static const char *const param_names[] = {"w", "b", "W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]"};
static const char *const input_names[] = {"x[0]", "x[1]", "y"};
static const double param_init[] = {1, 0, 0, 0, 0, 0};
static const sg_model model = {SG_MODEL_ABI, "fuzz", "fuzz.sg", "0", (int)sizeof(double),
			       6, 3, 0, param_names, input_names, NULL, param_init,
			       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
			       NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL,
				 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL};

static void read_csv(const uint8_t *data, size_t size, unsigned flags)
{
	FILE *f = fmemopen((void *)data, size, "r");
	if (!f)
		return;
	sg_error err;
	sg_data *d = sg_data_read_stream(f, "fuzz.csv", &model, flags, &err);
	if (d) {
		volatile double sink = 0;
		for (size_t i = 0; i < d->n_rows; i++)
			sink += sg_data_row(d, i)[0];
		(void)sink;
	}
	sg_data_free(d);
	fclose(f);
}

static void read_params(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz-params-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size) {
		double p[6];
		sg_error err;
		sg_params_load(path, &model, p, &err);
	}
	close(fd);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 1 << 16)
		return 0;
	switch (data[0] % 3) {
	case 0: read_csv(data + 1, size - 1, 0); break;
	case 1: read_csv(data + 1, size - 1, SG_CSV_ALLOW_MISSING); break;
	default: read_params(data + 1, size - 1); break;
	}
	return 0;
}
