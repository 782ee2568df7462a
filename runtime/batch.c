/*
 * batch.c: a batch's summed loss and gradient in the canonical block order,
 * on one thread or a fixed pool of threads (pthreads), the same bits for
 * any number of threads.
 *
 * The canonical order.  The n rows of a batch are cut into blocks of
 * SG_BLOCK_ROWS rows in row order (the last block may be shorter); a
 * constant of the format, not of the thread count.  Each block is summed
 * from zero in row order by the model's backward_batch (or its backward
 * looped over the rows), giving a loss and a gradient per block.  The
 * batch's loss and gradient are the block sums folded left in block
 * order: s = b0, then s = s + b1, s = s + b2, ...  A batch of at most
 * SG_BLOCK_ROWS rows is one block: its sum is backward_batch's, as before
 * blocks existed, so mini-batches that small (and per-sample SGD) keep
 * their bits.
 *
 * The threads.  A pool of N threads (the caller is thread 0) is made once
 * and reused.  A job starts when the caller sets a word the workers wait
 * on (the job's number) and ends when each worker has added 1 to another
 * that the caller waits on: a store and an add, no lock, when the threads
 * are spinning (they spin up to SPIN_NS, then sleep on a condition
 * variable).  The blocks go through in waves of W = N * K blocks (K from
 * the memory the block sums may take), each thread computing a fixed
 * contiguous run of the wave's blocks into the wave's buffers; after a
 * barrier each thread folds a fixed slice of the parameters over the
 * wave's buffers in block order (thread 0 also folds the losses), and a
 * barrier ends the wave.  The last wave (the only one of most batches) of
 * a small model is folded along a chain instead, no barrier: worker t
 * computes the wave's run t - 1 and the caller the last run; each folds
 * its own blocks, as they come or onto the prefix sum of the runs before
 * it, which the thread of the run before hands over (job_chain).  So a
 * block's sums never leave the core that computed them, and one prefix a
 * thread crosses to the next: on a virtual machine whose cores are far
 * apart, each line that crosses costs a quarter of a microsecond or more,
 * and a small model's step lasts a few tens of microseconds.  A large
 * model's last wave, which reads megabytes, is folded by all threads, each
 * its slice, after a barrier.  How the blocks fall into waves and threads
 * changes who computes what and when, never which operations are done on
 * which values: every block sum is the same, and every gradient entry is
 * folded in block order.  No scheduler beyond that fixed partition;
 * nothing is allocated after sg_batch_new.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "symgrad.h"

/* The memory the block sums of one wave may take (K >= 1 regardless). */
#define WAVE_BYTES (16u << 20)
/* At most this many blocks per thread per wave. */
#define WAVE_PER_THREAD 64
/* Fold slices start at multiples of this many reals (own cache lines). */
#define SLICE 16
/* A cache line's bytes (64 on x86-64 and most others; larger is harmless). */
#define LINE 64
/* A member that starts a cache line (GCC and clang; the struct is
 * allocated on a line). */
#define OWN_LINE __attribute__((aligned(LINE)))
/* How long a thread spins at the barrier before it sleeps: a whole step of
 * a small model takes tens of microseconds, less than waking a sleeping
 * thread may take, so the threads spin first (as libgomp's barriers do),
 * then sleep on a condition variable.  A spinning thread pauses between
 * looks (PAUSE, which a hypervisor also reads as spinning); with more
 * threads than cores it also yields the core every SPIN_YIELD looks. */
#define SPIN_NS 100000
#define SPIN_YIELD 64
/* A last wave whose block sums take this much is folded by all threads. */
#define FOLD_TOGETHER_BYTES (64u << 10)

/* A word threads wait on: they spin on it first, then sleep on a
 * condition variable.  The word and the sleepers' count each have a cache
 * line of their own.  A waiter counts itself among the sleepers
 * (sequentially consistent) before it looks at the word under the mutex,
 * and a writer stores the word (sequentially consistent) before it looks
 * at the count, so one of the two sees the other's write: no wake-up is
 * lost, and no lock is taken when nobody sleeps. */
