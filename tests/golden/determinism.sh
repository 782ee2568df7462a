#!/bin/sh
# usage: determinism.sh SYMGRAD ROOT MODEL... [--latex MODEL...]
# Generates each model twice (C and header, double and float; the LaTeX
# derivation for the models after --latex) and fails unless both runs give
# the same bytes: output must not depend on hash seeds, addresses (ASLR)
# or time.
set -u
symgrad=$1 root=$2
shift 2
case $symgrad in /*) ;; *) symgrad=$PWD/$symgrad ;; esac
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
cd "$root" || exit 1
fail=0
# twice MODEL SUFFIX ARGS...: runs `symgrad gen MODEL ARGS -o m.SUFFIX` twice, compares
twice() {
	model=$1 suffix=$2
	shift 2
	for run in 1 2; do
		mkdir -p "$dir/$run"
		rm -f "$dir/$run"/*
		"$symgrad" gen "$model" "$@" -o "$dir/$run/m.$suffix" 2>/dev/null ||
			{ echo "symgrad gen $model $* failed" >&2; exit 1; }
	done
	for f in "$dir/1"/*; do
		f=$(basename "$f")
		if ! cmp -s "$dir/1/$f" "$dir/2/$f"; then
			echo "$model ($*): two runs differ in $f" >&2
			diff "$dir/1/$f" "$dir/2/$f" | head -20 >&2
			fail=1
		fi
	done
}
latex=0
for model in "$@"; do
	if [ "$model" = --latex ]; then
		latex=1
	elif [ $latex = 1 ]; then
		twice "$model" tex --template latex
	else
		twice "$model" c --dtype double
		twice "$model" c --dtype float
	fi
done
exit $fail
