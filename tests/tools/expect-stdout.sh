#!/bin/sh
# usage: expect-stdout.sh EXPECTED COMMAND [ARG...]
# Runs COMMAND and fails unless it exits 0 and its stdout equals EXPECTED byte
# for byte; shows a diff when it does not.
expected=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out" || { echo "command failed with status $?: $*" >&2; exit 1; }
if ! cmp -s "$expected" "$out"; then
	echo "stdout differs from $expected:" >&2
	diff "$expected" "$out" >&2
	exit 1
fi
