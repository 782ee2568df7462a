/*
 * args.c: the one reader of command lines, for every command.
 *
 * An option is "--name", "--name value", "--name=value" or "-x value"; a
 * flag takes no value ("--stats"; "--stats=yes" is an error).  Anything
 * else is a positional argument ("-" alone is one: standard input or
 * output).  Errors print "symgrad: error: ..." and the command's usage
 * line (when it has one) to stderr; the caller returns or exits with 2.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int args_help(const char *text)
{
	fputs(text, stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "symgrad: error: cannot write the help to standard output: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}

int args_error(const args *a, const char *fmt, ...)
{
	va_list ap;

	fputs("symgrad: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (a->usage)
		fprintf(stderr, "%s\n", a->usage);
	return 2;
}

/* Splits arg, an option, into a->dash, a->name and a->value. */
static void split(args *a, const char *arg)
{
	size_t ndash = arg[1] == '-' ? 2 : 1;
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) - ndash : strlen(arg + ndash);

	a->dash = ndash == 2 ? "--" : "-";
	snprintf(a->name, sizeof a->name, "%.*s", (int)n, arg + ndash);
	a->value = eq ? eq + 1 : NULL;
}

int args_next(args *a)
{
	const char *arg;

	if (++a->i >= a->argc)
		return 0;
	arg = a->argv[a->i];
	a->arg = arg;
	if (arg[0] != '-' || arg[1] == '\0')
		return 2;
	if (!strcmp(arg, "--"))
		return args_error(a, "unexpected argument '--'"), -1;
	split(a, arg);
	return 1;
}

int args_next_opt(args *a)
{
	int rc = args_next(a);

	if (rc == 2)
		return args_error(a, "unexpected argument '%s'", a->arg), -1;
	return rc;
}

const char *args_value(args *a)
{
	if (a->value)
		return a->value;
	if (a->i + 1 >= a->argc) {
		args_error(a, "option %s%s needs a value", a->dash, a->name);
		return NULL;
	}
	return a->value = a->argv[++a->i];
}

int args_is(const args *a, const char *name)
{
	return strcmp(a->name, name) == 0;
}

int args_flag(const args *a)
{
	if (a->value)
		return args_error(a, "option %s%s takes no value", a->dash, a->name), -1;
	return 0;
}

int args_double(args *a, double lo, double *out)
{
	const char *s = args_value(a);
	char *end;

	if (!s)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || !isfinite(*out) || *out < lo) {
		args_error(a, "option %s%s: bad value '%s'", a->dash, a->name, s);
		return -1;
	}
	return 0;
}

int args_uint(args *a, unsigned long long *out)
{
	const char *s = args_value(a);
	char *end;

	if (!s)
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno == ERANGE) {
		args_error(a, "option %s%s: bad value '%s'", a->dash, a->name, s);
		return -1;
	}
	return 0;
}
