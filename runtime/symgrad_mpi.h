/*
 * symgrad_mpi.h: training across the processes of an MPI communicator
 * (MPI builds of the runtime: meson option mpi).
 *
 *	sg_comm *c = sg_comm_mpi_new(MPI_COMM_WORLD, &err);
 *	opts.comm = c;             every rank: the same data and options
 *	t = sg_trainer_new(m, &opts, &err);
 *	sg_trainer_run(t, d, &err);   the same bits on every rank, and as
 *	...                           one process would get
 *	sg_comm_mpi_free(c);       before MPI_Finalize
 */
#ifndef SYMGRAD_MPI_H
#define SYMGRAD_MPI_H

#include <mpi.h>

#include "symgrad.h"

/* A communicator for the trainer over a duplicate of comm (its messages
 * never meet the caller's); NULL and *err on failure. */
sg_comm *sg_comm_mpi_new(MPI_Comm comm, sg_error *err);
void sg_comm_mpi_free(sg_comm *c);

#endif
