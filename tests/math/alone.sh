#!/bin/sh
# alone.sh SYMGRAD CC: each elementary function alone in a model, in double
# and in float, generated and compiled strict C99 and warning-free by CC and
# by clang when it is installed (clang warns about an unused static inline
# function; the generator copies a function's helpers with it, so a helper
# copied but not used is caught here: a float model using only sigmoid once
# drew four such warnings).
set -eu
symgrad=$1 cc=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
strict="-std=c99 -ffp-contract=off -fno-trapping-math -Wall -Wextra -Wpedantic -Werror"
clang=$(command -v clang || true)
n=0
for f in exp log log1p expm1 tanh sigmoid softplus silu elu logsigmoid sin cos atan asin acos \
	erf gelu log2 exp2 cbrt sinh cosh tan asinh acosh atanh erfc \
	"atan2(z, x)" "hypot(z, x)" "pow(z, x)" "bce(sigmoid(z), x)"; do
	case $f in
	*"("*) e=$f ;;
	*) e="$f(z)" ;;
	esac
	printf 'model alone\ninput x\nparam w = 0.5\nz = w * x\nloss = %s\n' "$e" >"$dir/alone.sg"
	for dt in double float; do
		"$symgrad" gen "$dir/alone.sg" --dtype $dt -o "$dir/alone_grad.c"
		for c in "$cc" $clang; do
			# shellcheck disable=SC2086
			"$c" -O0 $strict -c "$dir/alone_grad.c" -o "$dir/alone.o" || {
				echo "alone.sh: $e ($dt) does not compile warning-free with $c" >&2
				exit 1
			}
			n=$((n + 1))
		done
	done
done
echo "$n builds warning-free${clang:+ (with clang)}"