typedef struct event {
	unsigned val;   /* (atomic) */
	char pad0[LINE - sizeof(unsigned)];
	int sleepers;   /* threads asleep or about to be (atomic) */
	int yield;      /* more threads than cores: spinners yield */
	char pad1[LINE - 2 * sizeof(int)];
	pthread_mutex_t mu;
	pthread_cond_t cv;
} event;

/* A block's loss, a cache line of its own: the thread that computes the
 * block writes it. */
typedef struct slot {
	double loss;
	char pad[LINE - sizeof(double)];
} slot;

/* A barrier for n threads, sense-reversing, on an event. */
typedef struct barrier {
	int count;      /* threads arrived in this round (atomic) */
	int n;
	char pad[LINE - 2 * sizeof(int)];
	event sense;    /* flips when a round completes */
} barrier;

struct sg_batch {
	const sg_model *m;
	int n_threads;    /* N: threads, the caller included */
	int is_float;
	size_t rs, np, ni;
	size_t wave;      /* W: blocks per wave */
	size_t np_pad;    /* np rounded up to whole cache lines: the stride of
			   * the per-block and per-thread arrays, so that no two
			   * threads write into one cache line */
	char *bufs;       /* W block gradients, np reals each */
	slot *slots;      /* W block losses */
	char *pub;        /* per thread: the prefix sum it hands to the next
			   * run of the chain (np_pad reals) */
	slot *pub_loss;   /* per thread: that prefix's loss */
	char *xb, *gt;    /* per thread: gathered rows, one row's gradient */
	size_t xb_stride; /* bytes of a thread's xb, whole cache lines */
	pthread_t *tid;   /* the N - 1 workers */
	int running;      /* workers started */
	int gated;        /* gate and bar made */
	pthread_mutex_t gate;  /* held while the workers are being started */
	/* Below, each group starts a cache line: what one thread writes
	 * while the others compute is on no line that they read. */
	OWN_LINE barrier bar;  /* the caller and the running workers, between waves */
	OWN_LINE event go;     /* the number of the job the workers are to start */
	OWN_LINE event done;   /* the jobs the workers have finished, summed */
	/* the job of the current call, written before the workers start it
	 * and each field only when it changes (SET), so that the workers'
	 * copies of these lines stay valid from one job to the next, as they
	 * do in a training loop */
	OWN_LINE int quit;  /* set before the last start: workers return */
	size_t n;
	const void *params, *inputs;
	const size_t *order;
	void *grad;
	/* sg_batch_blocks: blocks [j0, j0 + nb) kept apart, unfolded */
	size_t j0, nbk;
	char *sums;
	double *sum_losses;
	/* written by the caller during a job */
	OWN_LINE double loss;
	int sense;        /* the caller's barrier sense */
	int go_unchecked; /* the go was stored without a fence (go_start) */
	unsigned job_no;  /* the caller's count of jobs started (the events
			   * hold it, modulo 2^32 as it is) */
};

/* Stores a job field only when it changes (see struct sg_batch). */
#define SET(field, v)                      \
	do {                               \
		if ((field) != (v))        \
			(field) = (v);     \
	} while (0)

/* 0, or -1 when the event's mutex or condition cannot be made. */
static int event_init(event *e, int yield)
{
	e->val = 0;
	e->sleepers = 0;
	e->yield = yield;
	if (pthread_mutex_init(&e->mu, NULL) != 0)
		return -1;
	if (pthread_cond_init(&e->cv, NULL) != 0) {
		pthread_mutex_destroy(&e->mu);
		return -1;
	}
	return 0;
}

static void event_destroy(event *e)
{
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Waits until the event's word is v (acquire: what the writer wrote
 * before is seen after). */
