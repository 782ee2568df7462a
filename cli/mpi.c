/*
 * mpi.c: symgrad train under mpirun, for every optimizer (cmd_train.c's
 * and curv.c's): joining the job, silencing the ranks after 0 (rank 0
 * alone prints and saves), agreeing that every rank set up before any
 * trains, and leaving.  Without MPI (or without mpirun) the process is the
 * whole job: rank 0, no communicator.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#ifdef SG_HAVE_MPI
#include "symgrad_mpi.h"

/* The job's processes, when started by mpirun; NULL otherwise. */
static sg_comm *mpi_comm;
static int mpi_saved_err = -1; /* rank > 0: the real stderr */
static FILE *mpi_captured;     /* rank > 0: what it would have printed */

/* 1 when this process was started by mpirun (OpenMPI's, or a PMI one). */
static int under_mpirun(void)
{
	return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") ||
	       getenv("PMI_SIZE");
}

/* Rank > 0: its stdout dropped, its stderr kept aside. */
static void silence(int rank)
{
	int fd;

	fflush(stdout);
	fflush(stderr);
	fd = open("/dev/null", O_WRONLY);
	mpi_captured = tmpfile();
	mpi_saved_err = dup(STDERR_FILENO);
	if (fd < 0 || !mpi_captured || mpi_saved_err < 0 ||
	    dup2(fd, STDOUT_FILENO) < 0 ||
	    dup2(fileno(mpi_captured), STDERR_FILENO) < 0) {
		fprintf(stderr, "symgrad: error: rank %d: cannot silence its output\n",
			rank);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	close(fd);
}

int cli_mpi_start(int *rank, const sg_comm **comm)
{
	sg_error err;

	*rank = 0;
	*comm = NULL;
	if (!under_mpirun())
		return 0;
	if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
		return fputs("symgrad: error: MPI_Init failed\n", stderr), 1;
	if (!(mpi_comm = sg_comm_mpi_new(MPI_COMM_WORLD, &err))) {
		cli_fail(&err);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	*rank = mpi_comm->rank;
	*comm = mpi_comm;
	if (*rank > 0)
		silence(*rank);
	return 0;
}

/* Rank > 0: shows what it printed on the real stderr, each line headed
 * "rank R: ". */
static void show_captured(int rank)
{
	char line[1024];
	FILE *err;

	fflush(stderr);
	if (!mpi_captured || mpi_saved_err < 0 || !(err = fdopen(dup(mpi_saved_err), "w")))
		return;
	rewind(mpi_captured);
	while (fgets(line, sizeof line, mpi_captured))
		fprintf(err, "rank %d: %s", rank, line);
	fclose(err);
}

int cli_mpi_agree(int ok)
{
	int all_ok = ok, first_bad, me, rank;

	if (!mpi_comm)
		return ok;
	rank = mpi_comm->rank;
	me = ok ? mpi_comm->size : rank;
	MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(&me, &first_bad, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (all_ok)
		return 1;
	if (rank == 0 && ok)
		fprintf(stderr, "symgrad: error: rank %d could not set up (its "
			"message follows); no rank trains\n", first_bad);
	if (rank > 0 && !ok)
		show_captured(rank);
	return 0;
}

int cli_mpi_finish(int rc)
{
	if (!mpi_comm)
		return rc;
	sg_comm_mpi_free(mpi_comm);
	mpi_comm = NULL;
	MPI_Finalize();
	if (mpi_captured)
		fclose(mpi_captured);
	if (mpi_saved_err >= 0)
		close(mpi_saved_err);
	return rc;
}
#else
int cli_mpi_start(int *rank, const sg_comm **comm)
{
	*rank = 0;
	*comm = NULL;
	return 0;
}

int cli_mpi_agree(int ok)
{
	return ok;
}

int cli_mpi_finish(int rc)
{
	return rc;
}
#endif
