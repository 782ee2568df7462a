#!/bin/sh
# tests/bench/run.sh BUILD_DIR [OUT_DIR]
#
# The benchmark suite: ONE run produces every figure the README states about
# speed and size, each section a Markdown table ready to paste, and CSV in
# OUT_DIR (default BUILD_DIR/bench).  The README names this command and the
# section beside each table; rerun it when the code changes.
#   1. generated gradients against hand-written C, one sample and batched
#   2. SGD steps per second through `symgrad train`
#   3. PyTorch eager on the same models (when /usr/bin/python3 imports torch)
#   4. the batched gradient: builds, --math libm, -march=native, accuracy,
#      full-batch training per epoch
#   5. generator: time, peak memory, operation counts, in each form
#   6. "Loops for large models": generated size and gcc compile time
#   7. parameter files: saving and loading 10^6 parameters
#   8. limits: the template's instruction rate and memory
#   9. per-sample SGD: the lecture 4 step as `symgrad train` builds it (the
#      JIT, sg_trainer_epoch, batch 1) against the lecture's loop by hand
#  10. beyond the gradient: the HVP, JVP and VJP against the gradient's time
#  11. threads: --threads 2 against --threads 1 (the same bits), full batch
#      of lecture 7 and the 784->100->10 network's batches of 256 rows
#  12. batched kernels: backward_batch of the 784->100->10 and 64->128->64->10
#      networks on 256 rows against their backward row by row, and PyTorch
#      (reference BLAS, and OpenBLAS when OPENBLAS_DIR holds its libblas.so.3)
# Times are medians of repeated runs on a shared machine; compare ratios
# measured in one run.  Takes about 8 minutes on 2 cores.
set -eu
build=$(cd "${1:?usage: run.sh BUILD_DIR [OUT_DIR]}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$build/bench}
mkdir -p "$out"
out=$(cd "$out" && pwd)
symgrad=$build/cli/symgrad
cc=${CC:-cc}
# the flags of symgrad's JIT (and of the README's compile times)
jitflags="-O2 -std=c99 -ffp-contract=off -fno-trapping-math"
cflags="$jitflags -D_POSIX_C_SOURCE=200809L"
# the ISA the JIT builds for here (runtime/jit.c: the highest x86-64 level
# the machine runs), for the sections that build as the JIT does
isa=$(for v in 4 3 2; do
	if echo 'int main(void){return !__builtin_cpu_supports("x86-64-v'$v'");}' |
		$cc -x c - -o "${TMPDIR:-/tmp}/sg-isa.$$" 2>/dev/null && "${TMPDIR:-/tmp}/sg-isa.$$"; then
		echo "x86-64-v$v"
		break
	fi
	done)
rm -f "${TMPDIR:-/tmp}/sg-isa.$$"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
start=$(date +%s)
now() { date +%s.%N; }
# median of the numbers on standard input
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# thousands separators
commas() { echo "$1" | sed -e ':a' -e 's/^\([0-9]*[0-9]\)\([0-9]\{3\}\)/\1,\2/; ta'; }
section() { echo "## $1 (\`sh tests/bench/run.sh\`, section $2)"; echo; }
# awk: c(n) writes an integer with thousands separators
C='function c(n,  s, r) { s = n ""; if (s !~ /^[0-9]+$/) return s; r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } return s r }'
# BENCH_MODELS="lecture04|deep" limits sections 5, 6 and 8 to those models.
# BENCH_ONLY="4 5" runs only those sections (5, 6 and 8 share section 5's
# measurements); for trying the script, not for figures.
want() { case " ${BENCH_ONLY:-1 2 3 4 5 6 7 8 9 10 11 12} " in *" $1 "*) return 0 ;; esac; return 1; }

echo "# symgrad benchmarks"
echo
echo "Command: \`sh tests/bench/run.sh ${1}\`; started $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
     "$($cc --version | head -1); flags: $jitflags;"\
     "$("$symgrad" --version 2>&1 | head -1), $(grep -o '"name": "buildtype", "value": "[a-z]*"' \
	"$build/meson-info/intro-buildoptions.json" 2>/dev/null | sed 's/.*"value": "//; s/"$//') build"
echo

# ---- 1: generated vs hand-written C ----
if want 1 || want 3; then
"$symgrad" gen examples/lecture04/linear.sg -o "$work/linear_grad.c"
"$symgrad" gen examples/exercises/ex4_4.sg -o "$work/ex4_4_grad.c"
"$symgrad" gen examples/lecture07_diabetes/diabetes.sg -o "$work/diabetes_grad.c"
sed 's/^model diabetes/model diabetes_f/' examples/lecture07_diabetes/diabetes.sg >"$work/diabetes_f.sg"
"$symgrad" gen "$work/diabetes_f.sg" --dtype float -o "$work/diabetes_f_grad.c"
# shellcheck disable=SC2086
$cc $cflags -I"$work" -Itests/bench tests/bench/bench.c tests/bench/hand.c \
	"$work/linear_grad.c" "$work/ex4_4_grad.c" "$work/diabetes_grad.c" \
	"$work/diabetes_f_grad.c" -o "$work/bench" -lm
section "Generated against hand-written C (same compiler, flags and data)" 1
"$work/bench" examples/lecture07_diabetes/diabetes.csv "$out/gradients.csv"
echo

fi

