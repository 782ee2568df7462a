#!/bin/sh
# bench.sh SYMGRAD COMBINE_BENCH: the figures of README "Training on many
# machines".  The 784 -> 100 -> 10 network of tests/loops/mnist.sg (79,510
# parameters) on 4,096 synthetic rows: seconds per epoch (full batch, then batches of 1,024) in
# one process, under mpirun -n 1 and -n 2 (one thread each: this machine
# has 2 cores), each process reading its share of the rows (the default)
# or all of them (--whole-data), and with shuffling; the exchange against MPI_Allreduce at P = 2, 3, 4; then the
# exchange on paper at 10, 25 and 100 Gb/s and the batch above which
# computing dominates.  Run it on a quiet machine: nice -n 10 sh ...
set -u
symgrad=$1
combine=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
XDG_CACHE_HOME=$work/cache
OMPI_ALLOW_RUN_AS_ROOT=1
OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export XDG_CACHE_HOME OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM
model=$(dirname "$0")/../loops/mnist.sg # the 784 -> 100 -> 10 network
awk 'BEGIN { srand(1); for (i = 0; i < 784; i++) printf "x%d,", i; print "label";
	for (r = 0; r < 4096; r++) { for (i = 0; i < 784; i++) printf "%g,", int(rand() * 17) / 16;
	print int(rand() * 10) } }' >"$work/data.csv"
epochs=12
# Mean seconds per epoch after the first (the first compiles nothing, but
# warms caches): the log's last column is the time since the start.
per_epoch() {
	awk -F, 'NR == 2 { t1 = $NF } END { printf "%.3f", ($NF - t1) / (NR - 2) }' "$1"
}
run() {
	label=$1
	shift
	# shellcheck disable=SC2086
	"$@" train "$model" --data "$work/data.csv" --epochs $epochs --lr 0.01 \
		--threads 1 --quiet --log "$work/log" $opts ${extra:-} || exit 1
	echo "$label: $(per_epoch "$work/log") s per epoch"
}
"$symgrad" train "$model" --data "$work/data.csv" --epochs 1 --quiet >/dev/null # JIT
for opts in "--batch all" "--batch 1024" "--batch 1024 --shuffle"; do
	echo "$opts:"
	run "  one process                " "$symgrad"
	run "  mpirun -n 1                " mpirun --oversubscribe -n 1 "$symgrad"
	run "  mpirun -n 2 (shares)       " mpirun --oversubscribe -n 2 "$symgrad"
	extra=--whole-data
	run "  mpirun -n 2 (--whole-data) " mpirun --oversubscribe -n 2 "$symgrad"
	extra=
done
"$symgrad" train "$model" --data "$work/data.csv" --epochs $epochs --batch all \
	--threads 1 --quiet --log "$work/log"
row_us=$(awk -v s="$(per_epoch "$work/log")" 'BEGIN { printf "%.1f", s / 4096 * 1e6 }')
echo "one row's forward and backward: $row_us us"
for n in 2 3 4; do
	mpirun --oversubscribe -n $n "$combine" 79510 40 || exit 1
done
mpirun --oversubscribe -n 2 "$combine" 79510 40 >"$work/c2"
# On paper: each rank sends the vector once along the chain (the last rank
# sends none) and forwards about one vector in the broadcast: 2 vectors.
awk -v row="$row_us" 'BEGIN { bytes = 79510 * 8;
	printf "bytes per step per rank: %d (gradient) + 8 (loss) along the chain, about as many in the broadcast\n", bytes;
	for (i = 1; i <= 3; i++) { g = i == 1 ? 10 : i == 2 ? 25 : 100;
		t = 2 * bytes * 8 / (g * 1e9) * 1e6;
		printf "%3d Gb/s: exchange %.0f us a step; computing dominates above %d rows per rank (%.0f us / %.1f us a row)\n",
			g, t, t / row + 1, t, row }
	rb = 785 * 8;
	printf "rows from other ranks (shares, a step of B rows, P ranks): about B/P * (P-1)/P rows of %d bytes a rank (each step when shuffled; once for a full batch in order); at 10 Gb/s %.1f us a row, against %.1f us to compute it (%.1fx)\n",
		rb, rb * 8 / 10e9 * 1e6, row, row / (rb * 8 / 10e9 * 1e6) }'
