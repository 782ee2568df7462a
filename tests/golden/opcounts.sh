#!/bin/sh
# opcounts.sh SYMGRAD SRCDIR: no example or test model's generated code does
# more arithmetic than tests/golden/opcounts.txt records (counted from the
# emitted C by tests/tools/opcount.sh).  The figures were recorded before the
# one-IR rewrite; lower them when the code gets better.
set -eu
symgrad=$1 src=$2
case $symgrad in /*) ;; *) symgrad=$PWD/$symgrad ;; esac
fail=0
while read -r model rest; do
	case $model in '#'*) continue ;; esac
	now=$(cd "$src" && sh tests/tools/opcount.sh "$symgrad" "$model")
	for f in forward backward predict; do
		was=$(echo "$rest" | sed -n "s/.*$f=\([0-9]*\).*/\1/p")
		is=$(echo "$now" | sed -n "s/.*$f=\([0-9]*\).*/\1/p")
		if [ "$is" -gt "$was" ]; then
			echo "$model: $f does $is operations, more than the recorded $was" >&2
			fail=1
		elif [ "$is" -lt "$was" ]; then
			echo "$model: $f does $is operations (recorded $was: lower it)"
		fi
	done
done <"$src/tests/golden/opcounts.txt"
exit $fail
