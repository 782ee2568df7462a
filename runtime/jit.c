/*
 * jit.c: compiling generated C at run time.
 *
 * sg_jit_open(name, c_text, h_text) turns the two texts into a loaded
 * model through a cache:
 *
 *   $XDG_CACHE_HOME/symgrad/KEY-NAME/   (else ~/.cache/symgrad/KEY-NAME/)
 *       NAME_grad.c  NAME_grad.h  NAME.so
 *
 * KEY is FNV-1a 64 (hex) of the name, both texts, the compiler command and
 * the flags, so a change to any of them gets a new entry.  An entry is used
 * when NAME.so loads, exports NAME_model with our SG_MODEL_ABI and its
 * sources equal the texts (a hash collision is then harmless); anything
 * else (a truncated or empty .so, a missing symbol, an old ABI) is removed
 * and rebuilt.
 *
 * The compiler is $CC, else "cc".  $CC is split at spaces and tabs into
 * words, without quoting (like make's CC = gcc -m32, but no shell is run,
 * so nothing in it is interpreted), and run with fork/execvp as
 *   CC... -std=c99 -O2 -shared -fPIC -ffp-contract=off -o TMP NAME_grad.c -lm
 * TMP is a unique name in the entry; the object is loaded from there and
 * then renamed to NAME.so, so concurrent runs never see a partial file and
 * a reader never loads a half-written one.  The compiler's messages are
 * captured and become the error on failure.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "symgrad.h"

#define JIT_FLAGS "-std=c99", "-O2", "-shared", "-fPIC", "-ffp-contract=off", "-fno-trapping-math"
#define JIT_NFLAGS 5
#define JIT_MAX_WORDS 64

struct sg_jit {
	void *handle;
	const sg_model *model;
	int cached;
	char *path; /* NAME.so in the cache entry */
};

/* The compiler command: $CC split into words (no quoting). */
typedef struct cc_cmd {
	char *buf;
	char *word[JIT_MAX_WORDS];
	int n;
} cc_cmd;

