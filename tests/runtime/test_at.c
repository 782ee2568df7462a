/*
 * test_at.c: the one grammar of a point on the command line (at.c):
 * elements, whole tensors, explicit broadcasts, spaces, and every
 * ambiguity an error.
 */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "symgrad.h"

/* Inputs x[3] (a vector) and y; params M[2,2] (a matrix), w (a scalar). */
static const char *const in_names[] = {"x[0]", "x[1]", "x[2]", "y"};
static const char *const par_names[] = {"M[0,0]", "M[0,1]", "M[1,0]", "M[1,1]", "w"};
static double in[4], par[5];
static char in_set[4], par_set[5];
static sg_error err;

static int parse(const char *list)
{
	memset(in_set, 0, sizeof in_set);
	memset(par_set, 0, sizeof par_set);
	for (int i = 0; i < 4; i++)
		in[i] = NAN;
	for (int i = 0; i < 5; i++)
		par[i] = -1;
	err.msg[0] = '\0';
	return sg_at_parse(list, 4, in_names, in, in_set, 5, par_names, par, par_set, &err);
}

static void expect_values(const char *list, const double *want_in, const double *want_par)
{
	cr_assert(eq(int, parse(list), 0), "%s: %s", list, err.msg);
	for (int i = 0; i < 4; i++)
		cr_assert(eq(dbl, in[i], want_in[i]), "%s: input %d", list, i);
	for (int i = 0; i < 5; i++)
		cr_assert(eq(dbl, par[i], want_par[i]), "%s: param %d", list, i);
}

static void expect_error(const char *list, const char *want)
{
	cr_assert(eq(int, parse(list), -1), "%s was accepted", list);
	cr_assert(eq(str, err.msg, (char *)want), "%s", list);
}

Test(at, elements_and_whole_tensors)
{
	static const double i1[] = {1, 2, 3, 4}, p1[] = {5, 6, 7, 8, 9};
	expect_values("x[0]=1,x[1]=2,x[2]=3,y=4,M[0,0]=5,M[0,1]=6,M[1,0]=7,M[1,1]=8,w=9", i1, p1);
	expect_values("x=[1,2,3],y=4,M=[[5,6],[7,8]],w=9", i1, p1);
	expect_values(" x = [ 1 , 2,3 ] , y=4 ,M=[[5, 6], [7 ,8]], w = 9 ", i1, p1);
	expect_values("M[1,1]=8,M[1,0]=7,x=[1,2,3],M[0,1]=6,M[0,0]=5,y=4,w=9", i1, p1);
	expect_values("M[ 0 , 1 ]=6,x=[1,2,3],y=4,M[0,0]=5,M[1,0]=7,M[1,1]=8,w=9", i1, p1);
}

Test(at, explicit_broadcast)
{
	static const double i1[] = {0.5, 0.5, 0.5, 2}, p1[] = {3, 3, 3, 3, -1};
	expect_values("x=0.5*,y=2,M=3*", i1, p1);
	expect_values("x = 0.5 * , y=2*, M=3 *", i1, p1);
}

Test(at, unset_stays_and_is_reported)
{
	cr_assert(eq(int, parse("x[1]=2"), 0));
	cr_assert(eq(int, in_set[0], 0));
	cr_assert(eq(int, in_set[1], 1));
	cr_assert(isnan(in[0]));
	cr_assert(eq(dbl, par[4], -1));
}

Test(at, non_finite_values_allowed)
{
	cr_assert(eq(int, parse("y=nan,w=-inf"), 0));
	cr_assert(isnan(in[3]));
	cr_assert(eq(dbl, par[4], -INFINITY));
}

Test(at, ambiguous_or_wrong_is_an_error)
{
	expect_error("x=1", "'x' is a tensor of 3 elements: give x=[...], one element "
			    "(x[0]=...), or x=1* for every element");
	expect_error("M=2", "'M' is a tensor of 4 elements: give M=[...], one element "
			    "(M[0,0]=...), or M=2* for every element");
	expect_error("x=[1,2]", "'x' has shape [3], the list given has shape [2]");
	expect_error("M=[1,2,3,4]", "'M' has shape [2, 2], the list given has shape [4]");
	expect_error("M=[[1,2,3],[4,5,6]]", "'M' has shape [2, 2], the list given has shape [2, 3]");
	expect_error("M=[[1,2],[3]]", "rows of different lengths (2 and 1)");
	expect_error("M=[[1,2],3]", "a number where a list was expected");
	/* fuzz-at: a shape of [2, 2] from 3 numbers, then a read past them */
	expect_error("M=[1,[2,3]]", "a list where a number was expected");
	expect_error("x=[[[[[1]]]]]", "lists nest at most 4 deep");
	expect_error("x=[[[1]]]", "'x' has shape [3], the list given has shape [1, 1, 1]");
	expect_error("y=1,y=2", "'y' given twice");
	expect_error("x=[1,2,3],x[1]=2", "'x[1]' given twice");
	expect_error("q=1", "the model has no input or parameter 'q'");
	/* a close name suggested, as the parser does: a tensor by its bare name */
	expect_error("yy=1", "the model has no input or parameter 'yy' (did you mean 'y'?)");
	expect_error("ww=1*", "the model has no input or parameter 'ww' (did you mean 'w'?)");
	expect_error("MM=1*", "the model has no input or parameter 'MM' (did you mean 'M'?)");
	/* equals: the first, inputs before params */
	expect_error("Mx=1*", "the model has no input or parameter 'Mx' (did you mean 'x'?)");
	expect_error("wxyz=1", "the model has no input or parameter 'wxyz'");
	expect_error("x[3]=1", "the model has no input or parameter 'x[3]'");
	expect_error("M[0]=1", "the model has no input or parameter 'M[0]'");
	expect_error("y=[1]", "'y' is a scalar: give y=NUMBER");
	expect_error("y=two", "'two' is not a number");
	expect_error("y=", "expected a number at 'the end'");
	expect_error("y=1,", "expected NAME=VALUE at 'the end'");
	expect_error("y", "expected '=' at 'the end'");
	expect_error("y=1 2", "expected ',' at '2'");
	expect_error("x[-1]=1", "'x[': expected an index at '-1]=1'");
	expect_error("x[0,0,0,0,0]=1", "'x': at most 4 indices");
	expect_error("x[0,0,0]=1", "the model has no input or parameter 'x[0,0,0]'");
}

/* Without params (train --predict), a param name is unknown. */
Test(at, inputs_only)
{
	err.msg[0] = '\0';
	cr_assert(eq(int, sg_at_parse("w=1", 4, in_names, in, in_set, 5, par_names, NULL,
				      par_set, &err), -1));
	cr_assert(eq(str, err.msg, "the model has no input 'w'"));
}
