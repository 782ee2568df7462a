#!/bin/sh
# threads.sh SYMGRAD ROOT: training with --threads 1, 2, 3 and 8 gives the
# same bits: saved parameters byte for byte, the same log (loss, val_loss,
# metrics, grad_norm: every column but the time), the same stdout and the
# same messages, errors included.  Full batch and mini-batches of more than
# 64 rows (the block size), in order and shuffled, SGD, momentum and Adam,
# double and float, on lecture 7 (unrolled), lecture 9 (loop form) and a
# data set that stops on a non-finite loss.  Batches of 64 rows or fewer
# use no threads; they are here to check that nothing else changes.
set -u
symgrad=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
XDG_CACHE_HOME=$work/cache
export XDG_CACHE_HOME
fail=0
count=0

# Trains with $@ on 1, 2, 3 and 8 threads; everything must match 1's.
same() {
	for n in 1 2 3 8; do
		rm -f "$work/$n".*
		"$symgrad" train "$@" --threads $n --log-every 1 --log "$work/$n.log" \
			--save "$work/$n.params" >"$work/$n.out" 2>"$work/$n.err"
		echo "exit $?" >>"$work/$n.err"
		sed 's/,[^,]*$//' "$work/$n.log" >"$work/$n.cols" 2>/dev/null
		sed 's/ time [0-9.]*s$//' "$work/$n.err" >"$work/$n.msg"
		[ $n = 1 ] && continue
		for f in params cols msg out; do
			if ! cmp -s "$work/1.$f" "$work/$n.$f"; then
				echo "FAIL: symgrad train $* --threads $n: $f differs from --threads 1"
				diff "$work/1.$f" "$work/$n.$f" | head -6
				fail=1
			fi
		done
	done
	count=$((count + 1))
}

ex=$root/examples
d7="$ex/lecture07_diabetes/diabetes.sg --data $ex/lecture07_diabetes/diabetes.csv"
d9="$ex/lecture09_softmax/softmax.sg --data $ex/lecture09_softmax/digits.csv"
for dt in double float; do
	# shellcheck disable=SC2086
	{
		same $d7 --batch all --lr 0.1 --epochs 20 --dtype $dt
		same $d7 --batch 100 --shuffle --seed 3 --optimizer momentum --lr 0.05 --epochs 4 \
			--dtype $dt --val-split 0.2 --metric accuracy
		same $d7 --batch 300 --shuffle --optimizer adam --lr 0.01 --epochs 4 --dtype $dt \
			--clip-norm 0.5
		same $d7 --batch 64 --shuffle --lr 0.1 --epochs 2 --dtype $dt
		same $d9 --batch all --lr 0.1 --epochs 3 --dtype $dt --metric accuracy
		same $d9 --batch 200 --shuffle --seed 5 --optimizer adam --lr 0.01 --epochs 2 \
			--dtype $dt --val-split 0.1
	}
done

# A loss that is not finite in a row of the second block: the same error,
# the same row, the same parameters (the last finite ones).
awk 'BEGIN { print "x,y"; for (i = 0; i < 150; i++) print (i % 7) / 3 "," i % 5;
	print "1e200,1"; for (i = 0; i < 60; i++) print "1,2" }' >"$work/big.csv"
for dt in double float; do
	same "$ex/lecture04/linear.sg" --data "$work/big.csv" --batch all --lr 0.001 --epochs 2 \
		--dtype $dt
	grep -q "non-finite gradient at epoch 1, row 151" "$work/1.msg" ||
		{ echo "FAIL: $dt: no stop at row 151:"; cat "$work/1.msg"; fail=1; }
	same "$ex/lecture04/linear.sg" --data "$work/big.csv" --batch 100 --lr 0.001 --epochs 2 \
		--dtype $dt --shuffle
done

echo "$count comparisons"
exit $fail
