#!/bin/sh
# samebits.sh SYMGRAD CC DRIVER MODEL.sg...: with symgrad's own functions
# (the default), every model computes the same bits, in double and in float,
# built for baseline x86-64 (-O2), for this machine (-O2 -march=native: AVX,
# FMA units, which -ffp-contract=off keeps from contracting) and by clang
# when it is installed; each build strict C99, warning-free.  DRIVER
# (tests/loops/compare.c) prints everything a model computes at fixed points,
# as hex floats.  Then the generator's folding: tests/math/fold.sg's outputs,
# a function of x minus the same function of the constant 0.3 (folded at
# generation time), are exactly 0 at x = 0.3.
set -eu
symgrad=$1 cc=$2 driver=$3
shift 3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
strict="-std=c99 -ffp-contract=off -fno-trapping-math -Wall -Wextra -Wpedantic -Werror"
clang=$(command -v clang || true)
builds="base native"
[ -n "$clang" ] && builds="$builds clang"
for model in "$@"; do
	name=$(sed -n 's/^model[ 	]*\([A-Za-z_0-9]*\).*/\1/p' "$model" | head -n 1)
	for dt in double float; do
		"$symgrad" gen "$model" --dtype $dt -o "$dir/${name}_grad.c"
		for b in $builds; do
			case $b in
			base) c=$cc fl="-O2" ;;
			native) c=$cc fl="-O2 -march=native" ;;
			clang) c=$clang fl="-O2" ;;
			esac
			# shellcheck disable=SC2086
			"$c" $fl $strict -c "$dir/${name}_grad.c" -o "$dir/m.o"
			"$cc" -O1 -std=c11 -w -DMODEL="${name}_model" -include "$dir/${name}_grad.h" \
				"$driver" "$dir/m.o" -lm -o "$dir/bin"
			{ "$dir/bin" 20; "$dir/bin" batch; } >"$dir/$b.out"
		done
		for b in $builds; do
			cmp -s "$dir/base.out" "$dir/$b.out" || {
				echo "$model ($dt): the $b build differs from the baseline:" >&2
				diff "$dir/base.out" "$dir/$b.out" | head -n 10 >&2
				exit 1
			}
		done
		echo "$model ($dt): $(grep -c . "$dir/base.out") values, the same bits in builds: $builds"
	done
done
# folding: exp(0.3) and the others are constants in the generated code
here=$(dirname "$0")
for dt in double float; do
	"$symgrad" gen "$here/fold.sg" --dtype $dt -o "$dir/fold_grad.c"
	if grep -q "sg_[a-z0-9]*(0\.3" "$dir/fold_grad.c"; then
		echo "fold.sg ($dt): a function of 0.3 was not folded" >&2
		exit 1
	fi
	cat >"$dir/fold.c" <<'C'
#include <stdio.h>
#include "fold_grad.h"
int main(void)
{
	REAL p[1] = {1}, in[1] = {(REAL)0.3}, out[FOLD_N_OUTPUTS];
	int bad = 0;
	fold_forward(p, in, out);
	for (int i = 0; i < FOLD_N_OUTPUTS; i++) {
		bad |= out[i] != 0;
		printf("%s%a", i ? " " : "", (double)out[i]);
	}
	printf("\n");
	return bad;
}
C
	# shellcheck disable=SC2086
	"$cc" -O2 $strict -DREAL=$dt -I"$dir" "$dir/fold.c" "$dir/fold_grad.c" -o "$dir/fold" -lm
	"$dir/fold" >"$dir/fold.out" || {
		echo "fold.sg ($dt): folded and computed values differ at x = 0.3: $(cat "$dir/fold.out")" >&2
		exit 1
	}
	echo "fold.sg ($dt): $(wc -w <"$dir/fold.out") folded constants equal the generated code's values"
done
