/*
 * jit.c: compiling generated C at run time.
 *
 * sg_jit_open(name, c_text, h_text) turns the two texts into a loaded
 * model through a cache (sg_jit_open_code, any C beside the header with no
 * descriptor, such as a hand derivation for `symgrad check`, likewise):
 *
 *   $XDG_CACHE_HOME/symgrad/KEY-NAME/   (else ~/.cache/symgrad/KEY-NAME/)
 *       NAME_grad.c  NAME_grad.h  NAME.so  NAME.so.sha256
 *
 * KEY is FNV-1a 64 (hex) of the name, both texts, the compiler command and
 * the flags, the target flag among them, so a change to any of them gets a
 * new entry (a collision is harmless: the sources in the entry must equal
 * the texts).
 *
 * The target.  By default (SG_ISA_NATIVE) the object is built for the
 * machine it runs on: on x86-64, the highest micro-architecture level the
 * CPU and the OS support, as an explicit -march=x86-64-v4, -v3 or -v2
 * (detected with __builtin_cpu_supports), not -march=native, whose meaning
 * depends on the machine: the flag that determines the code is then a
 * string in the key, and a cache shared by two machines never loads an
 * object built for the other's instructions.  Elsewhere, and with
 * SG_ISA_BASELINE, no -march: the compiler's default target.  Values do
 * not depend on the target: -ffp-contract=off forbids fusing a multiply
 * and an add into an FMA, the one change of rounding a wider ISA would
 * otherwise bring (vectorizing a sum needs -fassociative-math, never
 * given); libm is the same library either way.  (--vector-math is not
 * covered: libmvec's 2-, 4- and 8-lane versions are separate
 * implementations, which nothing promises to agree.)
 *
 * Compiling.  The compiler is $CC, else "cc".  $CC is split at spaces and
 * tabs into words (CC="ccache gcc" and CC="gcc -m64" work); no shell runs,
 * so quotes and backslashes, which would mean something to a shell, are
 * refused rather than passed on.  It runs with fork/execvp as
 *
 *   CC... -std=c99 -O2 -shared -fPIC -ffp-contract=off -fno-trapping-math
 *         [-march=x86-64-vN] -o DIR/.NAME.so.XXXXXX DIR/NAME_grad.c -lm
 *
 * (-fno-trapping-math changes no value; it lets GCC if-convert max in the
 * batched gradient's loops).  The compiler's messages become the error on
 * failure.  The new object is checked and loaded under its unique
 * temporary name, renamed to NAME.so, and then its SHA-256 is written to
 * NAME.so.sha256 (sha256sum's format; temporary file, fsync, rename), so
 * concurrent runs never see a partial file.
 *
 * Trust.  Loading a shared object runs its code (constructors run inside
 * dlopen, before any symbol can be looked at), so nothing is loaded that
 * might not be the user's own build:
 *  - every directory from the cache root down must belong to the user
 *    (geteuid) and be writable by nobody else, or sg_jit_open fails naming
 *    it (no fallback: a shared or foreign cache is a setup to fix, and root
 *    running with another user's HOME must not run that user's files);
 *    the directories symgrad creates are made 0700;
 *  - every file read from an entry is opened without following a symlink
 *    and must be a regular file of the user's that nobody else can write;
 *  - the object's bytes are read from that one descriptor and hashed, the
 *    hash must equal NAME.so.sha256, and the same open file is loaded
 *    (through /proc/self/fd/N on Linux, so the bytes hashed are the bytes
 *    loaded; by path elsewhere, which the directories' owner alone can
 *    change);
 *  - NAME_model must then pass check_model: our ABI, a real size of double
 *    or float, counts in range, names and functions present and inside the
 *    loaded object.
 * With the directories the user's, only the user (or root) can write an
 * entry, so what is left is damage and accident: a crash or a full disk,
 * a cache copied or restored from elsewhere, a stray file.  The hash is
 * SHA-256 (FIPS 180-4, below; there is no crypto library to call) rather
 * than the key's FNV-1a, which anyone can collide on purpose; it is not
 * keyed and not a signature, since whoever could forge it could write the
 * cache, and that is what the ownership checks rule out.  A cached entry
 * that fails any check is removed and rebuilt; a fresh build that fails
 * one is an error.
 */
#define _GNU_SOURCE /* dladdr; dl_iterate_phdr on Linux */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <link.h>
#endif

#include "sha256.h"
#include "symgrad.h"

