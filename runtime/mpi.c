/*
 * mpi.c: sg_comm over MPI (symgrad_mpi.h): point-to-point messages for
 * dist.c's chain, paired ones for share.c's rows, and a broadcast, on a duplicate of the caller's
 * communicator.  MPI's counts are ints: longer messages go in pieces.
 */
#include <limits.h>
#include <stdlib.h>

#include "symgrad_mpi.h"

/* The largest piece of one message. */
#define PIECE ((size_t)1 << 30)

typedef struct mpi_ctx {
	MPI_Comm comm;
} mpi_ctx;

static int mpi_send(void *ctx, const void *buf, size_t n, int to)
{
	const char *p = buf;
	size_t k;

	for (; n > 0; n -= k, p += k) {
		k = n < PIECE ? n : PIECE;
		if (MPI_Send(p, (int)k, MPI_BYTE, to, 0, ((mpi_ctx *)ctx)->comm) !=
		    MPI_SUCCESS)
			return -1;
	}
	return 0;
}

static int mpi_recv(void *ctx, void *buf, size_t n, int from)
{
	char *p = buf;
	size_t k;

	for (; n > 0; n -= k, p += k) {
		k = n < PIECE ? n : PIECE;
		if (MPI_Recv(p, (int)k, MPI_BYTE, from, 0, ((mpi_ctx *)ctx)->comm,
			     MPI_STATUS_IGNORE) != MPI_SUCCESS)
			return -1;
	}
	return 0;
}

static int mpi_bcast(void *ctx, void *buf, size_t n, int root)
{
	char *p = buf;
	size_t k;

	for (; n > 0; n -= k, p += k) {
		k = n < PIECE ? n : PIECE;
		if (MPI_Bcast(p, (int)k, MPI_BYTE, root, ((mpi_ctx *)ctx)->comm) !=
		    MPI_SUCCESS)
			return -1;
	}
	return 0;
}

static int mpi_sendrecv(void *ctx, const void *sbuf, size_t sn, int to, void *rbuf,
			size_t rn, int from)
{
	const char *s = sbuf;
	char *r = rbuf;
	size_t ks, kr;
	int first = 1;

	/* in pieces: one message each way, then more pieces of whichever has
	 * some left (a partner counts the same pieces: its rn is this sn) */
	do {
		ks = sn < PIECE ? sn : PIECE;
		kr = rn < PIECE ? rn : PIECE;
		if (MPI_Sendrecv(s, (int)ks, MPI_BYTE, first || ks ? to : MPI_PROC_NULL, 1,
				 r, (int)kr, MPI_BYTE, first || kr ? from : MPI_PROC_NULL, 1,
				 ((mpi_ctx *)ctx)->comm, MPI_STATUS_IGNORE) != MPI_SUCCESS)
			return -1;
		s += ks, sn -= ks;
		r += kr, rn -= kr;
		first = 0;
	} while (sn > 0 || rn > 0);
	return 0;
}

static void mpi_abort(void *ctx, int status)
{
	MPI_Abort(((mpi_ctx *)ctx)->comm, status);
	abort(); /* MPI_Abort does not return */
}

sg_comm *sg_comm_mpi_new(MPI_Comm comm, sg_error *err)
{
	sg_comm *c = calloc(1, sizeof *c);
	mpi_ctx *x = calloc(1, sizeof *x);

	if (!c || !x) {
		free(c);
		free(x);
		sg_errorf(err, "out of memory");
		return NULL;
	}
	if (MPI_Comm_dup(comm, &x->comm) != MPI_SUCCESS) {
		free(c);
		free(x);
		sg_errorf(err, "MPI_Comm_dup failed");
		return NULL;
	}
	MPI_Comm_rank(x->comm, &c->rank);
	MPI_Comm_size(x->comm, &c->size);
	c->send = mpi_send;
	c->recv = mpi_recv;
	c->bcast = mpi_bcast;
	c->sendrecv = mpi_sendrecv;
	c->abort = mpi_abort;
	c->ctx = x;
	return c;
}

void sg_comm_mpi_free(sg_comm *c)
{
	if (!c)
		return;
	MPI_Comm_free(&((mpi_ctx *)c->ctx)->comm);
	free(c->ctx);
	free(c);
}
