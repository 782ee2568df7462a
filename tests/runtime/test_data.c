/*
 * test_data.c: the CSV reader's accepted forms and its exact messages.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "helpers.h"
#include "linear_hand.h"
#include "symgrad.h"

/* Writes text to a temp file named name and reads it with flags; the
 * file's path is left in *path (malloc'd) for messages. */
static sg_data *read_text(const char *text, const char *name, unsigned flags,
			  sg_error *err, char **path)
{
	char *dir = th_tmpdir();
	sg_data *d;

	*path = th_path(dir, name);
	th_write_file(*path, text);
	d = sg_data_read_csv_ex(*path, &linear_model, flags, err);
	unlink(*path);
	rmdir(dir);
	free(dir);
	return d;
}

/* Reads text expecting success with rows*2 values want. */
static void expect_rows(const char *text, size_t rows, const double *want)
{
	sg_error err = {""};
	char *path;
	sg_data *d = read_text(text, "ok.csv", 0, &err, &path);
	size_t i;

	cr_assert(ne(ptr, d, NULL), "%s", err.msg);
	cr_assert(eq(sz, d->n_rows, rows));
	cr_assert(eq(int, d->n_cols, 2));
	for (i = 0; i < 2 * rows; i++)
		cr_assert(eq(dbl, d->x[i], want[i]), "value %zu", i);
	sg_data_free(d);
	free(path);
}

/* Reads text expecting failure with message "PATH:" + suffix. */
static void expect_error(const char *text, const char *suffix)
{
	sg_error err = {""};
	char *path, want[1024];
	sg_data *d = read_text(text, "bad.csv", 0, &err, &path);

	cr_assert(eq(ptr, d, NULL));
	snprintf(want, sizeof want, "%s:%s", path, suffix);
	cr_assert(eq(str, err.msg, want));
	free(path);
}

static const double lecture[] = {1, 2, 2, 4, 3, 6};

Test(data, header_in_model_order)
{
	expect_rows("x,y\n1,2\n2,4\n3,6\n", 3, lecture);
}

Test(data, header_reordered_with_extra_columns)
{
	expect_rows("id,y,note,x\n7,2,a,1\n8,4,b,2\n9,6,c,3\n", 3, lecture);
}

Test(data, no_header)
{
	expect_rows("1,2\n2,4\n3,6", 3, lecture); /* no final newline */
}

Test(data, spaces_quotes_crlf_bom_blank_lines)
{
	expect_rows("\xef\xbb\xbf \"x\" , y \r\n\r\n 1 ,\"2\"\r\n2,\t4 \n\n"
		    "\"3\" , 6\n   \n",
		    3, lecture);
}

Test(data, number_forms)
{
	static const double want[] = {0.5, -1e-3, 16, 2.5e10};

	expect_rows("x,y\n.5,-1e-3\n0x10,+2.5E10\n", 2, want);
}

Test(data, line_numbers_and_source)
{
	sg_error err;
	char *path;
	sg_data *d = read_text("x,y\n\n1,2\n\n\n2,4\n", "l.csv", 0, &err, &path);

	cr_assert(ne(ptr, d, NULL));
	cr_assert(eq(long, d->line[0], 3));
	cr_assert(eq(long, d->line[1], 6));
	cr_assert(eq(str, d->source, path));
	cr_assert(eq(dbl, sg_data_row(d, 1)[1], 4.0));
	sg_data_free(d);
	free(path);
}

Test(data, missing_column)
{
	expect_error("x,z\n1,2\n", "1:1: error: no column for model input 'y' (the header's "
		     "columns: x, z; the model's inputs: x, y)");
}

Test(data, header_matching_no_input)
{
	expect_error("a,b\n1,2\n", "1:1: error: no column for model input 'x' (the header's "
		     "columns: a, b; the model's inputs: x, y)");
}