static const char *const jit_flags[] = {
	"-std=c99", "-O2", "-shared", "-fPIC", "-ffp-contract=off",
	"-fno-trapping-math",
};
#define JIT_NFLAGS ((int)(sizeof jit_flags / sizeof jit_flags[0]))
/* Largest n_params, n_inputs or n_outputs a descriptor may claim. */
#define JIT_MAX_COUNT (1 << 24)
/* A sha256sum line: 64 hex digits, two spaces, the name, a newline. */
#define JIT_SUM_MAX 320

struct sg_jit {
	void *handle;
	int code;   /* sg_jit_open_code: any C, no descriptor to load */
	const char *march; /* "-march=x86-64-vN", or NULL: the default target */
	const sg_model *model;
	int cached;
	char *path; /* NAME.so in the cache entry */
};

/* ---- the compiler command and the key ---- */

/* The compiler command: $CC split into words (sg_cc_from_env). */
typedef sg_cc cc_cmd;

int sg_cc_from_env(sg_cc *c, sg_error *err)
{
	const char *env = getenv("CC");
	char *s;

	c->n = 0;
	c->buf = NULL;
	if (env && strpbrk(env, "'\"\\"))
		return sg_errorf(err, "CC='%s': quotes and backslashes are not "
				 "interpreted (CC is split at spaces and run "
				 "without a shell)", env);
	c->buf = strdup(env && *env ? env : "cc");
	if (!c->buf)
		return sg_errorf(err, "out of memory");
	for (s = strtok(c->buf, " \t"); s; s = strtok(NULL, " \t")) {
		if (c->n == SG_CC_MAX_WORDS)
			return sg_errorf(err, "CC has more than %d words",
					 SG_CC_MAX_WORDS);
		c->word[c->n++] = s;
	}
	if (c->n == 0)
		c->word[c->n++] = strcpy(c->buf, "cc");
	c->word[c->n] = NULL;
	return 0;
}

/* The -march flag of the highest x86-64 level this machine runs (CPU and
 * OS: __builtin_cpu_supports checks XCR0 for the AVX and AVX-512 state);
 * NULL for the compiler's default target. */
static const char *native_march(void)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
	__builtin_cpu_init();
	if (__builtin_cpu_supports("x86-64-v4"))
		return "-march=x86-64-v4";
	if (__builtin_cpu_supports("x86-64-v3"))
		return "-march=x86-64-v3";
	if (__builtin_cpu_supports("x86-64-v2"))
		return "-march=x86-64-v2";
#endif
	return NULL;
}

/* 1 when name is a C identifier (so it is safe in paths and symbols). */
static int is_ident(const char *name)
{
	const char *s = name;

	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* Hashes a NUL-terminated string including its NUL. */
static uint64_t hash_str(uint64_t h, const char *s)
{
	return sg_fnv1a(h, s, strlen(s) + 1);
}

/* The cache key of the texts, the compiler and the flags. */
static uint64_t cache_key(const char *name, const char *c_text,
			  const char *h_text, const cc_cmd *cc, int code,
			  const char *march)
{
	char abi[16];
	uint64_t h = hash_str(SG_FNV_INIT, code ? "symgrad-jit 2 code" : "symgrad-jit 2");
	int i;

	snprintf(abi, sizeof abi, "%d", SG_MODEL_ABI);
	h = hash_str(h, abi);
	h = hash_str(h, name);
	h = hash_str(h, c_text);
	h = hash_str(h, h_text);
	for (i = 0; i < cc->n; i++)
		h = hash_str(h, cc->word[i]);
	for (i = 0; i < JIT_NFLAGS; i++)
		h = hash_str(h, jit_flags[i]);
	return hash_str(h, march ? march : "");
}

/* mallocs the printf-formatted string; NULL when out of memory. */
static char *str_printf(const char *fmt, ...) SG_PRINTF(1, 2);

static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* ---- directories ---- */

/* The cache root: $XDG_CACHE_HOME/symgrad or $HOME/.cache/symgrad. */
static char *cache_root(sg_error *err)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *s = NULL;

	if (x && x[0] == '/')
		s = str_printf("%s/symgrad", x);
	else if (home && *home)
		s = str_printf("%s/.cache/symgrad", home);
	else
		sg_errorf(err, "no cache directory (set XDG_CACHE_HOME or HOME)");
	if (!s && err && !err->msg[0])
		sg_errorf(err, "out of memory");
	return s;
}

