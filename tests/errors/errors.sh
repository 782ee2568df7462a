#!/bin/sh
# usage: errors.sh check|update SYMGRAD ROOT [NAME...]
# Bad input, one file per case: tests/errors/NAME.sg is a model followed by
# the standard error symgrad must print for it, as comments:
#
#   loss = max(x * w - y)
#   # stderr:
#   # tests/errors/NAME.sg:4:8: error: function 'max' takes 2 arguments, ...
#
# (each line of the message after "# ", an empty line as "#").  For each
# case (every NAME.sg when no NAME is given), `symgrad gen NAME.sg -o
# OUT.c` runs from the source root ROOT and must: exit 1 (or 0 when the
# model has a line "# expect: exit 0"), print exactly that standard error
# and nothing on standard output, and leave no file behind after an error
# (no OUT.c, OUT.h or temporary file) and both files after a warning.
# "# expect: exit 0, valid C" also compiles OUT.c as strict C99 with $CC.
# With `update`, each NAME.sg's block is rewritten from what symgrad
# printed (the model above it is kept byte for byte).
set -u
LC_ALL=C
export LC_ALL
mode=$1 symgrad=$2 root=$3
shift 3
case $symgrad in /*) ;; *) symgrad=$PWD/$symgrad ;; esac
if [ $# -eq 0 ]; then
	# shellcheck disable=SC2046 # case names are single words
	set -- $(cd "$root/tests/errors" && ls -- *.sg | sed 's/\.sg$//')
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# model_bytes FILE: the byte count of FILE before its "# stderr:" line
# (the whole file when it has none)
model_bytes() {
	at=$(grep -abn '^# stderr:$' "$1" | tail -1 | cut -d: -f2)
	if [ -n "$at" ]; then echo "$at"; else wc -c <"$1"; fi
}

# expected FILE: the message written in FILE's block
expected() {
	n=$(model_bytes "$1")
	tail -c +$((n + 1)) "$1" | sed -e '1d' -e 's/^# //' -e 's/^#$//'
}

# run NAME: symgrad on the case; sets status, fills $tmp/stderr, $tmp/out
run() {
	rm -rf "$tmp/out"
	mkdir "$tmp/out"
	(cd "$root" && "$symgrad" gen "tests/errors/$1.sg" -o "$tmp/out/OUT.c") \
		>"$tmp/stdout" 2>"$tmp/stderr"
	status=$?
}

# update NAME: rewrites the block until a run prints what it holds (a
# message quoting the block's own lines settles on the second pass)
update() {
	f=$root/tests/errors/$1.sg
	for pass in 1 2 3; do
		run "$1"
		expected "$f" >"$tmp/want"
		cmp -s "$tmp/want" "$tmp/stderr" && return 0
		head -c "$(model_bytes "$f")" "$f" >"$tmp/new"
		{ echo '# stderr:'; sed -e 's/^/# /' -e 's/^# $/#/' "$tmp/stderr"; } >>"$tmp/new"
		cat "$tmp/new" >"$f"
		[ "$pass" -eq 1 ] && echo "updated tests/errors/$1.sg"
	done
	echo "$1: the message does not settle" >&2
	return 1
}

# check NAME: 0 when the case passes, else 1 with what differed
check() {
	f=$root/tests/errors/$1.sg
	want=1
	grep -aq '^# expect: exit 0' "$f" && want=0
	run "$1"
	fail=0
	if [ $status -ne $want ]; then
		echo "$1: exit status $status, expected $want" >&2
		fail=1
	fi
	expected "$f" >"$tmp/want"
	if ! cmp -s "$tmp/want" "$tmp/stderr"; then
		echo "$1: standard error differs from the block in tests/errors/$1.sg:" >&2
		diff "$tmp/want" "$tmp/stderr" >&2
		fail=1
	fi
	if [ -s "$tmp/stdout" ]; then
		echo "$1: unexpected standard output:" >&2
		cat "$tmp/stdout" >&2
		fail=1
	fi
	left=$(ls -A "$tmp/out")
	if [ $want -ne 0 ] && [ -n "$left" ]; then
		echo "$1: files left after an error: $left" >&2
		fail=1
	fi
	if [ $want -eq 0 ] && [ "$left" != "$(printf 'OUT.c\nOUT.h')" ]; then
		echo "$1: expected OUT.c and OUT.h, found: $left" >&2
		fail=1
	fi
	if [ $want -eq 0 ] && grep -aq '^# expect: exit 0, valid C' "$f"; then
		${CC:-cc} -std=c99 -Wall -Wextra -Wpedantic -Werror -c "$tmp/out/OUT.c" -o "$tmp/OUT.o" ||
			{ echo "$1: the generated C does not compile" >&2; fail=1; }
	fi
	return $fail
}

failed=0 count=0
for name; do
	count=$((count + 1))
	"$mode" "$name" || { failed=$((failed + 1)); echo "FAIL: $name" >&2; }
done
[ "$mode" = check ] && echo "$((count - failed)) of $count error cases pass"
[ $failed -eq 0 ]
