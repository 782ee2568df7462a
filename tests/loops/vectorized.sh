#!/bin/sh
# vectorized.sh SYMGRAD MODEL.sg CC: the batched gradient's row blocks are
# vectorized by the C compiler at -O2 (GCC's report counts the loops), with
# and without --vector-math; with it, exp and log are libmvec's vector calls.
set -eu
symgrad=$1 model=$2 cc=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
flags="-O2 -std=c99 -ffp-contract=off -fno-trapping-math"
for vm in "" --vector-math; do
	# shellcheck disable=SC2086
	"$symgrad" gen "$model" $vm -o "$dir/m.c"
	# shellcheck disable=SC2086
	n=$("$cc" $flags -c "$dir/m.c" -o "$dir/m.o" -fopt-info-vec-optimized 2>&1 |
		grep -c "loop vectorized" || true)
	# shellcheck disable=SC2086
	calls=$("$cc" $flags -S "$dir/m.c" -o - | grep -c "call[[:space:]]*_ZGV" || true)
	echo "${vm:-exact}: $n loops vectorized, $calls vector math calls"
	[ "$n" -gt 0 ] || { echo "no loop vectorized" >&2; exit 1; }
	if [ -n "$vm" ] && [ "$calls" -eq 0 ]; then
		echo "--vector-math made no vector calls" >&2
		exit 1
	fi
done
