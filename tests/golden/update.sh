#!/bin/sh
# usage: update.sh SYMGRAD ROOT
# Regenerates every golden file: tests/golden/ (cases.txt) and the expected
# messages tests/errors/*.err.  Run through `meson compile -C BUILD
# update-golden`, then review `git diff tests/golden tests/errors`.
set -u
symgrad=$1 root=$2
here=$root/tests/golden
status=0
grep -v '^#' "$here/cases.txt" | while read -r name model options; do
	[ -n "$name" ] || continue
	# shellcheck disable=SC2086 # options are words
	sh "$here/golden.sh" update "$symgrad" "$root" "$name" "$model" $options || exit 1
done || status=1
for sg in "$root"/tests/errors/*.sg; do
	[ -e "$sg" ] || continue
	name=$(basename "$sg" .sg)
	sh "$root/tests/errors/errors.sh" update "$symgrad" "$root" "$name" || status=1
done
exit $status