static void event_wait(event *e, unsigned v)
{
	double t0 = 0;
	int i;

	for (i = 1;; i++) {
		if (__atomic_load_n(&e->val, __ATOMIC_ACQUIRE) == v)
			return;
		if (i % SPIN_YIELD)
			cpu_relax();
		else if (t0 == 0)
			t0 = now_ns();
		else if (now_ns() - t0 > SPIN_NS)
			break;
		else if (e->yield)
			sched_yield(); /* another thread needs this core */
	}
	__atomic_add_fetch(&e->sleepers, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&e->mu);
	while (__atomic_load_n(&e->val, __ATOMIC_SEQ_CST) != v)
		pthread_cond_wait(&e->cv, &e->mu);
	pthread_mutex_unlock(&e->mu);
	__atomic_sub_fetch(&e->sleepers, 1, __ATOMIC_SEQ_CST);
}

static void event_wake(event *e)
{
	if (__atomic_load_n(&e->sleepers, __ATOMIC_SEQ_CST) > 0) {
		pthread_mutex_lock(&e->mu);
		pthread_cond_broadcast(&e->cv);
		pthread_mutex_unlock(&e->mu);
	}
}

/* Sets the word to v without waiting for the store to reach the other
 * cores (no fence): a sleeper that had already counted itself is woken now,
 * and one that was counting itself at that moment may have missed the new
 * word, so go_check must run before the caller waits for anything.  The
 * caller goes on computing while the store travels (a fence stalls for the
 * other core to give up the line: about 0.3 us here). */
static void go_start(sg_batch *b, unsigned v)
{
	__atomic_store_n(&b->go.val, v, __ATOMIC_RELEASE);
	event_wake(&b->go);
	b->go_unchecked = 1;
}

/* After go_start, before the caller waits: the fence orders the word's
 * store before the look at the sleepers (as event_set's sequentially
 * consistent store does), so a worker that counted itself is seen and
 * woken, and one that did not will see the word. */
static void go_check(sg_batch *b)
{
	if (!b->go_unchecked)
		return;
	b->go_unchecked = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	event_wake(&b->go);
}

/* Sets the word to v (release). */
static void event_set(event *e, unsigned v)
{
	__atomic_store_n(&e->val, v, __ATOMIC_SEQ_CST);
	event_wake(e);
}

/* Adds 1 to the word (release). */
static void event_add(event *e)
{
	__atomic_add_fetch(&e->val, 1u, __ATOMIC_SEQ_CST);
	event_wake(e);
}

static int barrier_init(barrier *b, int n)
{
	b->n = n;
	b->count = 0;
	return event_init(&b->sense, n > sg_threads_available());
}

/* Waits until all n threads have arrived; *sense is the caller's own (0
 * at first).  What a thread wrote before it arrived is seen by every
 * thread after it leaves (release on arriving, acquire on leaving). */
static void barrier_wait(barrier *b, int *sense)
{
	int s = !*sense;

	*sense = s;
	if (__atomic_add_fetch(&b->count, 1, __ATOMIC_ACQ_REL) == b->n) {
		__atomic_store_n(&b->count, 0, __ATOMIC_RELAXED);
		event_set(&b->sense, (unsigned)s);
	} else {
		event_wait(&b->sense, (unsigned)s);
	}
}

/* The cores this process may run on (its CPU affinity), at least 1. */
int sg_threads_available(void)
{
	cpu_set_t s;
	long n;

	if (sched_getaffinity(0, sizeof s, &s) == 0 && CPU_COUNT(&s) > 0)
		n = CPU_COUNT(&s);
	else
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)(n < SG_THREADS_MAX ? n : SG_THREADS_MAX) : 1;
}

/* Row i of the job's batch. */
static const char *row_of(const sg_batch *b, size_t i)
{
	size_t r = b->order ? b->order[i] : i;

	return (const char *)b->inputs + r * b->ni * b->rs;
}

/* Block j's rows, contiguous: the inputs themselves when they are, else
 * gathered into thread me's buffer. */
static const void *block_rows(sg_batch *b, int me, size_t first, size_t k)
{
	size_t rowb = b->ni * b->rs, r;
	char *xb;

	if (!b->order)
		return row_of(b, first);
	xb = b->xb + (size_t)me * b->xb_stride;
	for (r = 0; r < k; r++)
		memcpy(xb + r * rowb, row_of(b, first + r), rowb);
	return xb;
}

