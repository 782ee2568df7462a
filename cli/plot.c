/*
 * plot.c: symgrad plot LOG.csv -o loss.svg, the loss curve of a training
 * log as a picture (and train --plot, which calls plot_log_text).
 *
 * symgrad draws nothing itself: it drives gnuplot (Debian's gnuplot-nox),
 * which already knows axes, ticks, log scales and SVG.  The log is read and
 * checked here; gnuplot gets a script on a pipe whose only user text is in
 * strings symgrad escapes (every byte outside a small safe set as an octal
 * escape, so quotes, newlines, backquotes and '@' cannot end the string,
 * run a shell command or expand a macro), and whose data are numbers
 * symgrad formatted itself, inline as a datablock.  gnuplot is started
 * without a shell (posix_spawnp) and writes the SVG to an unnamed
 * temporary file; symgrad copies it to the output (out.c: written
 * atomically) only when gnuplot succeeded, so a failed plot leaves no
 * partial file and a full disk is an error.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

#define USAGE_PLOT                                                       \
	"usage: symgrad plot LOG.csv [-o FILE.svg] [--log-scale] [--title T] " \
	"[--columns C[,C...]]"
#define HELP_PLOT                                                             \
	"Draws the curves of a training log (train --log) as SVG with gnuplot.\n" \
	"  -o FILE.svg          the picture (default: standard output)\n"       \
	"  --log-scale          a logarithmic loss axis\n"                       \
	"  --title T            the title (default: the log's file name)\n"      \
	"  --columns C,...      the columns to draw (default: loss, val_loss "   \
	"and the metrics;\n"                                                     \
	"                       metrics on the right-hand axis)\n"

/* A training log: its column names and its rows of numbers. */
typedef struct plot_log {
	const char *name; /* the file, for messages */
	int n_cols;
	char **cols;
	size_t n_rows;
	double *v; /* n_rows x n_cols */
} plot_log;

static void log_free(plot_log *l)
{
	for (int i = 0; i < l->n_cols; i++)
		free(l->cols[i]);
	free(l->cols);
	free(l->v);
}

/* The next line of text (without "\n" or "\r\n") into *line, *n; 0 at
 * the end. */
static int next_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *s = *p, *nl;

	if (s >= end)
		return 0;
	nl = memchr(s, '\n', (size_t)(end - s));
	*line = s;
	*n = (size_t)((nl ? nl : end) - s);
	*p = nl ? nl + 1 : end;
	if (*n && s[*n - 1] == '\r')
		(*n)--;
	return 1;
}

/* Reads the header "epoch,loss,..." into l->cols; 0 or -1 with *err. */
static int read_header(plot_log *l, const char *s, size_t n, sg_error *err)
{
	size_t i = 0, start;

	while (i <= n) {
		char **cols = realloc(l->cols, (size_t)(l->n_cols + 1) * sizeof *cols);
		if (!cols)
			return sg_errorf(err, "out of memory");
		l->cols = cols;
		for (start = i; i < n && s[i] != ','; i++)
			;
		if (!(cols[l->n_cols] = strndup(s + start, i - start)))
			return sg_errorf(err, "out of memory");
		l->n_cols++;
		i++;
	}
	if (strcmp(l->cols[0], "epoch") != 0)
		return sg_errorf(err, "%s:1:1: error: not a training log: its header "
				 "starts with '%s', not 'epoch' (train --log writes one)",
				 l->name, l->cols[0]);
	return 0;
}

