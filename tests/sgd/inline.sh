#!/bin/sh
# inline.sh SYMGRAD ROOT: per-sample SGD through the model's inlined
# NAME_sgd_epoch computes what the call per row computes (--per-row-calls):
# the same saved parameters byte for byte, the same log (loss, grad_norm,
# every column but the time) and the same messages, for every example model
# and a few gradcheck models, double and float, in order and shuffled; and
# the same error, at the same row, when training stops on a value that is
# not finite (a loss, or a learning rate that makes a parameter overflow).
set -u
symgrad=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
XDG_CACHE_HOME=$work/cache
export XDG_CACHE_HOME
fail=0
count=0

# Trains with $@ both ways; saved parameters, logs and stderr must match.
same() {
	for how in inline call; do
		flag=
		[ $how = call ] && flag=--per-row-calls
		# shellcheck disable=SC2086
		"$symgrad" train "$@" --batch 1 --log-every 1 --log "$work/$how.log" \
			--save "$work/$how.params" $flag >"$work/$how.out" 2>"$work/$how.err"
		echo "exit $?" >>"$work/$how.err"
		sed 's/,[^,]*$//' "$work/$how.log" >"$work/$how.cols" 2>/dev/null
		sed 's/ time [0-9.]*s$//' "$work/$how.err" >"$work/$how.msg"
	done
	for f in params cols msg out; do
		if ! cmp -s "$work/inline.$f" "$work/call.$f"; then
			echo "FAIL: symgrad train $*: $f differs with --per-row-calls"
			diff "$work/inline.$f" "$work/call.$f" | head -6
			fail=1
		fi
	done
	count=$((count + 1))
}

ex=$root/examples
for dt in double float; do
	for sh in "" "--shuffle --seed 7"; do
		# shellcheck disable=SC2086
		same "$ex/lecture04/linear.sg" --data "$ex/lecture04/data.csv" --epochs 20 --dtype $dt $sh
		# shellcheck disable=SC2086
		same "$ex/lecture05_linear/linear.sg" --data "$ex/lecture05_linear/data.csv" --epochs 20 \
			--dtype $dt $sh
		# shellcheck disable=SC2086
		same "$ex/lecture06_logistic/logistic.sg" --data "$ex/lecture06_logistic/data.csv" \
			--epochs 20 --dtype $dt $sh
		# shellcheck disable=SC2086
		same "$ex/lecture07_diabetes/diabetes.sg" --data "$ex/lecture07_diabetes/diabetes.csv" \
			--epochs 3 --lr 0.1 --dtype $dt $sh
	done
	# a learning rate schedule changes lr between epochs
	same "$ex/lecture06_logistic/logistic.sg" --data "$ex/lecture06_logistic/data.csv" \
		--epochs 10 --dtype $dt --lr-schedule step:3:0.5
	# the loop form has no inlined step: the runtime's loop either way
	same "$ex/lecture09_softmax/softmax.sg" --data "$ex/lecture09_softmax/digits.csv" \
		--epochs 1 --dtype $dt
done

# Stops: a parameter that overflows (lr 1e300), a loss that overflows in a
# row after 100 good ones, a row whose doubled residual overflows (the
# inlined step computes (a + a) * x as a * (x + x)), data with inf.
awk 'BEGIN { print "x,y"; for (i = 0; i < 100; i++) print "1,2"; print "1e200,1"; print "1,2" }' \
	>"$work/big.csv"
awk 'BEGIN { print "x,y"; for (i = 0; i < 70; i++) print "1,2"; print "0.5,1.5e308"; print "1,2" }' \
	>"$work/double.csv"
awk 'BEGIN { print "x,y"; for (i = 0; i < 130; i++) print "1,2"; print "inf,2"; print "1,2" }' \
	>"$work/inf.csv"
for dt in double float; do
	same "$ex/lecture04/linear.sg" --data "$ex/lecture04/data.csv" --epochs 3 --lr 1e300 \
		--dtype $dt
	for d in big double inf; do
		same "$ex/lecture04/linear.sg" --data "$work/$d.csv" --epochs 2 --lr 0.001 --dtype $dt
	done
done
grep -q "error" "$work/call.msg" || { echo "FAIL: the stop cases did not stop"; fail=1; }

# Some gradcheck models, on random data of their inputs' width.
for name in bce conditions where clamp softplus; do
	m=$root/tests/gradcheck/models/$name.sg
	[ -f "$m" ] || continue
	cols=$(sed -n 's/#.*//; s/^input[ 	]//p' "$m" | tr ',' '\n' | awk -F'[][]' '
		{ gsub(/[ \t]/, ""); if ($2 == "") print $1; else for (i = 0; i < $2; i++) print $1 i }' |
		paste -sd, -)
	awk -v h="$cols" 'BEGIN { srand(3); n = split(h, c, ","); print h;
		for (r = 0; r < 50; r++) { s = ""; for (i = 1; i <= n; i++)
			s = s (i > 1 ? "," : "") sprintf("%.3f", rand()); print s } }' >"$work/$name.csv"
	for dt in double float; do
		same "$m" --data "$work/$name.csv" --epochs 3 --lr 0.05 --dtype $dt
	done
done
echo "$count comparisons"
exit $fail
