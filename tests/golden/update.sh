#!/bin/sh
# usage: update.sh SYMGRAD ROOT
# Regenerates every golden file: tests/golden/ (cases.txt), the expected
# messages in tests/errors/*.sg and the teaching outputs tests/teach/expected/
# (the teach suite run with SG_UPDATE_GOLDEN=1).  Run through `meson compile
# -C BUILD update-golden`, then review `git diff tests`.
set -u
symgrad=$1 root=$2
here=$root/tests/golden
status=0
grep -v '^#' "$here/cases.txt" | while read -r name model options; do
	[ -n "$name" ] || continue
	# shellcheck disable=SC2086 # options are words
	sh "$here/golden.sh" update "$symgrad" "$root" "$name" "$model" $options || exit 1
done || status=1
sh "$root/tests/errors/errors.sh" update "$symgrad" "$root" || status=1
# the teaching outputs: their tests write what they print when asked to
if [ -n "${MESON_BUILD_ROOT:-}" ]; then
	SG_UPDATE_GOLDEN=1 meson test -C "$MESON_BUILD_ROOT" --no-rebuild --suite teach \
		>/dev/null || { echo "update.sh: the teach suite failed while updating" >&2; status=1; }
fi
exit $status
