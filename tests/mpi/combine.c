/*
 * combine.c: mpirun -n P mpi-combine-bench [N_PARAMS [STEPS]]: the cost of
 * combining one step's gradient across P processes, symgrad's way
 * (sg_dist_grad: the pipelined chain fold in block order, then a
 * broadcast; the same bits for any P) against a plain MPI_Allreduce of the
 * same vector (sums in an order MPI chooses).  A model of N_PARAMS
 * parameters (79,510: the 784->100->10 network) whose block sum costs
 * nothing (it fills the gradient with the block's first row) stands for
 * the model, one block per rank, so what is timed is the exchange.  Rank 0
 * prints the microseconds per step of both: the best of 5 trials of STEPS
 * steps each (a shared machine's load only ever adds time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symgrad_mpi.h"

static int np = 79510;

static double fake_batch(int n, const double *p, const double *x, double *g)
{
	int i;

	(void)p;
	for (i = 0; i < np; i++)
		g[i] = x[0] + (double)i * 1e-9;
	return (double)n;
}

static double fake_row(const double *p, const double *x, double *g)
{
	return fake_batch(1, p, x, g);
}

int main(int argc, char **argv)
{
	sg_model m;
	sg_error err;
	sg_comm *c;
	sg_dist *d = NULL;
	sg_batch *b = NULL;
	double *p, *g, *x, t0, t, t_chain, t_allreduce, loss = 0;
	int steps = 40, i, trial, size, rank;
	size_t rows;

	MPI_Init(&argc, &argv);
	if (argc > 1)
		np = atoi(argv[1]);
	if (argc > 2)
		steps = atoi(argv[2]);
	memset(&m, 0, sizeof m);
	m.abi = SG_MODEL_ABI;
	m.name = "bench";
	m.real_size = sizeof(double);
	m.n_params = np;
	m.n_inputs = 1;
	m.backward_d = fake_row;
	m.backward_batch_d = fake_batch;
	if (!(c = sg_comm_mpi_new(MPI_COMM_WORLD, &err)) ||
	    !(d = sg_dist_new(c, &m, &err)) || !(b = sg_batch_new(&m, 1, &err))) {
		fprintf(stderr, "mpi-combine-bench: %s\n", err.msg);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	size = c->size;
	rank = c->rank;
	rows = (size_t)size * SG_BLOCK_ROWS; /* one block a rank */
	p = calloc((size_t)np, sizeof *p);
	g = calloc((size_t)np, sizeof *g);
	x = calloc(rows, sizeof *x);
	for (i = 0; i < (int)rows; i++)
		x[i] = (double)(i / SG_BLOCK_ROWS) * 0.1;
	t_chain = t_allreduce = 1e300;
	for (trial = 0; trial < 5; trial++) {
		MPI_Barrier(MPI_COMM_WORLD);
		t0 = MPI_Wtime();
		for (i = 0; i < steps; i++)
			loss += sg_dist_grad(d, b, rows, p, x, NULL, g);
		t = (MPI_Wtime() - t0) / steps;
		MPI_Bcast(&t, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
		t_chain = t < t_chain ? t : t_chain;
		MPI_Barrier(MPI_COMM_WORLD);
		t0 = MPI_Wtime();
		for (i = 0; i < steps; i++) { /* this rank's block, then Allreduce */
			loss += fake_batch(SG_BLOCK_ROWS, p, x + (size_t)rank * SG_BLOCK_ROWS, g);
			MPI_Allreduce(MPI_IN_PLACE, g, np, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
		}
		t = (MPI_Wtime() - t0) / steps;
		MPI_Bcast(&t, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
		t_allreduce = t < t_allreduce ? t : t_allreduce;
	}
	if (rank == 0)
		printf("P %d, %d params (%zu bytes): chain fold + broadcast %.0f us, "
		       "MPI_Allreduce %.0f us per step (%.2fx)%s\n", size, np,
		       (size_t)np * sizeof(double), t_chain * 1e6, t_allreduce * 1e6,
		       t_chain / t_allreduce, loss == 0 ? "?" : "");
	sg_batch_free(b);
	sg_dist_free(d);
	sg_comm_mpi_free(c);
	free(p);
	free(g);
	free(x);
	MPI_Finalize();
	return 0;
}