/* Reads one row of numbers (line lineno) onto l->v; 0 or -1 with *err. */
static int read_row(plot_log *l, const char *s, size_t n, long lineno, sg_error *err)
{
	double *v = realloc(l->v, (l->n_rows + 1) * (size_t)l->n_cols * sizeof *v);
	char cell[64], *end;
	size_t i = 0, start;
	int c;

	if (!v)
		return sg_errorf(err, "out of memory");
	l->v = v;
	v += l->n_rows * (size_t)l->n_cols;
	for (c = 0; c < l->n_cols; c++, i++) {
		if (i > n)
			return sg_errorf(err, "%s:%ld: error: %d values, the header names %d",
					 l->name, lineno, c, l->n_cols);
		for (start = i; i < n && s[i] != ','; i++)
			;
		snprintf(cell, sizeof cell, "%.*s", (int)(i - start), s + start);
		v[c] = strtod(cell, &end);
		if (i == start || *end || i - start >= sizeof cell)
			return sg_errorf(err, "%s:%ld:%zu: error: not a number: '%.*s'",
					 l->name, lineno, start + 1, (int)(i - start), s + start);
	}
	if (i <= n)
		return sg_errorf(err, "%s:%ld: error: more values than the header's %d",
				 l->name, lineno, l->n_cols);
	l->n_rows++;
	return 0;
}

/* Parses a log's text; 0 or -1 with *err (l is freed by the caller). */
static int read_log(plot_log *l, const char *text, size_t len, sg_error *err)
{
	const char *p = text, *end = text + len, *line;
	size_t n;
	long lineno = 1;

	if (!next_line(&p, end, &line, &n) || n == 0)
		return sg_errorf(err, "%s:1:1: error: empty log (no header)", l->name);
	if (read_header(l, line, n, err) < 0)
		return -1;
	while (next_line(&p, end, &line, &n))
		if (++lineno, n && read_row(l, line, n, lineno, err) < 0)
			return -1;
	if (l->n_rows == 0)
		return sg_errorf(err, "%s:1:1: error: no epochs to plot (the log has only "
				 "its header)", l->name);
	return 0;
}

/* The index of column name, or -1. */
static int find_col(const plot_log *l, const char *name, size_t n)
{
	for (int i = 0; i < l->n_cols; i++)
		if (strlen(l->cols[i]) == n && !strncmp(l->cols[i], name, n))
			return i;
	return -1;
}

/* 1 for a metric (accuracy, val_mse, ...): drawn by default, on the
 * right-hand axis; loss, val_loss, lr, grad_norm and seconds are on the
 * left. */
static int is_metric(const char *c)
{
	static const char *const skip[] = {"epoch", "loss", "val_loss", "lr", "grad_norm",
					   "seconds", NULL};
	for (int i = 0; skip[i]; i++)
		if (!strcmp(c, skip[i]))
			return 0;
	return 1;
}

/* The header as one string, for messages. */
static void header_text(const plot_log *l, char *buf, size_t n)
{
	size_t k = 0;

	buf[0] = '\0';
	for (int i = 0; i < l->n_cols && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? "," : "", l->cols[i]);
}

/* Chooses the columns to draw into sel (at most l->n_cols): list, or
 * loss, val_loss and the metrics; the count, or -1 with *err. */
static int select_cols(const plot_log *l, const char *list, int *sel, sg_error *err)
{
	char have[512];
	int n = 0, c;

	header_text(l, have, sizeof have);
	if (!list) {
		if ((c = find_col(l, "loss", 4)) < 0)
			return sg_errorf(err, "%s:1:1: error: no 'loss' column (the header "
					 "is '%s'; choose with --columns)", l->name, have);
		sel[n++] = c;
		if ((c = find_col(l, "val_loss", 8)) >= 0)
			sel[n++] = c;
		for (c = 1; c < l->n_cols; c++)
			if (is_metric(l->cols[c]))
				sel[n++] = c;
		return n;
	}
	for (const char *s = list, *e;; s = e + 1) {
		e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if ((c = find_col(l, s, len)) <= 0)
			return sg_errorf(err, "%s:1:1: error: no column '%.*s' to plot (the "
					 "header is '%s')", l->name, (int)len, s, have);
		if (n < l->n_cols)
			sel[n++] = c;
		if (!e)
			return n;
	}
}

/* Writes s as a gnuplot double-quoted string: letters, digits and a few
 * punctuation marks as they are, every other byte as an octal escape, so
 * no text of the user's can leave the string (a quote, a newline),
 * substitute a command (`...`) or a macro (@name). */
