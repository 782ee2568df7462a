/*
 * data.c: reading training data from CSV.
 *
 * Rules (the file format users see):
 *  - Cells are separated by commas; spaces and tabs around a cell are
 *    trimmed; a cell may be wrapped in double quotes (a doubled "" inside
 *    stands for one quote).  CRLF line ends and a UTF-8 byte-order mark are
 *    accepted; blank lines are skipped.
 *  - The first non-blank line is a header when any of its cells is neither
 *    empty nor a number.  Header cells name columns; each model input takes
 *    the column of the same name, other columns are ignored.  Without a
 *    header the columns are the model inputs in order, exactly n_inputs.
 *    An element of a vector input, x[3], also takes a column named x3 or
 *    x_3 (W[1,2]: W1_2 or W_1_2).
 *    A header cell that could name two inputs (a column "x3" when the
 *    model has an input x3 and a vector x[4]) is an error naming both.
 *  - Every row has as many cells as the first line.  Used cells are numbers
 *    as strtod reads them (decimal or hex), whole cell, finite: "inf" and
 *    "nan" are rejected, since no training data wants them, and so is a
 *    nonzero number that would underflow to 0 (1e-400); subnormal numbers
 *    (1e-310) are kept.
 *  - An input that is cross_entropy's class index must hold a whole number
 *    from 0 to the number of classes - 1 (the descriptor's input_classes).
 *  - A NUL byte, or a carriage return anywhere but before the LF that ends
 *    a line (CR-only line ends), is an error at its line and cell.
 *  - Errors read "FILE:LINE:COL: error: message", COL being the 1-based
 *    cell number; nothing is returned on any error.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "symgrad.h"

/* Reading state for one file. */
typedef struct reader {
	FILE *f;
	const char *name;
	const sg_model *m;
	unsigned flags;
	sg_error *err;
	char *line;      /* getline buffer */
	size_t line_cap;
	long lineno;
	char **cell;     /* cells of the current line */
	int n_cell, cell_cap;
	int n_first;     /* cells in the first line */
	int *col;        /* col[i]: cell of model input i, -1 when missing */
	sg_data *d;
	size_t row_cap;
	long long pos;   /* bytes read so far (from the file's start) */
	long long start; /* where the line last read starts */
	long long end;   /* with a range: no line starting here or later */
} reader;

/* An empty table with room for n_rows rows of n_cols columns. */
sg_data *sg_data_new(size_t n_rows, int n_cols, const char *source)
{
	sg_data *d = calloc(1, sizeof *d);
	size_t nx = n_rows * (size_t)n_cols;

	if (!d)
		return NULL;
	d->n_rows = n_rows;
	d->n_cols = n_cols;
	d->x = calloc(nx ? nx : 1, sizeof *d->x);
	d->line = calloc(n_rows ? n_rows : 1, sizeof *d->line);
	d->source = strdup(source ? source : "");
	if (!d->x || !d->line || !d->source) {
		sg_data_free(d);
		return NULL;
	}
	return d;
}

/* The n rows of d from row first, copied with their line numbers. */
sg_data *sg_data_slice(const sg_data *d, size_t first, size_t n)
{
	sg_data *s = sg_data_new(n, d->n_cols, d->source);
	size_t nc = (size_t)d->n_cols;

	if (!s)
		return NULL;
	memcpy(s->x, d->x + first * nc, n * nc * sizeof *s->x);
	if (d->line)
		memcpy(s->line, d->line + first, n * sizeof *s->line);
	if (d->part && sg_data_copy_parts(s, d, first) < 0) {
		sg_data_free(s);
		return NULL;
	}
	return s;
}

/* Gives s (n_rows rows) d's file names and the file of each row, from
 * d's row first on; -1 when out of memory. */
int sg_data_copy_parts(sg_data *s, const sg_data *d, size_t first)
{
	s->parts = calloc((size_t)d->n_parts + 1, sizeof *s->parts);
	s->part = malloc((s->n_rows + 1) * sizeof *s->part);
	if (!s->parts || !s->part)
		return -1;
	for (; s->n_parts < d->n_parts; s->n_parts++)
		if (!(s->parts[s->n_parts] = strdup(d->parts[s->n_parts])))
			return -1;
	if (s->n_rows)
		memcpy(s->part, d->part + first, s->n_rows * sizeof *s->part);
	return 0;
}