/* Creates directory path and its parents (like mkdir -p), private. */
static int mkdir_p(char *path, sg_error *err)
{
	char *s;

	for (s = path + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		{
			char c = *s;
			*s = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST) {
				sg_errorf(err, "%s: cannot create directory: %s",
					  path, strerror(errno));
				*s = c;
				return -1;
			}
			*s = c;
		}
		if (*s == '\0')
			return 0;
	}
}

/* 0 when the directory open as fd is the user's and writable by nobody
 * else; -1 with *err naming it (path) and saying what to do. */
static int check_dir(int fd, const char *path, sg_error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return sg_errorf(err, "%s: %s", path, strerror(errno));
	if (st.st_uid != geteuid())
		return sg_errorf(err, "cache directory %s belongs to uid %ld, not "
				 "to you (uid %ld): set XDG_CACHE_HOME to a "
				 "directory of your own", path, (long)st.st_uid,
				 (long)geteuid());
	if (st.st_mode & 022)
		return sg_errorf(err, "cache directory %s is writable by group or "
				 "others (mode %04o): chmod go-w it, or set "
				 "XDG_CACHE_HOME to a private directory", path,
				 (unsigned)(st.st_mode & 07777));
	return 0;
}

/* Opens directory name under at (path in messages) and checks it; flags
 * adds O_NOFOLLOW.  The descriptor, or -1 with *err. */
