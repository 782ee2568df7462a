#!/bin/sh
# usage: replay.sh SYMGRAD DIR
# Feeds each fuzz regression (less its first byte) to symgrad gen: exit 0
# or 1 is fine, anything else (a signal, an abort) fails.
symgrad=$1
dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
for f in "$dir"/*; do
	tail -c +2 "$f" >"$work/in.sg"
	"$symgrad" gen "$work/in.sg" -o "$work/out.c" >/dev/null 2>"$work/err"
	status=$?
	if [ $status -gt 1 ]; then
		echo "$(basename "$f"): exit status $status" >&2
		cat "$work/err" >&2
		fail=1
	else
		echo "$(basename "$f"): exit status $status"
	fi
done
exit $fail
