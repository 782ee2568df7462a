#!/bin/sh
# usage: golden.sh check|update SYMGRAD ROOT NAME MODEL [OPTION...]
# Runs `SYMGRAD gen MODEL OPTION... -o NAME.c --header NAME.h` from the
# source root ROOT (the model path is part of the output) into a temporary
# directory, then compares NAME.c and NAME.h with tests/golden/ byte for
# byte (check) or copies them there (update).
set -u
mode=$1 symgrad=$2 root=$3 name=$4 model=$5
shift 5
case $symgrad in /*) ;; *) symgrad=$PWD/$symgrad ;; esac
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
(cd "$root" && "$symgrad" gen "$model" "$@" -o "$dir/$name.c" --header "$dir/$name.h") \
	2>"$dir/stderr"
status=$?
if [ $status -ne 0 ] || [ -s "$dir/stderr" ]; then
	echo "symgrad gen $model $* exited with $status:" >&2
	cat "$dir/stderr" >&2
	exit 1
fi
golden=$root/tests/golden
fail=0
for f in "$name.c" "$name.h"; do
	if [ "$mode" = update ]; then
		cmp -s "$dir/$f" "$golden/$f" || { cp "$dir/$f" "$golden/$f" && echo "updated tests/golden/$f"; }
	elif ! cmp -s "$golden/$f" "$dir/$f"; then
		echo "generated $f differs from tests/golden/$f" \
			"(after an intended change: meson compile -C BUILD update-golden):" >&2
		diff -u "$golden/$f" "$dir/$f" >&2
		fail=1
	fi
done
exit $fail
