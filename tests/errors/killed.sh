#!/bin/sh
# usage: killed.sh SYMGRAD
# symgrad gen killed half-way (SIGTERM, then SIGKILL) must leave the previous
# output untouched and no temporary file behind.
symgrad=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk 'BEGIN { print "model chain\ninput x, y\nparam w = 0.5, b = 0.1\na0 = x"
	for (i = 1; i <= 20000; i++) printf "a%d = tanh(a%d * w + b)\n", i, i - 1
	print "loss = (a20000 - y)^2" }' >"$work/big.sg"
fail=0
for sig in TERM KILL; do
	echo "previous" >"$work/out.c"
	echo "previous" >"$work/out.h"
	"$symgrad" gen "$work/big.sg" -o "$work/out.c" 2>/dev/null &
	pid=$!
	sleep 0.5
	kill -"$sig" $pid 2>/dev/null
	wait $pid
	status=$?
	for f in out.c out.h; do
		if [ "$(cat "$work/$f")" != previous ]; then
			# finishing before the signal is allowed, half a file is not
			if [ $status -ne 0 ] || ! grep -q "chain_backward" "$work/out.c"; then
				echo "SIG$sig: $f was damaged" >&2
				fail=1
			fi
		fi
	done
	if ls "$work" | grep -q 'sgtmp'; then
		echo "SIG$sig: temporary files left: $(ls "$work")" >&2
		fail=1
	fi
	echo "SIG$sig: exit status $status, outputs intact, no temporary files"
done
exit $fail
