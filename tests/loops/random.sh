#!/bin/sh
# random.sh SYMGRAD RANDMODEL CC DRIVER [SEED COUNT [CFLAGS]]: COUNT random tensor
# models (randmodel.c, seed SEED: the same models every run), each generated
# unrolled (--loops never) and as loops (--loops always), in double and in
# float.  Every form must compile as strict C99 with -Werror, and the two
# forms of each dtype must compute the same bits: forward, outputs, predict,
# gradient and batch, and the HVP, JVP and VJP, at 3 points, printed as
# hex floats by DRIVER
# (compare.c) for all models of one form built together.  CFLAGS
# "-march=native" builds the loops' batch in its vector form (AVX only).
set -u
symgrad=$1 randmodel=$2 cc=$3 driver=$4 seed=${5:-14} count=${6:-100} extra=${7:-}
if [ "$extra" = "-march=native" ] && ! "$cc" -march=native -dM -E - </dev/null | grep -q '__AVX__'; then
	echo "this machine has no AVX, so no vector form to compare: skipped"
	exit 77
fi
# in memory when possible: symgrad fsyncs every file it writes
shm=; [ -d /dev/shm ] && [ -w /dev/shm ] && shm="-p /dev/shm"
# shellcheck disable=SC2086
dir=$(mktemp -d $shm) || exit 1
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/models"
"$randmodel" "$seed" "$count" "$dir/models" || exit 1
flags="-O0 -ffp-contract=off -std=c99 -Wall -Wextra -Wpedantic -Werror $extra"
fail=0

# form LOOPS DTYPE: generates, compiles and runs every model in one form
form() {
	out=$dir/$1-$2
	mkdir "$out"
	: >"$out/all.c"
	: >"$out/list.h"
	for model in "$dir"/models/*.sg; do
		name=$(basename "$model" .sg)
		if ! "$symgrad" gen "$model" --loops "$1" --dtype "$2" --hvp --jvp --vjp -o "$out/$name.c" \
			2>"$out/$name.err"; then
			echo "$name.sg (--loops $1 --dtype $2): symgrad gen failed:"
			cat "$out/$name.err" "$model"
			fail=1
			continue
		fi
		echo "#include \"$name.c\"" >>"$out/all.c"
		echo "M(${name}_model)" >>"$out/list.h"
		first=${first:-$name}
	done
	# shellcheck disable=SC2086
	if ! $cc $flags -c "$out/all.c" -o "$out/all.o" 2>"$out/all.log"; then
		echo "--loops $1 --dtype $2: all models together do not compile:"
		head -n 12 "$out/all.log"
		for c in "$out"/r*.c; do
			# shellcheck disable=SC2086
			$cc $flags -c "$c" -o "$out/one.o" 2>"$out/one.log" && continue
			name=$(basename "$c" .c)
			echo "$name.sg (--loops $1 --dtype $2): the generated C does not compile:"
			head -n 12 "$out/one.log"
			cat "$dir/models/$name.sg"
		done
		fail=1
		return
	fi
	# shellcheck disable=SC2086
	$cc -O0 $extra -std=c11 -w -DMODEL_LIST="\"$out/list.h\"" -include "$out/$first.h" \
		"$driver" "$out/all.o" -lm -o "$out/run" && "$out/run" 3 >"$out/values" ||
		{ echo "--loops $1 --dtype $2: the driver did not build or run (status $?)"; fail=1; }
}

for dt in double float; do
	form never "$dt"
	form always "$dt"
	if ! cmp -s "$dir/never-$dt/values" "$dir/always-$dt/values"; then
		echo "--dtype $dt: the unrolled and loop forms compute different bits:"
		diff "$dir/never-$dt/values" "$dir/always-$dt/values" | head -n 10
		model=$(diff "$dir/never-$dt/values" "$dir/always-$dt/values" >/dev/null;
			awk '/^model /{m=$2} {print m}' "$dir/never-$dt/values" |
			sed -n "$(cmp "$dir/never-$dt/values" "$dir/always-$dt/values" |
				sed -n 's/.*line \([0-9]*\).*/\1/p')p")
		[ -n "$model" ] && cat "$dir/models/$model.sg"
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "$count random models (seed $seed): unrolled and loops compile and compute the same bits, double and float"
exit $fail
