#!/bin/sh
# usage: second_compare.sh SYMGRAD ROOT CASE.txt [TOLERANCE [EVAL-OPTION...]]
# Runs `SYMGRAD eval MODEL --at AT [--params P] [--hessian] [--jacobian]
# [--jvp T --vjp C --hvp V]` as
# CASE.txt's header says (tests/torch/second_reference.py wrote it) and
# compares every line "KEY = V" of CASE.txt with symgrad's line of the same
# KEY: |ours - torch| <= TOLERANCE (1e-12) max(1, |torch|), or, for an
# entry that cancels to near zero, TOLERANCE max(1, the largest |torch| of
# its row) (norm-wise, a row of the Hessian or the Jacobian).  A missing
# line, or a NaN where PyTorch has a number, fails.
symgrad=$1
root=$2
case=$3
tol=${4:-1e-12}
shift 3
[ $# -gt 0 ] && shift
field() { sed -n "s/^# $1: //p" "$case"; }
model=$(field model)
at=$(field at)
params=$(field params)
jvp=$(field jvp)
vjp=$(field vjp)
hvp=$(field hvp)
out=$(mktemp)
trap 'rm -f "$out" "$out.ref"' EXIT
grep -q '^d2' "$case" && set -- "$@" --hessian
grep -v '^#' "$case" | grep -q '^d[^2]' && set -- "$@" --jacobian
[ -n "$params" ] && set -- "$@" --params "$root/$params"
[ -n "$jvp" ] && set -- "$@" --jvp "$jvp"
[ -n "$vjp" ] && set -- "$@" --vjp "$vjp"
[ -n "$hvp" ] && set -- "$@" --hvp "$hvp"
"$symgrad" eval "$root/$model" --at "$at" "$@" >"$out" || exit 1
grep -v '^#' "$case" >"$out.ref"
awk -v tol="$tol" -v name="$(basename "$case")" '
	function abs(x) { x += 0; return x < 0 ? -x : x }
	function num(s) { return s ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ }
	# a Hessian row "d2loss/dA", or a Jacobian row "dOUT"
	function row(k) { return index(k, " d") ? substr(k, 1, index(k, " d") - 1) : substr(k, 1, index(k, "/") - 1) }
	FNR == NR { i = index($0, " = "); if (i) ours[substr($0, 1, i - 1)] = substr($0, i + 3); next }
	{ i = index($0, " = "); k = substr($0, 1, i - 1); ref[k] = substr($0, i + 3); keys[++n] = k
	  if (num(ref[k]) && abs(ref[k]) > big[row(k)]) big[row(k)] = abs(ref[k]) }
	END {
		for (j = 1; j <= n; j++) {
			k = keys[j]
			if (!(k in ours)) { printf "%s: symgrad printed no %s\n", name, k; bad = 1; continue }
			if (!num(ours[k]) || !num(ref[k])) {
				if (ours[k] != ref[k]) { printf "%s: %s = %s, PyTorch %s\n", name, k, ours[k], ref[k]; bad = 1 }
				continue
			}
			a = ours[k] + 0; b = ref[k] + 0
			d = abs(a - b); s = abs(b) > 1 ? abs(b) : 1; r = d / s
			rb = big[row(k)] > 1 ? big[row(k)] : 1
			if (r > worst) { worst = r; at = k }
			if (d > tol * s && d > tol * rb) {
				printf "%s: %s = %s, PyTorch %s\n", name, k, ours[k], ref[k]; bad = 1
			}
		}
		printf "%s: %d entries, max difference %.3g relative to max(1, |PyTorch|) (%s), tolerance %g\n", name, n, worst, at, tol
		exit bad
	}' "$out" "$out.ref"