/* The model's backward looped over k rows from zero in row order, for a
 * model without backward_batch (the same order backward_batch has). */
static double sum_rows_d(const sg_model *m, size_t k, const double *p,
			 const double *x, double *g, double *gt)
{
	double loss = 0;
	size_t r, i, np = (size_t)m->n_params;

	for (i = 0; i < np; i++)
		g[i] = 0;
	for (r = 0; r < k; r++) {
		loss = loss + m->backward_d(p, x + r * (size_t)m->n_inputs, gt);
		for (i = 0; i < np; i++)
			g[i] = g[i] + gt[i];
	}
	return loss;
}

static double sum_rows_f(const sg_model *m, size_t k, const float *p,
			 const float *x, float *g, float *gt)
{
	float loss = 0;
	size_t r, i, np = (size_t)m->n_params;

	for (i = 0; i < np; i++)
		g[i] = 0;
	for (r = 0; r < k; r++) {
		loss = loss + m->backward_f(p, x + r * (size_t)m->n_inputs, gt);
		for (i = 0; i < np; i++)
			g[i] = g[i] + gt[i];
	}
	return loss;
}

/* Block sum of k contiguous rows x into g (thread me's scratch); its loss,
 * exact in double. */
static double block_sum(sg_batch *b, int me, size_t k, const void *x, void *g)
{
	const sg_model *m = b->m;
	void *gt = b->gt + (size_t)me * b->np_pad * b->rs;

	if (b->is_float)
		return m->backward_batch_f
			       ? (double)m->backward_batch_f((int)k, b->params, x, g)
			       : sum_rows_f(m, k, b->params, x, g, gt);
	return m->backward_batch_d ? m->backward_batch_d((int)k, b->params, x, g)
				   : sum_rows_d(m, k, b->params, x, g, gt);
}

/* Thread me's share [*lo, *hi) of n items cut in N fixed runs, each
 * starting at a multiple of `align`. */
static void share(size_t n, size_t align, int me, int N, size_t *lo, size_t *hi)
{
	size_t units = (n + align - 1) / align;

	*lo = units * (size_t)me / (size_t)N * align;
	*hi = units * (size_t)(me + 1) / (size_t)N * align;
	if (*lo > n)
		*lo = n;
	if (*hi > n)
		*hi = n;
}

/* The sum's next term in the model's real type: a loss a + c. */
static double add_loss(const sg_batch *b, double a, double c)
{
	return b->is_float ? (double)((float)a + (float)c) : a + c;
}

/* d = start + the wave's block sums [ja, jb), entries [lo, hi), each
 * entry folded in block order (start and d may be one array).  CHUNK
 * entries at a time, so that the compiler keeps them in vector registers
 * across the blocks: a chunk is loaded and stored once, however many
 * blocks are folded onto it.  Used by the chain and by the threads' slices
 * of a wave alike. */
#define CHUNK 16
#define FOLD_RUN(NAME, T)                                                              \
	static void NAME(T *d, const T *start, const T *bufs, size_t stride, size_t ja,    \
			 size_t jb, size_t lo, size_t hi)                                  \
	{                                                                                  \
		size_t i = lo, j, c;                                                       \
		T s[CHUNK];                                                                \
                                                                                           \
		for (; i + CHUNK <= hi; i += CHUNK) {                                      \
			for (c = 0; c < CHUNK; c++)                                        \
				s[c] = start[i + c];                                       \
			for (j = ja; j < jb; j++)                                          \
				for (c = 0; c < CHUNK; c++)                                \
					s[c] = s[c] + bufs[j * stride + i + c];            \
			for (c = 0; c < CHUNK; c++)                                        \
				d[i + c] = s[c];                                           \
		}                                                                          \
		for (; i < hi; i++) {                                                      \
			T v = start[i];                                                    \
			for (j = ja; j < jb; j++)                                          \
				v = v + bufs[j * stride + i];                              \
			d[i] = v;                                                          \
		}                                                                          \
	}
FOLD_RUN(fold_run_d, double)
FOLD_RUN(fold_run_f, float)

