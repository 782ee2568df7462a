#!/bin/sh
# compare.sh SYMGRAD MODEL.sg DTYPE CC DRIVER [CFLAGS [BEYOND]]: the loop program and
# the unrolled program of one model compute the same bits (tests/loops/
# compare.c), with the unrolled batch's row blocks vectorized or not.
set -eu
symgrad=$1 model=$2 dtype=$3 cc=$4 driver=$5 cflags=${6:--O1} beyond=${7:-all}
case " $cflags " in
*" -march=native "*)
	# the batch's vector forms (#if NAME_VECTORS) are compiled with AVX only
	if ! "$cc" -march=native -dM -E - </dev/null | grep -q '__AVX__'; then
		echo "$model: this machine has no AVX, so no vector form to compare: skipped"
		exit 77
	fi
	;;
esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
name=$(sed -n 's/^model[ 	]*\([A-Za-z_0-9]*\).*/\1/p' "$model" | head -n 1)
[ -n "$name" ] || name=$(basename "$model" .sg)
# and the functions beyond the gradient that loops have: the Jacobian when
# the model has outputs, the dense Hessian when it has at most 1,000 params
set -- --hvp --jvp --vjp
grep -q '^residual' "$model" && set -- "$@" --gnvp
# (BEYOND "some": the HVP, JVP and VJP only, for the largest models)
if [ "$beyond" = all ]; then
	grep -q '^output' "$model" && set -- "$@" --jacobian
	"$symgrad" gen "$model" --hessian --loops always -o "$dir/probe.c" 2>/dev/null &&
		set -- "$@" --hessian
	rm -f "$dir/probe.c" "$dir/probe.h"
fi
for mode in never always; do
	mkdir "$dir/$mode"
	"$symgrad" gen "$model" --dtype "$dtype" --loops "$mode" "$@" -o "$dir/$mode/${name}_grad.c" \
		2>"$dir/$mode.err"
	# the generated code builds warning-free in strict C99, in both forms
	# shellcheck disable=SC2086
	"$cc" $cflags -ffp-contract=off -std=c99 -Wall -Wextra -Wpedantic -Werror \
		-c "$dir/$mode/${name}_grad.c" -o "$dir/$mode.o"
	"$cc" -O1 -std=c11 -w -DMODEL="${name}_model" -include "$dir/$mode/${name}_grad.h" \
		"$driver" "$dir/$mode.o" -lm -o "$dir/$mode.bin"
	"$dir/$mode.bin" 20 >"$dir/$mode.out"
done
if ! grep -q "^/\* Loops:" "$dir/always/${name}_grad.c"; then
	echo "$model: --loops always did not emit loops:" >&2
	"$symgrad" gen "$model" --loops always --stats -o /dev/null 2>&1 | grep unrolled >&2 || true
	exit 1
fi
if ! cmp -s "$dir/never.out" "$dir/always.out"; then
	echo "$model ($dtype): loop and unrolled programs differ:" >&2
	diff "$dir/never.out" "$dir/always.out" | head -n 20 >&2
	exit 1
fi
echo "$model ($dtype, $cflags): $(grep -c . "$dir/never.out") values identical"
