#!/bin/sh
# big.sh SYMGRAD MODEL.sg CC DRIVER: a model far above the loop threshold
# (784 -> 100 -> 10) generates loops, builds with -O2, and its gradient
# agrees with central differences; its batch (blocks, tiles) is its backward
# summed row by row, bit for bit, in double and float.  Prints the times
# (README "Loops").
set -eu
symgrad=$1 model=$2 cc=$3 driver=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
name=$(sed -n 's/^model[ 	]*\([A-Za-z_0-9]*\).*/\1/p' "$model" | head -n 1)
now() { date +%s.%N; }
t0=$(now)
"$symgrad" gen "$model" --stats -o "$dir/${name}_grad.c" 2>"$dir/stats"
t1=$(now)
grep -q "^loops:" "$dir/stats" || { cat "$dir/stats" >&2; echo "no loops" >&2; exit 1; }
"$cc" -O2 -std=c99 -Wall -Wextra -Wpedantic -Werror -c "$dir/${name}_grad.c" -o "$dir/g.o"
t2=$(now)
"$cc" -O2 -w -DMODEL="${name}_model" -include "$dir/${name}_grad.h" "$driver" "$dir/g.o" \
	-lm -o "$dir/bin"
"$dir/bin" fd 40
# the batch's blocks and tiles against backward row by row, in both dtypes
"$dir/bin" rowsum
"$symgrad" gen "$model" --dtype float -o "$dir/f_grad.c"
"$cc" -O2 -std=c99 -ffp-contract=off -c "$dir/f_grad.c" -o "$dir/f.o"
"$cc" -O2 -w -DMODEL="${name}_model" -include "$dir/f_grad.h" "$driver" "$dir/f.o" \
	-lm -o "$dir/fbin"
"$dir/fbin" rowsum
# and built for this machine's vectors (as the JIT builds)
"$cc" -O2 -std=c99 -ffp-contract=off -march=native -c "$dir/${name}_grad.c" -o "$dir/n.o"
"$cc" -O2 -w -DMODEL="${name}_model" -include "$dir/${name}_grad.h" "$driver" "$dir/n.o" \
	-lm -o "$dir/nbin"
"$dir/nbin" rowsum
awk -v a="$t0" -v b="$t1" -v c="$t2" -v lines="$(wc -l <"$dir/${name}_grad.c")" \
	'BEGIN { printf "generate %.2f s, %d lines, gcc -O2 %.2f s\n", b - a, lines, c - b }'
