#!/bin/sh
# tests/bench/run.sh BUILD_DIR [OUT_DIR]
#
# The benchmark suite (README "Performance"): prints Markdown tables and
# writes machine-readable results (CSV) to OUT_DIR (default BUILD_DIR/bench).
#   1-2. generated gradients against hand-written C, one sample and batched
#   3.   SGD steps per second through `symgrad train`
#   4.   generator time and peak memory against model size, with a fitted slope
#   5.   operation counts of forward and backward code
#   6.   gcc -O2 compile time of the generated C against model size
#   7.   PyTorch eager on the same models, when /usr/bin/python3 imports torch
# Times are medians of repeated runs; compare ratios measured in one run.
set -eu
build=$(cd "${1:?usage: run.sh BUILD_DIR [OUT_DIR]}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$build/bench}
mkdir -p "$out"
out=$(cd "$out" && pwd)
symgrad=$build/gen/symgrad
cc=${CC:-cc}
cflags="-O2 -std=c99 -ffp-contract=off -D_POSIX_C_SOURCE=200809L"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"

echo "# symgrad benchmarks"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
     "$($cc --version | head -1); flags: $cflags"
echo

# ---- 1, 2: generated vs hand-written C ----
"$symgrad" gen examples/lecture04/linear.sg -o "$work/linear_grad.c"
"$symgrad" gen examples/exercises/ex4_4.sg -o "$work/ex4_4_grad.c"
"$symgrad" gen examples/lecture07_diabetes/diabetes.sg -o "$work/diabetes_grad.c"
sed 's/^model diabetes/model diabetes_f/' examples/lecture07_diabetes/diabetes.sg >"$work/diabetes_f.sg"
"$symgrad" gen "$work/diabetes_f.sg" --dtype float -o "$work/diabetes_f_grad.c"
# shellcheck disable=SC2086
$cc $cflags -I"$work" -Itests/bench tests/bench/bench.c tests/bench/hand.c \
	"$work/linear_grad.c" "$work/ex4_4_grad.c" "$work/diabetes_grad.c" \
	"$work/diabetes_f_grad.c" -o "$work/bench" -lm
echo "## Generated against hand-written C (same compiler, flags and data)"
echo
"$work/bench" examples/lecture07_diabetes/diabetes.csv "$out/gradients.csv"
echo

# ---- 3: training steps through symgrad train ----
# Per-sample SGD on the lecture's 3 rows; the time of E epochs minus that of
# E/10 epochs, over the steps between, leaves out start-up and compilation.
echo "## SGD steps through \`symgrad train\` (lecture 4 model, batch 1)"
echo
export XDG_CACHE_HOME="$work/cache"
train() {
	/usr/bin/time -f "%e" "$symgrad" train examples/lecture04/linear.sg \
		--data examples/lecture04/data.csv --lr 0.001 --epochs "$1" --batch 1 --quiet \
		2>&1 >/dev/null | tail -1
}
train 10 >/dev/null # compile once, into the cache
big=1000000
small=100000
steps_ns=$(for i in 1 2 3 4 5; do
	t1=$(train $small)
	t2=$(train $big)
	echo "$t1 $t2" | awk -v n=$(((big - small) * 3)) '{ printf "%.3f\n", ($2 - $1) * 1e9 / n }'
done | sort -n | sed -n 3p)
echo "| what | ns per step (median of 5) |"
echo "|---|---|"
echo "| \`symgrad train\`, lecture model, float64 | $steps_ns |"
echo "train_step_ns,$steps_ns" >"$out/train.csv"
echo

# ---- 4, 5: generator scaling and operation counts ----
echo "## Generator: time, peak memory, operation counts"
echo
chain() { # a chain of n tanh layers of a scalar
	awk -v n="$1" 'BEGIN { print "model chain\ninput x, y\nparam w = 0.5, b = 0.1\na0 = x"
		for (i = 1; i <= n; i++) printf "a%d = tanh(a%d * w + b)\n", i, i - 1
		printf "loss = (a%d - y)^2\n", n }'
}
net() { # an MLP with sigmoid layers and BCE: net NAME SIZES...
	name=$1
	shift
	printf 'model %s\ninput x[%s], y\n' "$name" "$1"
	prev=$1 i=1 h=x
	shift
	for s in "$@"; do
		printf 'param W%d[%d, %d] ~ linear, b%d[%d] ~ linear(%d)\n' $i "$s" "$prev" $i "$s" "$prev"
		printf 'h%d = sigmoid(W%d @ %s + b%d)\n' $i $i "$h" $i
		h=h$i prev=$s i=$((i + 1))
	done
	printf 'loss = bce(%s[0], y)\n' "$h"
}
for n in 1000 2000 4000 8000 16000; do chain $n >"$work/chain$n.sg"; done
net net8 8 6 4 1 >"$work/net8.sg"
net net16 16 32 16 1 >"$work/net16.sg"
net net64 64 128 64 10 >"$work/net64.sg"
net net784 784 100 10 >"$work/net784.sg"
echo "| model | params | DAG nodes | forward ops | gradient ops | gradient/forward | gen time s (median of 5) | peak MiB | C lines |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "model,params,nodes,forward_ops,gradient_ops,seconds,peak_kib,c_lines" >"$out/generator.csv"
for m in chain1000 chain2000 chain4000 chain8000 chain16000 net8 net16 net64 net784; do
	f=$work/$m.sg
	times=""
	for i in 1 2 3 4 5; do
		if ! /usr/bin/time -f "%e %M" -o "$work/time" "$symgrad" gen "$f" -o "$work/$m.c" \
			--stats 2>"$work/stats" >/dev/null; then
			times=fail
			break
		fi
		times="$times $(cat "$work/time")"
	done
	if [ "$times" = fail ]; then
		echo "| $m | | | | | | failed: $(grep error "$work/stats" | head -1) | | |"
		continue
	fi
	med=$(echo "$times" | tr ' ' '\n' | awk 'NF' | paste -d' ' - - | sort -n | sed -n 3p)
	secs=${med% *}
	kib=${med#* }
	params=$(sed -n 's/.*: \([0-9]*\) params.*/\1/p' "$work/stats")
	nodes=$(sed -n 's/.*, \([0-9]*\) DAG nodes/\1/p' "$work/stats")
	fwd=$(sed -n 's/^backward: .*(forward \([0-9]*\) + .*/\1/p' "$work/stats")
	grad=$(sed -n 's/^backward: .*+ gradient \([0-9]*\)).*/\1/p' "$work/stats")
	lines=$(wc -l <"$work/$m.c")
	echo "| $m | $params | $nodes | $fwd | $grad | $(echo "$grad $fwd" | awk '{printf "%.2f", $1/$2}') | $secs | $((kib / 1024)) | $lines |"
	echo "$m,$params,$nodes,$fwd,$grad,$secs,$kib,$lines" >>"$out/generator.csv"
done
echo
awk -F, 'NR > 1 && $1 ~ /^chain/ { n++; x = $3; y = $6; sx += x; sy += y; sxx += x * x; sxy += x * y }
	END { b = (n * sxy - sx * sy) / (n * sxx - sx * sx); a = (sy - b * sx) / n
	      printf "Chains: time = %.4f s + %.3f us per DAG node (least squares over %d sizes)\n\n", a, b * 1e6, n }' \
	"$out/generator.csv"

# ---- 6: compile time ----
echo "## gcc -O2 compile time of the generated C"
echo
echo "| model | C lines | seconds |"
echo "|---|---|---|"
echo "model,c_lines,seconds" >"$out/compile.csv"
for m in net8 chain1000 net16; do # larger ones take minutes: see README
	[ -f "$work/$m.c" ] || continue
	t=$(/usr/bin/time -f "%e" $cc -O2 -std=c99 -c "$work/$m.c" -o "$work/$m.o" 2>&1 | tail -1)
	echo "| $m | $(wc -l <"$work/$m.c") | $t |"
	echo "$m,$(wc -l <"$work/$m.c"),$t" >>"$out/compile.csv"
done
echo

# ---- 7: PyTorch ----
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	echo "## PyTorch eager, same machine, same run"
	echo
	/usr/bin/python3 tests/bench/torch_bench.py examples/lecture07_diabetes/diabetes.csv \
		"$out/gradients.csv" "$out/train.csv" "$out/torch.csv"
else
	echo "PyTorch: skipped (/usr/bin/python3 cannot import torch; apt-get install python3-torch)"
fi
echo
echo "Results: $out/*.csv"
