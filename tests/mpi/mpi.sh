#!/bin/sh
# mpi.sh SYMGRAD ROOT: training under mpirun with 1, 2, 3 and 4 processes
# (and 1 or 2 threads each) saves the same parameters, byte for byte, as
# one process without mpirun, and rank 0 writes the same log (every column
# but the time): mini-batches of more than 64 rows (the block size) in
# order and shuffled, full batch, SGD, momentum and Adam, double and float,
# on lecture 7 (unrolled) and lecture 9 (loop form).  Then checkpoints: a
# run stopped halfway and resumed (with or without mpirun, and across the
# two) ends with the bits of one that never stopped.  Then faults: a
# non-finite gradient stops every rank with one message naming the rank;
# a killed rank ends the job (no hang) and nothing is saved.  Then newton,
# lm and lbfgs: the same parameters and printed lines at any P, and one
# message for a value that is not finite.
set -u
symgrad=$1
root=$2
case $symgrad in /*) ;; *) symgrad=$PWD/$symgrad ;; esac
case $root in /*) ;; *) root=$PWD/$root ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
XDG_CACHE_HOME=$work/cache
export XDG_CACHE_HOME
# OpenMPI refuses root unless told; here only, for the tests.
OMPI_ALLOW_RUN_AS_ROOT=1
OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM
fail=0
count=0
mpirun="timeout 120 mpirun --oversubscribe"

# Trains with $@ alone, then under mpirun -n 1..4 with 1 and 2 threads;
# the parameters and log must match the lone run's.
same() {
	rm -f "$work"/ref.*
	"$symgrad" train "$@" --threads 1 --log "$work/ref.log" --save "$work/ref.params" \
		--quiet >"$work/ref.out" 2>&1 ||
		{ echo "FAIL: symgrad train $*: exit $?"; cat "$work/ref.out"; fail=1; }
	sed 's/,[^,]*$//' "$work/ref.log" >"$work/ref.cols"
	for n in 1 2 3 4; do
		for th in 1 2; do
			rm -f "$work"/p.*
			$mpirun -n $n "$symgrad" train "$@" --threads $th --log "$work/p.log" \
				--save "$work/p.params" --quiet >"$work/p.out" 2>&1 ||
				{ echo "FAIL: -n $n --threads $th $*: exit status"; cat "$work/p.out"; fail=1; }
			sed 's/,[^,]*$//' "$work/p.log" >"$work/p.cols" 2>/dev/null
			for f in params cols; do
				if ! cmp -s "$work/ref.$f" "$work/p.$f"; then
					echo "FAIL: mpirun -n $n symgrad train $* --threads $th: $f differs"
					diff "$work/ref.$f" "$work/p.$f" | head -4
					fail=1
				fi
			done
		done
	done
	count=$((count + 1))
}

ex=$root/examples
d7="$ex/lecture07_diabetes/diabetes.sg --data $ex/lecture07_diabetes/diabetes.csv"
d9="$ex/lecture09_softmax/softmax.sg --data $ex/lecture09_softmax/digits.csv"
# shellcheck disable=SC2086
{
	same $d7 --batch 100 --lr 0.1 --epochs 3
	same $d7 --batch 100 --shuffle --seed 3 --optimizer momentum --lr 0.05 --epochs 3 \
		--dtype float --val-split 0.2 --metric accuracy
	same $d7 --batch all --optimizer adam --lr 0.01 --epochs 10
	same $d9 --batch all --optimizer adam --lr 0.01 --epochs 3 --metric accuracy
	same $d9 --batch 200 --shuffle --seed 5 --lr 0.1 --epochs 2 --dtype float
	same $d9 --batch 64 --shuffle --lr 0.1 --epochs 1
}

# Checkpoints: 6 epochs straight; 3 epochs, then resumed to 6.
ck() {
	opts="$*"
	# shellcheck disable=SC2086
	"$symgrad" train $opts --epochs 6 --save "$work/straight" --quiet ||
		{ echo "FAIL: $opts --epochs 6"; fail=1; }
	for way in alone alone-mpi mpi-alone mpi; do
		rm -f "$work/ck" "$work/resumed"
		first=$symgrad second=$symgrad
		case $way in
		mpi-alone) first="$mpirun -n 3 $symgrad" ;;
		alone-mpi) second="$mpirun -n 2 $symgrad" ;;
		mpi) first="$mpirun -n 2 $symgrad" second="$mpirun -n 4 $symgrad" ;;
		esac
		# shellcheck disable=SC2086
		$first train $opts --epochs 3 --checkpoint "$work/ck" --quiet >"$work/ck.out" 2>&1 &&
			$second train $opts --epochs 6 --resume "$work/ck" --save "$work/resumed" \
				--quiet >>"$work/ck.out" 2>&1 ||
			{ echo "FAIL: $way: $opts: exit status"; cat "$work/ck.out"; fail=1; }
		cmp -s "$work/straight" "$work/resumed" ||
			{ echo "FAIL: checkpoint $way: $opts: resumed run differs"; fail=1; }
		grep -q '^epochs 3$' "$work/ck" ||
			{ echo "FAIL: checkpoint $way: no 'epochs 3' in it"; fail=1; }
		count=$((count + 1))
	done
}
# shellcheck disable=SC2086
{
	ck $d7 --batch 100 --shuffle --seed 7 --optimizer adam --lr 0.01
	ck $d9 --batch 150 --shuffle --optimizer momentum --lr 0.05 --lr-schedule step:2:0.5
	ck $d7 --batch 1 --shuffle --lr 0.01
}
# A non-finite loss in row 151 of 211 (4 blocks; with 2 ranks, rank 1 sums
# rows 129-211): every rank stops, one message names rank 1, exit 1.
awk 'BEGIN { print "x,y"; for (i = 0; i < 150; i++) print (i % 7) / 3 "," i % 5;
	print "1e200,1"; for (i = 0; i < 60; i++) print "1,2" }' >"$work/big.csv"
$mpirun -n 2 "$symgrad" train "$ex/lecture04/linear.sg" --data "$work/big.csv" --batch all \
	--lr 0.001 --epochs 2 --save "$work/nf.params" >"$work/nf.out" 2>&1
st=$?
n=$(grep -c "non-finite gradient at epoch 1, row 151 (.*big.csv:152) on rank 1" "$work/nf.out")
[ "$st" != 0 ] && [ "$n" = 1 ] ||
	{ echo "FAIL: non-finite: exit $st, $n messages:"; cat "$work/nf.out"; fail=1; }

# A rank killed in the middle of training ends the job: no rank hangs
# (timeout would say 124), nothing is saved.
awk 'BEGIN { print "x,y"; for (i = 0; i < 2000; i++) print (i % 7) / 3 "," i % 5 }' \
	>"$work/long.csv"
cat >"$work/kill.sh" <<EOS
#!/bin/sh
"$symgrad" train "$ex/lecture04/linear.sg" --data "$work/long.csv" --batch 100 \
	--lr 0.0001 --epochs 100000000 --quiet --save "$work/killed.params" &
pid=\$!
[ "\$OMPI_COMM_WORLD_RANK" = 1 ] && sleep 1 && kill -9 \$pid
wait \$pid
EOS
$mpirun -n 2 sh "$work/kill.sh" >"$work/kill.out" 2>&1
st=$?
[ "$st" != 0 ] && [ "$st" != 124 ] && [ ! -e "$work/killed.params" ] ||
	{ echo "FAIL: killed rank: exit $st:"; cat "$work/kill.out"; fail=1; }

# A data file only rank 1 cannot read: no rank trains (none hangs), rank 0
# names rank 1, rank 1 shows its own message.
cat >"$work/one.sh" <<EOS
#!/bin/sh
[ "\$OMPI_COMM_WORLD_RANK" = 1 ] &&
	exec "$symgrad" train "$ex/lecture04/linear.sg" --data "$work/missing.csv" --save "$work/one.params"
exec "$symgrad" train "$ex/lecture04/linear.sg" --data "$ex/lecture04/data.csv" --save "$work/one.params"
EOS
$mpirun -n 2 sh "$work/one.sh" >"$work/one.out" 2>&1
st=$?
[ "$st" != 0 ] && [ "$st" != 124 ] && [ ! -e "$work/one.params" ] &&
	grep -q "rank 1 could not set up" "$work/one.out" &&
	grep -q "^rank 1: .*missing.csv: error: cannot open" "$work/one.out" ||
	{ echo "FAIL: a file only rank 1 cannot read: exit $st:"; cat "$work/one.out"; fail=1; }

# Shares of the data (share.c).  The runs above read one file, each rank
# the rows starting in its bytes; --whole-data reads it all on every rank.
# shellcheck disable=SC2086
same $d9 --batch 300 --shuffle --optimizer adam --lr 0.01 --epochs 2 --whole-data
# The same table as three files (part-%d.csv; the lecture's file has no
# header, so neither have they): without
# mpirun they are read one after the other, and with 1 to 4 ranks (3 files:
# fewer, as many and more ranks than files) every run has the bits of the
# one file.
awk -v dir="$work" '{ print >sprintf("%s/part-%d.csv", dir, NR <= 250 ? 0 : NR <= 500 ? 1 : 2) }' \
	"$ex/lecture07_diabetes/diabetes.csv"
popts="--batch 100 --shuffle --seed 4 --optimizer adam --lr 0.01 --epochs 3 --val-split 0.25 --metric accuracy --log-every 1"
# shellcheck disable=SC2086
"$symgrad" train "$ex/lecture07_diabetes/diabetes.sg" --data "$ex/lecture07_diabetes/diabetes.csv" \
	$popts --save "$work/one.params" --log "$work/one.log" --quiet 2>/dev/null ||
	{ echo "FAIL: one file"; fail=1; }
sed 's/,[^,]*$//' "$work/one.log" >"$work/one.cols"
for n in 0 1 2 3 4; do
	run="$mpirun -n $n"
	[ $n = 0 ] && run=
	rm -f "$work/pp.params" "$work/pp.log"
	# shellcheck disable=SC2086
	$run "$symgrad" train "$ex/lecture07_diabetes/diabetes.sg" --data "$work/part-%d.csv" \
		$popts --threads 2 --save "$work/pp.params" --log "$work/pp.log" --quiet \
		>"$work/pp.out" 2>&1 || { echo "FAIL: part-%d.csv, $n ranks:"; cat "$work/pp.out"; fail=1; }
	sed 's/,[^,]*$//' "$work/pp.log" >"$work/pp.cols" 2>/dev/null
	cmp -s "$work/one.params" "$work/pp.params" && cmp -s "$work/one.cols" "$work/pp.cols" ||
		{ echo "FAIL: part-%d.csv on $n ranks: not the bits of one file"; fail=1; }
	count=$((count + 1))
done
# One file per rank, each on its own disk: rank r sees only part-r.csv.
mkdir -p "$work/disk0" "$work/disk1"
awk 'NR <= 380' "$ex/lecture07_diabetes/diabetes.csv" >"$work/disk0/part-0.csv"
awk 'NR > 380' "$ex/lecture07_diabetes/diabetes.csv" >"$work/disk1/part-1.csv"
cat >"$work/disk.sh" <<EOS
#!/bin/sh
cd "$work/disk\$OMPI_COMM_WORLD_RANK" && exec "$symgrad" train "$ex/lecture07_diabetes/diabetes.sg" \
	--data part-%d.csv --batch all --optimizer adam --lr 0.01 --epochs 5 --save "$work/disk.params" --quiet
EOS
"$symgrad" train "$ex/lecture07_diabetes/diabetes.sg" --data "$ex/lecture07_diabetes/diabetes.csv" \
	--batch all --optimizer adam --lr 0.01 --epochs 5 --save "$work/disk1.params" --quiet
$mpirun -n 2 sh "$work/disk.sh" >"$work/disk.out" 2>&1 && cmp -s "$work/disk.params" "$work/disk1.params" ||
	{ echo "FAIL: a file per rank on its own disk:"; cat "$work/disk.out"; fail=1; }
count=$((count + 1))

# A bad cell in rank 1's share is named at its file's line by rank 1;
# rank 0 says rank 1 failed; nothing is saved.  One file (line 700, in the
# second half of the bytes) and a part file (part-1.csv's line 3).
awk 'NR == 700 { sub(/,[^,]*$/, ",x") } { print }' "$ex/lecture07_diabetes/diabetes.csv" >"$work/badcell.csv"
cp "$work/part-1.csv" "$work/keep.csv"
awk 'NR == 3 { sub(/,[^,]*$/, ",x") } { print }' "$work/keep.csv" >"$work/part-1.csv"
for data in "$work/badcell.csv:700:9" "$work/part-%d.csv:3:9"; do
	file=${data%%:*}
	where=${data#*:}
	shown=$(printf '%s' "$file" | sed 's/%d/1/')
	$mpirun -n 2 "$symgrad" train "$ex/lecture07_diabetes/diabetes.sg" --data "$file" --batch all \
		--save "$work/bad.params" >"$work/bad.out" 2>&1
	st=$?
	[ "$st" = 1 ] && [ ! -e "$work/bad.params" ] &&
		grep -q "rank 1 could not set up" "$work/bad.out" &&
		grep -q "^rank 1: .*$shown:$where: error: not a number: 'x'" "$work/bad.out" &&
		[ "$(grep -c error "$work/bad.out")" = 2 ] ||
		{ echo "FAIL: a bad cell in rank 1's share ($file): exit $st:"; cat "$work/bad.out"; fail=1; }
	count=$((count + 1))
done
cp "$work/keep.csv" "$work/part-1.csv"
# No file of the pattern: one message.
$mpirun -n 2 "$symgrad" train "$ex/lecture07_diabetes/diabetes.sg" --data "$work/none-%d.csv" \
	>"$work/none.out" 2>&1
[ $? = 1 ] && [ "$(grep -c "none-0.csv: error: cannot open" "$work/none.out")" = 1 ] &&
	[ "$(grep -c error "$work/none.out")" = 1 ] ||
	{ echo "FAIL: no file of the pattern:"; cat "$work/none.out"; fail=1; }
# --trace prints rows rank 0 may not hold: refused (with --whole-data it runs).
$mpirun -n 2 "$symgrad" train "$ex/lecture04/linear.sg" --data "$ex/lecture04/data.csv" \
	--trace lecture >"$work/tr.out" 2>&1
[ $? = 1 ] && grep -q "add --whole-data" "$work/tr.out" ||
	{ echo "FAIL: --trace with shares:"; cat "$work/tr.out"; fail=1; }
$mpirun -n 2 "$symgrad" train "$ex/lecture04/linear.sg" --data "$ex/lecture04/data.csv" \
	--trace lecture --whole-data --lr 0.01 --epochs 10 >"$work/tr.out" 2>/dev/null &&
	"$symgrad" train "$ex/lecture04/linear.sg" --data "$ex/lecture04/data.csv" \
	--trace lecture --lr 0.01 --epochs 10 >"$work/tr1.out" 2>/dev/null && cmp -s "$work/tr.out" "$work/tr1.out" ||
	{ echo "FAIL: --trace --whole-data under mpirun differs"; fail=1; }

# Newton, Levenberg-Marquardt and L-BFGS under mpirun -n 1..4: the saved
# parameters and rank 0's stdout (every iteration's line, the fit) byte for
# byte those of one process, on tables of more than 64 rows (the block).
curv() {
	rm -f "$work"/cref.*
	"$symgrad" train "$@" --save "$work/cref.params" >"$work/cref.out" 2>"$work/cref.err" ||
		{ echo "FAIL: symgrad train $*: exit $?"; cat "$work/cref.err"; fail=1; }
	for n in 1 2 3 4; do
		rm -f "$work"/c.*
		$mpirun -n $n "$symgrad" train "$@" --save "$work/c.params" >"$work/c.out" 2>"$work/c.err" ||
			{ echo "FAIL: -n $n $*: exit status"; cat "$work/c.err"; fail=1; }
		for f in params out; do
			if ! cmp -s "$work/cref.$f" "$work/c.$f"; then
				echo "FAIL: mpirun -n $n symgrad train $*: $f differs"
				diff "$work/cref.$f" "$work/c.$f" | head -4
				fail=1
			fi
		done
	done
	count=$((count + 1))
}
# 300 rows of a noisy logistic problem (5 blocks), 200 Michaelis-Menten
# rates (4 blocks)
awk 'BEGIN { print "x,y"; for (i = 0; i < 300; i++) { x = (i % 23) / 5 - 2
	print x "," ((i * 37) % 11 < 5 + 2 * x ? 1 : 0) } }' >"$work/logit.csv"
awk 'BEGIN { print "s,v"; for (i = 1; i <= 200; i++) { s = i / 40
	print s "," 2.5 * s / (0.8 + s) + ((i * 7) % 13 - 6) / 200 } }' >"$work/mm.csv"
logit="$ex/lecture06_logistic/logistic.sg --data $work/logit.csv"
mm="$ex/michaelis_menten/mm.sg --data $work/mm.csv"
# shellcheck disable=SC2086
{
	curv $logit --optimizer newton
	curv $logit --optimizer newton --dtype float --epochs 4
	curv $mm --optimizer lm
	curv $mm --optimizer lm --dtype float --epochs 5
	curv $d7 --optimizer lbfgs --epochs 3
	curv $d7 --optimizer lbfgs --epochs 2 --dtype float --lr 0.5
}
# A value that is not finite in row 151 of 211 (found by rank 1 of 2):
# every rank stops, rank 0 prints the one message one process prints (the
# row's line), nothing is saved.
for c in "lecture04/linear.sg:newton:x,y:1e200,1" "michaelis_menten/mm.sg:lm:s,v:-1,1" \
	 "lecture04/linear.sg:lbfgs:x,y:1e200,1"; do
	IFS=: read -r model opt head row <<EOC
$c
EOC
	awk -v head="$head" -v row="$row" 'BEGIN { print head; for (i = 0; i < 150; i++) print (i % 7) / 3 "," i % 5 + 1
		print row; for (i = 0; i < 60; i++) print "1,2" }' >"$work/nf.csv"
	"$symgrad" train "$ex/$model" --data "$work/nf.csv" --optimizer "$opt" >/dev/null 2>"$work/nf1.err"
	st1=$?
	rm -f "$work/nf.params"
	$mpirun -n 2 "$symgrad" train "$ex/$model" --data "$work/nf.csv" --optimizer "$opt" \
		--save "$work/nf.params" >/dev/null 2>"$work/nf.err"
	st=$?
	n=$(grep -c "^symgrad: error: " "$work/nf.err")
	[ "$st1" = 1 ] && [ "$st" != 0 ] && [ "$n" = 1 ] && [ ! -e "$work/nf.params" ] &&
		grep -qxF "$(cat "$work/nf1.err")" "$work/nf.err" ||
		{ echo "FAIL: $opt, non-finite: exit $st1 and $st, $n messages:"; cat "$work/nf1.err" "$work/nf.err"; fail=1; }
	count=$((count + 1))
done

# README "Training on many machines": its commands, run as written from a
# copy of the tree (one process and two give the same file; the resumed run
# works).
mkdir -p "$work/readme/build/cli"
ln -s "$symgrad" "$work/readme/build/cli/symgrad"
cp -R "$root/examples" "$work/readme/"
awk '/^<!-- snippet: mpi-commands/ { on = 1; next } on && /^```sh$/ { blk = 1; next }
	blk && /^```$/ { exit } blk { print }' "$root/README.md" >"$work/readme/cmds.sh"
[ -s "$work/readme/cmds.sh" ] || { echo "FAIL: README.md: no mpi-commands snippet"; fail=1; }
(cd "$work/readme" && OMPI_MCA_rmaps_base_oversubscribe=1 sh -e cmds.sh) >"$work/readme.out" 2>&1 &&
	[ -s "$work/readme/resumed.params" ] ||
	{ echo "FAIL: README.md's mpi-commands:"; cat "$work/readme.out"; fail=1; }

echo "$count comparisons"
exit $fail
