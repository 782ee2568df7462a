#!/bin/sh
# checkpoint.sh SYMGRAD ROOT: one process, no MPI needed.  A run stopped
# after 3 of 6 epochs with --checkpoint and resumed with --resume saves the
# parameters of the run that never stopped, byte for byte, and its log goes
# on with the same losses: per-sample SGD (the inlined loop), mini-batches
# shuffled with momentum and a schedule, Adam on the full batch, float, and
# validation with patience (the best epoch's parameters).  Bad checkpoints
# stop with FILE:LINE: error.
set -u
symgrad=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
XDG_CACHE_HOME=$work/cache
export XDG_CACHE_HOME
fail=0
count=0

ck() {
	"$symgrad" train "$@" --epochs 6 --save "$work/straight" --log "$work/straight.log" \
		--quiet || { echo "FAIL: $* --epochs 6"; fail=1; }
	rm -f "$work/ck" "$work/resumed"
	"$symgrad" train "$@" --epochs 3 --checkpoint "$work/ck" --log "$work/a.log" --quiet &&
		"$symgrad" train "$@" --epochs 6 --resume "$work/ck" --save "$work/resumed" \
			--log "$work/b.log" --quiet ||
		{ echo "FAIL: $*: exit status"; fail=1; }
	cmp -s "$work/straight" "$work/resumed" ||
		{ echo "FAIL: $*: the resumed run's parameters differ"; fail=1; }
	# the logs without the time: epochs 1-3, then 4-6
	{ cat "$work/a.log"; tail -n +2 "$work/b.log"; } | sed 's/,[^,]*$//' >"$work/ab"
	sed 's/,[^,]*$//' "$work/straight.log" >"$work/s"
	cmp -s "$work/s" "$work/ab" ||
		{ echo "FAIL: $*: the resumed run's log differs"; diff "$work/s" "$work/ab" | head -4; fail=1; }
	count=$((count + 1))
}

ex=$root/examples
d7="$ex/lecture07_diabetes/diabetes.sg --data $ex/lecture07_diabetes/diabetes.csv"
d9="$ex/lecture09_softmax/softmax.sg --data $ex/lecture09_softmax/digits.csv"
# shellcheck disable=SC2086
{
	ck $d7 --batch 1 --shuffle --seed 2 --lr 0.01
	ck $d7 --batch 100 --shuffle --optimizer momentum --lr 0.05 --lr-schedule step:2:0.5
	ck $d7 --batch all --optimizer adam --lr 0.01 --dtype float
	ck $d9 --batch 150 --shuffle --optimizer adamw --lr 0.01 --val-split 0.2 --patience 2 \
		--metric accuracy
}

# Resuming must not be a no-op: a checkpoint's parameters differ from the
# model's initial values, and a fresh run of 3 epochs from them does not
# give the resumed run's bits (the optimizer's state and the generator
# count).
# shellcheck disable=SC2086
"$symgrad" train $d7 --batch 100 --shuffle --optimizer adam --lr 0.01 --epochs 3 \
	--checkpoint "$work/ck" --save "$work/three" --quiet
# shellcheck disable=SC2086
"$symgrad" train $d7 --batch 100 --shuffle --optimizer adam --lr 0.01 --epochs 3 \
	--load "$work/three" --save "$work/fresh" --quiet
# shellcheck disable=SC2086
"$symgrad" train $d7 --batch 100 --shuffle --optimizer adam --lr 0.01 --epochs 6 \
	--resume "$work/ck" --save "$work/resumed" --quiet
cmp -s "$work/fresh" "$work/resumed" &&
	{ echo "FAIL: resuming is the same as starting again from the parameters"; fail=1; }

# Errors: another optimizer, a short file, not a checkpoint, --load with it.
# shellcheck disable=SC2086
"$symgrad" train $d7 --batch 100 --epochs 4 --optimizer adam --resume "$work/ck" \
	>"$work/e.out" 2>&1
[ $? = 1 ] && grep -q "ck:5: error: the checkpoint's optimizer is 'adam', this run's is 'adam'" \
	"$work/e.out" && { echo "FAIL: a matching optimizer refused"; fail=1; }
# shellcheck disable=SC2086
"$symgrad" train $d7 --batch 100 --epochs 4 --optimizer momentum --resume "$work/ck" \
	>"$work/e.out" 2>&1
[ $? = 1 ] && grep -q "ck:5: error: the checkpoint's optimizer is 'adam', this run's is 'momentum'" \
	"$work/e.out" || { echo "FAIL: wrong optimizer:"; cat "$work/e.out"; fail=1; }
head -n 20 "$work/ck" >"$work/short"
# shellcheck disable=SC2086
"$symgrad" train $d7 --batch 100 --epochs 4 --optimizer adam --resume "$work/short" \
	>"$work/e.out" 2>&1
[ $? = 1 ] && grep -q "short:21: error: the checkpoint ends here" "$work/e.out" ||
	{ echo "FAIL: short checkpoint:"; cat "$work/e.out"; fail=1; }
# shellcheck disable=SC2086
"$symgrad" train $d7 --epochs 4 --resume "$ex/lecture07_diabetes/diabetes.csv" \
	>"$work/e.out" 2>&1
[ $? = 1 ] && grep -q "diabetes.csv:1: error: not a symgrad checkpoint" "$work/e.out" ||
	{ echo "FAIL: not a checkpoint:"; cat "$work/e.out"; fail=1; }
# shellcheck disable=SC2086
"$symgrad" train $d7 --resume "$work/ck" --load "$work/three" >"$work/e.out" 2>&1
[ $? = 2 ] && grep -q "not both" "$work/e.out" ||
	{ echo "FAIL: --load with --resume:"; cat "$work/e.out"; fail=1; }

echo "$count comparisons"
exit $fail