/* Frees d and its arrays; NULL is ignored. */
void sg_data_free(sg_data *d)
{
	if (!d)
		return;
	free(d->x);
	free(d->line);
	free(d->source);
	for (int i = 0; i < d->n_parts; i++)
		free(d->parts[i]);
	free(d->parts);
	free(d->part);
	free(d->offs);
	free(d);
}

size_t sg_data_total(const sg_data *d)
{
	return d->shared ? d->total : d->n_rows;
}

const char *sg_data_file(const sg_data *d, size_t i)
{
	return d->part ? d->parts[d->part[i]] : d->source;
}

long sg_data_line(const sg_data *d, size_t i)
{
	return d->line ? d->line[i] : (long)i + 1;
}

/* Row i of d. */
const double *sg_data_row(const sg_data *d, size_t i)
{
	return d->x + i * (size_t)d->n_cols;
}

/* Reports an error at cell col (1-based) of the current line. */
static int fail(reader *r, int col, const char *what, const char *cell)
{
	if (cell)
		return sg_errorf(r->err, "%s:%ld:%d: error: %s: '%s'", r->name,
				 r->lineno, col, what, cell);
	return sg_errorf(r->err, "%s:%ld:%d: error: %s", r->name, r->lineno,
			 col, what);
}

/* Appends a cell pointer, growing the array; -1 when out of memory. */
static int push_cell(reader *r, char *c)
{
	if (r->n_cell == r->cell_cap) {
		int cap = r->cell_cap ? 2 * r->cell_cap : 16;
		char **p = realloc(r->cell, (size_t)cap * sizeof *p);
		if (!p)
			return -1;
		r->cell = p;
		r->cell_cap = cap;
	}
	r->cell[r->n_cell++] = c;
	return 0;
}