/* Splits $CC (or "cc") into c->word; -1 with *err. */
static int cc_split(cc_cmd *c, sg_error *err)
{
	const char *env = getenv("CC");
	char *s;

	c->n = 0;
	c->buf = strdup(env && *env ? env : "cc");
	if (!c->buf)
		return sg_errorf(err, "out of memory");
	for (s = strtok(c->buf, " \t"); s; s = strtok(NULL, " \t")) {
		if (c->n == JIT_MAX_WORDS)
			return sg_errorf(err, "CC has more than %d words",
					 JIT_MAX_WORDS);
		c->word[c->n++] = s;
	}
	if (c->n == 0)
		c->word[c->n++] = strcpy(c->buf, "cc");
	return 0;
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
			  const char *h_text, const cc_cmd *cc)
{
	static const char *const flags[] = {JIT_FLAGS};
	char abi[16];
	uint64_t h = hash_str(SG_FNV_INIT, "symgrad-jit 1");
	int i;

	snprintf(abi, sizeof abi, "%d", SG_MODEL_ABI);
	h = hash_str(h, abi);
	h = hash_str(h, name);
	h = hash_str(h, c_text);
	h = hash_str(h, h_text);
	for (i = 0; i < cc->n; i++)
		h = hash_str(h, cc->word[i]);
	for (i = 0; i < JIT_NFLAGS; i++)
		h = hash_str(h, flags[i]);
	return h;
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

/* Creates directory path and its parents (like mkdir -p). */
static int mkdir_p(char *path, sg_error *err)
{
	char *s;

	for (s = path + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		{
			char c = *s;
			*s = '\0';
			if (mkdir(path, 0755) < 0 && errno != EEXIST) {
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

/* 1 when file path holds exactly text. */
static int file_equals(const char *path, const char *text)
{
	size_t n = strlen(text), got;
	FILE *f = fopen(path, "rb");
	char *buf;
	int same = 0;

	if (!f)
		return 0;
	if ((buf = malloc(n + 1)) != NULL) {
		got = fread(buf, 1, n + 1, f);
		same = got == n && memcmp(buf, text, n) == 0;
		free(buf);
	}
	fclose(f);
	return same;
}

/* Writes text to path through a temporary name and rename. */
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
	ok = fwrite(text, 1, n, f) == n;
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

/* Loads so_path and finds NAME_model with our ABI; on failure fills *err
 * (when not NULL) and leaves nothing open. */
static int load_model(sg_jit *j, const char *so_path, const char *name,
		      sg_error *err)
{
	char *sym = str_printf("%s_model", name);
	const sg_model *m;

	if (!sym)
		return sg_errorf(err, "out of memory");
	j->handle = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
	if (!j->handle) {
		sg_errorf(err, "cannot load %s: %s", so_path, dlerror());
		free(sym);
		return -1;
	}
	m = (const sg_model *)dlsym(j->handle, sym);
	if (!m || m->abi != SG_MODEL_ABI) {
		if (m)
			sg_errorf(err, "%s: %s has ABI %d, runtime has %d",
				  so_path, sym, m->abi, SG_MODEL_ABI);
		else
			sg_errorf(err, "%s: no symbol %s", so_path, sym);
		dlclose(j->handle);
		j->handle = NULL;
		free(sym);
		return -1;
	}
	j->model = m;
	free(sym);
	return 0;
}

/* Tries the existing entry: sources equal to the texts, a non-empty .so
 * that loads.  0 when usable; otherwise the .so is removed. */
static int try_cached(sg_jit *j, const char *dir, const char *name,
		      const char *c_text, const char *h_text)
{
	char *c_path = str_printf("%s/%s_grad.c", dir, name);
	char *h_path = str_printf("%s/%s_grad.h", dir, name);
	struct stat st;
	int ok = 0;

	if (c_path && h_path && stat(j->path, &st) == 0) {
		ok = st.st_size > 0 && file_equals(c_path, c_text) &&
		     file_equals(h_path, h_text) &&
		     load_model(j, j->path, name, NULL) == 0;
		if (!ok)
			unlink(j->path);
	}
	free(c_path);
	free(h_path);
	return ok ? 0 : -1;
}

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
static int compile(const cc_cmd *cc, const char *c_path, const char *tmp_path,
		   sg_error *err)
{
	static const char *const flags[] = {JIT_FLAGS};
	char *argv[JIT_MAX_WORDS + JIT_NFLAGS + 6];
	int n = 0, i;

	for (i = 0; i < cc->n; i++)
		argv[n++] = cc->word[i];
	for (i = 0; i < JIT_NFLAGS; i++)
		argv[n++] = (char *)flags[i];
	argv[n++] = "-o";
	argv[n++] = (char *)tmp_path;
	argv[n++] = (char *)c_path;
	argv[n++] = "-lm";
	argv[n] = NULL;
	return run_compiler(argv, err);
}

/* Writes the sources into dir, compiles to a unique temporary object,
 * loads it from there and renames it to j->path. */
static int build(sg_jit *j, const cc_cmd *cc, const char *dir,
		 const char *name, const char *c_text, const char *h_text,
		 sg_error *err)
{
	char *c_path = str_printf("%s/%s_grad.c", dir, name);
	char *h_path = str_printf("%s/%s_grad.h", dir, name);
	char *tmp = str_printf("%s/.%s.so.XXXXXX", dir, name);
	int fd, rc = -1;

	if (!c_path || !h_path || !tmp)
		sg_errorf(err, "out of memory");
	else if (write_file_atomic(h_path, h_text, err) == 0 &&
		 write_file_atomic(c_path, c_text, err) == 0) {
		if ((fd = mkstemp(tmp)) < 0)
			sg_errorf(err, "%s: cannot create: %s", tmp,
				  strerror(errno));
		else {
			close(fd);
			if (compile(cc, c_path, tmp, err) == 0 &&
			    load_model(j, tmp, name, err) == 0 &&
			    rename(tmp, j->path) == 0)
				rc = 0;
			else if (j->handle)
				sg_errorf(err, "%s: cannot rename: %s", j->path,
					  strerror(errno));
			if (rc < 0)
				unlink(tmp);
		}
	}
	free(c_path);
	free(h_path);
	free(tmp);
	return rc;
}

/* Finds or makes the cache entry for the texts and loads the model. */
static int jit_open(sg_jit *j, const char *name, const char *c_text,
		    const char *h_text, sg_error *err)
{
	cc_cmd cc = {NULL, {NULL}, 0};
	char *root = NULL, *dir = NULL;
	int rc = -1;

	if (cc_split(&cc, err) < 0 || !(root = cache_root(err)))
		goto out;
	dir = str_printf("%s/%016llx-%s", root,
			 (unsigned long long)cache_key(name, c_text, h_text, &cc),
			 name);
	j->path = dir ? str_printf("%s/%s.so", dir, name) : NULL;
	if (!dir || !j->path) {
		sg_errorf(err, "out of memory");
		goto out;
	}
	if (mkdir_p(dir, err) < 0)
		goto out;
	if (try_cached(j, dir, name, c_text, h_text) == 0)
		j->cached = 1, rc = 0;
	else
		rc = build(j, &cc, dir, name, c_text, h_text, err);
out:
	free(cc.buf);
	free(root);
	free(dir);
	return rc;
}

/* Compiles (or finds cached) and loads NAME_grad.c/h; NULL with *err. */
sg_jit *sg_jit_open(const char *name, const char *c_text, const char *h_text,
		    sg_error *err)
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
	if (jit_open(j, name, c_text, h_text, err) < 0) {
		sg_jit_close(j);
		return NULL;
	}
	return j;
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