Test(data, long_header_shortened)
{
	char text[4096] = "";
	sg_error err = {""};
	char *path;

	for (int i = 0; i < 200; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text), "%scolumn_%d",
			 i ? "," : "", i);
	strcat(text, "\n");
	cr_assert(eq(ptr, read_text(text, "wide.csv", 0, &err, &path), NULL));
	cr_assert(ne(ptr, strstr(err.msg, "column_0, column_1, "), NULL));
	cr_assert(ne(ptr, strstr(err.msg, "...; the model's inputs: x, y)"), NULL));
	cr_assert(lt(sz, strlen(err.msg), 800));
	free(path);
}

Test(data, missing_column_allowed_for_predict)
{
	sg_error err;
	char *path;
	sg_data *d = read_text("x\n1\n2\n", "p.csv", SG_CSV_ALLOW_MISSING, &err,
			       &path);

	cr_assert(ne(ptr, d, NULL));
	cr_assert(eq(sz, d->n_rows, 2));
	cr_assert(eq(dbl, d->x[2], 2.0));
	cr_assert(isnan(d->x[3]));
	sg_data_free(d);
	free(path);
}

Test(data, duplicate_column)
{
	expect_error("x,y,x\n1,2,3\n", "1:3: error: duplicate column: 'x'");
}

Test(data, non_numeric_cell)
{
	expect_error("x,y\n1,2\n2,four\n", "3:2: error: not a number: 'four'");
}

Test(data, trailing_garbage)
{
	expect_error("x,y\n1,2abc\n", "2:2: error: not a number: '2abc'");
}

Test(data, empty_cell)
{
	expect_error("x,y\n1,\n", "2:2: error: empty cell");
}

Test(data, non_finite_rejected)
{
	expect_error("x,y\n1,2\ninf,4\n", "3:1: error: not a finite number: 'inf'");
	expect_error("x,y\nnan,4\n", "2:1: error: not a finite number: 'nan'");
}

Test(data, ragged_rows)
{
	expect_error("x,y\n1,2\n2,4,5\n", "3:3: error: row has 3 cells, expected 2");
	expect_error("x,y\n1,2\n\n2\n", "4:2: error: row has 1 cells, expected 2");
}

Test(data, headerless_column_count)
{
	expect_error("1\n2\n",
		     "1:2: error: no header and 1 columns, but the model has 2 inputs");
	expect_error("1,2,3\n",
		     "1:3: error: no header and 3 columns, but the model has 2 inputs");
}

Test(data, empty_file)
{
	expect_error("", "1:1: error: empty file");
	expect_error("\n  \n", "1:1: error: empty file");
}

Test(data, no_data_rows)
{
	expect_error("x,y\n", "2:1: error: no data rows");
}

Test(data, bad_quotes)
{
	expect_error("x,y\n1,\"2\n", "2:2: error: unterminated quote");
	expect_error("x,y\n\"1\"x,2\n", "2:1: error: text after closing quote");
}

Test(data, missing_file)
{
	sg_error err;

	cr_assert(eq(ptr, sg_data_read_csv("/nonexistent/d.csv", &linear_model,
					   &err), NULL));
	cr_assert(eq(str, err.msg,
		     "/nonexistent/d.csv: error: cannot open: No such file or directory"));
}

Test(data, stdin_dash)
{
	char *dir = th_tmpdir(), *path = th_path(dir, "in.csv");
	sg_error err;
	sg_data *d;

	th_write_file(path, "x,y\n1,2\n2,oops\n");
	cr_assert(ne(ptr, freopen(path, "r", stdin), NULL));
	d = sg_data_read_csv("-", &linear_model, &err);
	cr_assert(eq(ptr, d, NULL));
	cr_assert(eq(str, err.msg, "<stdin>:3:2: error: not a number: 'oops'"));
	th_rm_rf(dir);
	free(dir);
	free(path);
}

/* Writes n raw bytes (NULs included) to a temp file and reads it. */
static sg_data *read_bytes(const char *bytes, size_t n, const sg_model *m, sg_error *err,
			   char **path)
{
	char *dir = th_tmpdir();
	FILE *f;
	sg_data *d;

	*path = th_path(dir, "raw.csv");
	f = fopen(*path, "wb");
	cr_assert(ne(ptr, f, NULL));
	cr_assert(eq(sz, fwrite(bytes, 1, n, f), n));
	fclose(f);
	d = sg_data_read_csv(*path, m, err);
	unlink(*path);
	rmdir(dir);
	free(dir);
	return d;
}