# ---- 2: training steps through symgrad train ----
export XDG_CACHE_HOME="$work/cache"
if want 2 || want 3; then
# Per-sample SGD on the lecture's 3 rows; the time of E epochs minus that of
# E/10 epochs, over the steps between, leaves out start-up and compilation.
section "SGD steps through \`symgrad train\` (lecture 4 model, batch 1)" 2
train() {
	/usr/bin/time -f "%e" "$symgrad" train examples/lecture04/linear.sg \
		--data examples/lecture04/data.csv --lr 0.001 --epochs "$1" --batch 1 --quiet \
		2>&1 >/dev/null | tail -1
}
train 10 >/dev/null # compile once, into the cache
big=1000000
small=100000
steps_ns=$(for i in 1 2 3 4 5; do
	t1=$(train $small)
	t2=$(train $big)
	echo "$t1 $t2" | awk -v n=$(((big - small) * 3)) '{ printf "%.1f\n", ($2 - $1) * 1e9 / n }'
done | median)
echo "| what | ns per step (median of 5) |"
echo "|---|---|"
echo "| \`symgrad train\`, lecture 4 model, float64, whole loop | $steps_ns |"
echo "train_step_ns,$steps_ns" >"$out/train.csv"
echo

fi

# ---- 3: PyTorch ----
if ! want 3; then
	:
elif /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	section "PyTorch eager, one thread, same machine, same run" 3
	/usr/bin/python3 tests/bench/torch_bench.py examples/lecture07_diabetes/diabetes.csv \
		"$out/gradients.csv" "$out/train.csv" "$out/torch.csv"
else
	echo "PyTorch (section 3): skipped (/usr/bin/python3 cannot import torch; apt-get install python3-torch)"
fi
echo

# ---- 4: the batched gradient ----
if want 4; then
section "The batched gradient of the lecture 7 network" 4
for v in e v en vn f; do
	sed "s/^model diabetes/model db$v/" examples/lecture07_diabetes/diabetes.sg >"$work/db$v.sg"
	case $v in v*) vm="--math libm" ;; *) vm= ;; esac
	case $v in
	*n) fl="$cflags -march=native" ;;
	f) fl="-O2 -std=c99 -fno-trapping-math -ffast-math -march=native" ;;
	*) fl=$cflags ;;
	esac
	# shellcheck disable=SC2086
	"$symgrad" gen "$work/db$v.sg" $vm -o "$work/db${v}_grad.c"
	# shellcheck disable=SC2086
	n=$($cc $fl -c "$work/db${v}_grad.c" -o "$work/db$v.o" -fopt-info-vec-optimized 2>&1 |
		grep -c "loop vectorized" || true)
	eval "loops_$v=$n"
done
# shellcheck disable=SC2086,SC2154
$cc $cflags -I"$work" tests/bench/batch.c "$work/dbe.o" "$work/dbv.o" "$work/dben.o" \
	"$work/dbvn.o" "$work/dbf.o" -o "$work/batch" -lm
# shellcheck disable=SC2154
"$work/batch" examples/lecture07_diabetes/diabetes.csv "$out/batch.csv" \
	"$loops_e" "$loops_v" "$loops_en" "$loops_vn" "$loops_f"
echo
# The limit (issue 15's goal): the generated exact batch, built as the JIT
# builds it, against the same network by hand, structure of arrays,
# -O3 -march=native -ffast-math (tests/bench/soa.c), in one process,
# alternating; 5 runs, each a median of 21 trials; the median of the runs.
# With taskset, on each of the first two cores the process may use, in
# turn (the cores of a virtual machine need not run at one speed, and the
# two codes need not lose the same on a slower one); else wherever the
# system puts it.
cores=
if command -v taskset >/dev/null 2>&1; then
	cores=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status | tr ',' '\n' |
		awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c }' | head -2 | tr '\n' ' ')
fi
echo "| lecture 7 batch (759 rows), ns per row | exact, \`symgrad train\`'s build ($jitflags${isa:+ -march=$isa}) | by hand, SoA, \`-O3 -march=native -ffast-math\` (not exact) | ratio |"
echo "|---|---|---|---|"
echo "dtype,core,exact_ns,soa_ns" >"$out/limit.csv"
for dt in double float; do
	s=${dt%ouble}
	s=${s%loat}
	"$symgrad" gen examples/lecture07_diabetes/diabetes.sg --dtype "$dt" -o "$work/lim_$s.c"
	$cc -O3 -march=native -ffast-math -std=c99 -DREAL="$dt" -DNAME="soa_$s" -c tests/bench/soa.c \
		-o "$work/soa_$s.o"
	# shellcheck disable=SC2086
	$cc $cflags ${isa:+-march=$isa} -I"$work" -DMODEL_H="\"lim_$s.h\"" -DP=diabetes \
		-DREAL="$dt" -DSOA="soa_$s" tests/bench/limit.c "$work/lim_$s.c" "$work/soa_$s.o" \
		-o "$work/lim_$s" -lm
	for core in ${cores:-any}; do
		pin=
		[ "$core" = any ] || pin="taskset -c $core"
		: >"$work/lim"
		for i in 1 2 3 4 5; do $pin "$work/lim_$s" examples/lecture07_diabetes/diabetes.csv 21 >>"$work/lim"; done
		grep -q WRONG "$work/lim" && echo "soa.c disagrees with the generated gradient ($dt)" >&2
		a=$(cut -d' ' -f1 "$work/lim" | median) b=$(cut -d' ' -f2 "$work/lim" | median)
		label=$dt
		[ "$core" = any ] || label="$dt, core $core"
		echo "| $label | $a | $b | $(echo "$a $b" | awk '{ printf "%.2f×", $1 / $2 }') |"
		echo "$dt,$core,$a,$b" >>"$out/limit.csv"
	done