static void gp_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(" _.,:;-+=()/", *p))
			fputc(*p, f);
		else
			fprintf(f, "\\%03o", *p);
	fputc('"', f);
}

/* A column's quantity: "accuracy" for accuracy and val_accuracy. */
static const char *quantity(const char *c)
{
	return strncmp(c, "val_", 4) ? c : c + 4;
}

/* The line style of the k-th selected column: one colour per quantity, in
 * the order quantities first appear, the val_ twin dashed. */
static void line_style(FILE *f, const plot_log *l, const int *sel, int k)
{
	static const char *const colors[] = {"#0060ad", "#dd181f", "#00a000", "#9400d3",
					     "#e69f00", "#56b4e9"};
	const char *c = l->cols[sel[k]], *q = quantity(c);
	int rank = 0, i, j;

	for (j = 0; j < k && strcmp(quantity(l->cols[sel[j]]), q); j++) {
		for (i = 0; i < j && strcmp(quantity(l->cols[sel[i]]),
					    quantity(l->cols[sel[j]])); i++)
			;
		rank += i == j; /* a quantity not seen before j */
	}
	fprintf(f, " with lines lw 2 lc rgb \"%s\" dt %d", colors[rank % 6], c == q ? 1 : 2);
}

/* Writes the whole gnuplot script. */
static void write_script(FILE *f, const plot_log *l, const int *sel, int n,
			 const plot_opts *o)
{
	int right = 0, k, c;
	size_t r;

	fputs("reset\nset output\nset encoding utf8\n"
	      "set terminal svg size 800,480 noenhanced font \"sans,12\" "
	      "background \"#ffffff\"\n", f);
	fputs("set title ", f);
	gp_string(f, o->title);
	fputs("\nset xlabel \"epoch\"\nset ylabel \"loss\"\nset key outside "
	      "right top\nset grid\nset ytics nomirror\n", f);
	for (k = 0; k < n; k++)
		right |= is_metric(l->cols[sel[k]]);
	if (right)
		fputs("set y2label \"metric\"\nset y2tics\n", f);
	if (o->log_y)
		fputs("set logscale y\n", f);
	fputs("$log << EOD\n", f);
	for (r = 0; r < l->n_rows; r++) {
		for (c = 0; c < l->n_cols; c++) {
			double v = l->v[r * (size_t)l->n_cols + (size_t)c];
			if (isfinite(v))
				fprintf(f, "%s%.17g", c ? " " : "", v);
			else
				fputs(c ? " NaN" : "NaN", f);
		}
		fputc('\n', f);
	}
	fputs("EOD\nplot", f);
	for (k = 0; k < n; k++) {
		const char *name = l->cols[sel[k]];
		fprintf(f, "%s $log using 1:%d%s title ", k ? ", \\\n    " : "", sel[k] + 1,
			is_metric(name) ? " axes x1y2" : "");
		gp_string(f, name);
		line_style(f, l, sel, k);
	}
	fputc('\n', f);
}

/* Runs gnuplot on script with its standard output on fd; 0 or -1 with the
 * message printed. */
static int run_gnuplot(const char *script, size_t len, int fd)
{
	posix_spawn_file_actions_t fa;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	int p[2], rc, status = 0;
	pid_t pid;
	size_t done = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return fprintf(stderr, "symgrad: error: pipe: %s\n", strerror(errno)), -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	char *argv[] = {"gnuplot", NULL};
	rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	if (rc) {
		close(p[1]);
		if (rc == ENOENT)
			fputs("symgrad: error: plot needs gnuplot, which is not installed (on "
			      "Debian: apt-get install gnuplot-nox)\n", stderr);
		else
			fprintf(stderr, "symgrad: error: cannot run gnuplot: %s\n", strerror(rc));
		return -1;
	}
	/* gnuplot may stop reading (an error): EPIPE, not a SIGPIPE death */
	sigaction(SIGPIPE, &ign, &old);
	while (done < len) {
		ssize_t w = write(p[1], script + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		done += (size_t)w;
	}
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && done == len)
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, "symgrad: error: gnuplot failed (exit status %d)\n",
			WEXITSTATUS(status));
	else
		fprintf(stderr, "symgrad: error: gnuplot was killed by signal %d\n",
			WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}

