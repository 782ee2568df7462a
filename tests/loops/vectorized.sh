#!/bin/sh
# vectorized.sh SYMGRAD MODEL.sg CC DRIVER: the batched gradient's row blocks
# are vectorized by the C compiler at -O2 (GCC's report counts the loops),
# with and without --vector-math; with it, exp and log are libmvec's vector
# calls, and the batch's loss and gradient stay within 1e-13 relative of the
# exact batch (DRIVER is tests/loops/compare.c): a vector call bound to the
# wrong function, or giving NaN, fails.
set -eu
symgrad=$1 model=$2 cc=$3 driver=$4
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
	name=$(sed -n 's/^model[ 	]*\([A-Za-z_0-9]*\).*/\1/p' "$model" | head -n 1)
	# shellcheck disable=SC2086
	"$cc" $flags -c "$dir/m.c" -I"$dir" -o "$dir/m.o"
	"$cc" -O1 -std=c11 -w -DMODEL="${name}_model" -include "$dir/m.h" "$driver" \
		"$dir/m.o" -lm -o "$dir/bin"
	"$dir/bin" batch >"$dir/${vm:-exact}.out"
done
# values: every line within 1e-13 relative of the exact batch, none NaN
paste -d' ' "$dir/exact.out" "$dir/--vector-math.out" | awk '
	{ if ($1 != $3 || $2 != $2 + 0 || $4 != $4 + 0 || $2 ~ /nan|inf/ || $4 ~ /nan|inf/) {
		print "not comparable: " $0; bad = 1; next }
	  d = $2 - $4; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2; r = s > 1e-300 ? d / s : d
	  if (r > worst) worst = r
	  if (!(r <= 1e-13)) { print "differs: " $0; bad = 1 }
	  n++; same += $2 == $4 }
	END { printf "--vector-math: %d values, %d bit-identical, largest relative difference %.3g\n",
		n, same, worst; exit bad }' 