static void fold_run(sg_batch *b, void *d, const void *start, size_t ja, size_t jb,
		     size_t lo, size_t hi)
{
	if (b->is_float)
		fold_run_f(d, start, (const float *)b->bufs, b->np_pad, ja, jb, lo, hi);
	else
		fold_run_d(d, start, (const double *)b->bufs, b->np_pad, ja, jb, lo, hi);
}

/* Folds the block losses [ja, jb) of the wave into b->loss. */
static void fold_loss(sg_batch *b, size_t ja, size_t jb)
{
	size_t j;

	for (j = ja; j < jb; j++)
		b->loss = add_loss(b, b->loss, b->slots[j].loss);
}

/* Whether the threads fold a last wave of nw blocks together (each its
 * slice of the parameters, one barrier more) rather than along the chain:
 * when the fold reads more than a core's share of cache, as a large
 * model's does (784->100->10: 3 block sums of 79,510 reals, about 0.1 ms
 * on one core, next to 1 ms of blocks per thread). */
static int fold_together(const sg_batch *b, size_t nw)
{
	return (nw - 1) * b->np * b->rs >= FOLD_TOGETHER_BYTES;
}

/* Thread me's part (of N) of an sg_batch_blocks job: a fixed contiguous
 * run of the blocks, each into its own slot; no fold. */
static void blocks_job(sg_batch *b, int me, int N)
{
	size_t lo, hi, j;

	share(b->nbk, 1, me, N, &lo, &hi);
	for (j = lo; j < hi; j++) {
		size_t first = (b->j0 + j) * SG_BLOCK_ROWS;
		size_t k = b->n - first < SG_BLOCK_ROWS ? b->n - first : SG_BLOCK_ROWS;
		b->sum_losses[j] = block_sum(b, me, k, block_rows(b, me, first, k),
					     b->sums + j * b->np * b->rs);
	}
}

/* Asks for the cache lines of n bytes at p for writing, without waiting
 * for them (a hint: PREFETCHW on x86-64, a no-op where it is unknown). */
static void want_lines(void *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += LINE) {
#if defined(__x86_64__) || defined(__i386__)
		__asm__ volatile("prefetchw %0" : : "m"(((char *)p)[i]));
#else
		__builtin_prefetch((char *)p + i, 1, 3);
#endif
	}
}

/* Thread me's part of a small model's last wave, w0 its first block, nw
 * its blocks, job number no: the fold is a chain along the runs.  Thread
 * t > 0 computes run t - 1 of the wave's N fixed runs and the caller the
 * last, so that the sum ends where the caller reads it.  Each thread folds
 * its own blocks onto the sum of the blocks before them (the prefix), which
 * the thread of the run before handed over in its pub buffer: in block
 * order, the same operations as one thread folding every block.  A
 * thread's blocks stay in its own cache; only the prefixes cross, one a
 * thread (before, the caller read every block of every worker, and each
 * worker's next job took those lines back).  A worker asks for its pub
 * lines at the start, so that taking them back from the thread that read
 * them runs while it computes.  The threads take turns on the done word:
 * worker t folds once it reads the job's base + t - 1 (workers 1 .. t - 1
 * have), then adds 1; the caller folds once every worker has. */