/* Builds the script of a parsed log into a string; NULL when out of memory. */
static char *script_text(const plot_log *l, const plot_opts *o, size_t *len, sg_error *err)
{
	int *sel = calloc((size_t)l->n_cols, sizeof *sel), n;
	char *text = NULL;
	FILE *f;

	if (!sel)
		return sg_errorf(err, "out of memory"), NULL;
	if ((n = select_cols(l, o->columns, sel, err)) < 0) {
		free(sel);
		return NULL;
	}
	if (!(f = open_memstream(&text, len))) {
		free(sel);
		return sg_errorf(err, "out of memory"), NULL;
	}
	write_script(f, l, sel, n, o);
	free(sel);
	if (fclose(f) != 0) {
		free(text);
		return sg_errorf(err, "out of memory"), NULL;
	}
	return text;
}

/* Writes n bytes of gnuplot's picture to out, each '>' after "]]" as "&gt;":
 * gnuplot escapes '<' and '&' in a text it draws but not '>', and "]]>" is
 * not allowed in XML's character data, so a title or column name holding
 * it would make the picture unreadable.  gnuplot's picture has no CDATA
 * section of its own (no mouse script), so every "]]>" is in a text.
 * *run counts the ']' (up to 2) that end what was written, across calls. */
static int write_escaped(FILE *out, const char *b, size_t n, int *run)
{
	size_t from = 0;

	for (size_t i = 0; i < n; i++) {
		if (b[i] == '>' && *run == 2) {
			if (fwrite(b + from, 1, i - from, out) != i - from ||
			    fputs("&gt;", out) == EOF)
				return -1;
			from = i + 1;
		}
		*run = b[i] != ']' ? 0 : *run < 2 ? *run + 1 : 2;
	}
	return fwrite(b + from, 1, n - from, out) == n - from ? 0 : -1;
}

/* Copies gnuplot's picture from svg to the output stream; 0 or -1 with
 * *err (a picture without its closing tag is gnuplot's failure). */
static int copy_svg(FILE *svg, FILE *out, const char *path, sg_error *err)
{
	char buf[65536];
	size_t n;
	int run = 0;

	if (fseek(svg, -16, SEEK_END) != 0 || (n = fread(buf, 1, 16, svg)) != 16 ||
	    (buf[16] = '\0', !strstr(buf, "</svg>")))
		return sg_errorf(err, "gnuplot wrote no complete SVG picture");
	rewind(svg);
	while ((n = fread(buf, 1, sizeof buf, svg)) > 0)
		if (write_escaped(out, buf, n, &run) < 0 || fflush(out) != 0) {
			int e = errno;
			clearerr(out); /* reported here, once */
			if (!strcmp(path, "-"))
				return sg_errorf(err, "cannot write to standard output: %s",
						 strerror(e));
			return sg_errorf(err, "cannot write '%s': %s", path, strerror(e));
		}
	if (ferror(svg))
		return sg_errorf(err, "cannot read gnuplot's output: %s", strerror(errno));
	return 0;
}