/* A NUL byte is an error at its line and cell, wherever it is: it used to
 * cut the line (or the row) silently. */
Test(data, nul_byte_is_an_error)
{
	static const struct {
		const char *bytes;
		size_t n;
		const char *want;
	} cases[] = {
		{"x,y\n1,2\n3,\0" "4\n", 12, "3:2: error: a NUL byte (this is not a text file)"},
		{"x,y\n\0" "1,2\n3,4\n", 12, "2:1: error: a NUL byte (this is not a text file)"},
		{"x,y\n1,2\n3,4\n\0", 13, "4:1: error: a NUL byte (this is not a text file)"},
		{"1,2\n3,4\0\n", 9, "2:2: error: a NUL byte (this is not a text file)"},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		sg_error err = {""};
		char *path, want[1024];
		sg_data *d = read_bytes(cases[k].bytes, cases[k].n, &linear_model, &err, &path);
		cr_assert(eq(ptr, d, NULL), "case %zu read %zu rows", k, d ? d->n_rows : 0);
		snprintf(want, sizeof want, "%s:%s", path, cases[k].want);
		cr_assert(eq(str, err.msg, want), "case %zu", k);
		free(path);
	}
}

/* CR-only line ends (classic Mac) are named for what they are. */
Test(data, cr_only_line_ends)
{
	expect_error("x,y\r1,2\r3,4\r",
		     "1:2: error: a carriage return inside a line: lines must end in LF or "
		     "CRLF (a file with CR-only line ends needs converting: tr '\\r' '\\n')");
	expect_error("x,y\n1,2\r\r\n",
		     "2:2: error: a carriage return inside a line: lines must end in LF or "
		     "CRLF (a file with CR-only line ends needs converting: tr '\\r' '\\n')");
}

/* 1e-400 is not 0: a nonzero number that underflows is an error; a
 * subnormal one is kept exactly. */
Test(data, underflow_is_an_error)
{
	static const double sub[] = {1e-310, 2, 0, -4.9406564584124654e-324};
	expect_error("x,y\n1,2\n1e-400,4\n",
		     "3:1: error: a number too small for a double, which would read as 0: "
		     "'1e-400'");
	expect_error("x,y\n1,-0x1p-1100\n",
		     "2:2: error: a number too small for a double, which would read as 0: "
		     "'-0x1p-1100'");
	expect_rows("x,y\n1e-310,2\n0e-400,-4.9406564584124654e-324\n", 2, sub);
}

/* A header cell two inputs could take is an error naming both. */
Test(data, ambiguous_column)
{
	static const char *const names[] = {"x3", "x[3]", "x[4]"};
	sg_model m = linear_model;
	sg_error err = {""};
	char *path, want[1024];
	static const char text[] = "x3,x4\n1,2\n";
	sg_data *d;

	m.n_inputs = 3;
	m.input_names = names;
	d = read_bytes(text, sizeof text - 1, &m, &err, &path);
	cr_assert(eq(ptr, d, NULL));
	snprintf(want, sizeof want, "%s:1:1: error: column 'x3' could be input 'x3' or 'x[3]': "
		 "name it exactly as one of them", path);
	cr_assert(eq(str, err.msg, want));
	free(path);
}

/* cross_entropy's class input: a whole number in range, else an error at
 * its row and cell (PyTorch raises; the generated code would silently
 * drop the z[class] term). */
