#!/bin/sh
# usage: golden.sh EXPECTED STATUS COMMAND [ARG...]
# Runs COMMAND from the source root (MESON_SOURCE_ROOT, or this script's
# ../..) and fails unless it exits with STATUS and its standard output equals
# the file EXPECTED byte for byte.  With SG_UPDATE_GOLDEN=1 it writes EXPECTED
# instead (how the golden files are regenerated; review the diff).
expected=$1
status=$2
shift 2
root=${MESON_SOURCE_ROOT:-$(dirname "$0")/../..}
# meson passes programs relative to the build directory: make them absolute
# before moving to the source root.
cmd=$1
shift
case $cmd in /*) ;; */*) cmd=$PWD/$cmd ;; esac
set -- "$cmd" "$@"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
(cd "$root" && "$@") >"$out"
got=$?
if [ "$got" != "$status" ]; then
	echo "expected exit status $status, got $got: $*" >&2
	cat "$out" >&2
	exit 1
fi
if [ "${SG_UPDATE_GOLDEN:-}" = 1 ]; then
	cp "$out" "$expected"
	exit 0
fi
if ! cmp -s "$expected" "$out"; then
	echo "output differs from $expected:" >&2
	diff "$expected" "$out" >&2
	exit 1
fi
