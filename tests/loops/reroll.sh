#!/bin/sh
# reroll.sh SYMGRAD MODEL.sg: in loop form, a scan's steps are one loop over
# the steps (gen/reroll.c), forward and backward: the code has "for (int t"
# loops in the forward function and in the backward pass, stays under 1,400
# lines, and does not grow with the number of steps (the model's xs[6, 5],
# ys[6] made 12 and 30 steps long: the same code; only the descriptor's name
# tables, one entry per element, grow).  Twice the same input, the same bytes.
# tests/loops' compare.sh checks that the loops compute the unrolled bits.
set -eu
symgrad=$1 model=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# the functions' lines: all up to the name tables
code_lines() {
	sed '/_param_names\[\] = {/,$d' "$1" | wc -l | tr -d ' '
}
"$symgrad" gen "$model" --loops always -o "$dir/m.c"
mkdir "$dir/again"
"$symgrad" gen "$model" --loops always -o "$dir/again/m.c"
cmp "$dir/m.c" "$dir/again/m.c"
lines=$(code_lines "$dir/m.c")
fwd=$(sed -n '/_forward(/,/_backward(/p' "$dir/m.c" | grep -c 'for (int t = ' || true)
bwd=$(sed -n '/backward pass:/,/the gradient:/p' "$dir/m.c" | grep -c 'for (int t = ' || true)
echo "$model: $lines lines of code, $fwd step loops forward, $bwd in the backward pass"
[ "$fwd" -ge 1 ] || { echo "no step loop in the forward function" >&2; exit 1; }
[ "$bwd" -ge 1 ] || { echo "no step loop in the backward pass" >&2; exit 1; }
[ "$lines" -lt 1400 ] || { echo "$lines lines: the steps are not rerolled" >&2; exit 1; }
for T in 12 30; do
	sed "s/xs\[6, 5\], ys\[6\]/xs[$T, 5], ys[$T]/" "$model" >"$dir/t$T.sg"
	grep -q "xs\[$T, 5\]" "$dir/t$T.sg" || { echo "no xs[6, 5], ys[6] in $model" >&2; exit 1; }
	"$symgrad" gen "$dir/t$T.sg" --loops always -o "$dir/t$T.c"
	echo "$T steps: $(code_lines "$dir/t$T.c") lines of code"
done
[ "$(code_lines "$dir/t12.c")" -eq "$(code_lines "$dir/t30.c")" ] ||
	{ echo "the code grows with the number of steps" >&2; exit 1; }
[ "$(code_lines "$dir/t30.c")" -lt 1400 ] || { echo "30 steps: not rerolled" >&2; exit 1; }