/* Skips spaces and tabs. */
static char *skip_blank(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Reads a quoted cell starting after its opening quote at *ps, unquoting
 * in place; leaves *ps after the closing quote.  -1 if unterminated. */
static int read_quoted(char **ps)
{
	char *s = *ps, *out = s;

	for (;;) {
		if (*s == '\0')
			return -1;
		if (*s == '"' && s[1] == '"') {
			*out++ = '"';
			s += 2;
		} else if (*s == '"') {
			s++;
			break;
		} else
			*out++ = *s++;
	}
	*out = '\0';
	*ps = s;
	return 0;
}

/* Reads the cell at s, cutting it in place; *next gets the start of the
 * next cell, NULL at the end of the line.  -1 (message filed) on a quoting
 * error. */
static int read_cell(reader *r, char *s, char **next)
{
	char *start = skip_blank(s), *end = NULL, *sep;
	int col = r->n_cell + 1;

	if (*start == '"') {
		sep = ++start;
		if (read_quoted(&sep) < 0)
			return fail(r, col, "unterminated quote", NULL);
		sep = skip_blank(sep);
		if (*sep != ',' && *sep != '\0')
			return fail(r, col, "text after closing quote", NULL);
	} else {
		sep = start + strcspn(start, ",");
		end = sep;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
	}
	*next = *sep == ',' ? sep + 1 : NULL;
	*sep = '\0';
	if (end)
		*end = '\0';
	return push_cell(r, start) < 0 ? sg_errorf(r->err, "out of memory") : 0;
}

/* Splits the current line into cells; -1 on a quoting error. */
static int split_line(reader *r)
{
	char *s = r->line;

	r->n_cell = 0;
	while (s)
		if (read_cell(r, s, &s) < 0)
			return -1;
	return 0;
}

/* The 1-based cell number of byte at in line s (commas before it plus
 * one; quotes ignored: for messages only). */
static int cell_of(const char *s, const char *at)
{
	int col = 1;

	for (; s < at; s++)
		col += *s == ',';
	return col;
}

/* Checks the raw line s (n bytes, its line end stripped) for bytes no CSV
 * line may hold; -1 (message filed). */
static int check_bytes(reader *r, const char *s, size_t n)
{
	const char *nul = memchr(s, '\0', n), *cr = memchr(s, '\r', n);

	if (nul)
		return fail(r, cell_of(s, nul), "a NUL byte (this is not a text file)",
			    NULL);
	if (cr)
		return fail(r, cell_of(s, cr),
			    "a carriage return inside a line: lines must end in LF "
			    "or CRLF (a file with CR-only line ends needs converting: "
			    "tr '\\r' '\\n')", NULL);
	return 0;
}

/* Reads the next non-blank line (CR/LF stripped); 1, 0 at end of file, -1
 * (message filed) on a NUL byte or a stray CR. */
static int next_line(reader *r)
{
	ssize_t n;

	while ((r->end <= 0 || r->pos < r->end) &&
	       (n = getline(&r->line, &r->line_cap, r->f)) >= 0) {
		char *s = r->line;
		r->start = r->pos;
		r->pos += n;
		r->lineno++;
		if (n > 0 && s[n - 1] == '\n')
			s[--n] = '\0';
		if (n > 0 && s[n - 1] == '\r')
			s[--n] = '\0';
		if (check_bytes(r, s, (size_t)n) < 0)
			return -1;
		if (r->lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
			memmove(s, s + 3, (size_t)n - 2);
		if (*skip_blank(s) != '\0')
			return 1;
	}
	return 0;
}

/* Parses a whole cell as a number; 0 on success, -1 when it is not one,
 * 1 when it is a nonzero number too small for a double (1e-400 would read
 * as 0: an error, as for literals in a model). */
static int parse_number(const char *s, double *v)
{
	char *end;

	if (*s == '\0')
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	if (*end != '\0')
		return -1;
	/* strtod says ERANGE with 0 only for a nonzero value that underflowed
	 * (a subnormal result is kept: it is representable) */
	if (errno == ERANGE && *v == 0)
		return 1;
	return 0;
}

/* 1 when the current line has a cell that is neither empty nor numeric. */
static int is_header(reader *r)
{
	double v;
	int i;

	for (i = 0; i < r->n_cell; i++)
		if (r->cell[i][0] != '\0' && parse_number(r->cell[i], &v) < 0)
			return 1;
	return 0;
}

/* Whether header cell names model input name.  An element of a vector or
 * matrix input, "x[3]" or "W[1,2]", also takes the columns "x3" and "x_3",
 * or "W1_2" and "W_1_2": the spellings of data files written elsewhere. */
static int column_matches(const char *cell, const char *name)
{
	const char *open = strchr(name, '[');
	size_t base, k = 0;
	char alt[2][256];

	if (strcmp(cell, name) == 0)
		return 1;
	if (!open || strlen(name) >= 200)
		return 0;
	base = (size_t)(open - name);
	memcpy(alt[0], name, base);
	memcpy(alt[1], name, base);
	alt[1][base] = '_';
	for (const char *p = open + 1; *p && *p != ']'; p++, k++)
		alt[0][base + k] = alt[1][base + 1 + k] = *p == ',' ? '_' : *p;
	alt[0][base + k] = '\0';
	alt[1][base + 1 + k] = '\0';
	return strcmp(cell, alt[0]) == 0 || strcmp(cell, alt[1]) == 0;
}

/* A header cell that two model inputs could take (input "x3" and element
 * "x[3]"): -1 (message filed), since feeding both would be a guess. */
static int check_ambiguous(reader *r)
{
	for (int j = 0; j < r->n_cell; j++) {
		int first = -1;
		for (int i = 0; i < r->m->n_inputs; i++) {
			if (!column_matches(r->cell[j], r->m->input_names[i]))
				continue;
			if (first < 0) {
				first = i;
				continue;
			}
			char what[512];
			snprintf(what, sizeof what,
				 "column '%.200s' could be input '%.100s' or '%.100s': "
				 "name it exactly as one of them", r->cell[j],
				 r->m->input_names[first], r->m->input_names[i]);
			return fail(r, j + 1, what, NULL);
		}
	}
	return 0;
}

/* Appends the names to buf (of n bytes) as "a, b, c", ending in "..."
 * when they do not fit. */
static void name_list(char *buf, size_t n, const char *const *names, int count)
{
	size_t k = strlen(buf);

	for (int i = 0; i < count && k < n; i++) {
		size_t len = strlen(names[i]) + (i ? 2 : 0);
		if (k + len + 4 >= n) {
			snprintf(buf + k, n - k, "%s...", i ? ", " : "");
			return;
		}
		k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "", names[i]);
	}
}

/* The error of a model input no header cell names: the header found and
 * the model's inputs, so a misspelt or unexpected header shows itself. */
static int missing_column(reader *r, int i)
{
	char header[320] = "", inputs[320] = "";

	name_list(header, sizeof header, (const char *const *)r->cell, r->n_cell);
	name_list(inputs, sizeof inputs, r->m->input_names, r->m->n_inputs);
	return sg_errorf(r->err, "%s:%ld:1: error: no column for model input '%.100s' "
			 "(the header's columns: %s; the model's inputs: %s)",
			 r->name, r->lineno, r->m->input_names[i], header, inputs);
}

/* Maps model inputs to header cells; -1 (message filed) on a missing,
 * doubled or ambiguous column. */
static int map_header(reader *r)
{
	int i, j;

	if (check_ambiguous(r) < 0)
		return -1;
	for (i = 0; i < r->m->n_inputs; i++) {
		r->col[i] = -1;
		for (j = 0; j < r->n_cell; j++) {
			if (!column_matches(r->cell[j], r->m->input_names[i]))
				continue;
			if (r->col[i] >= 0)
				return fail(r, j + 1, "duplicate column",
					    r->cell[j]);
			r->col[i] = j;
		}
		if (r->col[i] < 0 && !(r->flags & SG_CSV_ALLOW_MISSING))
			return missing_column(r, i);
	}
	return 0;
}

/* Maps inputs to columns of a header-less file: exactly one per input. */
static int map_plain(reader *r)
{
	int i, n = r->m->n_inputs;

	if (r->n_cell != n) {
		char what[128];
		snprintf(what, sizeof what,
			 "no header and %d columns, but the model has %d "
			 "inputs",
			 r->n_cell, n);
		return fail(r, (r->n_cell < n ? r->n_cell : n) + 1, what, NULL);
	}
	for (i = 0; i < n; i++)
		r->col[i] = i;
	return 0;
}

/* Appends a zeroed row, growing the table; NULL when out of memory. */
static double *push_row(reader *r)
{
	sg_data *d = r->d;
	size_t nc = (size_t)d->n_cols;

	if (d->n_rows == r->row_cap) {
		size_t cap = r->row_cap ? 2 * r->row_cap : 64;
		double *x = realloc(d->x, cap * (nc ? nc : 1) * sizeof *x);
		long *l;
		if (!x)
			return NULL;
		d->x = x;
		l = realloc(d->line, cap * sizeof *l);
		if (!l)
			return NULL;
		d->line = l;
		r->row_cap = cap;
	}
	d->line[d->n_rows] = r->lineno;
	return d->x + nc * d->n_rows++;
}

/* Converts the current line into a row; -1 (message filed) on a bad cell. */
static int add_row(reader *r)
{
	double *row;
	int i;

	if (r->n_cell != r->n_first) {
		char what[96];
		snprintf(what, sizeof what, "row has %d cells, expected %d",
			 r->n_cell, r->n_first);
		return fail(r, (r->n_cell < r->n_first ? r->n_cell : r->n_first) + 1,
			    what, NULL);
	}
	if (!(row = push_row(r)))
		return sg_errorf(r->err, "out of memory");
	for (i = 0; i < r->m->n_inputs; i++) {
		int c = r->col[i];
		if (c < 0) {
			row[i] = NAN;
			continue;
		}
		if (r->cell[c][0] == '\0')
			return fail(r, c + 1, "empty cell", NULL);
		int bad = parse_number(r->cell[c], &row[i]);
		if (bad < 0)
			return fail(r, c + 1, "not a number", r->cell[c]);
		if (bad > 0)
			return fail(r, c + 1, "a number too small for a double, "
				    "which would read as 0", r->cell[c]);
		if (!isfinite(row[i]))
			return fail(r, c + 1, "not a finite number", r->cell[c]);
		int k = sg_class_input(r->m, i);
		if (k > 0 && !sg_class_ok(row[i], k)) {
			char what[320];
			snprintf(what, sizeof what, "index input '%.100s' is not a whole number "
				 "from 0 to %d (a class of %d, or a row or element of %d)",
				 r->m->input_names[i], k - 1, k, k);
			return fail(r, c + 1, what, r->cell[c]);
		}
	}
	return 0;
}

int sg_class_input(const sg_model *m, int i)
{
	return m->input_classes ? m->input_classes[i] : 0;
}

int sg_class_ok(double v, int classes)
{
	return v >= 0 && v < classes && v == floor(v);
}

/* Reads the rows to the end (of the file, or of r's range); -1 (message
 * filed) on any error. */
static int read_rows(reader *r)
{
	int got;

	while ((got = next_line(r)) > 0)
		if (split_line(r) < 0 || add_row(r) < 0)
			return -1;
	if (got < 0)
		return -1;
	if (ferror(r->f))
		return sg_errorf(r->err, "%s: error: read failed", r->name);
	return 0;
}

/* Reads the first line and the rows; -1 (message filed) on any error. */
static int read_all(reader *r)
{
	int header;

	int got = next_line(r);
	if (got < 0)
		return -1;
	if (!got) {
		if (ferror(r->f))
			return sg_errorf(r->err, "%s: error: read failed",
					 r->name);
		return sg_errorf(r->err, "%s:1:1: error: empty file", r->name);
	}
	if (split_line(r) < 0)
		return -1;
	r->n_first = r->n_cell;
	header = is_header(r);
	if ((header ? map_header(r) : map_plain(r)) < 0)
		return -1;
	if (!header && add_row(r) < 0)
		return -1;
	if (read_rows(r) < 0)
		return -1;
	if (r->d->n_rows == 0)
		return sg_errorf(r->err, "%s:%ld:1: error: no data rows",
				 r->name, r->lineno + 1);
	return 0;
}

static int read_range(reader *r, long long from, long long to, long nl_before);

/* Reads f as a whole (range NULL) or the rows starting in bytes
 * range[0] .. range[1] - 1, range[2] line ends before range[0]. */
static sg_data *read_file(FILE *f, const char *name, const sg_model *m,
			  unsigned flags, const long long *range, sg_error *err)
{
	reader r;
	int rc;

	memset(&r, 0, sizeof r);
	r.f = f;
	r.name = name;
	r.m = m;
	r.flags = flags;
	r.err = err;
	r.d = sg_data_new(0, m->n_inputs, name);
	r.col = malloc(((size_t)m->n_inputs + 1) * sizeof *r.col);
	if (!r.d || !r.col)
		rc = sg_errorf(err, "out of memory");
	else
		rc = range ? read_range(&r, range[0], range[1], (long)range[2]) : read_all(&r);
	free(r.line);
	free(r.cell);
	free(r.col);
	if (rc < 0) {
		sg_data_free(r.d);
		return NULL;
	}
	return r.d;
}

/* Reads CSV from f (see the rules at the top). */
sg_data *sg_data_read_stream(FILE *f, const char *name, const sg_model *m,
			     unsigned flags, sg_error *err)
{
	return read_file(f, name, m, flags, NULL, err);
}

/* Reads CSV from path ("-" = stdin) with flags. */
sg_data *sg_data_read_csv_ex(const char *path, const sg_model *m,
			     unsigned flags, sg_error *err)
{
	sg_data *d;
	FILE *f;

	if (strcmp(path, "-") == 0)
		return sg_data_read_stream(stdin, "<stdin>", m, flags, err);
	if (!(f = fopen(path, "r"))) {
		sg_errorf(err, "%s: error: cannot open: %s", path,
			  strerror(errno));
		return NULL;
	}
	d = sg_data_read_stream(f, path, m, flags, err);
	fclose(f);
	return d;
}

/* Reads CSV from path ("-" = stdin); every model input is required. */
sg_data *sg_data_read_csv(const char *path, const sg_model *m, sg_error *err)
{
	return sg_data_read_csv_ex(path, m, 0, err);
}

/* ---- a byte range of one file (share.c reads a table split across
 * processes this way) ---- */

long sg_data_count_lines(const char *path, long long from, long long to, sg_error *err)
{
	char buf[1 << 16];
	long n = 0;
	FILE *f = fopen(path, "rb");

	if (!f)
		return sg_errorf(err, "%s: error: cannot open: %s", path, strerror(errno));
	if (fseeko(f, (off_t)from, SEEK_SET) != 0) {
		fclose(f);
		return sg_errorf(err, "%s: error: cannot seek: %s", path, strerror(errno));
	}
	while (from < to) {
		size_t want = to - from < (long long)sizeof buf ? (size_t)(to - from) : sizeof buf;
		size_t got = fread(buf, 1, want, f);
		for (char *p = buf; (p = memchr(p, '\n', got - (size_t)(p - buf))); p++)
			n++;
		from += (long long)got;
		if (got < want)
			break;
	}
	if (ferror(f))
		n = sg_errorf(err, "%s: error: read failed", path);
	fclose(f);
	return n;
}

/* Where the first line starting at or after byte from begins (from itself
 * when the byte before it ends a line); -1 when reading fails. */
static long long line_start_from(FILE *f, long long from)
{
	int c;

	if (from == 0)
		return 0;
	if (fseeko(f, (off_t)(from - 1), SEEK_SET) != 0)
		return -1;
	while ((c = getc(f)) != EOF && c != '\n')
		from++;
	return ferror(f) ? -1 : from;
}

/* The first line, as read_all takes it: the header or the first row's
 * cell count; sets *data to where rows begin and *lines to the line ends
 * before it.  -1 (message filed) on an error. */
static int read_first(reader *r, long long *data, long *lines)
{
	int got = next_line(r);

	if (got < 0)
		return -1;
	if (!got && ferror(r->f))
		return sg_errorf(r->err, "%s: error: read failed", r->name);
	if (!got)
		return sg_errorf(r->err, "%s:1:1: error: empty file", r->name);
	if (split_line(r) < 0)
		return -1;
	r->n_first = r->n_cell;
	if (is_header(r)) {
		*data = r->pos;
		*lines = r->lineno;
		return map_header(r);
	}
	*data = r->start;
	*lines = r->lineno - 1;
	return map_plain(r);
}

/* Reads the rows starting in [from, to) into r->d; -1 (message filed). */
static int read_range(reader *r, long long from, long long to, long nl_before)
{
	long long data = 0, s;
	long lines = 0;

	if (read_first(r, &data, &lines) < 0)
		return -1;
	if ((s = line_start_from(r->f, from)) < 0)
		return sg_errorf(r->err, "%s: error: read failed", r->name);
	if (s < data)
		s = data; /* lines is right: the rows begin in this range */
	else
		lines = nl_before + (s > from);
	if (s >= to)
		return 0;
	if (fseeko(r->f, (off_t)s, SEEK_SET) != 0)
		return sg_errorf(r->err, "%s: error: cannot seek: %s", r->name,
				 strerror(errno));
	r->pos = s;
	r->end = to;
	r->lineno = lines;
	return read_rows(r);
}

sg_data *sg_data_read_range(const char *path, const sg_model *m, long long from,
			    long long to, long nl_before, sg_error *err)
{
	long long range[3] = {from, to, nl_before};
	FILE *f = fopen(path, "rb");
	sg_data *d;

	if (!f) {
		sg_errorf(err, "%s: error: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	d = read_file(f, path, m, 0, range, err);
	fclose(f);
	return d;
}
