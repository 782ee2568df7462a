#!/bin/sh
# random.sh SYMGRAD RANDMODEL CC [SEED COUNT]: COUNT random tensor models
# (randmodel.c, seed SEED: the same models every run), each generated in
# every form, --loops never and always, double and float, and every form
# compiled as strict C99 with -Werror: generated code must always compile
# (issue 12: the loop form once declared `acc` twice in one scope).  Each
# form's models are compiled together, as one translation unit, then, if
# that fails, one by one to name the culprits.
set -u
symgrad=$1 randmodel=$2 cc=$3 seed=${4:-14} count=${5:-100}
# in memory when possible: symgrad fsyncs every file it writes
shm=; [ -d /dev/shm ] && [ -w /dev/shm ] && shm="-p /dev/shm"
# shellcheck disable=SC2086
dir=$(mktemp -d $shm) || exit 1
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/models"
"$randmodel" "$seed" "$count" "$dir/models" || exit 1
flags="-std=c99 -Wall -Wextra -Wpedantic -Werror"
fail=0
for loops in never always; do
	for dt in double float; do
		form="--loops $loops --dtype $dt"
		out=$dir/$loops-$dt
		mkdir "$out"
		: >"$out/all.c"
		for model in "$dir"/models/*.sg; do
			name=$(basename "$model" .sg)
			# shellcheck disable=SC2086
			if ! "$symgrad" gen "$model" $form -o "$out/$name.c" 2>"$out/$name.err"; then
				echo "$name.sg ($form): symgrad gen failed:"
				cat "$out/$name.err" "$model"
				fail=1
				continue
			fi
			echo "#include \"$name.c\"" >>"$out/all.c"
		done
		# shellcheck disable=SC2086
		if ! $cc $flags -c "$out/all.c" -o "$out/all.o" 2>"$out/all.log"; then
			for c in "$out"/r*.c; do
				# shellcheck disable=SC2086
				$cc $flags -c "$c" -o "$out/one.o" 2>"$out/one.log" && continue
				name=$(basename "$c" .c)
				echo "$name.sg ($form): the generated C does not compile:"
				head -n 12 "$out/one.log"
				cat "$dir/models/$name.sg"
				fail=1
			done
		fi
	done
done
[ $fail -eq 0 ] && echo "$count random models, 4 forms each: every one compiles"
exit $fail