static int open_dir(int at, const char *name, const char *path, int flags,
		    sg_error *err)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);

	if (fd < 0)
		return sg_errorf(err, "cannot open cache directory %s: %s", path,
				 strerror(errno));
	if (check_dir(fd, path, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Opens the cache root (made if missing) and in it the entry directory
 * (made if missing), both checked; *root_fd and the result are open
 * descriptors, or -1 with *err. */
static int open_entry_dir(char *root, const char *entry, const char *dir,
			  int *root_fd, sg_error *err)
{
	if (mkdir_p(root, err) < 0 ||
	    (*root_fd = open_dir(AT_FDCWD, root, root, 0, err)) < 0)
		return -1;
	if (mkdirat(*root_fd, entry, 0700) < 0 && errno != EEXIST)
		return sg_errorf(err, "%s: cannot create directory: %s", dir,
				 strerror(errno));
	return open_dir(*root_fd, entry, dir, O_NOFOLLOW, err);
}

/* ---- files in an entry ---- */

/* Opens name in directory dfd for reading, not following a symlink (and
 * not blocking on a FIFO); -1 when it cannot. */
static int open_nofollow(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

/* 1 when fd is a regular file of the user's that nobody else can write;
 * *st gets its status. */
static int is_own(int fd, struct stat *st)
{
	return fstat(fd, st) == 0 && S_ISREG(st->st_mode) &&
	       st->st_uid == geteuid() && !(st->st_mode & 022);
}

/* Opens name in dfd when it is_own; else -1. */
static int open_own(int dfd, const char *name, struct stat *st)
{
	int fd = open_nofollow(dfd, name);

	if (fd >= 0 && !is_own(fd, st)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 when file name in dfd is the user's and holds exactly text. */
static int file_equals(int dfd, const char *name, const char *text)
{
	size_t n = strlen(text);
	struct stat st;
	int fd = open_own(dfd, name, &st), same = 0;
	FILE *f;
	char *buf;

	if (fd < 0)
		return 0;
	if (!(f = fdopen(fd, "rb"))) {
		close(fd);
		return 0;
	}
	if ((size_t)st.st_size == n && (buf = malloc(n + 1)) != NULL) {
		same = fread(buf, 1, n + 1, f) == n && memcmp(buf, text, n) == 0;
		free(buf);
	}
	fclose(f);
	return same;
}

/* Writes text to path through a temporary name, fsync and rename. */
static int write_file_atomic(const char *path, const char *text, sg_error *err)
{
	char *tmp = str_printf("%s.XXXXXX", path);
	size_t n = strlen(text);
	FILE *f = NULL;
	int fd, ok;

	if (!tmp)
		return sg_errorf(err, "out of memory");
	if ((fd = mkstemp(tmp)) < 0 || !(f = fdopen(fd, "wb"))) {
		sg_errorf(err, "%s: cannot create: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd), unlink(tmp);
		free(tmp);
		return -1;
	}
	fchmod(fd, 0644);
	ok = fwrite(text, 1, n, f) == n && fflush(f) == 0 && fsync(fd) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		sg_errorf(err, "%s: cannot write: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* The sha256sum line of the object open as fd ("HEX  NAME.so\n"), read
 * from the descriptor itself; -1 on a read error. */
static int checksum_line(int fd, const char *so_name, char line[JIT_SUM_MAX])
{
	char buf[16384], hex[65];
	sg_sha256 s;
	ssize_t n;
	off_t off = 0;

	sg_sha256_init(&s);
	while ((n = pread(fd, buf, sizeof buf, off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		sg_sha256_update(&s, buf, (size_t)n);
		off += n;
	}
	sg_sha256_hex(&s, hex);
	snprintf(line, JIT_SUM_MAX, "%s  %s\n", hex, so_name);
	return 0;
}

/* ---- loading and checking ---- */

#ifdef __linux__
/* dl_iterate_phdr callback: 1 (stop) when an object is named data. */
static int has_name(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	return info->dlpi_name && strcmp(info->dlpi_name, data) == 0;
}
#endif

/* dlopen of the object open as fd.  On Linux through /proc/self/fd/N, so
 * exactly the file that was checked is loaded.  glibc matches a dlopen
 * name against the objects already loaded before opening anything, and an
 * object loaded through an earlier N keeps that name after N is closed and
 * reused; so N is moved (dup) past every name in use.  Without /proc, the
 * path. */
static void *dlopen_fd(int fd, const char *path)
{
#ifdef __linux__
	char proc[64];
	int k = fd, dup_fd = -1, next = 0;
	void *h;

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", k);
	if (access(proc, F_OK) == 0) {
		while (dl_iterate_phdr(has_name, proc)) {
			if ((next = fcntl(fd, F_DUPFD_CLOEXEC, k + 1)) < 0)
				break;
			if (dup_fd >= 0)
				close(dup_fd);
			dup_fd = k = next;
			snprintf(proc, sizeof proc, "/proc/self/fd/%d", k);
		}
		h = next < 0 ? NULL : dlopen(proc, RTLD_NOW | RTLD_LOCAL);
		if (dup_fd >= 0)
			close(dup_fd);
		return h;
	}
#endif
	(void)fd;
	return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

/* 1 when address p lies in the loaded object whose base is base. */
static int inside(const void *p, const void *base)
{
	Dl_info info;

	return p && dladdr(p, &info) && info.dli_fbase == base;
}

/* The address of function f, for inside(). */
static const void *fn_addr(void (*f)(void))
{
	const void *p;

	memcpy(&p, &f, sizeof p);
	return p;
}

/* Checks an array of n names at names (field what): present, inside the
 * object based at base, every name too.  -1 with *err after pre. */
static int check_names(const char *const *names, int n, const char *what,
		       const void *base, const char *pre, sg_error *err)
{
	int i;

	if (n == 0)
		return 0;
	if (!names)
		return sg_errorf(err, "%s: %s is NULL", pre, what);
	if (!inside(names, base) || !inside(names + n - 1, base))
		return sg_errorf(err, "%s: %s is outside the loaded object", pre,
				 what);
	for (i = 0; i < n; i++) {
		if (!names[i])
			return sg_errorf(err, "%s: %s[%d] is NULL", pre, what, i);
		if (!inside(names[i], base))
			return sg_errorf(err, "%s: %s[%d] is outside the loaded "
					 "object", pre, what, i);
	}
	return 0;
}

/* Checks that a count is in range. */
static int check_count(int n, const char *what, const char *pre,
		       sg_error *err)
{
	if (n < 0 || n > JIT_MAX_COUNT)
		return sg_errorf(err, "%s: %s is %d (expected 0 to %d)", pre,
				 what, n, JIT_MAX_COUNT);
	return 0;
}

/* Checks the function pointers: forward and backward of the model's real
 * type present, the others of that type optional, none of the other type,
 * every one present inside the object (is_d: a double model). */
static int check_fns(const sg_model *m, int is_d, const void *base,
		     const char *pre, sg_error *err)
{
	typedef void (*fn)(void);
	static const char *const names[10] = {
		"forward_d", "backward_d", "predict_d", "backward_batch_d",
		"sgd_epoch_d", "forward_f", "backward_f", "predict_f",
		"backward_batch_f", "sgd_epoch_f"};
	const fn fns[10] = {
		(fn)m->forward_d, (fn)m->backward_d, (fn)m->predict_d,
		(fn)m->backward_batch_d, (fn)m->sgd_epoch_d, (fn)m->forward_f,
		(fn)m->backward_f, (fn)m->predict_f, (fn)m->backward_batch_f,
		(fn)m->sgd_epoch_f};
	int own = is_d ? 0 : 5, i;

	for (i = own; i < own + 2; i++)
		if (!fns[i])
			return sg_errorf(err, "%s: %s is NULL", pre, names[i]);
	for (i = 0; i < 10; i++) {
		if (fns[i] && i / 5 != own / 5)
			return sg_errorf(err, "%s: %s is set in a %s model", pre,
					 names[i], is_d ? "double" : "float");
		if (fns[i] && !inside(fn_addr(fns[i]), base))
			return sg_errorf(err, "%s: %s is outside the loaded object",
					 pre, names[i]);
	}
	return 0;
}

/* Checks the descriptor m, found as pre ("PATH: NAME_model") in a loaded
 * object, before anything else reads it: whatever it claims must be
 * something the runtime can use without crashing.  -1 with *err. */
static int check_model(const sg_model *m, const char *name, const char *pre,
		       sg_error *err)
{
	Dl_info info;
	const void *base;
	int is_d;

	if (!dladdr(m, &info) || !inside((const char *)(m + 1) - 1, info.dli_fbase))
		return sg_errorf(err, "%s is outside the loaded object", pre);
	base = info.dli_fbase;
	if (m->abi != SG_MODEL_ABI)
		return sg_errorf(err, "%s has ABI %d, runtime has %d", pre, m->abi,
				 SG_MODEL_ABI);
	is_d = m->real_size == (int)sizeof(double);
	if (!is_d && m->real_size != (int)sizeof(float))
		return sg_errorf(err, "%s: real_size is %d (expected %d or %d)", pre,
				 m->real_size, (int)sizeof(double), (int)sizeof(float));
	if (check_count(m->n_params, "n_params", pre, err) < 0 ||
	    check_count(m->n_inputs, "n_inputs", pre, err) < 0 ||
	    check_count(m->n_outputs, "n_outputs", pre, err) < 0)
		return -1;
	if (!m->name)
		return sg_errorf(err, "%s: name is NULL", pre);
	if (!inside(m->name, base) || strcmp(m->name, name) != 0)
		return sg_errorf(err, "%s: name is not \"%s\"", pre, name);
	if (!inside(m->source, base) || !inside(m->version, base))
		return sg_errorf(err, "%s: source or version is not a string of "
				 "the object", pre);
	if (check_names(m->param_names, m->n_params, "param_names", base, pre, err) < 0 ||
	    check_names(m->input_names, m->n_inputs, "input_names", base, pre, err) < 0 ||
	    check_names(m->output_names, m->n_outputs, "output_names", base, pre, err) < 0)
		return -1;
	if (m->n_params > 0 && (!inside(m->param_init, base) ||
				!inside(m->param_init + m->n_params - 1, base)))
		return sg_errorf(err, "%s: param_init is not an array of the object",
				 pre);
	if (m->input_classes && m->n_inputs > 0) {
		if (!inside(m->input_classes, base) ||
		    !inside(m->input_classes + m->n_inputs - 1, base))
			return sg_errorf(err, "%s: input_classes is not an array of the "
					 "object", pre);
		for (int i = 0; i < m->n_inputs; i++)
			if (m->input_classes[i] < 0)
				return sg_errorf(err, "%s: input_classes[%d] is negative",
						 pre, i);
	}
	return check_fns(m, is_d, base, pre, err);
}

/* Loads the object open as fd (checked and hashed; path for messages and
 * where there is no /proc) and checks NAME_model; on failure fills *err
 * (when not NULL) and leaves nothing open. */
static int load_model(sg_jit *j, int fd, const char *path, const char *name,
		      sg_error *err)
{
	char *sym = str_printf("%s_model", name);
	char *pre = str_printf("%s: %s_model", path, name);
	const sg_model *m;
	const char *why;
	int rc = -1;

	if (!sym || !pre)
		sg_errorf(err, "out of memory");
	else if (!(j->handle = dlopen_fd(fd, path))) {
		why = dlerror();
		sg_errorf(err, "cannot load %s: %s", path, why ? why : strerror(errno));
	} else if (j->code)
		rc = 0; /* no descriptor: the caller looks up its own symbols */
	else if (!(m = (const sg_model *)dlsym(j->handle, sym)))
		sg_errorf(err, "%s: no symbol %s", path, sym);
	else if (check_model(m, name, pre, err) == 0)
		j->model = m, rc = 0;
	if (rc < 0 && j->handle) {
		dlclose(j->handle);
		j->handle = NULL;
	}
	free(sym);
	free(pre);
	return rc;
}

/* ---- compiling ---- */

/* Child side of the compile: stderr and stdout to out_fd, then exec; on
 * exec failure writes errno to exec_fd and exits 127. */
static void compile_child(char **argv, int out_fd, int exec_fd)
{
	int e;

	dup2(out_fd, STDOUT_FILENO);
	dup2(out_fd, STDERR_FILENO);
	close(out_fd);
	execvp(argv[0], argv);
	e = errno;
	if (write(exec_fd, &e, sizeof e) < 0)
		_exit(126);
	_exit(127);
}

/* Reads fd to EOF, keeping the first cap-1 bytes in buf (NUL-terminated). */
static void read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	char chunk[512];
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len + 1 < cap) {
			size_t k = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
			memcpy(buf + len, chunk, k);
			len += k;
		}
	}
	buf[len] = '\0';
}

/* Explains a finished compile: status from waitpid, exec errno (0 when
 * exec worked) and the compiler's output. */
static int compile_result(const char *cc, int status, int exec_errno,
			  const char *out, sg_error *err)
{
	if (exec_errno == ENOENT || (exec_errno == 0 && WIFEXITED(status) &&
				     WEXITSTATUS(status) == 127))
		return sg_errorf(err, "no C compiler found (set CC or install gcc)");
	if (exec_errno)
		return sg_errorf(err, "cannot run C compiler '%s': %s", cc,
				 strerror(exec_errno));
	if (WIFSIGNALED(status))
		return sg_errorf(err, "C compiler '%s' killed by signal %d:\n%s",
				 cc, WTERMSIG(status), out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return sg_errorf(err, "C compiler '%s' failed (exit %d):\n%s", cc,
				 WEXITSTATUS(status), out);
	return 0;
}

/* Runs argv, capturing its output; 0 when it exited 0, else -1 with the
 * reason (and the compiler's messages) in *err. */
static int run_compiler(char **argv, sg_error *err)
{
	int out[2], ex[2], status = 0, exec_errno = 0;
	char msg[900];
	pid_t pid;

	if (pipe(out) < 0)
		return sg_errorf(err, "pipe: %s", strerror(errno));
	if (pipe(ex) < 0) {
		close(out[0]), close(out[1]);
		return sg_errorf(err, "pipe: %s", strerror(errno));
	}
	fcntl(ex[1], F_SETFD, FD_CLOEXEC);
	if ((pid = fork()) < 0) {
		close(out[0]), close(out[1]), close(ex[0]), close(ex[1]);
		return sg_errorf(err, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(out[0]);
		close(ex[0]);
		compile_child(argv, out[1], ex[1]);
	}
	close(out[1]);
	close(ex[1]);
	read_all(out[0], msg, sizeof msg);
	if (read(ex[0], &exec_errno, sizeof exec_errno) != (ssize_t)sizeof exec_errno)
		exec_errno = 0;
	close(out[0]);
	close(ex[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return compile_result(argv[0], status, exec_errno, msg, err);
}

/* Compiles c_path into tmp_path with the cache's flags. */
static int compile(const cc_cmd *cc, const char *march, const char *c_path,
		   const char *tmp_path, sg_error *err)
{
	char *argv[SG_CC_MAX_WORDS + JIT_NFLAGS + 6];
	int n = 0, i;

	for (i = 0; i < cc->n; i++)
		argv[n++] = cc->word[i];
	for (i = 0; i < JIT_NFLAGS; i++)
		argv[n++] = (char *)jit_flags[i];
	if (march)
		argv[n++] = (char *)march;
	argv[n++] = "-o";
	argv[n++] = (char *)tmp_path;
	argv[n++] = (char *)c_path;
	argv[n++] = "-lm";
	argv[n] = NULL;
	return run_compiler(argv, err);
}

/* ---- the cache ---- */

/* A cache entry: its checked directory and the names of its files. */
typedef struct entry {
	int fd;    /* the directory, open */
	char *dir; /* its path */
	char *c, *h, *so, *sum; /* NAME_grad.c NAME_grad.h NAME.so NAME.so.sha256 */
} entry;

/* dir/file of entry e (malloc'd; NULL when out of memory). */
static char *entry_path(const entry *e, const char *file)
{
	return str_printf("%s/%s", e->dir, file);
}

/* Uses the entry when its sources equal the texts and its object is the
 * user's, matches NAME.so.sha256 and loads with a good descriptor: 0.
 * Otherwise the object is removed and -1 returned. */
static int try_cached(sg_jit *j, const entry *e, const char *name,
		      const char *c_text, const char *h_text)
{
	char line[JIT_SUM_MAX];
	struct stat st;
	int fd = -1, ok = 0;

	if (file_equals(e->fd, e->c, c_text) && file_equals(e->fd, e->h, h_text) &&
	    (fd = open_own(e->fd, e->so, &st)) >= 0)
		ok = checksum_line(fd, e->so, line) == 0 &&
		     file_equals(e->fd, e->sum, line) &&
		     load_model(j, fd, j->path, name, NULL) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok)
		unlinkat(e->fd, e->so, 0);
	return ok ? 0 : -1;
}

/* Compiles c_path into tmp (in e's directory), checks, hashes and loads
 * it from one descriptor, renames it to NAME.so and then writes
 * NAME.so.sha256. */
static int build_object(sg_jit *j, const cc_cmd *cc, const entry *e,
			const char *name, const char *c_path, const char *tmp,
			sg_error *err)
{
	const char *base = strrchr(tmp, '/') + 1;
	char line[JIT_SUM_MAX], *sum_path = NULL;
	struct stat st;
	int fd = -1, rc = -1;

	if (compile(cc, j->march, c_path, tmp, err) < 0)
		return -1;
	if ((fd = open_nofollow(e->fd, base)) >= 0)
		fchmod(fd, 0755); /* the compiler honoured the umask */
	if (fd < 0 || !is_own(fd, &st))
		sg_errorf(err, "%s: the compiler's output is not a regular file "
			  "of yours", tmp);
	else if (checksum_line(fd, e->so, line) < 0 || fsync(fd) < 0)
		sg_errorf(err, "%s: cannot read: %s", tmp, strerror(errno));
	else if (load_model(j, fd, tmp, name, err) < 0)
		;
	else if (renameat(e->fd, base, e->fd, e->so) < 0)
		sg_errorf(err, "%s: cannot rename: %s", j->path, strerror(errno));
	else if (!(sum_path = entry_path(e, e->sum)))
		sg_errorf(err, "out of memory");
	else
		rc = write_file_atomic(sum_path, line, err);
	if (fd >= 0)
		close(fd);
	free(sum_path);
	return rc;
}

/* Writes the sources into the entry and builds NAME.so from them through
 * a unique temporary object. */
static int build(sg_jit *j, const cc_cmd *cc, const entry *e,
		 const char *name, const char *c_text, const char *h_text,
		 sg_error *err)
{
	char *c_path = entry_path(e, e->c), *h_path = entry_path(e, e->h);
	char *tmp = str_printf("%s/.%s.XXXXXX", e->dir, e->so);
	int fd, rc = -1;

	if (!c_path || !h_path || !tmp)
		sg_errorf(err, "out of memory");
	else if (write_file_atomic(h_path, h_text, err) == 0 &&
		 write_file_atomic(c_path, c_text, err) == 0) {
		if ((fd = mkstemp(tmp)) < 0) {
			sg_errorf(err, "%s: cannot create: %s", tmp,
				  strerror(errno));
		} else {
			close(fd);
			rc = build_object(j, cc, e, name, c_path, tmp, err);
			if (rc < 0)
				unlink(tmp);
		}
	}
	free(c_path);
	free(h_path);
	free(tmp);
	return rc;
}

/* Names the entry for key under root and opens its directory (checked,
 * made if missing); -1 with *err. */
static int entry_open(entry *e, char *root, const char *key, const char *name,
		      sg_error *err)
{
	int root_fd = -1;

	e->dir = str_printf("%s/%s", root, key);
	e->c = str_printf("%s_grad.c", name);
	e->h = str_printf("%s_grad.h", name);
	e->so = str_printf("%s.so", name);
	e->sum = str_printf("%s.so.sha256", name);
	if (!e->dir || !e->c || !e->h || !e->so || !e->sum)
		return sg_errorf(err, "out of memory");
	e->fd = open_entry_dir(root, key, e->dir, &root_fd, err);
	if (root_fd >= 0)
		close(root_fd);
	return e->fd < 0 ? -1 : 0;
}

static void entry_close(entry *e)
{
	if (e->fd >= 0)
		close(e->fd);
	free(e->dir);
	free(e->c);
	free(e->h);
	free(e->so);
	free(e->sum);
}

/* Finds or makes the cache entry for the texts and loads the model. */
static int jit_open(sg_jit *j, const char *name, const char *c_text,
		    const char *h_text, sg_error *err)
{
	cc_cmd cc = {NULL, {NULL}, 0};
	entry e = {-1, NULL, NULL, NULL, NULL, NULL};
	char *root = NULL, *key = NULL;
	int rc = -1;

	if (sg_cc_from_env(&cc, err) < 0 || !(root = cache_root(err)))
		goto out;
	key = str_printf("%016llx-%s", (unsigned long long)cache_key(
				 name, c_text, h_text, &cc, j->code, j->march), name);
	if (!key || !(j->path = str_printf("%s/%s/%s.so", root, key, name))) {
		sg_errorf(err, "out of memory");
		goto out;
	}
	if (entry_open(&e, root, key, name, err) < 0)
		goto out;
	if (try_cached(j, &e, name, c_text, h_text) == 0)
		j->cached = 1, rc = 0;
	else
		rc = build(j, &cc, &e, name, c_text, h_text, err);
out:
	entry_close(&e);
	free(cc.buf);
	free(root);
	free(key);
	return rc;
}

/* sg_jit_open and sg_jit_open_code. */
static sg_jit *open_jit(const char *name, const char *c_text, const char *h_text,
			int code, sg_isa isa, sg_error *err)
{
	sg_jit *j;

	if (!is_ident(name)) {
		sg_errorf(err, "bad model name '%s' (expected a C identifier)",
			  name);
		return NULL;
	}
	if (!(j = calloc(1, sizeof *j))) {
		sg_errorf(err, "out of memory");
		return NULL;
	}
	j->code = code;
	j->march = isa == SG_ISA_BASELINE ? NULL : native_march();
	if (jit_open(j, name, c_text, h_text, err) < 0) {
		sg_jit_close(j);
		return NULL;
	}
	return j;
}

/* Compiles (or finds cached) and loads NAME_grad.c/h; NULL with *err. */
sg_jit *sg_jit_open(const char *name, const char *c_text, const char *h_text,
		    sg_error *err)
{
	return open_jit(name, c_text, h_text, 0, SG_ISA_NATIVE, err);
}

/* The same, built for target isa. */
sg_jit *sg_jit_open_isa(const char *name, const char *c_text,
			const char *h_text, sg_isa isa, sg_error *err)
{
	return open_jit(name, c_text, h_text, 0, isa, err);
}

/* The same for any C text beside NAME_grad.h, with no descriptor. */
sg_jit *sg_jit_open_code(const char *name, const char *c_text, const char *h_text,
			 sg_error *err)
{
	return open_jit(name, c_text, h_text, 1, SG_ISA_NATIVE, err);
}

/* The address of sym when the loaded object itself defines it (not a
 * library it links, such as libc); NULL otherwise. */
void *sg_jit_symbol(const sg_jit *j, const char *sym)
{
	void *p = dlsym(j->handle, sym);
	Dl_info info;
#ifdef __linux__
	struct link_map *lm;

	if (p && (dlinfo(j->handle, RTLD_DI_LINKMAP, &lm) != 0 || !dladdr(p, &info) ||
		  strcmp(info.dli_fname, lm->l_name) != 0))
		p = NULL;
#else
	(void)info;
#endif
	return p;
}

/* The loaded model. */
const sg_model *sg_jit_model(const sg_jit *j)
{
	return j->model;
}

/* 1 when the cache entry was used as it was. */
int sg_jit_was_cached(const sg_jit *j)
{
	return j->cached;
}

/* The target flag the object was built with ("-march=x86-64-v3"), or ""
 * for the compiler's default target. */
const char *sg_jit_march(const sg_jit *j)
{
	return j->march ? j->march : "";
}

/* The shared object's path in the cache. */
const char *sg_jit_path(const sg_jit *j)
{
	return j->path;
}

/* Unloads the model and frees j; NULL is ignored. */
void sg_jit_close(sg_jit *j)
{
	if (!j)
		return;
	if (j->handle)
		dlclose(j->handle);
	free(j->path);
	free(j);
}