static void job_chain(sg_batch *b, int me, int N, size_t w0, size_t nw, unsigned no)
{
	int run = me == 0 ? N - 1 : me - 1, r;
	size_t lo, hi, plo = 0, phi = 0, j, row = b->np_pad * b->rs;
	unsigned base = (no - 1) * (unsigned)(N - 1);
	int starts;       /* this run holds the batch's first block */
	void *d;          /* where this run's prefix sum goes */
	void *acc;        /* where a run that starts the sum sums */
	double *dl, l = 0;

	share(nw, 1, run, N, &lo, &hi);
	starts = w0 == 0 && lo == 0 && hi > 0;
	if (me == 0) {
		d = b->grad, dl = &b->loss;
	} else {
		d = b->pub + (size_t)me * row, dl = &b->pub_loss[me].loss;
		if (hi > lo) {
			want_lines(d, b->np * b->rs);
			want_lines(dl, sizeof *dl);
		}
	}
	/* a worker sums in its first block's buffer, the caller in the
	 * batch's gradient */
	acc = me == 0 ? d : b->bufs + lo * row;
	for (j = lo; j < hi; j++) {
		size_t first = (w0 + j) * SG_BLOCK_ROWS;
		size_t k = b->n - first < SG_BLOCK_ROWS ? b->n - first : SG_BLOCK_ROWS;
		void *g = starts && j == lo ? acc : b->bufs + j * row;
		double lj = block_sum(b, me, k, block_rows(b, me, first, k), g);

		if (!starts) {
			b->slots[j].loss = lj;
		} else if (j == lo) {
			l = lj; /* s = b0 */
		} else {
			/* nothing before: fold each block as it comes */
			fold_run(b, acc, acc, j, j + 1, 0, b->np);
			l = add_loss(b, l, lj);
		}
	}
	if (me == 0)
		go_check(b);
	/* the turn: workers 1 .. me - 1 (the caller: all) have folded */
	event_wait(&b->done, me == 0 ? base + (unsigned)(N - 1) : base + (unsigned)(me - 1));
	if (lo == hi)
		return;
	if (starts) {
		if (me > 0) /* hand the sum over: a copy */
			fold_run(b, d, acc, 0, 0, 0, b->np);
		*dl = l;
		return;
	}
	/* the prefix: the last nonempty run's before this one (its thread's
	 * pub), else the earlier waves' sum, in the batch's gradient (a run
	 * without either would hold block 0) */
	for (r = run - 1; r >= 0 && phi == plo; r--)
		share(nw, 1, r, N, &plo, &phi);
	r++; /* the run that has it, thread r + 1 */
	fold_run(b, d, phi > plo ? b->pub + (size_t)(r + 1) * row : b->grad, lo, hi, 0, b->np);
	l = phi > plo ? b->pub_loss[r + 1].loss : b->loss;
	for (j = lo; j < hi; j++)
		l = add_loss(b, l, b->slots[j].loss);
	*dl = l;
}

/* Thread me's part (of N) of the job: every wave's blocks, then its fold
 * slice. */
static void job(sg_batch *b, int me, int N, int *sense, unsigned no)
{
	size_t nb = (b->n + SG_BLOCK_ROWS - 1) / SG_BLOCK_ROWS, w0, nw, j, lo, hi;

	if (b->sums) {
		blocks_job(b, me, N);
		return;
	}

	for (w0 = 0; w0 < nb; w0 += nw) {
		nw = nb - w0 < b->wave ? nb - w0 : b->wave;
		/* the last wave, short to fold: a chain, one barrier fewer */
		if (N > 1 && w0 + nw == nb && !fold_together(b, nw)) {
			job_chain(b, me, N, w0, nw, no);
			return;
		}
		share(nw, 1, me, N, &lo, &hi);
		for (j = lo; j < hi; j++) {
			size_t first = (w0 + j) * SG_BLOCK_ROWS;
			size_t k = b->n - first < SG_BLOCK_ROWS ? b->n - first
								 : SG_BLOCK_ROWS;
			/* block 0 goes straight into the sum: s = b0 */
			void *g = w0 + j == 0 ? b->grad : b->bufs + j * b->np_pad * b->rs;
			double l = block_sum(b, me, k, block_rows(b, me, first, k), g);
			if (w0 + j == 0)
				b->loss = l;
			else
				b->slots[j].loss = l;
		}
		if (me == 0)
			go_check(b);
		if (N > 1)
			barrier_wait(&b->bar, sense);
		share(b->np, SLICE, me, N, &lo, &hi);
		/* a pass over the slice per block: the sums of a large
		 * model's blocks are read one stream at a time */
		for (j = w0 ? 0 : 1; j < nw; j++)
			fold_run(b, b->grad, b->grad, j, j + 1, lo, hi);
		if (me == 0)
			fold_loss(b, w0 ? 0 : 1, nw);
		/* the last wave ends when the workers are done */
		if (N > 1 && w0 + nw < nb)
			barrier_wait(&b->bar, sense);
	}
}

