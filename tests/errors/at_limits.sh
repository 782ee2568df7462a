#!/bin/sh
# usage: at_limits.sh SYMGRAD
# Models at the documented limits must generate (README "Limits"): the
# longest chain of bindings (99,990 scalar layers, 10^6 DAG nodes) and the
# largest tensor (10^7 elements).  Slow (minutes) and big (about 9 GiB):
# built with -Dlimits=true, run with `meson test -C build --suite limits`.
symgrad=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
expect_ok() { # expect_ok NAME FILE
	if /usr/bin/time -f "%e s, %M KiB peak" -o "$work/time" \
		"$symgrad" gen "$2" -o "$work/out.c" 2>"$work/err" >/dev/null; then
		echo "$1: ok, $(cat "$work/time"), $(wc -c <"$work/out.c") bytes of C"
	else
		echo "$1: failed: $(head -3 "$work/err")" >&2
		fail=1
	fi
	rm -f "$work/out.c" "$work/out.h"
}
awk 'BEGIN { print "model chain\ninput x, y\nparam w = 0.5, b = 0.1\na0 = x"
	for (i = 1; i <= 99990; i++) printf "a%d = tanh(a%d * w + b)\n", i, i - 1
	print "loss = (a99990 - y)^2" }' >"$work/chain.sg"
expect_ok "chain of 99,990 layers" "$work/chain.sg"
printf 'model big\ninput x\nparam W[10000, 1000] = 0.1\nloss = sum(W) * x\n' >"$work/big.sg"
expect_ok "tensor of 10^7 elements" "$work/big.sg"
exit $fail
