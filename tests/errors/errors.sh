#!/bin/sh
# usage: errors.sh check|update SYMGRAD ROOT NAME
# Runs `symgrad gen tests/errors/NAME.sg -o OUT.c` from the source root
# ROOT and checks: the exit status (1, or 0 when NAME.sg has a line
# "# expect: exit 0"), standard error equal to NAME.err byte for byte, and
# the output: after an error no file at all (no OUT.c, OUT.h or temporary
# file), after a warning both files.  "# expect: exit 0, valid C" also
# compiles OUT.c as strict C99 with $CC (default cc).  With `update`,
# NAME.err is rewritten from what symgrad printed.
set -u
mode=$1 symgrad=$2 root=$3 name=$4
case $symgrad in /*) ;; *) symgrad=$PWD/$symgrad ;; esac
model=tests/errors/$name.sg
expected=$root/tests/errors/$name.err
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/out"
want=1
grep -q '^# expect: exit 0' "$root/$model" 2>/dev/null && want=0
(cd "$root" && "$symgrad" gen "$model" -o "$tmp/out/OUT.c") >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
fail=0
if [ $status -ne $want ]; then
	echo "$name: exit status $status, expected $want" >&2
	fail=1
fi
if [ "$mode" = update ]; then
	cmp -s "$tmp/stderr" "$expected" || { cp "$tmp/stderr" "$expected" && echo "updated tests/errors/$name.err"; }
	exit $fail
fi
if ! cmp -s "$expected" "$tmp/stderr"; then
	echo "$name: standard error differs from tests/errors/$name.err:" >&2
	diff "$expected" "$tmp/stderr" >&2
	fail=1
fi
if [ -s "$tmp/stdout" ]; then
	echo "$name: unexpected standard output:" >&2
	cat "$tmp/stdout" >&2
	fail=1
fi
left=$(ls -A "$tmp/out")
if [ $want -ne 0 ] && [ -n "$left" ]; then
	echo "$name: files left after an error: $left" >&2
	fail=1
fi
if [ $want -eq 0 ] && [ "$left" != "$(printf 'OUT.c\nOUT.h')" ]; then
	echo "$name: expected OUT.c and OUT.h, found: $left" >&2
	fail=1
fi
if [ $want -eq 0 ] && grep -q '^# expect: exit 0, valid C' "$root/$model"; then
	${CC:-cc} -std=c99 -Wall -Wextra -Wpedantic -Werror -c "$tmp/out/OUT.c" -o "$tmp/OUT.o" ||
		{ echo "$name: the generated C does not compile" >&2; fail=1; }
fi
exit $fail