/* A worker: waits for a job at the barrier, does its part, meets the
 * others at the end; returns when told to quit. */
static void *worker(void *arg)
{
	sg_batch *b = ((void **)arg)[0];
	int me = (int)(size_t)((void **)arg)[1], sense = 0;

	unsigned no;

	free(arg);
	/* the barrier and the events exist once the gate opens */
	pthread_mutex_lock(&b->gate);
	pthread_mutex_unlock(&b->gate);
	for (no = 1;; no++) {
		event_wait(&b->go, no);
		if (b->quit)
			return NULL;
		job(b, me, b->n_threads, &sense, no);
		event_add(&b->done);
	}
}

/* The caller's side of a job on the pool: starts the workers on it, does
 * its own part (thread 0) and waits for theirs.  The job's fields are
 * written before (seen by the workers after the go), their results after
 * (seen by the caller after the done). */
static void run_pool(sg_batch *b)
{
	b->job_no++;
	go_start(b, b->job_no);
	job(b, 0, b->n_threads, &b->sense, b->job_no);
	go_check(b);
	event_wait(&b->done, b->job_no * (unsigned)(b->n_threads - 1));
}

/* Starts the n_threads - 1 workers behind the gate, then makes the barrier
 * for the threads that did start; -1 with *err when one did not (those
 * that did are stopped by sg_batch_free). */
static int start_workers(sg_batch *b, sg_error *err)
{
	int i, want = b->n_threads;
	void **arg;

	if (pthread_mutex_init(&b->gate, NULL) != 0)
		return sg_errorf(err, "cannot make a mutex");
	b->gated = 1;
	pthread_mutex_lock(&b->gate);
	for (i = 1; i < want; i++) {
		if (!(arg = malloc(2 * sizeof *arg)))
			break;
		arg[0] = b, arg[1] = (void *)(size_t)i;
		if (pthread_create(&b->tid[i - 1], NULL, worker, arg) != 0) {
			free(arg);
			break;
		}
	}
	b->running = i - 1;
	if (barrier_init(&b->bar, i) != 0 || event_init(&b->go, i > sg_threads_available()) != 0 ||
	    event_init(&b->done, i > sg_threads_available()) != 0)
		abort(); /* workers are waiting for them: cannot recover */
	pthread_mutex_unlock(&b->gate);
	if (i == want)
		return 0;
	return sg_errorf(err, "cannot start thread %d of %d", i + 1, want);
}

/* n zeroed bytes (at least 1) starting on a cache line; NULL when out of
 * memory.  Freed with free. */
static char *lines(size_t n)
{
	void *p;

	if (posix_memalign(&p, LINE, n ? n : 1) != 0)
		return NULL;
	return memset(p, 0, n ? n : 1);
}

sg_batch *sg_batch_new(const sg_model *m, int n_threads, sg_error *err)
{
	sg_batch *b;
	size_t k;

	if (n_threads < 1 || n_threads > SG_THREADS_MAX) {
		sg_errorf(err, "%d threads (give 1 to %d)", n_threads, SG_THREADS_MAX);
		return NULL;
	}
	if (!(b = (sg_batch *)lines(sizeof *b))) {
		sg_errorf(err, "out of memory");
		return NULL;
	}
	b->m = m;
	b->n_threads = n_threads;
	b->is_float = m->real_size == (int)sizeof(float);
	b->rs = (size_t)m->real_size;
	b->np = (size_t)m->n_params;
	b->ni = (size_t)m->n_inputs;
	k = WAVE_BYTES / ((size_t)n_threads * (b->np + 1) * b->rs);
	k = k < 1 ? 1 : k > WAVE_PER_THREAD ? WAVE_PER_THREAD : k;
	b->wave = (size_t)n_threads * k;
	b->np_pad = (b->np * b->rs + LINE - 1) / LINE * LINE / b->rs;
	b->xb_stride = (SG_BLOCK_ROWS * b->ni * b->rs + LINE - 1) / LINE * LINE;
	b->bufs = lines(b->wave * b->np_pad * b->rs);
	b->slots = (slot *)lines(b->wave * sizeof *b->slots);
	b->xb = lines((size_t)n_threads * b->xb_stride);
	b->gt = lines((size_t)n_threads * b->np_pad * b->rs);
	b->pub = lines((size_t)n_threads * b->np_pad * b->rs);
	b->pub_loss = (slot *)lines((size_t)n_threads * sizeof *b->pub_loss);
	b->tid = calloc((size_t)n_threads, sizeof *b->tid);
	if (!b->bufs || !b->slots || !b->xb || !b->gt || !b->pub || !b->pub_loss || !b->tid) {
		sg_errorf(err, "out of memory");
		sg_batch_free(b);
		return NULL;
	}
	if (n_threads > 1 && start_workers(b, err) < 0) {
		sg_batch_free(b);
		return NULL;
	}
	return b;
}

