#!/bin/sh
# vectorized.sh SYMGRAD MODEL.sg CC DRIVER: the batched gradient's row blocks
# are vectorized by the C compiler at -O2 (GCC's report counts the loops).
# With symgrad's own functions (the default) the code calls no exp or log at
# all: they are inlined, and the block of the whole row is one vectorized
# loop.  With --math libm, <math.h>'s are called.  The two batches' loss and
# gradient stay within 1e-13 relative of each other (DRIVER is
# tests/loops/compare.c): a wrong own function, or NaN, fails; and
# --vector-math is an alias of the default (the same file).
set -eu
symgrad=$1 model=$2 cc=$3 driver=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
flags="-O2 -std=c99 -ffp-contract=off -fno-trapping-math"
for math in own libm; do
	"$symgrad" gen "$model" --math $math -o "$dir/m.c"
	# shellcheck disable=SC2086
	n=$("$cc" $flags -c "$dir/m.c" -o "$dir/m.o" -fopt-info-vec-optimized 2>&1 |
		grep -c "loop vectorized" || true)
	# shellcheck disable=SC2086
	calls=$("$cc" $flags -S "$dir/m.c" -o - |
		grep -cE "(call|jmp)[[:space:]]*(exp|log|expm1|log1p|tanh)f?(@PLT)?$" || true)
	echo "--math $math: $n loops vectorized, $calls calls to exp, log, ..."
	[ "$n" -gt 0 ] || { echo "no loop vectorized" >&2; exit 1; }
	if [ $math = own ] && [ "$calls" -ne 0 ]; then
		echo "--math own calls <math.h>'s exp or log" >&2
		exit 1
	fi
	if [ $math = libm ] && [ "$calls" -eq 0 ]; then
		echo "--math libm made no calls" >&2
		exit 1
	fi
	name=$(sed -n 's/^model[ 	]*\([A-Za-z_0-9]*\).*/\1/p' "$model" | head -n 1)
	# shellcheck disable=SC2086
	"$cc" $flags -c "$dir/m.c" -I"$dir" -o "$dir/m.o"
	"$cc" -O1 -std=c11 -w -DMODEL="${name}_model" -include "$dir/m.h" "$driver" \
		"$dir/m.o" -lm -o "$dir/bin"
	"$dir/bin" batch >"$dir/$math.out"
done
"$symgrad" gen "$model" --vector-math -o "$dir/v.c"
"$symgrad" gen "$model" -o "$dir/m.c"
sed 's/v\.h"/m.h"/' "$dir/v.c" | cmp -s - "$dir/m.c" ||
	{ echo "--vector-math is not the default" >&2; exit 1; }
# values: every line within 1e-13 relative of libm's, none NaN
paste -d' ' "$dir/own.out" "$dir/libm.out" | awk '
	{ if ($1 != $3 || $2 != $2 + 0 || $4 != $4 + 0 || $2 ~ /nan|inf/ || $4 ~ /nan|inf/) {
		print "not comparable: " $0; bad = 1; next }
	  d = $2 - $4; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2; r = s > 1e-300 ? d / s : d
	  if (r > worst) worst = r
	  if (!(r <= 1e-13)) { print "differs: " $0; bad = 1 }
	  n++; same += $2 == $4 }
	END { printf "own against libm: %d values, %d bit-identical, largest relative difference %.3g\n",
		n, same, worst; exit bad }'