done
echo
# Full-batch training through symgrad train: (time of E epochs - time of
# E/10 epochs) / (0.9 E), median of 3, exact and --math libm.
epoch_us() { # epoch_us [--math libm]
	for i in 1 2 3; do
		t1=$(/usr/bin/time -f "%e" "$symgrad" train examples/lecture07_diabetes/diabetes.sg \
			--data examples/lecture07_diabetes/diabetes.csv --lr 0.1 --batch all \
			--epochs 500 --quiet "$@" 2>&1 >/dev/null | tail -1)
		t2=$(/usr/bin/time -f "%e" "$symgrad" train examples/lecture07_diabetes/diabetes.sg \
			--data examples/lecture07_diabetes/diabetes.csv --lr 0.1 --batch all \
			--epochs 5000 --quiet "$@" 2>&1 >/dev/null | tail -1)
		echo "$t1 $t2" | awk '{ printf "%.1f\n", ($2 - $1) * 1e6 / 4500 }'
	done | median
}
"$symgrad" train examples/lecture07_diabetes/diabetes.sg --data examples/lecture07_diabetes/diabetes.csv \
	--batch all --epochs 1 --quiet >/dev/null 2>&1
"$symgrad" train examples/lecture07_diabetes/diabetes.sg --data examples/lecture07_diabetes/diabetes.csv \
	--batch all --epochs 1 --quiet --math libm >/dev/null 2>&1
ep_e=$(epoch_us)
ep_v=$(epoch_us --math libm)
echo "| full-batch training, lecture 7 model (\`symgrad train --batch all\`, JIT flags) | µs per epoch (median of 3) |"
echo "|---|---|"
echo "| exact | $ep_e |"
echo "| \`--math libm\` | $ep_v |"
printf 'epoch_us_exact,%s\nepoch_us_libm,%s\n' "$ep_e" "$ep_v" >"$out/epoch.csv"
echo
# symgrad's own functions against glibc's, per call in an array loop
echo "| function | build | symgrad's own, ns per call | glibc, ns per call | glibc / own |"
echo "|---|---|---|---|---|"
for b in "-O2" "-O2 -march=native"; do
	# shellcheck disable=SC2086
	$cc $cflags $b -Igen tests/bench/mathbench.c -o "$work/mathbench" -lm
	"$work/mathbench" "\`$b\`"
done
echo

fi

# ---- 5, 6: generator and generated code, per model and form ----
if want 5 || want 6 || want 8; then
chain() { # a chain of n tanh layers of a scalar
	awk -v n="$1" 'BEGIN { print "model chain\ninput x, y\nparam w = 0.5, b = 0.1\na0 = x"
		for (i = 1; i <= n; i++) printf "a%d = tanh(a%d * w + b)\n", i, i - 1
		printf "loss = (a%d - y)^2\n", n }'
}
net() { # an MLP with sigmoid layers and BCE: net NAME SIZES...
	name=$1
	shift
	printf 'model %s\ninput x[%s], y\n' "$name" "$1"
	prev=$1 i=1 h=x
	shift
	for s in "$@"; do
		printf 'param W%d[%d, %d] ~ linear, b%d[%d] ~ linear(%d)\n' $i "$s" "$prev" $i "$s" "$prev"
		printf 'h%d = sigmoid(W%d @ %s + b%d)\n' $i $i "$h" $i
		h=h$i prev=$s i=$((i + 1))
	done
	printf 'loss = bce(%s[0], y)\n' "$h"
}
for n in 1000 2000 4000 8000 16000; do chain $n >"$work/chain$n.sg"; done
net net15 8 15 1 >"$work/net15.sg"
net net64 64 128 64 10 >"$work/net64.sg"
net net784 784 256 128 10 >"$work/net784.sg"