Test(data, class_index_out_of_range)
{
	static const int classes[] = {0, 3};
	sg_model m = linear_model;
	sg_error err = {""};
	char *path, want[1024];
	static const struct {
		const char *text, *where, *cell;
	} bad[] = {
		{"x,y\n1,2\n1,3\n", "3:2", "3"},
		{"x,y\n1,-1\n", "2:2", "-1"},
		{"x,y\n1,0.5\n", "2:2", "0.5"},
		{"1,2\n1,1e300\n", "2:2", "1e300"},
	};

	m.input_classes = classes;
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		sg_data *d = read_bytes(bad[k].text, strlen(bad[k].text), &m, &err, &path);
		cr_assert(eq(ptr, d, NULL), "case %zu", k);
		snprintf(want, sizeof want, "%s:%s: error: index input 'y' is not a whole number "
			 "from 0 to 2 (a class of 3, or a row or element of 3): '%s'", path,
			 bad[k].where, bad[k].cell);
		cr_assert(eq(str, err.msg, want), "case %zu", k);
		free(path);
	}
	static const char ok[] = "x,y\n1,0\n2,2\n3,1.0\n";
	sg_data *d = read_bytes(ok, strlen(ok), &m, &err, &path);
	cr_assert(ne(ptr, d, NULL), "%s", err.msg);
	cr_assert(eq(sz, d->n_rows, 3));
	sg_data_free(d);
	free(path);
}

/* ---- shares of a table (share.c): byte ranges and part files ---- */

/* Reads text's rows in the byte ranges cut at cuts[0..n) (0 < cut < len,
 * ascending) one after the other, as processes would, and checks that
 * together they are the whole file's rows with its line numbers. */
static void expect_ranges_cover(const char *path, const sg_data *whole,
				const long long *cuts, int n, long long len)
{
	sg_error err = {""};
	size_t got = 0;

	for (int q = 0; q <= n; q++) {
		long long from = q ? cuts[q - 1] : 0, to = q < n ? cuts[q] : len;
		long before = sg_data_count_lines(path, 0, from, &err);
		sg_data *d = sg_data_read_range(path, &linear_model, from, to, before, &err);

		cr_assert(ne(ptr, d, NULL), "%s", err.msg);
		for (size_t i = 0; i < d->n_rows; i++, got++) {
			cr_assert(lt(sz, got, whole->n_rows), "cut at %lld: a row twice", from);
			cr_assert(eq(dbl, d->x[2 * i], whole->x[2 * got]));
			cr_assert(eq(dbl, d->x[2 * i + 1], whole->x[2 * got + 1]));
			cr_assert(eq(long, d->line[i], whole->line[got]), "cut at %lld", from);
		}
		sg_data_free(d);
	}
	cr_assert(eq(sz, got, whole->n_rows), "cuts at %lld..: rows lost", cuts[0]);
}

/* Every cut into 2 and 3 ranges of files with and without a header,
 * blank lines, CRLF, a byte-order mark and a last line without its end. */
Test(data, byte_ranges_cover_every_row_once)
{
	static const char *texts[] = {
		"x,y\n1,2\n\n3,4\n5,6\n\n\n7,8\n9,10\n",
		"\xef\xbb\xbfx,y\r\n\r\n1,2\r\n3,4\r\n55555,66666\r\n7,8",
		"1,2\n3,4\n\n5,6\n",
		"\n\n\nx,y\n1,2\n",
	};
	char *dir = th_tmpdir(), *path = th_path(dir, "r.csv");
	sg_error err = {""};

	for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
		long long len = (long long)strlen(texts[t]), c[2];
		sg_data *whole;

		th_write_file(path, texts[t]);
		whole = sg_data_read_csv(path, &linear_model, &err);
		cr_assert(ne(ptr, whole, NULL), "%s", err.msg);
		for (c[0] = 1; c[0] < len; c[0]++) {
			expect_ranges_cover(path, whole, c, 1, len);
			for (c[1] = c[0] + 1; c[1] < len; c[1]++)
				expect_ranges_cover(path, whole, c, 2, len);
		}
		sg_data_free(whole);
	}
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
}

