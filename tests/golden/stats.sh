#!/bin/sh
# usage: stats.sh SYMGRAD ROOT MODEL...
# README "Derivatives": the gradient part of backward is at most 3 times
# the forward part on every example, as `symgrad gen --stats` reports it.
set -u
symgrad=$1 root=$2
shift 2
case $symgrad in /*) ;; *) symgrad=$PWD/$symgrad ;; esac
cd "$root" || exit 1
fail=0
for model in "$@"; do
	stats=$("$symgrad" gen "$model" --stats 2>&1 >/dev/null) ||
		{ echo "symgrad gen --stats $model failed: $stats" >&2; exit 1; }
	ratio=$(printf '%s\n' "$stats" | sed -n 's/.*gradient\/forward = \([0-9.]*\).*/\1/p')
	if [ -z "$ratio" ]; then
		echo "$model: no gradient/forward ratio in:" >&2
		printf '%s\n' "$stats" >&2
		fail=1
	elif awk -v r="$ratio" 'BEGIN { exit !(r > 3) }'; then
		echo "$model: gradient/forward = $ratio > 3" >&2
		fail=1
	else
		echo "$model: gradient/forward = $ratio"
	fi
done
exit $fail