void sg_batch_free(sg_batch *b)
{
	int i;

	if (!b)
		return;
	if (b->gated) {
		b->quit = 1;
		event_set(&b->go, ++b->job_no);
		for (i = 0; i < b->running; i++)
			pthread_join(b->tid[i], NULL);
		event_destroy(&b->bar.sense);
		event_destroy(&b->go);
		event_destroy(&b->done);
		pthread_mutex_destroy(&b->gate);
	}
	free(b->bufs);
	free(b->slots);
	free(b->xb);
	free(b->gt);
	free(b->pub);
	free(b->pub_loss);
	free(b->tid);
	free(b);
}

int sg_batch_threads(const sg_batch *b)
{
	return b->n_threads;
}

double sg_batch_grad(sg_batch *b, size_t n, const void *params, const void *inputs,
		     const size_t *order, void *grad)
{
	SET(b->n, n);
	SET(b->params, params);
	SET(b->inputs, inputs);
	SET(b->order, order);
	SET(b->grad, grad);
	b->loss = 0;
	if (n == 0) {
		memset(grad, 0, b->np * b->rs);
		return 0;
	}
	if (b->n_threads == 1 || n <= SG_BLOCK_ROWS) {
		job(b, 0, 1, &b->sense, 0); /* one block, or no pool: the caller alone */
		return b->loss;
	}
	run_pool(b);
	return b->loss;
}

void sg_batch_blocks(sg_batch *b, size_t n, const void *params, const void *inputs,
		     const size_t *order, size_t j0, size_t j1, void *sums,
		     double *losses)
{
	if (j1 <= j0)
		return;
	SET(b->n, n);
	SET(b->params, params);
	SET(b->inputs, inputs);
	SET(b->order, order);
	SET(b->j0, j0);
	SET(b->nbk, j1 - j0);
	SET(b->sums, (char *)sums);
	SET(b->sum_losses, losses);
	if (b->n_threads == 1 || j1 - j0 == 1)
		blocks_job(b, 0, 1);
	else
		run_pool(b);
	SET(b->sums, NULL);
	SET(b->sum_losses, NULL);
}

void sg_batch_fold(const sg_batch *b, size_t nb, const void *sums,
		   const double *losses, int started, size_t lo, size_t hi,
		   void *grad, double *loss)
{
	size_t j, i, np = b->np;

	for (j = 0; j < nb; j++) {
		int copy = !started && j == 0; /* s = b0, as job() does */
		if (b->is_float) {
			float *s = grad;
			const float *v = (const float *)sums + j * np;
			for (i = lo; i < hi; i++)
				s[i] = copy ? v[i] : s[i] + v[i];
		} else {
			double *s = grad;
			const double *v = (const double *)sums + j * np;
			for (i = lo; i < hi; i++)
				s[i] = copy ? v[i] : s[i] + v[i];
		}
		if (!loss)
			continue;
		if (copy)
			*loss = losses[0];
		else if (b->is_float)
			*loss = (double)((float)*loss + (float)losses[j]);
		else
			*loss = *loss + losses[j];
	}
}