/* A bad cell in a later range is named at its line in the file. */
Test(data, byte_range_error_names_the_file_line)
{
	char *dir = th_tmpdir(), *path = th_path(dir, "r.csv"), want[1024];
	const char *text = "x,y\n1,2\n3,4\n5,six\n";
	sg_error err = {""};
	long long from = 9; /* in "3,4" */
	sg_data *d;

	th_write_file(path, text);
	d = sg_data_read_range(path, &linear_model, from, (long long)strlen(text),
			       sg_data_count_lines(path, 0, from, &err), &err);
	cr_assert(eq(ptr, d, NULL));
	snprintf(want, sizeof want, "%s:4:2: error: not a number: 'six'", path);
	cr_assert(eq(str, err.msg, want));
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
}

/* Without processes, part-%d.csv is its files one after the other, each
 * with its own header or none, rows naming their file and line. */
Test(data, pattern_files_one_after_another)
{
	char *dir = th_tmpdir(), *p0 = th_path(dir, "p-0.csv"), *p1 = th_path(dir, "p-1.csv");
	char *pat = th_path(dir, "p-%d.csv"), *none = th_path(dir, "q-%d.csv"), want[1024];
	sg_error err = {""};
	sg_data *d;

	th_write_file(p0, "y,x\n2,1\n\n4,3\n");
	th_write_file(p1, "5,6\n");
	cr_assert(eq(int, sg_data_is_pattern(pat), 1));
	cr_assert(eq(int, sg_data_is_pattern(p0), 0));
	d = sg_data_read_share(pat, &linear_model, NULL, &err);
	cr_assert(ne(ptr, d, NULL), "%s", err.msg);
	cr_assert(eq(sz, d->n_rows, 3));
	cr_assert(eq(sz, sg_data_total(d), 3));
	cr_assert(eq(dbl, d->x[0], 1.0));
	cr_assert(eq(dbl, d->x[3], 4.0));
	cr_assert(eq(dbl, d->x[4], 5.0));
	cr_assert(eq(str, (char *)sg_data_file(d, 1), p0));
	cr_assert(eq(long, sg_data_line(d, 1), 4));
	cr_assert(eq(str, (char *)sg_data_file(d, 2), p1));
	cr_assert(eq(long, sg_data_line(d, 2), 1));
	sg_data *s = sg_data_slice(d, 1, 2); /* a slice keeps the files */
	cr_assert(eq(str, (char *)sg_data_file(s, 1), p1));
	sg_data_free(s);
	sg_data_free(d);
	cr_assert(eq(ptr, sg_data_read_share(none, &linear_model, NULL, &err), NULL));
	snprintf(want, sizeof want, "%s/q-0.csv: error: cannot open: No such file or directory "
		 "(the first file of --data %s)", dir, none);
	cr_assert(eq(str, err.msg, want));
	unlink(p0);
	unlink(p1);
	rmdir(dir);
	free(p0);
	free(p1);
	free(pat);
	free(none);
	free(dir);
}

/* --val-split of a shared table: each process keeps its rows of each part
 * and knows every process's share of it. */
Test(data, part_of_a_shared_table)
{
	size_t offs[4] = {0, 4, 4, 10};
	sg_data *d = sg_data_new(6, 2, "s.csv"), *a, *b;

	cr_assert(ne(ptr, d, NULL));
	d->shared = 1, d->n_ranks = 3, d->offset = 4, d->total = 10, d->offs = malloc(sizeof offs);
	memcpy(d->offs, offs, sizeof offs);
	for (size_t i = 0; i < 12; i++)
		d->x[i] = (double)i;
	a = sg_data_part(d, 0, 7);
	b = sg_data_part(d, 7, 3);
	cr_assert(eq(sz, a->n_rows, 3));
	cr_assert(eq(sz, a->offset, 4));
	cr_assert(eq(sz, a->total, 7));
	cr_assert(eq(sz, a->offs[2], 4));
	cr_assert(eq(sz, a->offs[3], 7));
	cr_assert(eq(sz, b->n_rows, 3));
	cr_assert(eq(sz, b->offset, 0));
	cr_assert(eq(sz, b->offs[2], 0));
	cr_assert(eq(sz, b->offs[3], 3));
	cr_assert(eq(dbl, b->x[0], 6.0));
	sg_data_free(a);
	sg_data_free(b);
	sg_data_free(d);
}
