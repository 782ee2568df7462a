#!/bin/sh
# usage: interrupted.sh SYMGRAD STALL.so ROOT
# Every writer of symgrad (gen -o, train --save, train --log) interrupted
# while its temporary file exists: stall.so stops it inside the write (at
# the fsync of the finished temporary file), so the signal lands exactly
# there.  SIGINT, SIGTERM and SIGHUP must leave the previous outputs and no
# temporary file; SIGKILL leaves the temporary file (nothing can catch it),
# and the next write to the same target removes it, but never the file of a
# writer that is still alive.
symgrad=$1 stall=$2 root=$3
case $symgrad in /*) ;; *) symgrad=$PWD/$symgrad ;; esac
case $stall in /*) ;; *) stall=$PWD/$stall ;; esac
work=$(mktemp -d)
work=$(cd "$work" && pwd -P) # the name the shim sees in /proc
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
# an ASan build of symgrad must accept the shim loaded before its runtime
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS
linear=$root/examples/lecture04/linear.sg
data=$root/examples/lecture04/data.csv
fail=0
bad() {
	echo "FAIL: $*" >&2
	fail=1
}

# start_stalled CMD...: runs symgrad stalled in its write, sets $pid
start_stalled() {
	rm -f marker
	# a background job starts with SIGINT ignored: give it the default back
	SG_STALL_DIR=$work LD_PRELOAD=$stall \
		env --default-signal=INT,TERM,HUP "$symgrad" "$@" >/dev/null 2>stalled.err &
	pid=$!
	i=0
	while [ ! -s marker ] && [ $i -lt 400 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -s marker ] || { bad "$*: never reached its write"; cat stalled.err >&2; }
}

# temps: every file but the outputs and the marker (temporary files)
temps() {
	ls -A | grep -Ev '^(out\.c|out\.h|p\.params|log\.csv|marker|stalled\.err)$' | tr '\n' ' '
}

reset_outputs() {
	for f in out.c out.h p.params log.csv; do echo previous >"$f"; done
}

check_previous() {
	for f in out.c out.h p.params log.csv; do
		[ "$(cat "$f")" = previous ] || bad "$1: $f was changed"
	done
}

for sig in INT TERM HUP; do
	for cmd in "gen $linear -o out.c" \
		"train $linear --data $data --quiet --save p.params" \
		"train $linear --data $data --quiet --log log.csv"; do
		reset_outputs
		# shellcheck disable=SC2086
		start_stalled $cmd
		[ -n "$(temps)" ] || bad "$cmd: no temporary file while writing"
		kill -"$sig" "$pid"
		wait "$pid"
		status=$?
		[ $status -gt 128 ] || bad "SIG$sig $cmd: exit status $status, not killed"
		check_previous "SIG$sig $cmd"
		[ -z "$(temps)" ] || bad "SIG$sig $cmd: temporary files left: $(temps)"
	done
done

# SIGKILL: the temporary file stays, with the dead writer's pid in its name.
reset_outputs
start_stalled train "$linear" --data "$data" --quiet --save p.params
kill -KILL "$pid"
wait "$pid"
left=$(temps)
[ -n "$left" ] || bad "SIGKILL: expected a temporary file left behind"
check_previous "SIGKILL"

# A writer that is alive keeps its temporary file, whoever else writes.
start_stalled train "$linear" --data "$data" --quiet --save p.params
live=$(sed 's|.*/||' marker)
"$symgrad" train "$linear" --data "$data" --quiet --save p.params ||
	bad "a second writer failed"
grep -q '^checksum' p.params || bad "the second writer did not write p.params"
[ -e "$live" ] || bad "the second writer removed the live writer's $live"
for f in $left; do
	[ ! -e "$f" ] || bad "the dead writer's $f was not removed"
done
kill -INT "$pid"
wait "$pid"
[ -z "$(temps)" ] || bad "temporary files left at the end: $(temps)"
[ $fail -eq 0 ] && echo "interrupted writes: outputs intact, temporary files removed"
exit $fail
