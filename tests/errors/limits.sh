#!/bin/sh
# usage: limits.sh SYMGRAD
# Inputs too large to commit, made here: each must end in exit status 1 and
# a message naming the limit, quickly, with no output file.
symgrad=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
expect() { # expect NAME FILE TEXT
	if "$symgrad" gen "$2" -o "$work/out.c" 2>"$work/err" >/dev/null; then
		echo "$1: expected a failure" >&2
		fail=1
	elif ! grep -q "$3" "$work/err"; then
		echo "$1: message lacks '$3':" >&2
		head -3 "$work/err" >&2
		fail=1
	elif [ -e "$work/out.c" ]; then
		echo "$1: an output file was left" >&2
		fail=1
	else
		echo "$1: ok: $(head -1 "$work/err" | cut -c1-120)"
	fi
}
# 10^6 statements
awk 'BEGIN { print "input x\nparam w = 1\na0 = x * w"
	for (i = 1; i < 1000000; i++) printf "a%d = a%d + 1\n", i, i - 1
	print "loss = a999999" }' >"$work/stmts.sg"
expect statements "$work/stmts.sg" "binding statements (limit)"
# 10^5 nested parentheses
awk 'BEGIN { printf "input x\nparam w = 1\nloss = "
	for (i = 0; i < 100000; i++) printf "("; printf "x * w"
	for (i = 0; i < 100000; i++) printf ")"; print "" }' >"$work/parens.sg"
expect parentheses "$work/parens.sg" "nested deeper than 1000 levels (limit)"
# a 10^6-character line: one long sum
awk 'BEGIN { printf "input x\nparam w = 1\nloss = x * w"
	for (i = 0; i < 200000; i++) printf " + x"; print "" }' >"$work/line.sg"
expect long-line "$work/line.sg" "chain of more than 10000 operations (limit)"
# a huge literal
awk 'BEGIN { printf "input x\nparam w = 1\nloss = x * w * 1"; for (i = 0; i < 400; i++) printf "0"; print "" }' >"$work/lit.sg"
expect literal "$work/lit.sg" "overflows a double"
exit $fail