int plot_log_text(const char *name, const char *text, size_t len, const char *out_path,
		  const plot_opts *o)
{
	plot_log l = {.name = name};
	sg_error err;
	sg_out *out = NULL;
	size_t slen = 0;
	char *script = NULL;
	FILE *svg = NULL;
	int rc = -1;

	/* gnuplot writes to an unnamed temporary file, not to the output: it
	 * does not report write errors (a full disk), symgrad's copy does */
	if (read_log(&l, text, len, &err) < 0 || !(script = script_text(&l, o, &slen, &err)))
		sg_error_print(&err);
	else if (!(svg = tmpfile()))
		fprintf(stderr, "symgrad: error: cannot create a temporary file: %s\n",
			strerror(errno));
	else if (run_gnuplot(script, slen, fileno(svg)) < 0)
		;
	else if (!(out = sg_out_open(out_path, &err)))
		sg_error_print(&err);
	else if (copy_svg(svg, sg_out_stream(out), out_path, &err) < 0) {
		sg_out_abort(out);
		sg_error_print(&err);
	} else if (sg_out_commit(&out, 1, &err) < 0)
		sg_error_print(&err);
	else
		rc = 0;
	if (svg)
		fclose(svg);
	free(script);
	log_free(&l);
	return rc;
}

/* Reads a whole file (or standard input for "-"); NULL with *err. */
static char *read_file(const char *path, size_t *len, sg_error *err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *text = NULL, buf[65536];
	size_t n;
	FILE *m;

	if (!f)
		return sg_errorf(err, "%s: error: cannot open: %s", path, strerror(errno)), NULL;
	if (!(m = open_memstream(&text, len))) {
		if (f != stdin)
			fclose(f);
		return sg_errorf(err, "out of memory"), NULL;
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, m);
	if (ferror(f))
		sg_errorf(err, "%s: error: read failed: %s", path, strerror(errno));
	if (f != stdin)
		fclose(f);
	if (fclose(m) != 0 || err->msg[0]) {
		free(text);
		return err->msg[0] ? NULL : (sg_errorf(err, "out of memory"), NULL);
	}
	return text;
}

int plot_log_file(const char *path, const char *out_path, const plot_opts *o)
{
	sg_error err = {{0}};
	size_t len;
	char *text = read_file(path, &len, &err);
	int rc;

	if (!text)
		return sg_error_print(&err), -1;
	rc = plot_log_text(path, text, len, out_path, o);
	free(text);
	return rc;
}

/* The default title: the log's file name without its directory and ".csv". */
static char *default_title(const char *path)
{
	const char *b = strrchr(path, '/');
	char *t = strdup(b ? b + 1 : path);
	size_t n = t ? strlen(t) : 0;

	if (n > 4 && !strcmp(t + n - 4, ".csv"))
		t[n - 4] = '\0';
	return t;
}

/* Reads the plot command line; 0 or the exit status of a usage error. */
static int plot_args(args *a, const char **log, const char **out, plot_opts *o)
{
	int rc;

	while ((rc = args_next(a)) > 0) {
		if (rc == 2 && !*log)
			*log = a->arg;
		else if (rc == 2)
			return args_error(a, "unexpected argument '%s'", a->arg);
		else if (args_is(a, "o") || args_is(a, "output")) {
			if (!(*out = args_value(a)))
				return 2;
		} else if (args_is(a, "title")) {
			if (!(o->title = args_value(a)))
				return 2;
		} else if (args_is(a, "columns")) {
			if (!(o->columns = args_value(a)))
				return 2;
		} else if (args_is(a, "log-scale")) {
			if (args_flag(a) < 0)
				return 2;
			o->log_y = 1;
		} else
			return args_error(a, "unknown option %s%s", a->dash, a->name);
	}
	if (rc < 0)
		return 2;
	if (!*log)
		return args_error(a, "plot needs a log file (train --log FILE writes one)");
	return 0;
}

int cmd_plot(int argc, char **argv)
{
	args a = {.argc = argc, .argv = argv, .usage = USAGE_PLOT};
	plot_opts o = {0};
	const char *log = NULL, *out = "-";
	char *title = NULL;
	int rc;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return args_help(USAGE_PLOT "\n" HELP_PLOT);
	if ((rc = plot_args(&a, &log, &out, &o)) != 0)
		return rc;
	if (!o.title && !(o.title = title = default_title(log)))
		rc = (fputs("symgrad: error: out of memory\n", stderr), 1);
	else
		rc = plot_log_file(log, out, &o) < 0;
	free(title);
	return rc;
}
