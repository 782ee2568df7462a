#!/bin/sh
# isa.sh SYMGRAD ROOT: values do not depend on the JIT's target.  Every
# model under examples/ and tests/gradcheck/models is built for this machine
# (--isa native) and for the compiler's default target (--isa baseline), in
# double and float, and evaluated at four points (loss, outputs and
# gradient, printed round-trip exact); the example models with data also
# train a few epochs per-sample, in mini-batches and full-batch, and their
# saved parameters must be the same bytes.  --vector-math is left out:
# libmvec's 2-, 4- and 8-lane versions are separate implementations.  On a
# machine whose native target is the default one the comparison is empty;
# the script says so.  ISA_MODELS=examples leaves out the gradcheck models.
set -u
symgrad=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
XDG_CACHE_HOME=$work/cache
export XDG_CACHE_HOME
fail=0

# The inputs of model $1, comma-separated, without shapes.
inputs() {
	sed -n 's/#.*//; s/^input[ 	]//p' "$1" | sed 's/\[[^]]*\]//g; s/[ 	]//g' | paste -sd, -
}

# Runs symgrad with $@ for both targets; the outputs must be equal.
same() {
	"$symgrad" "$@" --isa native >"$work/native" 2>&1
	"$symgrad" "$@" --isa baseline >"$work/baseline" 2>&1
	if ! cmp -s "$work/native" "$work/baseline"; then
		echo "FAIL: symgrad $* differs between --isa native and --isa baseline:"
		diff "$work/native" "$work/baseline" | head -10
		fail=1
	fi
}

count=0
models="$root/examples/*/*.sg"
[ "${ISA_MODELS:-}" = examples ] || models="$models $root/tests/gradcheck/models/*.sg"
for m in $models; do
	in=$(inputs "$m")
	# the gradcheck models: double only, two points (one compile per target)
	case $m in
	*/gradcheck/*) dts=double points="0.3 -1.7" ;;
	*) dts="double float" points="0.3 -0.7 1.9 2" ;;
	esac
	for dt in $dts; do
		for v in $points; do
			at=$(echo "$in" | sed "s/\([A-Za-z_][A-Za-z0-9_]*\)/\1=$v*/g")
			case $m in
			*softmax.sg) at=$(echo "$at" | sed 's/label=[^,]*/label=1/') ;;
			*hello.sg) at=$(echo "$at" | sed 's/ys=[^,]*/ys=1*/') ;; # classes
			esac
			same eval "$m" --dtype "$dt" --at "$at"
			count=$((count + 1))
		done
	done
done

# Short training runs of the examples with data; parameters compared as files.
train() {
	m=$1
	shift
	for dt in double float; do
		for b in 1 32 all; do
			for isa in native baseline; do
				"$symgrad" train "$m" --data "$(dirname "$m")/$d" --dtype "$dt" \
					--batch "$b" --isa "$isa" --quiet --save "$work/$isa.params" "$@" \
					>/dev/null 2>&1 || { echo "FAIL: train $m --isa $isa"; fail=1; }
			done
			if ! cmp -s "$work/native.params" "$work/baseline.params"; then
				echo "FAIL: train $m --dtype $dt --batch $b: parameters differ"
				fail=1
			fi
			count=$((count + 1))
		done
	done
}
d=data.csv train "$root/examples/lecture04/linear.sg" --epochs 5
d=data.csv train "$root/examples/lecture05_linear/linear.sg" --epochs 5
d=data.csv train "$root/examples/lecture06_logistic/logistic.sg" --epochs 5
d=diabetes.csv train "$root/examples/lecture07_diabetes/diabetes.sg" --epochs 3 --lr 0.1
d=digits.csv train "$root/examples/lecture09_softmax/softmax.sg" --epochs 1 --lr 0.01 \
	--optimizer momentum
d=hello.csv train "$root/examples/lecture12_rnn/hello.sg" --epochs 5 --lr 0.1 --optimizer adam

# Two targets, two cache entries, unless native is the default target here.
XDG_CACHE_HOME=$work/probe
"$symgrad" eval "$root/examples/lecture04/linear.sg" --at x=1,y=2 --isa native >/dev/null
"$symgrad" eval "$root/examples/lecture04/linear.sg" --at x=1,y=2 --isa baseline >/dev/null
if [ "$(ls "$XDG_CACHE_HOME/symgrad" | wc -l)" = 1 ]; then
	echo "note: the native target is the compiler's default here; nothing was compared"
else
	echo "$count comparisons of native and baseline builds"
fi
exit $fail
