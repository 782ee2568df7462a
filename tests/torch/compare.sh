#!/bin/sh
# usage: compare.sh COLUMN TOLERANCE LOSSES SYMGRAD TRAIN-ARGS...
# Trains with `SYMGRAD train TRAIN-ARGS... --log FILE` and compares each
# epoch's loss with column COLUMN (2: float64, 3: float32) of LOSSES, the
# PyTorch reference (tests/torch/reference.py); fails when any epoch differs
# by more than TOLERANCE relative, or the epoch counts differ.
column=$1
tol=$2
losses=$3
symgrad=$4
shift 4
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$symgrad" train "$@" --log "$log" --quiet || exit 1
tail -n +2 "$log" | cut -d, -f2 >"$log.ours"
grep -v '^#' "$losses" | cut -d' ' -f"$column" >"$log.torch"
paste -d' ' "$log.ours" "$log.torch" | awk -v tol="$tol" -v n_torch="$(wc -l <"$log.torch")" '
	# a NaN or infinity on either side is a failure, never a match (awk
	# compares NaN as false both ways, so r > worst alone would let it pass)
	{ if ($1 !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ || $2 !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/) {
		printf "epoch %d: not a finite number: %s (PyTorch %s)\n", NR - 1, $1, $2; bad = 1; next }
	  d = $1 - $2; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2; r = s > 0 ? d / s : d
	  if (r > worst) { worst = r; at = NR - 1 } }
	END {
		printf "%d epochs, max relative difference %.3g (epoch %d), tolerance %g\n", NR, worst, at, tol
		if (bad || NR != n_torch || worst > tol) exit 1
	}'
status=$?
rm -f "$log.ours" "$log.torch"
exit $status