# gen KEY FILE LABEL FORM REPS: generate with --loops FORM (auto: the
# default), REPS times; one CSV row of everything --stats and time report.
echo "key,label,form,params,nodes,node_kind,forward_ops,gradient_ops,ratio,gen_s,peak_kib,lines,bytes,tmpl_instr,tmpl_mib,tmpl_s,items" >"$out/generator.csv"
gen() {
	key=$1 f=$2 label=$3 form=$4 reps=$5
	: >"$work/times"
	i=0
	while [ $i -lt "$reps" ]; do
		if ! /usr/bin/time -f "%e %M" -o "$work/time" "$symgrad" gen "$f" --loops "$form" \
			-o "$work/$key-$form.c" --stats 2>"$work/stats" >/dev/null; then
			err=$(grep -m1 error "$work/stats" | sed 's/.*error: //; s/,/;/g')
			echo "$key,$label,$form,,,,,,,failed: $err,$(cut -d' ' -f2 "$work/time" | tail -1),,,,," >>"$out/generator.csv"
			return 0
		fi
		tail -1 "$work/time" >>"$work/times"
		i=$((i + 1))
	done
	secs=$(cut -d' ' -f1 "$work/times" | median)
	kib=$(cut -d' ' -f2 "$work/times" | sort -n | tail -1)
	s=$work/stats
	if grep -q '^loops:' "$s"; then shown=loops; else shown=unrolled; fi
	# the counts line (warnings, such as unused params, may come first)
	grep -m1 ' params, [0-9]* inputs, ' "$s" >"$work/counts"
	params=$(sed -n 's/.*: \([0-9]*\) params.*/\1/p' "$work/counts")
	nodes=$(sed -n 's/.*, \([0-9]*\) \(DAG nodes\|tensor values\)$/\1/p' "$work/counts")
	kind=$(sed -n 's/.*, [0-9]* \(DAG nodes\|tensor values\)$/\1/p' "$work/counts")
	fwd=$(sed -n 's/^backward: .*(forward \([0-9]*\) + .*/\1/p' "$s")
	grad=$(sed -n 's/^backward: .*+ gradient \([0-9]*\)).*/\1/p' "$s")
	ratio=$(echo "$grad $fwd" | awk '{ printf "%.2f", $1 / $2 }')
	instr=$(sed -n 's/^template: about \([0-9]*\) Lua instructions.*/\1/p' "$s")
	tmib=$(sed -n 's/^template: .*, \([0-9.]*\) MiB peak.*/\1/p' "$s")
	tsec=$(sed -n 's/^time: .*template \([0-9.]*\) s.*/\1/p' "$s")
	lines=$(wc -l <"$work/$key-$form.c")
	bytes=$(wc -c <"$work/$key-$form.c")
	# the template limits' items: statements, params, inputs and outputs
	items=$(sed -n 's/.*: \([0-9]*\) params, \([0-9]*\) inputs, \([0-9]*\) outputs.*/\1 \2 \3/p' "$work/counts")
	items=$(($(echo "$items" | tr ' ' '+') + $(grep -c '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=' "$f")))
	echo "$key,$label,$form:$shown,$params,$nodes,$kind,$fwd,$grad,$ratio,$secs,$kib,$lines,$bytes,$instr,$tmib,$tsec,$items" >>"$out/generator.csv"
}
# compile KEY FORM: gcc time of a generated file, once
echo "key,form,compile_s" >"$out/compile.csv"
compile() {
	[ -f "$work/$1-$2.c" ] || return 0
	t0=$(now)
	# shellcheck disable=SC2086
	$cc $jitflags -c "$work/$1-$2.c" -o "$work/$1-$2.o"
	t1=$(now)
	echo "$1,$2,$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')" >>"$out/compile.csv"
	rm -f "$work/$1-$2.o"
}
# model key, file, label, forms (auto = the default; other = the form auto
# did not pick), the forms to compile too (no: none; an unrolled 64->128->64->10
# network takes gcc more than 5 minutes)
cat >"$work/models" <<MODELS
lecture04 examples/lecture04/linear.sg lecture_4:_\`x·w\` auto all
lecture05 examples/lecture05_linear/linear.sg lecture_5:_\`nn.Linear(1;_1)\` auto all
lecture06 examples/lecture06_logistic/logistic.sg lecture_6:_logistic auto all
lecture07 examples/lecture07_diabetes/diabetes.sg lecture_7:_8→6→4→1_sigmoid auto all
net15 $work/net15.sg 8→15→1_sigmoid auto all
lecture09 examples/lecture09_softmax/softmax.sg lecture_9:_64→32→10_ReLU auto,never all
deep tests/loops/deep.sg 16→32→16→1_tanh auto,never all
net64 $work/net64.sg 64→128→64→10_sigmoid auto,never auto
mnist tests/loops/mnist.sg 784→100→10_ReLU_+_cross-entropy auto,never auto
net784 $work/net784.sg 784→256→128→10_sigmoid auto all
chain1000 $work/chain1000.sg chain_of_1000_\`tanh\`_layers auto,other all
chain2000 $work/chain2000.sg chain_of_2000_\`tanh\`_layers auto,other no
chain4000 $work/chain4000.sg chain_of_4000_\`tanh\`_layers auto,other no
chain8000 $work/chain8000.sg chain_of_8000_\`tanh\`_layers auto,other no
chain16000 $work/chain16000.sg chain_of_16000_\`tanh\`_layers auto,other no
MODELS
while read -r key f label forms comp; do
	for form in $(echo "$forms" | tr , ' '); do
		if [ "$form" = other ]; then
			case $(grep "^$key,.*,auto:" "$out/generator.csv" | tail -1) in
			*,auto:unrolled,*) form=always ;;
			*) form=never ;;
			esac
		fi
		case $key in chain*) reps=3 ;; *) reps=5 ;; esac
		case $key-$form in mnist-never) reps=1 ;; esac # 25 s, 1.3 GiB
		gen "$key" "$f" "$(echo "$label" | tr _ ' ')" "$form" "$reps"
		case ,$comp, in *,"$form",* | *,all,*) compile "$key" "$form" ;; esac
	done
done <<EOM
$(grep -E "^(${BENCH_MODELS:-[a-z0-9]+}) " "$work/models")
EOM

section "Generator: time, peak memory, operation counts (\`symgrad gen --stats\`)" 5
echo "Form: \`auto\` is the default (\`--loops auto\`), shown as the form it picked; the others were forced with \`--loops never\` or \`always\`. Time: median of 5 (chains: of 3) runs; peak: largest resident set."
echo
echo "| model | form | params | DAG nodes / tensor values | forward ops | gradient ops | gradient/forward | time | peak memory | template instructions | template memory |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
awk -F, "$C"'NR > 1 { gsub(/;/, ",", $2)
	split($3, fm, ":"); form = fm[1] == "auto" ? fm[2] " (default)" : (fm[1] == "never" ? "unrolled" : "loops") " (`--loops " fm[1] "`)"
	if ($10 ~ /^failed/) { printf "| %s | %s | | | | | | %s | %s MiB | | |\n", $2, form, $10, c(int($11 / 1024)); next }
	printf "| %s | %s | %s | %s %s | %s | %s | %s | %s s | %s MiB | %s | %s MiB |\n",
		$2, form, c($4), c($5), ($6 == "DAG nodes" ? "nodes" : "values"), c($7), c($8), $9, $10 < 0.01 ? "< 0.01" : $10, c(int($11 / 1024)), c($14), $15
}' "$out/generator.csv"
echo
awk -F, 'NR > 1 && $1 ~ /^chain/ && $10 !~ /failed/ { split($3, fm, ":"); k = fm[2]; n[k]++
		x = substr($1, 6); y = $10; sx[k] += x; sy[k] += y; sxx[k] += x * x; sxy[k] += x * y
		ox[k] = ox[k] sep[k] $9; sep[k] = ", " }
	END { for (k in n) { b = (n[k] * sxy[k] - sx[k] * sy[k]) / (n[k] * sxx[k] - sx[k] * sx[k]); a = (sy[k] - b * sx[k]) / n[k]
	      printf "- chains, %s: time = %.3f s + %.1f µs per layer (least squares over %d sizes); gradient/forward %s\n", k, a, b * 1e6, n[k], ox[k] } }' \
	"$out/generator.csv" | sort
awk -F, 'NR > 1 && $10 !~ /failed/ { split($3, fm, ":"); if ($9 > mx[fm[2]]) { mx[fm[2]] = $9; who[fm[2]] = $2 } }
	END { for (k in mx) printf "- largest gradient/forward, %s form: %s (%s)\n", k, mx[k], who[k] }' "$out/generator.csv" | sort
echo

section "Loops for large models: generated size and compile time" 6
echo "Compile: \`$cc $jitflags -c\`, one run each; generate: median time of section 5."
echo
echo "| model | form | params | lines | bytes | generate | compile |"
echo "|---|---|---|---|---|---|---|"
awk -F, "$C"'FNR == 1 { file++; next }
	file == 1 { ct[$1 "," $2] = $3; next }
	$1 ~ /^chain[0-9]/ && $1 != "chain1000" { next }
	{ gsub(/;/, ",", $2); split($3, fm, ":"); form = fm[1] == "auto" ? fm[2] " (default)" : (fm[1] == "never" ? "unrolled" : "loops") " (`--loops " fm[1] "`)"
	  if ($10 ~ /^failed/) { printf "| %s | %s | | | | %s | |\n", $2, form, $10; next }
	  cs = (($1 "," fm[1]) in ct) ? ct[$1 "," fm[1]] " s" : "not measured in the run"
	  printf "| %s | %s | %s | %s | %s | %s | %s |\n", $2, form, c($4), c($12), c($13), ($10 < 0.01 ? "< 0.01" : $10) " s", cs }' \
	"$out/compile.csv" "$out/generator.csv"
echo
# the 784->100->10 network's gradient against central differences
if out_big=$(sh tests/loops/big.sh "$symgrad" tests/loops/mnist.sg "$cc" tests/loops/compare.c 2>&1); then
	echo "784→100→10 network, loop form, gradient against central differences (tests/loops/big.sh): $(echo "$out_big" | grep coordinates)"
else
	echo "784→100→10 network: tests/loops/big.sh FAILED: $out_big"
fi
echo

fi

# ---- 7: parameter files ----
if want 7; then
section "Parameter files: 10^6 parameters through sg_params_save / sg_params_load" 7
# shellcheck disable=SC2086
$cc $cflags -Iruntime tests/bench/params.c "$build/runtime/libsymgrad.a" -lm -ldl -o "$work/params"
"$work/params" "$work/big.params" "$out/params.csv"
rm -f "$work/big.params"
echo

fi

# ---- 8: limits ----
if want 8; then
section "Limits: template instructions and memory" 8
# A template that only counts, until the instruction limit stops it.
printf 'return function(model)\n\tlocal i = 0\n\twhile true do i = i + 1 end\nend\n' >"$work/spin.lua"
t0=$(now)
if "$symgrad" gen examples/lecture04/linear.sg --template "$work/spin.lua" -o "$work/spin.c" 2>"$work/spin.err"; then
	spin="did not stop"
else
	t1=$(now)
	spin=$(echo "$t0 $t1" | awk '{ printf "%.2f s", $2 - $1 }')
fi
echo "| what | figure |"
echo "|---|---|"
echo "| a template that only counts (\`while true do i = i + 1 end\`) stops at the instruction limit after | $spin ($(head -1 "$work/spin.err" | sed 's/.*: \(template exceeded\)/\1/')) |"
awk -F, 'NR > 1 && $10 !~ /failed/ && $14 >= 1000000 { gsub(/;/, ",", $2); split($3, fm, ":")
	printf "| %s, %s: template instructions, memory, time | %.2g instructions, %s MiB (%.2f KiB per declared name of %d), %s s (%.1f·10⁶ instructions/s) |\n", $2, fm[2], $14, $15, $15 * 1024 / $17, $17, $16, ($16 > 0 ? $14 / $16 / 1e6 : 0) }' \
	"$out/generator.csv"
echo
fi
# ---- 9: per-sample SGD ----
if want 9; then
section "Per-sample SGD: the lecture 4 step as \`symgrad train\` builds it, against the lecture's loop by hand" 9
# The generated C goes through the runtime's JIT (its flags and target) and
# trains through sg_trainer_epoch; the hand loop (tests/bench/sgd_hand.c) is
# built -O3 -march=native, with -ffp-contract=off so that it does the same
# operations (with contraction it would fuse lr*g into the update: other bits).
XDG_CACHE_HOME="$work/cache"
export XDG_CACHE_HOME
mkdir -p "$work/sgd"
"$symgrad" gen examples/lecture04/linear.sg -o "$work/sgd/linear_grad.c"
$cc -O3 -march=native -ffp-contract=off -c tests/bench/sgd_hand.c -o "$work/sgd_hand.o"
$cc $cflags -Iruntime tests/bench/sgd.c "$work/sgd_hand.o" "$build/runtime/libsymgrad.a" -lm -ldl \
	-o "$work/sgd_bench"
"$work/sgd_bench" "$work/sgd/linear_grad.c" "$work/sgd/linear_grad.h" "$out/sgd.csv"
echo
fi
# ---- 10: beyond the gradient ----
if want 10; then
section "Beyond the gradient: one call of NAME_hvp, NAME_jvp, NAME_vjp against NAME_backward" 10
echo "| model | backward | hvp | jvp | vjp |"
echo "|---|---|---|---|---|"
for spec in "lecture 7, 8→6→4→1, unrolled:examples/lecture07_diabetes/diabetes.sg:diabetes" \
	"lecture 9, 64→32→10, loops:examples/lecture09_softmax/softmax.sg:digits" \
	"784→100→10, loops:tests/loops/mnist.sg:mnist"; do
	label=${spec%%:*} rest=${spec#*:}
	model=${rest%%:*} name=${rest#*:}
	"$symgrad" gen "$model" --hvp --jvp --vjp -o "$work/${name}_x.c" --header "$work/${name}_grad.h"
	# shellcheck disable=SC2086
	$cc $cflags -DMODEL="${name}_model" -include "$work/${name}_grad.h" tests/bench/beyond.c \
		"$work/${name}_x.c" -lm -o "$work/beyond"
	"$work/beyond" "$label"
done
echo
fi
# ---- 11: threads ----
if want 11; then
section "Threads: \`symgrad train --threads 2\` against \`--threads 1\` (the same bits)" 11
# Per epoch: (time of E epochs - time of E/4 epochs) / (0.75 E), leaving out
# start-up, reading the data and compiling (whole runs for the fast epochs,
# the run's log for the slow ones); 1 and 2 threads alternate, 5 trials
# each, medians.  The machine is shared: its load average is printed
# before and after.
XDG_CACHE_HOME="$work/cache"
export XDG_CACHE_HOME
awk 'BEGIN { srand(1); h = ""; for (i = 0; i < 784; i++) h = h "x" i ","; print h "label"
	for (r = 0; r < 2560; r++) { s = ""; for (i = 0; i < 784; i++) s = s sprintf("%.3f,", rand())
		print s int(rand() * 10) } }' >"$work/mnist.csv"
thr_epoch() { # thr_epoch E THREADS TRAIN-ARGS...: µs per epoch
	e=$1 n=$2
	shift 2
	t1=$(/usr/bin/time -f "%e" "$symgrad" train "$@" --epochs $((e / 4)) --threads "$n" --quiet \
		2>&1 >/dev/null | tail -1)
	t2=$(/usr/bin/time -f "%e" "$symgrad" train "$@" --epochs "$e" --threads "$n" --quiet \
		2>&1 >/dev/null | tail -1)
	echo "$t1 $t2 $e" | awk '{ printf "%.1f\n", ($2 - $1) * 1e6 / (0.75 * $3) }'
}
# A slow epoch (milliseconds) from the run's own log instead: the seconds
# column at epoch E minus at E/4, so the start-up (reading the table,
# about a second for the 784-input one) and its jitter are left out.
thr_epoch_log() { # thr_epoch_log E THREADS TRAIN-ARGS...: µs per epoch
	e=$1 n=$2
	shift 2
	"$symgrad" train "$@" --epochs "$e" --threads "$n" --quiet --log "$work/thr.log" >/dev/null 2>&1
	awk -F, -v a=$((e / 4)) -v b="$e" '$1 == a { ta = $NF } $1 == b { tb = $NF }
		END { printf "%.1f\n", (tb - ta) * 1e6 / (b - a) }' "$work/thr.log"
}
thr_row() { # thr_row LABEL E TRAIN-ARGS...  (E below 1000: thr_epoch_log)
	label=$1 e=$2
	shift 2
	"$symgrad" train "$@" --epochs 1 --quiet >/dev/null 2>&1 # compile once
	: >"$work/t1" && : >"$work/t2"
	how=thr_epoch
	[ "$e" -lt 1000 ] && how=thr_epoch_log
	for i in 1 2 3 4 5; do
		$how "$e" 1 "$@" >>"$work/t1"
		$how "$e" 2 "$@" >>"$work/t2"
	done
	m1=$(median <"$work/t1") m2=$(median <"$work/t2")
	echo "| $label | $m1 | $m2 | $(echo "$m1 $m2" | awk '{ printf "%.2f×", $1 / $2 }') |"
	printf '%s,%s,%s\n' "$label" "$m1" "$m2" >>"$out/threads.csv"
}
# A cache line's round trip between the two cores (tests/bench/pingpong.c):
# every hand-over of a threaded batch costs about one; on a virtual machine
# it moves with the host's placement of the cores.
$cc -O2 -pthread tests/bench/pingpong.c -o "$work/pingpong"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores); a cache line's round trip between two cores (\`tests/bench/pingpong.c\`): $("$work/pingpong") ns"
echo
# The batch gradient alone (sg_batch_grad, what train calls for a batch):
# tests/bench/threads.c, 1 and 2 threads alternating in one process, wall
# clock; 5 runs, each a median of 11 trials; the median of the runs.  One
# thread is also held on each of the first two cores in turn: the speed-up
# is against the best one-thread time, and an even split of the blocks can
# at best take the slower core's half, so 2 x faster / slower bounds it.
echo "| \`sg_batch_grad\` (the JIT's build) | 1 thread, µs per batch | 1 thread held on the first core | on the second | 2 threads | speed-up against the best of one thread | bound of an even split (2 × faster core / slower) | same bits |"
echo "|---|---|---|---|---|---|---|---|"
for row in "diabetes examples/lecture07_diabetes/diabetes.sg 759 200 examples/lecture07_diabetes/diabetes.csv" \
	"mnist tests/loops/mnist.sg 256 10"; do
	# shellcheck disable=SC2086
	set -- $row
	for dt in double float; do
		"$symgrad" gen "$2" --dtype "$dt" -o "$work/thr_$1_$dt.c" --header "$work/thr_$1_$dt.h"
		# shellcheck disable=SC2086
		$cc $cflags ${isa:+-march=$isa} -I"$work" -Iruntime -DMODEL_H="\"thr_$1_$dt.h\"" -DP="$1" \
			-DREAL="$dt" tests/bench/threads.c "$work/thr_$1_$dt.c" "$build/runtime/libsymgrad.a" \
			-o "$work/thr_$1_$dt" -lm -lpthread -ldl
		: >"$work/thr"
		for i in 1 2 3 4 5; do "$work/thr_$1_$dt" "$3" 11 "$4" ${5:+"$5"} >>"$work/thr"; done
		a=$(cut -d' ' -f1 "$work/thr" | median) b=$(cut -d' ' -f2 "$work/thr" | median)
		ca=$(cut -d' ' -f4 "$work/thr" | median) cb=$(cut -d' ' -f5 "$work/thr" | median)
		same=$(grep -q DIFFERENT "$work/thr" && echo NO || echo yes)
		label="$1, $3 rows, $dt"
		[ "$1" = mnist ] && label="784→100→10, $3 rows, $dt"
		[ "$1" = diabetes ] && label="lecture 7, full batch ($3 rows), $dt"
		echo "$a $b $ca $cb" | awk -v l="$label" -v s="$same" '{ best = $1
			if ($3 > 0 && $3 < best) best = $3
			if ($4 > 0 && $4 < best) best = $4
			bound = $3 > 0 && $4 > 0 ? sprintf("%.2f×", 2 * ($3 < $4 ? $3 / $4 : $4 / $3)) : "-"
			printf "| %s | %.1f | %.1f | %.1f | %.1f | %.2f× | %s | %s |\n", l, $1 / 1000, $3 / 1000, $4 / 1000, $2 / 1000, best / $2, bound, s }'
	done
done
echo
echo "| training (\`symgrad train\`, JIT flags) | 1 thread, µs per epoch | 2 threads, µs per epoch | speed-up |"
echo "|---|---|---|---|"
echo "what,threads1_us,threads2_us" >"$out/threads.csv"
d7="examples/lecture07_diabetes/diabetes.sg --data examples/lecture07_diabetes/diabetes.csv"
# shellcheck disable=SC2086
{
	thr_row "lecture 7, full batch (759 rows), float64" 20000 $d7 --batch all --lr 0.1
	thr_row "lecture 7, full batch (759 rows), float32" 20000 $d7 --batch all --lr 0.1 --dtype float
	thr_row "784→100→10, batches of 256 rows (10 per epoch), float64" 24 tests/loops/mnist.sg \
		--data "$work/mnist.csv" --batch 256 --lr 0.01
	thr_row "784→100→10, batches of 256 rows (10 per epoch), float32" 24 tests/loops/mnist.sg \
		--data "$work/mnist.csv" --batch 256 --lr 0.01 --dtype float
}
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); round trip between two cores: $("$work/pingpong") ns"
echo
fi
# ---- 12: batched kernels ----
if want 12; then
section "Batched kernels: \`NAME_backward_batch\` on 256 rows, one thread" 12
# symgrad's C (JIT flags, the ISA the JIT picks here) against the same
# model's backward row by row and, in turns, PyTorch eager: 5 rounds, each
# a median of 11 trials; the medians of the rounds.  OpenBLAS: set
# OPENBLAS_DIR to a folder with its libblas.so.3 (apt-get download
# libopenblas0-pthread; dpkg -x; .../openblas-pthread), used by PyTorch's
# process only.
kflags="$cflags${isa:+ -march=$isa}"
echo "Flags: \`$kflags\`; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# one core's peak (tests/bench/peak.c), measured before and after the
# kernels, the better of the two
$cc -O2 -march=native -ffp-contract=fast tests/bench/peak.c -o "$work/peak"
"$work/peak" 10 >"$work/peak_runs"
echo "| network, batch of 256 | dtype | \`backward_batch\`, ns per sample | its plain loops (\`-DNAME_NO_VECTORS\`) | \`backward\` row by row | speed-up | same bits | PyTorch, reference BLAS | PyTorch, OpenBLAS | PyTorch OpenBLAS / symgrad |"
echo "|---|---|---|---|---|---|---|---|---|---|"
echo "network,dtype,batch_ns,plain_ns,rowwise_ns,torch_ref_ns,torch_openblas_ns" >"$out/kernels.csv"
for net in "mnist tests/loops/mnist.sg 784 100 10" "mlp64 tests/bench/mlp64.sg 64 128 64 10"; do
	# shellcheck disable=SC2086
	set -- $net
	name=$1 sg=$2
	shift 2
	for dt in double float; do
		p=k$name${dt%ouble}
		p=${p%loat}
		sed "s/^model $name/model $p/" "$sg" >"$work/$p.sg"
		"$symgrad" gen "$work/$p.sg" --dtype "$dt" -o "$work/${p}_grad.c"
		# and the same with the tiles' plain loops (-DNAME_NO_VECTORS)
		P=$(echo "$p" | tr 'a-z' 'A-Z')
		for form in "" "-D${P}_NO_VECTORS"; do
			# shellcheck disable=SC2086
			$cc $kflags $form -I"$work" -DMODEL_H="\"${p}_grad.h\"" -DP="$p" -DREAL="$dt" \
				tests/bench/kernels.c "$work/${p}_grad.c" -o "$work/$p${form:+_plain}" -lm
		done
	done
	: >"$work/res_d" && : >"$work/res_f" && : >"$work/same"
	: >"$work/pl_d" && : >"$work/pl_f"
	: >"$work/tr" && : >"$work/to"
	for round in 1 2 3 4 5; do
		"$work/k${name}d" 256 11 | tee -a "$work/res_d" | cut -d' ' -f3 >>"$work/same"
		"$work/k${name}f" 256 11 | tee -a "$work/res_f" | cut -d' ' -f3 >>"$work/same"
		"$work/k${name}d_plain" 256 11 | tee -a "$work/pl_d" | cut -d' ' -f3 >>"$work/same"
		"$work/k${name}f_plain" 256 11 | tee -a "$work/pl_f" | cut -d' ' -f3 >>"$work/same"
		if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
			OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/bench/torch_kernels.py 256 11 "$@" >>"$work/tr"
			if [ -n "${OPENBLAS_DIR:-}" ]; then
				OPENBLAS_NUM_THREADS=1 LD_LIBRARY_PATH=$OPENBLAS_DIR \
					/usr/bin/python3 tests/bench/torch_kernels.py 256 11 "$@" >>"$work/to"
			fi
		fi
	done
	same=$(grep -c DIFFERENT "$work/same" || true)
	same=$([ "$same" = 0 ] && echo "yes" || echo "NO ($same)")
	for dt in d f; do
		col=$([ $dt = d ] && echo 1 || echo 2)
		b=$(cut -d' ' -f1 "$work/res_$dt" | median)
		pl=$(cut -d' ' -f1 "$work/pl_$dt" | median)
		r=$(cut -d' ' -f2 "$work/res_$dt" | median)
		tr=$( [ -s "$work/tr" ] && cut -d' ' -f$col "$work/tr" | median || echo "—")
		to=$( [ -s "$work/to" ] && cut -d' ' -f$col "$work/to" | median || echo "—")
		ratio=$( [ -s "$work/to" ] && echo "$to $b" | awk '{ printf "%.2f×", $1 / $2 }' || echo "—")
		label=$(echo "$@" | sed 's/ /→/g')
		echo "| $label | $([ $dt = d ] && echo float64 || echo float32) | $b | $pl ($(echo "$pl $b" | awk '{ printf "%.2f×", $1 / $2 }')) | $r | $(echo "$r $b" | awk '{ printf "%.1f×", $1 / $2 }') | $same | $tr | $to | $ratio |"
		echo "$label,$dt,$b,$pl,$r,$tr,$to" >>"$out/kernels.csv"
		echo "$label $dt $b $to $*" >>"$work/flops"
	done
done
"$work/peak" 10 >>"$work/peak_runs"
# shellcheck disable=SC2046
set -- $(awk '{ for (i = 1; i <= 4; i++) if ($i > p[i]) p[i] = $i }
	END { print p[1], p[2], p[3], p[4] }' "$work/peak_runs")
echo
echo "One core's peak, measured (\`tests/bench/peak.c\`, \`-O2 -march=native\`, the best of"\
	"10 runs before and 10 after the kernels): $1 GFLOP/s in float64 and $3 in float32 with"\
	"fused multiply-adds; $2 and $4 with separate multiplies and adds, as"\
	"\`-ffp-contract=off\` code runs (a fused multiply-add rounds once where the model's"\
	"product and sum round twice; on this machine that figure varies more from run to run)."\
	"The flops of a sample are its matrix products':"\
	"2 per weight forward, 2 per weight for the weight's gradient and 2 per weight after"\
	"the first layer for the input gradient (the elementwise work is left out)."
echo
echo "| network, batch of 256 | dtype | flops per sample | symgrad, GFLOP/s | of the FMA peak | PyTorch + OpenBLAS, GFLOP/s | of the FMA peak |"
echo "|---|---|---|---|---|---|---|"
awk -v fd="$1" -v ff="$3" '
	{ w = 0; w1 = $5 * $6; for (i = 5; i < NF; i++) w += $i * $(i + 1)
	  fl = 4 * w + 2 * (w - w1); d = $2 == "d"
	  pf = d ? fd : ff; g = fl / $3
	  o = $4 ~ /^[0-9.]+$/
	  t = o ? sprintf("%.1f", fl / $4) : "—"
	  tp = o ? sprintf("%.0f%%", 100 * fl / $4 / pf) : "—"
	  printf "| %s | %s | %d | %.1f | %.0f%% | %s | %s |\n", $1, d ? "float64" : "float32",
		fl, g, 100 * g / pf, t, tp }' "$work/flops"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
fi
echo "Total time: $(($(date +%s) - start)) s"
echo
echo "Results: $out/*.csv"
