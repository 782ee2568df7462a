#!/bin/sh
# usage: cli.sh CASE SYMGRAD ROOT [ARG]
# One check of symgrad's command line per CASE (see the case list at the
# bottom, and meson.build).  Runs in a fresh temporary directory; the model
# files come from the source root ROOT.  Exits 0 on success; on failure
# prints what differed.
set -u
case=$1 symgrad=$2 root=$3
arg=${4:-}
case $symgrad in /*) ;; *) symgrad=$PWD/$symgrad ;; esac
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
linear=$root/examples/lecture04/linear.sg
failed=0

fail() {
	echo "FAIL: $*" >&2
	failed=1
}

# run CMD...: runs symgrad with the arguments, output in out, err, status
run() {
	"$symgrad" "$@" >out 2>err
	status=$?
}

expect_status() {
	[ "$status" -eq "$1" ] || { fail "exit status $status, expected $1"; cat err >&2; }
}

# expect_err TEXT: standard error is exactly TEXT and a newline
expect_err() {
	printf '%s\n' "$1" >want
	cmp -s want err || { fail "standard error differs:"; diff want err >&2; }
}

expect_empty() {
	[ ! -s "$1" ] || { fail "$1 is not empty:"; head -5 "$1" >&2; }
}

# only_files DIR NAME...: DIR holds exactly these files (no temporaries)
only_files() {
	dir=$1
	shift
	got=$(cd "$dir" && ls -A | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "$dir holds '$got', expected '$want'"
}

# strict_c FILE.c: compiles as strict C99 and uses no reserved identifier
strict_c() {
	${CC:-cc} -std=c99 -Wall -Wextra -Wpedantic -Werror -c "$1" -o "$tmp/obj.o" 2>cc.err ||
		{ fail "$1 does not compile:"; head -20 cc.err >&2; }
	h=${1%.c}.h
	# C99 7.1.3: __x and _X anywhere, _x at file scope, are the implementation's;
	# the parts for an ISA (from "#if... __AVX..." to its "#else" or "#endif")
	# use the implementation's own names (<immintrin.h>) and are left out
	reserved=$(sed -e '/^#if.*__AVX/,/^#\(else\|endif\)/d' -e 's/__cplusplus//g' "$1" "$h" | grep -oE '(^|[^A-Za-z0-9_])(_[A-Za-z_]|[A-Za-z0-9]+__)[A-Za-z0-9_]*' | sed -E 's/^[^A-Za-z0-9_]//' | sort -u | tr '\n' ' ')
	[ -z "$reserved" ] || fail "$1 uses reserved identifiers: $reserved"
}

# usage_error TEXT ARGS...: symgrad ARGS exits 2, its first line of
# standard error is "symgrad: error: TEXT", its second the usage line
usage_error() {
	want="symgrad: error: $1"
	shift
	run "$@"
	expect_status 2
	[ "$(head -1 err)" = "$want" ] || { fail "symgrad $*: expected '$want':"; cat err >&2; }
	sed -n 2p err | grep -q '^usage: symgrad' || fail "symgrad $*: no usage line"
	expect_empty out
}

# svg_series FILE: checks FILE is well-formed XML (an SVG) and prints the
# key text and number of points of each of gnuplot's curves, one a line,
# then "text: TEXT" for each text that is not a number (axis labels, title)
svg_series() {
	python3 - "$1" <<'PY'
import re, sys, xml.etree.ElementTree as ET
ns = '{http://www.w3.org/2000/svg}'
try:
    root = ET.parse(sys.argv[1]).getroot()
except ET.ParseError as e:
    sys.exit('%s: not well-formed XML: %s' % (sys.argv[1], e))
if root.tag != ns + 'svg':
    sys.exit('%s: the root element is %s, not svg' % (sys.argv[1], root.tag))
curves = set()
for g in root.iter(ns + 'g'):
    if re.match(r'gnuplot_plot_[0-9]+$', g.get('id', '')):
        curves.add(g)
        texts = [''.join(t.itertext()) for t in g.iter(ns + 'text')]
        # the curve's points: its moves and lines, less the key's sample (2)
        points = sum(len(re.findall('[ML]', p.get('d', ''))) for p in g.iter(ns + 'path'))
        print(texts[0] if texts else '?', points - 2)
for t in root.iter(ns + 'text'):
    s = ''.join(t.itertext()).strip()
    if s and not re.match(r'^-?[0-9.e+-]+$', s):
        print('text:', s)
PY
}

# no_times FILE: FILE without the run-dependent "time ...s" and seconds
no_times() {
	sed -e 's/ time [0-9.]*s$//' -e 's/,[0-9.]*$//' "$1"
}

case $case in
help)
	# every command has --help: usage on stdout, exit 0; a lost write is exit 1
	for cmd in check explain graph train predict eval test plot; do
		run "$cmd" --help
		expect_status 0
		expect_empty err
		head -1 out | grep -q "^usage: symgrad $cmd" || fail "symgrad $cmd --help: $(head -1 out)"
		"$symgrad" "$cmd" --help >/dev/full 2>/dev/null && fail "symgrad $cmd --help >/dev/full: exit 0"
		long=$(expand out | awk 'length > 100' | head -2)
		[ -z "$long" ] || fail "symgrad $cmd --help: lines over 100 columns: $long"
	done
	# train --help names every option README.md's training tables document,
	# and the generator's and the JIT's options every model command takes
	run train --help
	opts=$(awk '/^## Training$/ { on = 1 } /^### Seeing the run$/ { on = 0 }
		on && /^\| `--/ { print $0 }' "$root/README.md" | sed 's/^| \(.*\) | [^|]*|$/\1/' |
		grep -o -- '--[a-z][a-z-]*' | sort -u)
	[ "$(echo "$opts" | wc -l)" -ge 28 ] || fail "README.md's training tables: only $(echo "$opts" | wc -l) options"
	for o in $opts --tol-grad --tol-step --plot --loops --math; do
		grep -q -- "$o\b" out || fail "train --help does not name $o"
	done
	grep -q -- '--seed N .*initial values' out || fail "train --help: --seed does not say it draws the initial values"
	grep -q -- 'lbfgs.*newton.*lm\|newton or lm' out || fail "train --help: no lbfgs, newton, lm"
	for cmd in train predict eval test; do
		run "$cmd" --help
		for o in --dtype --loops --math --isa --help; do
			grep -q -- "^  $o\b" out || fail "$cmd --help does not list $o"
		done
	done
	for cmd in "--help" "-h" "help" "gen --help"; do
		# shellcheck disable=SC2086
		run $cmd
		expect_status 0
		expect_empty err
		head -1 out | grep -q '^usage: symgrad' || fail "symgrad $cmd: no usage line"
		grep -q -- '--dump=STAGE' out || fail "symgrad $cmd: the gen options are missing"
	done
	;;
version)
	run --version
	expect_status 0
	expect_empty err
	printf 'symgrad %s\n' "$arg" >want
	cmp -s want out || { fail "version:"; diff want out >&2; }
	;;
bad-options)
	run gen "$linear" --bogus
	expect_status 2
	expect_err "symgrad: error: unknown option '--bogus' (see symgrad --help)"
	expect_empty out
	run gen "$linear" -o
	expect_status 2
	expect_err "symgrad: error: option -o needs a value"
	run gen "$linear" --dtype half
	expect_status 2
	expect_err "symgrad: error: --dtype must be double or float, not 'half'"
	run gen "$linear" --dump=everything
	expect_status 2
	expect_err "symgrad: error: unknown stage 'everything' (tokens, ast, tir, grad, dag, prog)"
	run gen
	expect_status 2
	expect_err "symgrad: error: no model file given (usage: symgrad gen MODEL.sg [-o FILE.c])"
	run gen "$linear" "$linear"
	expect_status 2
	expect_err "symgrad: error: more than one model file given ('$linear' and '$linear')"
	# an empty file (a case tests/errors cannot hold: its expected message
	# would be a comment, and the file no longer empty)
	: >empty.sg
	run gen empty.sg -o empty.c
	expect_status 1
	expect_err "empty.sg:1:1: error: empty model: expected inputs, params and a 'loss = ...' statement

^"
	only_files . empty.sg err out want
	rm empty.sg
	run gen nothing-here.sg
	expect_status 1
	expect_err "symgrad: error: cannot open 'nothing-here.sg': No such file or directory"
	run gen "$linear" --template nope
	expect_status 2
	expect_err "symgrad: error: unknown template 'nope' (built in: c, latex, python, dump; or a .lua file)"
	run frobnicate
	expect_status 2
	head -1 err | grep -qx "symgrad: error: unknown command 'frobnicate'" || fail "unknown command: $(head -1 err)"
	grep -q '^usage: symgrad' err || fail "unknown command: no usage on standard error"
	only_files . err out want
	;;
dump)
	for stage in tokens ast tir grad dag prog; do
		run gen "$linear" --dump=$stage -o model.c
		expect_status 0
		expect_empty err
		[ -s out ] || fail "--dump=$stage printed nothing"
		only_files . out err
		case $stage in
		tokens) want="5:1 IDENT 'yhat'" ;;
		ast) want="yhat = (* x w)  # line 5" ;;
		tir) want="= map MUL x w  # yhat, line 5" ;;
		grad) want="dloss/dw = %" ;;
		dag) want="%5 = MUL x w" ;;
		prog) want="grad[w] = d_w" ;;
		esac
		grep -qF -- "$want" out || { fail "--dump=$stage has no line '$want':"; cat out >&2; }
	done
	# in loop form, prog is the loop program; the IR stages are the same
	run gen "$linear" --loops always --dump=prog
	expect_status 0
	grep -q '^# loop program of linear' out || { fail "--loops always --dump=prog:"; cat out >&2; }
	for stage in tir grad; do
		"$symgrad" gen "$linear" --dump=$stage >never.txt || fail "--dump=$stage"
		run gen "$linear" --loops always --dump=$stage
		cmp -s never.txt out || fail "--dump=$stage depends on --loops"
	done
	;;
one-contract)
	# one template contract: latex and user templates get the unrolled
	# program in loop form too, so --loops changes nothing they print
	ex=$root/examples/exercises/ex4_4.sg
	"$symgrad" gen "$ex" --template latex -o never.md || fail "latex, unrolled"
	run gen "$ex" --template latex --loops always -o always.md
	expect_status 0
	cmp -s never.md always.md || { fail "latex differs in loop form:"; diff never.md always.md >&2; }
	printf 'return function(m) return {{suffix = ".txt", text = (m.loop and "loops " or "unrolled ") .. #m.backward.stmts .. "\\n"}} end\n' >t.lua
	run gen "$ex" --template ./t.lua --loops always -o both.txt
	expect_status 0
	grep -qx 'loops [0-9]*' both.txt || { fail "a user template in loop form:"; cat both.txt err >&2; }
	;;
output-files)
	# -o: the C and the header beside it, nothing else
	mkdir d
	run gen "$linear" -o d/lin.c
	expect_status 0
	expect_empty err
	expect_empty out
	only_files d lin.c lin.h
	grep -q '^#include "lin.h"$' d/lin.c || fail "lin.c does not include lin.h"
	# the same C as standard output gives, with the default header name
	run gen "$linear"
	only_files . out err d
	cp out stdout.c
	"$symgrad" gen "$linear" -o d/linear_grad.c
	cmp -s stdout.c d/linear_grad.c || fail "standard output differs from -o linear_grad.c"
	# --header elsewhere: the C includes it by its base name
	mkdir h
	run gen "$linear" -o d/two.c --header h/other.h
	expect_status 0
	only_files h other.h
	grep -q '^#include "other.h"$' d/two.c || fail "two.c does not include other.h"
	# overwriting: the old files are replaced and keep their mode (never
	# widened); new files follow the umask
	echo old >d/lin.c
	chmod 600 d/lin.c
	(umask 022 && "$symgrad" gen "$linear" -o d/lin.c) || fail "overwrite failed"
	grep -q old d/lin.c && fail "d/lin.c was not replaced"
	[ "$(ls -l d/lin.c | cut -c1-10)" = "-rw-------" ] || fail "mode of d/lin.c: $(ls -l d/lin.c)"
	[ "$(ls -l d/lin.h | cut -c1-10)" = "-rw-r--r--" ] || fail "mode of d/lin.h: $(ls -l d/lin.h)"
	only_files d lin.c lin.h linear_grad.c linear_grad.h two.c
	# a model from standard input: the same C but for the path, "-"
	"$symgrad" gen - <"$linear" >stdin.c 2>err || fail "gen - failed"
	sed "s|$linear|-|" stdout.c >want
	cmp -s want stdin.c || { fail "gen - differs from gen FILE (but for the path):"; diff want stdin.c >&2; }
	;;
dev-full)
	run gen "$linear" -o /dev/full
	expect_status 1
	expect_err "symgrad: error: cannot write '/dev/full': No space left on device"
	"$symgrad" gen "$linear" >/dev/full 2>err
	status=$?
	expect_status 1
	expect_err "symgrad: error: cannot write to standard output: No space left on device"
	only_files . err out want
	;;
exit-status)
	# one convention for every command: usage errors 2, bad input 1
	data=$root/examples/lecture04/data.csv
	ex=$root/examples/exercises/ex4_1.sg
	status_is() {
		want=$1
		shift
		"$symgrad" "$@" >/dev/null 2>err
		got=$?
		[ $got -eq "$want" ] || { fail "symgrad $*: exit status $got, expected $want"; cat err >&2; }
		grep -q '^symgrad: error: \|: error: ' err || fail "symgrad $*: no error message"
	}
	for cmd in gen train predict eval explain graph check; do
		status_is 2 $cmd "$linear" --bogus
	done
	status_is 2 bogus
	status_is 2 gen
	status_is 2 train
	status_is 2 gen "$linear" --dtype half
	status_is 2 gen "$linear" --loops sometimes
	status_is 2 gen "$linear" --dump=nothing
	status_is 2 gen "$linear" --seed -1
	status_is 2 train "$linear" --data "$data" --seed -1
	status_is 2 train "$linear" --data "$data" --batch 0
	status_is 2 train "$linear" --data "$data" --lr
	status_is 2 train "$linear"
	status_is 2 eval "$ex" --at q=1
	status_is 2 explain "$ex"
	status_is 2 graph "$ex"
	status_is 2 gen "$linear" --template nonexistent
	status_is 1 gen nonexistent.sg
	status_is 1 train "$linear" --data nonexistent.csv
	printf 'x,y\n1,two\n' >bad.csv
	status_is 1 train "$linear" --data bad.csv
	status_is 1 train "$linear" --data "$data" --load nonexistent.params
	printf 'model m\ninput x\nloss = x +\n' >bad.sg
	status_is 1 gen bad.sg
	status_is 1 train bad.sg --data "$data"
	;;
at-grammar)
	# one --at grammar for eval, explain and graph: elements, whole
	# tensors, explicit broadcast; a bare tensor name with one number, a
	# wrong shape or a value given twice is a usage error everywhere
	d7=$root/examples/lecture07_diabetes/diabetes.sg
	good="x=[1,2,3,4,5,6,7,8], y = 1, W1[0,1]=0.5, W3=[[1,2,3,4]], b2=0.25*"
	"$symgrad" eval "$d7" --at "$good" >eval.out 2>err || { fail "eval: $(cat err)"; }
	"$symgrad" explain "$d7" --at "$good" >explain.out 2>err || { fail "explain: $(cat err)"; }
	"$symgrad" graph "$d7" --at "$good" -o g.dot 2>err || { fail "graph: $(cat err)"; }
	loss=$(sed -n 's/^loss = //p' eval.out)
	grep -q "W1\[0,1\] = 0.5, " explain.out || fail "explain did not set W1[0,1]"
	grep -q "b2\[3\] = 0.25" explain.out || fail "explain did not broadcast b2"
	grep -q "= $loss " explain.out || fail "explain's loss differs from eval's $loss"
	for bad in "x=1,y=1" "x=[1,2],y=1" "x=1*,y=1,y=2" "x=1*,y=1,W1=[[1]]" "x=1*,y=[1]"; do
		for cmd in eval explain graph; do
			run $cmd "$d7" --at "$bad" -o g2.dot
			[ $cmd = graph ] || run $cmd "$d7" --at "$bad"
			expect_status 2
		done
	done
	# --params: a saved file gives every param, --at overrides
	data=$root/examples/lecture04/data.csv
	"$symgrad" train "$linear" --data "$data" --quiet --save p.params || fail "train"
	for cmd in eval explain; do
		"$symgrad" $cmd "$linear" --at x=4,y=0 --params p.params >a.out || fail "$cmd --params"
		"$symgrad" $cmd "$linear" --at "x=4,y=0,w=$(sed -n 's/^w //p' p.params)" >b.out
		cmp -s a.out b.out || fail "$cmd --params differs from --at w=..."
	done
	;;
auto-form)
	# --loops auto: loops pay only for tensors; a long chain of scalar
	# operations stays unrolled (its loop form cost 125 KiB a layer)
	awk 'BEGIN { print "model chain\ninput x, y\nparam w = 0.5, b = 0.1\na0 = x"
		for (i = 1; i <= 2000; i++) printf "a%d = tanh(a%d * w + b)\n", i, i - 1
		print "loss = (a2000 - y)^2" }' >chain.sg
	run gen chain.sg --stats -o chain.c
	expect_status 0
	grep -q '^loops:' err && fail "a scalar chain was emitted as loops"
	grep -q 'chain_backward' chain.c || fail "no C for the chain"
	run gen "$root/examples/lecture09_softmax/softmax.sg" --stats -o soft.c
	expect_status 0
	grep -q '^loops: .* on tensors' err || { fail "lecture 9 is not in loop form"; cat err >&2; }
	;;
class-index)
	# cross_entropy's class input: checked in data files and in --at
	d9=$root/examples/lecture09_softmax
	{ head -3 "$d9/digits.csv"; sed -n 4p "$d9/digits.csv" | sed 's/,[0-9]*$/,10/'; } >bad.csv
	run train "$d9/softmax.sg" --data bad.csv --epochs 1 --quiet
	expect_status 1
	expect_err "bad.csv:4:65: error: index input 'label' is not a whole number from 0 to 9 (a class of 10, or a row or element of 10): '10'"
	for v in 10 -1 2.5 nan; do
		run eval "$d9/softmax.sg" --at "x=1*,label=$v"
		expect_status 2
		grep -q "'label' is an index input (a class, a row or an element): a whole number from 0 to 9" err ||
			{ fail "--at label=$v:"; cat err >&2; }
	done
	run eval "$d9/softmax.sg" --at "x=1*,label=9"
	expect_status 0
	# a vector of classes, one per step (lecture 12): each element checked
	d12=$root/examples/lecture12_rnn
	{ cat "$d12/hello.csv"; sed -n 2p "$d12/hello.csv" | sed 's/,0,2,3,3,4$/,5,2,3,3,4/'; } >bad.csv
	run train "$d12/hello.sg" --data bad.csv --epochs 1 --quiet
	expect_status 1
	expect_err "bad.csv:3:32: error: index input 'ys[1]' is not a whole number from 0 to 4 (a class of 5, or a row or element of 5): '5'"
	# a token id reading a row, E[toks[t]]: checked as a class, in data and in --at
	emb=$root/tests/torch/embed
	for v in 5 2.5 -1; do
		{ head -3 "$emb/embed.csv"; echo "1,0,$v,2,3"; } >bad.csv
		run train "$emb/embed.sg" --data bad.csv --epochs 1 --quiet
		expect_status 1
		expect_err "bad.csv:4:3: error: index input 'toks[2]' is not a whole number from 0 to 4 (a class of 5, or a row or element of 5): '$v'"
	done
	run eval "$emb/embed.sg" --at "toks[0]=1,toks[1]=5,toks[2]=0,toks[3]=0,y=2"
	expect_status 2
	grep -q "'toks\[1\]' is an index input (a class, a row or an element): a whole number from 0 to 4, not 5" err ||
		{ fail "--at toks[1]=5:"; cat err >&2; }
	run eval "$emb/embed.sg" --at "toks=4*,y=2"
	expect_status 0
	;;
inline-values)
	# gen reads --name=value as train does
	run gen "$linear" --dtype=float --loops=never --seed=7 -o a.c
	expect_status 0
	"$symgrad" gen "$linear" --dtype float --loops never --seed 7 -o b.c || fail "gen"
	sed 's/b\.h/a.h/' b.c | cmp -s - a.c || fail "--dtype=float differs from --dtype float"
	run gen "$linear" --stats=yes
	expect_status 2
	expect_err "symgrad: error: option --stats takes no value"
	;;
hand-c-cc)
	# check --hand-c runs $CC split into words, as the JIT does
	ex=$root/examples/exercises
	CC="${CC:-cc}  -O0 " "$symgrad" check "$ex/ex4_4.sg" --hand-c "$ex/ex4_4_hand.c" >out 2>err ||
		{ fail "CC with arguments:"; cat err >&2; }
	grep -q '^OK: 3 of 3' out || fail "check --hand-c: $(tail -1 out)"
	;;
predict-no-outputs)
	# a model without outputs has nothing to predict: an error, not blank lines
	printf 'input x, y\nparam w = 1\nloss = (x * w - y)^2\n' >noout.sg
	run predict noout.sg --data "$root/examples/lecture04/data.csv"
	expect_status 1
	expect_empty out
	expect_err "symgrad: error: model 'noout' has no outputs: nothing to predict (name them with an 'output' statement)"
	;;
hand-c-errors)
	# check --hand-c loads only functions the user's file defines, and the
	# compiler's messages name the user's file
	ex=$root/examples/exercises
	run check "$ex/ex4_4.sg" --hand-c "$ex/ex4_4_hand.c:printf"
	expect_status 1
	expect_err "symgrad: error: '$ex/ex4_4_hand.c' has no function 'printf' (name it with $ex/ex4_4_hand.c:FUNCTION)"
	printf 'double f(void) { return 1 }\n' >bad.c
	run check "$ex/ex4_4.sg" --hand-c bad.c:f
	expect_status 1
	head -1 err | grep -q "^symgrad: error: cannot compile 'bad.c': C compiler" || fail "compile error: $(head -1 err)"
	grep -q '^bad\.c:1:' err || { fail "the compiler's messages do not name bad.c:"; cat err >&2; }
	;;
options-everywhere)
	# one option reader: --opt value and --opt=value mean the same in
	# every command
	ex=$root/examples/exercises
	for args in "gen $linear --dump tir|gen $linear --dump=tir" \
		    "explain $linear --at x=2,y=4 --format json|explain $linear --at=x=2,y=4 --format=json" \
		    "graph $linear -o g.dot|graph $linear -o=g.dot" \
		    "check $ex/ex4_1.sg --hand $ex/ex4_1.hand|check $ex/ex4_1.sg --hand=$ex/ex4_1.hand" \
		    "eval $linear --at x=2,y=4|eval $linear --at=x=2,y=4"; do
		one=${args%%|*} two=${args#*|}
		# shellcheck disable=SC2086
		"$symgrad" $one >one.out 2>&1 || fail "symgrad $one"
		# shellcheck disable=SC2086
		"$symgrad" $two >two.out 2>&1 || fail "symgrad $two"
		cmp -s one.out two.out || { fail "'$one' and '$two' differ:"; diff one.out two.out >&2; }
	done
	run explain "$linear" --at x=2,y=4 --dtype=half
	expect_status 2
	expect_err "symgrad: error: --dtype must be double or float, not 'half'"
	run check "$ex/ex4_1.sg" --hand
	expect_status 2
	expect_err "symgrad: error: option --hand needs a value"
	;;
stdout-full)
	# every command that writes to standard output: a lost write is exit 1
	# with a message, never exit 0 (output that did not arrive)
	data=$root/examples/lecture04/data.csv
	ex=$root/examples/exercises/ex4_1.sg
	check_full() {
		"$symgrad" "$@" >/dev/full 2>err
		status=$?
		[ $status -eq 1 ] || fail "symgrad $* >/dev/full: exit status $status"
		grep -q '^symgrad: error: cannot write to standard output' err ||
			{ fail "symgrad $* >/dev/full: no message"; cat err >&2; }
		[ "$(grep -c 'cannot write' err)" -eq 1 ] || { fail "symgrad $*: message twice"; cat err >&2; }
	}
	check_full
	check_full --help
	check_full --version
	check_full gen "$linear" --dump=dag
	check_full gen "$linear" --dump=tokens
	check_full train "$linear" --data "$data" --trace lecture --quiet
	check_full train --help
	"$symgrad" train "$linear" --data "$data" --quiet --save p.params || fail "train --save"
	check_full predict "$linear" --params p.params --data "$data"
	check_full eval "$ex" --at x=2,y=4,w=1
	check_full eval "$ex" --at x=2,y=4,w=1 --format json
	check_full explain "$ex" --at x=2,y=4,w=1
	check_full graph "$ex" -o -
	check_full check "$ex" --hand "$root/examples/exercises/ex4_1.hand"
	;;
device-outputs)
	# a device or FIFO is written in place, never replaced by a regular
	# file; a write error there is an error (exit 1, the file named)
	data=$root/examples/lecture04/data.csv
	mkfifo fifo
	if [ "$(id -u)" -eq 0 ]; then
		mknod null c 1 3 || fail "mknod"
		devices="null fifo"
	else
		devices=fifo
	fi
	for dev in $devices; do
		for opt in --save --log; do
			[ "$dev" = fifo ] && { cat fifo >got & }
			run train "$linear" --data "$data" --quiet $opt $dev
			wait
			expect_status 0
			[ -p fifo ] || fail "$opt fifo: fifo is no longer a FIFO"
			[ "$dev" = null ] && { [ -c null ] || fail "$opt null: no longer a device"; }
			if [ "$dev" = fifo ]; then
				case $opt in
				--save) grep -q '^checksum' got || fail "--save fifo: nothing read" ;;
				--log) grep -q '^epoch,loss' got || fail "--log fifo: nothing read" ;;
				esac
			fi
		done
		[ "$dev" = fifo ] && { cat fifo >got & }
		run gen "$linear" -o $dev
		wait
		expect_status 0
		[ "$dev" = fifo ] && { grep -q linear_backward got || fail "gen -o fifo: nothing read"; }
	done
	mkfifo g.dot
	cat g.dot >got &
	run graph "$root/examples/exercises/ex4_1.sg" -o g.dot
	wait
	expect_status 0
	[ -p g.dot ] || fail "graph -o g.dot: no longer a FIFO"
	grep -q '^digraph' got || fail "graph -o g.dot: nothing read"
	[ -c /dev/full ] || fail "/dev/full is missing"
	for opt in --save --log; do
		run train "$linear" --data "$data" --quiet $opt /dev/full
		expect_status 1
		expect_err "symgrad: error: cannot write '/dev/full': No space left on device"
		[ -c /dev/full ] || fail "$opt /dev/full replaced the device"
	done
	mkdir dir
	run train "$linear" --data "$data" --quiet --save dir
	expect_status 1
	expect_err "symgrad: error: cannot write 'dir': it is a directory"
	;;
symlink-outputs)
	# a symbolic link is followed by every writer: the link stays, its
	# target gets the new contents (created when it does not exist yet)
	data=$root/examples/lecture04/data.csv
	mkdir t
	ln -s t/p.params p.link
	ln -s t/log.csv log.link
	ln -s t/m.c c.link
	run train "$linear" --data "$data" --quiet --save p.link --log log.link
	expect_status 0
	run gen "$linear" -o c.link
	expect_status 0
	for l in p.link log.link c.link; do
		[ -L $l ] || fail "$l is no longer a symbolic link"
	done
	grep -q '^checksum' t/p.params || fail "--save did not write through the link"
	grep -q '^epoch,loss' t/log.csv || fail "--log did not write through the link"
	grep -q 'linear_backward' t/m.c || fail "gen -o did not write through the link"
	# the header goes beside the name given (c.h), as without a link
	[ -f c.h ] || fail "gen -o c.link: no c.h"
	echo old >t/p.params
	run train "$linear" --data "$data" --quiet --save p.link
	grep -q '^checksum' t/p.params || fail "--save over an existing target via a link"
	ln -s loop2 loop1
	ln -s loop1 loop2
	run train "$linear" --data "$data" --quiet --save loop1
	expect_status 1
	grep -q "cannot write 'loop1'" err || { fail "a link loop:"; cat err >&2; }
	only_files t p.params log.csv m.c
	;;
dev-full-header)
	# the header cannot be written: no C file may be left without it
	mkdir d
	run gen "$linear" -o d/lin.c --header /dev/full
	expect_status 1
	expect_err "symgrad: error: cannot write '/dev/full': No space left on device"
	only_files d
	;;
failing-template)
	mkdir d
	run gen "$linear" -o d/lin.c
	expect_status 0
	cp d/lin.c lin.c.before
	cp d/lin.h lin.h.before
	printf 'return function(m)\n  error("template failure")\nend\n' >bad.lua
	run gen "$linear" -o d/lin.c --template ./bad.lua
	expect_status 1
	expect_err "./bad.lua:2: template failure"
	cmp -s lin.c.before d/lin.c || fail "d/lin.c changed after a failing template"
	cmp -s lin.h.before d/lin.h || fail "d/lin.h changed after a failing template"
	only_files d lin.c lin.h
	# a template that returns nothing usable, and one that returns no file
	printf 'return function(m) return 1 end\n' >bad2.lua
	run gen "$linear" -o d/lin.c --template ./bad2.lua
	expect_status 1
	expect_err "./bad2.lua: error: render() must return an array of {suffix = ..., text = ...}"
	printf 'return function(m) return {} end\n' >none.lua
	run gen "$linear" -o d/lin.c --template ./none.lua
	expect_status 1
	expect_err "symgrad: error: template './none.lua' produced no files"
	# a model with an error leaves the files too
	printf 'input x\nparam w = 1\nloss = (x * w\n' >bad.sg
	run gen bad.sg -o d/lin.c
	expect_status 1
	cmp -s lin.c.before d/lin.c || fail "d/lin.c changed after a model error"
	only_files d lin.c lin.h
	;;
template-file)
	# a template from a file: its files go beside -o with their suffixes
	cat >t.lua <<'LUA'
return function(m)
  return {{suffix = ".txt", text = m.name .. " " .. #m.params .. "\n"},
          {suffix = ".md", text = "# " .. m.loss_name .. "\n"}}
end
LUA
	run gen "$linear" -o out.txt --template ./t.lua --depfile dep.d
	expect_status 0
	printf 'linear 1\n' >want
	cmp -s want out.txt || fail "out.txt: $(cat out.txt)"
	printf '# loss\n' >want
	cmp -s want out.md || fail "out.md: $(cat out.md)"
	printf 'out.txt: %s ./t.lua\n' "$linear" >want
	cmp -s want dep.d || { fail "depfile:"; diff want dep.d >&2; }
	only_files . out err want t.lua out.txt out.md dep.d
	;;
file-size)
	# README "Limits": 64 MiB of model file; one byte more is an error naming the limit
	printf 'input x\nparam w = 1\nloss = (x * w)^2\n#' >big.sg
	size=$((64 * 1024 * 1024))
	head -c $((size - $(wc -c <big.sg))) /dev/zero | tr '\0' c >>big.sg
	[ "$(wc -c <big.sg)" -eq $size ] || fail "big.sg is not 64 MiB"
	run gen big.sg -o big.c
	expect_status 0
	expect_empty err
	rm -f big.c big.h
	printf 'c' >>big.sg
	run gen big.sg -o big.c
	expect_status 1
	expect_err "symgrad: error: 'big.sg' is larger than 64 MiB (limit)"
	rm -f big.sg
	only_files . out err want
	;;
stdin)
	printf 'input x\nparam w = 1\nloss = (x * v)^2\n' | "$symgrad" gen - >out 2>err
	status=$?
	expect_status 1
	printf '%s\n' "<stdin>:3:13: error: unknown name 'v'" "loss = (x * v)^2" "            ^" >want
	cmp -s want err || { fail "error from standard input:"; diff want err >&2; }
	expect_empty out
	;;
second-order)
	# gen --jacobian, --hessian, --hvp: strict C99 with every name a model
	# may use for a param (vec, hvp, hess are the functions' arrays)
	printf 'input x\nparam vec = 1, hvp = 2, hess = 3, v_vec = 4\nyhat = vec * x + hvp * hess\nloss = (yhat - v_vec)^2\noutput yhat\n' >names.sg
	run gen names.sg -o names.c --jacobian --hessian --hvp
	expect_status 0
	expect_empty err
	strict_c names.c
	# Newton on lecture 4: one step to the minimum
	run train "$linear" --data "$root/examples/lecture04/data.csv" --optimizer newton --save w.params
	expect_status 0
	printf '%s\n' "iteration 0: loss 4.666666666666667, max |grad| 9.333333333333334" \
		"iteration 1: loss 0.0, max |grad| 0.0, max |step| 1.0, lambda 0.0" \
		"stop: gradient below tolerance after 1 iteration" "w = 2.0" >want
	cmp -s want out || { fail "newton on lecture 4:"; diff want out >&2; }
	grep -q '^w 2.0$' w.params || fail "newton --save: $(cat w.params)"
	run train "$linear" --data "$root/examples/lecture04/data.csv" --optimizer newton --lr 0.1
	expect_status 2
	grep -q "option --lr does not apply to --optimizer newton" err || fail "newton --lr: $(cat err)"
	# a row whose loss overflows is named
	printf 'x,y\n1,2\n1e308,4\n' >big.csv
	run train "$linear" --data big.csv --optimizer newton --save w2.params
	expect_status 1
	expect_err "symgrad: error: big.csv:3: the loss is not finite at this row (inf)"
	[ ! -e w2.params ] || fail "newton saved after an error"
	# a model without outputs has no Jacobian
	printf 'input x\nparam w = 1\nloss = (w * x)^2\n' >noout.sg
	run gen noout.sg --jacobian -o noout.c
	expect_status 2
	expect_err "symgrad: error: --jacobian differentiates the model's outputs, and noout.sg has none (declare them with 'output NAME')"
	[ ! -e noout.c ] || fail "noout.c written"
	# too large for a dense Hessian; the sparse Hessian not in loop form yet
	printf 'input x[30]\nparam W[40, 30] = 0.1\nloss = sum(W @ x)\n' >big.sg
	run gen big.sg --hessian --loops never -o big.c
	expect_status 2
	expect_err "symgrad: error: the dense Hessian of 1200 params would have 1440000 entries (limit: 1000 params); use --hessian-sparse for its entries that are not 0 by structure, or --hvp for Hessian-vector products"
	[ ! -e big.c ] || fail "big.c written"
	printf 'input x[20]\nparam W[20, 20] = 0.1\nloss = sum(W @ x)\noutput W\n' >loopy.sg
	run gen loopy.sg --hvp --jvp --hessian-sparse --loops always -o loopy.c
	expect_status 2
	grep -q "^symgrad: error: --hessian-sparse is not available in loop form yet" err || fail "loops: $(cat err)"
	[ ! -e loopy.c ] || fail "loopy.c written"
	# --gnvp needs residuals
	run gen loopy.sg --gnvp -o loopy.c
	expect_status 2
	expect_err "symgrad: error: --gnvp is the Gauss-Newton product of a least-squares model, and loopy.sg names no residuals (declare them with 'residual NAME')"
	# the HVP, JVP, VJP and Gauss-Newton product in loop form: strict C99
	printf 'input x[20], y[20]\nparam W[20, 20] = 0.1\nr = W @ x - y\nresidual r\nloss = sum(r^2)\n' >loopy.sg
	run gen loopy.sg --hvp --jvp --vjp --gnvp --jacobian --hessian --loops always -o loopy.c
	expect_status 0
	grep -q "^double loopy_gnvp(" loopy.c || fail "no loop-form gnvp"
	grep -q "^void loopy_jacobian(" loopy.c || fail "no loop-form jacobian"
	"${CC:-cc}" -std=c99 -Wall -Wextra -Wpedantic -Werror -c loopy.c -o loopy.o || fail "loopy.c does not build"
	# the sparse Hessian of a model whose params do not meet: a diagonal pattern
	printf 'input x\nparam a = 1, b = 2\nloss = (a * x)^2 + sin(b)\n' >diag.sg
	run gen diag.sg --hessian-sparse -o diag.c
	expect_status 0
	grep -q "^#define DIAG_HESS_NNZ 2$" diag.h || fail "diag: $(grep HESS_NNZ diag.h)"
	grep -q "diag_hess_rowidx\[2\] = {0, 1};" diag.h || fail "diag: $(grep rowidx diag.h)"
	# eval --jvp and --vjp: tangent and cotangent in the --at grammar
	run eval "$linear" --at x=2,y=4,w=1 --jvp w=1 --vjp loss=1
	expect_status 0
	printf '%s\n' 'loss = 4.0' 'yhat = 2.0' 'dloss/dw = -8.0' 'jvp loss = -8.0' 'jvp yhat = 2.0' \
		'vjp w = -8.0' 'vjp x = -4.0' 'vjp y = 4.0' >want
	cmp -s out want || fail "eval --jvp --vjp: $(cat out)"
	run eval "$linear" --at x=2,y=4,w=1 --jvp q=1
	expect_status 2
	grep -q "^symgrad: error: --jvp: " err || fail "jvp: $(cat err)"
	# eval on a model whose function is missing: the runtime names the option
	run eval "$linear" --at x=1,y=2 --hessian --format json
	expect_status 0
	printf '%s\n' '{"loss": 1.0, "outputs": {"yhat": 1.0}, "grad": {"w": -2.0}, "hessian": {"w": {"w": 2.0}}}' >want
	cmp -s want out || { fail "eval --hessian json:"; diff want out >&2; }
	;;
train-lm)
	# Levenberg-Marquardt on Michaelis-Menten against SciPy's least_squares
	# (examples/michaelis_menten/scipy_fit.txt): params within 1e-9 relative,
	# standard errors within 1e-7
	mm=$root/examples/michaelis_menten
	run train "$mm/mm.sg" --data "$mm/data.csv" --optimizer lm --save mm.params
	expect_status 0
	grep -q '^stop: step below tolerance after' out || fail "lm stop: $(grep stop out)"
	for name in vmax km; do
		ours=$(sed -n "s/^$name = \([^ ]*\) +- \(.*\)/\1 \2/p" out)
		ref=$(sed -n "s/^$name //p" "$mm/scipy_fit.txt")
		echo "$ours $ref" | awk -v n="$name" '{
			dp = ($1 - $3) / $3; ds = ($2 - $4) / $4
			if (dp < 0) dp = -dp; if (ds < 0) ds = -ds
			if (NF != 4 || dp > 1e-9 || ds > 1e-7) { printf "%s: %s +- %s, SciPy %s +- %s\n", n, $1, $2, $3, $4; exit 1 } }' ||
			fail "lm fit differs from SciPy's"
	done
	grep -q '^vmax 2.46892319' mm.params || fail "lm --save: $(cat mm.params)"
	# a model without 'residual' is no least-squares model
	run train "$linear" --data "$root/examples/lecture04/data.csv" --optimizer lm
	expect_status 1
	expect_err "symgrad: error: model 'linear' names no residual ('residual r' with loss = sum(r^2)): Levenberg-Marquardt fits least squares"
	;;
train-lbfgs)
	# torch.optim.LBFGS's algorithm (defaults, no line search), each step's
	# loss against PyTorch's (EXAMPLE/torch_lbfgs.txt): lecture 6, all 10
	# steps and the final loss within 1e-12; the 87-param network's first 3
	# steps within 1e-8 (later steps part: lr 1 without line search drives
	# its weights past 1,000, where the order of a dot product's sum, BLAS's
	# against symgrad's, changes the 6th digit; the third loss already moves
	# by the last bits of exp and the order of the sum over the rows:
	# 5.5e-10 from PyTorch's with symgrad's exp, 9.2e-10 with glibc's,
	# --math libm)
	for c in lecture06_logistic:logistic.sg:data.csv:11:1e-12 \
		 lecture07_diabetes:diabetes.sg:diabetes.csv:3:1e-8; do
		IFS=: read -r ex model data steps tol <<EOF2
$c
EOF2
		d=$root/examples/$ex
		run train "$d/$model" --data "$d/$data" --load "$d/torch_init.params" --optimizer lbfgs
		expect_status 0
		sed -n 's/^epoch [0-9]*: loss //p; s/^final loss //p' out >ours
		grep -v '^#' "$d/torch_lbfgs.txt" | cut -d' ' -f2 >torch
		[ "$(wc -l <ours)" -eq 11 ] || fail "$ex: $(wc -l <ours) losses"
		paste -d' ' ours torch | head -n "$steps" | awk -v tol="$tol" -v ex="$ex" '
			{ d = $1 - $2; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2
			  if (!(d <= tol * s)) { printf "%s step %d: %s, PyTorch %s\n", ex, NR - 1, $1, $2; bad = 1 } }
			END { exit bad }' || fail "lbfgs differs from PyTorch"
	done
	;;
depfile)
	run gen "$linear" -o lin.c --depfile lin.d
	expect_status 0
	printf 'lin.c: %s\n' "$linear" >want
	cmp -s want lin.d || { fail "depfile:"; diff want lin.d >&2; }
	;;
default-name)
	# a file name with no letter or digit still gives a valid C prefix
	cp "$linear" model.sg
	sed '/^model /d' model.sg >'+.sg'
	run gen '+.sg' -o plus.c
	expect_status 0
	strict_c plus.c
	;;
transpose-value)
	# W' and transpose(W) as values: element (j, i) of the result is W's
	# (i, j), in both loop forms; and through '@', the same numbers
	cat >tv.sg <<-'EOF'
	model tv
	input x[2]
	param W[2, 3] = 0
	z = transpose(W) @ x
	t = W' * 1
	output t, z
	loss = sum(z) + sum(t)
	EOF
	for form in never always; do
		run eval tv.sg --loops "$form" --at 'x=[1,10],W=[[1,2,3],[4,5,6]]'
		expect_status 0
		got=$(grep -E '^(t|z)\[' out | tr '\n' ' ')
		want='t[0,0] = 1.0 t[0,1] = 4.0 t[1,0] = 2.0 t[1,1] = 5.0 t[2,0] = 3.0 t[2,1] = 6.0 z[0] = 41.0 z[1] = 52.0 z[2] = 63.0 '
		[ "$got" = "$want" ] || fail "--loops $form: $got"
		grep -qx 'dloss/dW\[1,2\] = 11.0' out || fail "--loops $form: dloss/dW[1,2]"
	done
	;;
valid-c)
	# ARG: a model in tests/cli/names; its C must compile, or symgrad must
	# reject the model with the error its "# expect: error:" line names
	model=$root/tests/cli/names/$arg.sg
	run gen "$model" -o m.c
	# every model says what it expects: "# expect: valid C", or
	# "# expect: error: TEXT" (the message must hold TEXT)
	want_err=$(sed -n 's/^# expect: error: //p' "$model")
	grep -q '^# expect: ' "$model" || fail "$arg.sg has no '# expect:' line"
	if [ $status -eq 0 ]; then
		[ -z "$want_err" ] || fail "symgrad accepted a model that must be rejected"
		strict_c m.c
	elif grep -q '^# expect: valid C' "$model"; then
		fail "symgrad rejected the model:"
		cat err >&2
	else
		grep -qF -- "$want_err" err || { fail "no error '$want_err':"; cat err >&2; }
		[ "$status" -eq 1 ] || fail "exit status $status, expected 1"
		only_files . out err
	fi
	;;
train-val)
	# --val FILE and --val-split F: the validation loss beside the loss
	data=$root/examples/lecture04/data.csv
	printf 'x,y\n4,8\n' >val.csv
	run train "$linear" --data "$data" --val val.csv --epochs 2
	expect_status 0
	no_times err >got
	# val_loss (4 w - 8)^2 at w = 1.260688 after epoch 1; grad_norm the
	# mean of |2 (x w - y) x| over the steps: (2 + 7.84 + 16.2288) / 3
	printf '%s\n' "epoch 1/2 loss 4.0525143466666655 val_loss 8.745315733503999 lr 0.01 grad_norm 8.6896" \
		"epoch 2/2 loss 2.2150323422596667 val_loss 4.780034204917039 lr 0.01 grad_norm 6.424325555199999" \
		"stopped: 2 epochs done" >want
	cmp -s want got || { fail "--val:"; diff want got >&2; }
	# Keras's split: the first int(3 * 0.66) = 1 row trains, w = 1.02
	# after it; the rows (2, 4) and (3, 6) validate: (3.8416 + 8.6436) / 2
	run train "$linear" --data "$data" --val-split 0.34 --epochs 1 --log log.csv
	expect_status 0
	[ "$(head -1 log.csv)" = "epoch,loss,val_loss,lr,grad_norm,seconds" ] || fail "log header: $(head -1 log.csv)"
	grep -q '^epoch 1/1 loss 1.0 val_loss 6.242599999999999[0-9]* ' err || { fail "--val-split:"; cat err >&2; }
	usage_error "give --val FILE or --val-split F, not both" train "$linear" --data "$data" --val val.csv --val-split 0.5
	for f in 0 1 1.5 -0.2 x; do
		run train "$linear" --data "$data" --val-split "$f"
		expect_status 2
		head -1 err | grep -q "^symgrad: error: option --val-split: bad value '$f'" || { fail "--val-split $f:"; cat err >&2; }
	done
	usage_error "option --val needs a value" train "$linear" --data "$data" --val
	run train "$linear" --data "$data" --val-split 0.9
	expect_status 1
	grep -q "leaves no training rows" err || { fail "--val-split 0.9 of 3 rows:"; cat err >&2; }
	run train "$linear" --data "$data" --val missing.csv
	expect_status 1
	;;
train-metric)
	# --metric on training and validation data; test prints the same
	d9=$root/examples/lecture09_softmax
	d6=$root/examples/lecture06_logistic
	run train "$d9/softmax.sg" --data "$d9/digits.csv" --val-split 0.2 --epochs 2 --batch 32 --lr 0.1 \
		--metric accuracy --save p.params
	expect_status 0
	grep -q '^epoch 2/2 loss [0-9.]* val_loss [0-9.]* accuracy 0\.[0-9]* val_accuracy 0\.[0-9]* lr 0.1 grad_norm [0-9.]* time' err ||
		{ fail "--metric accuracy:"; cat err >&2; }
	run test "$d9/softmax.sg" --params p.params --data "$d9/digits.csv" --metric accuracy
	expect_status 0
	grep -q '^loss = [0-9.]*$' out && grep -q '^accuracy = 0\.[0-9]*$' out || { fail "test:"; cat out err >&2; }
	run test "$d9/softmax.sg" --params p.params --data "$d9/digits.csv" --metric accuracy --format json
	grep -q '^{"loss": [0-9.]*, "accuracy": 0\.[0-9]*}$' out || { fail "test --format json:"; cat out >&2; }
	# one probability output against a 0/1 target, repeatable --metric
	run train "$d6/logistic.sg" --data "$d6/data.csv" --epochs 1 --metric accuracy --metric mse,mae --quiet --log log.csv
	expect_status 0
	[ "$(head -1 log.csv)" = "epoch,loss,accuracy,mse,mae,lr,grad_norm,seconds" ] || fail "log header: $(head -1 log.csv)"
	usage_error "unknown metric 'f1' (accuracy, mse, mae)" train "$linear" --data x.csv --metric f1
	usage_error "--metric mse: output 'probs' has 10 elements, target 'label' has 1 (give --output NAME and --target NAME)" \
		train "$d9/softmax.sg" --data x.csv --metric mse
	usage_error "--metric mae: model 'linear' has no input 'z'" train "$linear" --data x.csv --metric mae --target z
	usage_error "--metric mae: model 'linear' has no output 'z'" train "$linear" --data x.csv --metric mae --output z
	usage_error "--target needs --metric" train "$linear" --data x.csv --target y
	usage_error "test needs --data FILE" test "$linear" --metric mse
	;;
train-control)
	# schedules, clipping, weight decay, patience, log-every, target loss
	data=$root/examples/lecture04/data.csv
	run train "$linear" --data "$data" --epochs 5 --lr 0.1 --lr-schedule step:2:0.5 --quiet --log log.csv
	expect_status 0
	cut -d, -f3 log.csv | tr '\n' ' ' >got
	[ "$(cat got)" = "lr 0.1 0.1 0.05 0.05 0.025 " ] || fail "step schedule: $(cat got)"
	run train "$linear" --data "$data" --epochs 3 --lr 0.1 --lr-schedule exp:0.5 --quiet --log log.csv
	[ "$(cut -d, -f3 log.csv | tr '\n' ' ')" = "lr 0.1 0.05 0.025 " ] || fail "exp schedule: $(cat log.csv)"
	run train "$linear" --data "$data" --epochs 3 --lr 0.1 --lr-schedule cosine:2 --quiet --log log.csv
	[ "$(cut -d, -f3 log.csv | tr '\n' ' ')" = "lr 0.1 0.05 0.0 " ] || fail "cosine schedule: $(cat log.csv)"
	for s in step:0:0.5 step:2 exp:0 cosine:0 cosine:2:-1 linear:2; do
		run train "$linear" --data "$data" --lr-schedule "$s"
		expect_status 2
		head -1 err | grep -q "^symgrad: error: option --lr-schedule: .*schedule '$s'" || { fail "--lr-schedule $s:"; cat err >&2; }
	done
	# clipping: each per-sample gradient clipped to norm 0.5
	run train "$linear" --data "$data" --epochs 1 --clip-norm 0.5 --save clip.params
	expect_status 0
	grep -q '^epoch 1/1 loss .* grad_norm ' err || { fail "--clip-norm:"; cat err >&2; }
	run train "$linear" --data "$data" --epochs 1 --quiet --save plain.params
	cmp -s clip.params plain.params && fail "--clip-norm changed nothing"
	usage_error "option --clip-norm: bad value '0' (a number > 0)" train "$linear" --data "$data" --clip-norm 0
	usage_error "option --clip-norm: bad value '-1'" train "$linear" --data "$data" --clip-norm -1
	# weight decay: every optimizer, adamw's default 0.01
	for o in sgd momentum adam adamw; do
		run train "$linear" --data "$data" --epochs 2 --optimizer $o --weight-decay 0.1 --quiet --save wd.params
		expect_status 0
		run train "$linear" --data "$data" --epochs 2 --optimizer $o --quiet --save nowd.params
		cmp -s wd.params nowd.params && fail "--weight-decay changed nothing for $o"
	done
	run train "$linear" --data "$data" --epochs 2 --optimizer adamw --weight-decay 0.01 --quiet --save a.params
	run train "$linear" --data "$data" --epochs 2 --optimizer adamw --quiet --save b.params
	cmp -s a.params b.params || fail "adamw's default weight decay is not 0.01"
	usage_error "option --weight-decay: bad value '-0.1'" train "$linear" --data "$data" --weight-decay -0.1
	# patience: validation rows y = 1.5x pull the other way
	printf 'x,y\n1,1.5\n2,3\n' >val.csv
	run train "$linear" --data "$data" --val val.csv --epochs 100 --patience 3 --log-every 1000 --save best.params
	expect_status 0
	tail -1 err | grep -q '^stopped: no improvement in validation loss for 3 epochs (best at epoch [0-9]*, its parameters kept)$' ||
		{ fail "--patience:"; cat err >&2; }
	[ "$(grep -c '^epoch' err)" = 2 ] || { fail "--log-every 1000: not the first and the last epoch only"; cat err >&2; }
	usage_error "--patience needs validation data (--val FILE or --val-split F)" train "$linear" --data "$data" --patience 3
	usage_error "option --patience: bad value '0' (a whole number >= 1)" train "$linear" --data "$data" --val val.csv --patience 0
	# --log-every 4 of 10: epochs 1, 4, 8, 10
	run train "$linear" --data "$data" --log-every 4
	expect_status 0
	[ "$(sed -n 's|^epoch \([0-9]*\)/10 .*|\1|p' err | tr '\n' ' ')" = "1 4 8 10 " ] || { fail "--log-every 4:"; cat err >&2; }
	tail -1 err | grep -q '^stopped: 10 epochs done$' || fail "no stop line"
	usage_error "option --log-every: bad value '0' (a whole number >= 1)" train "$linear" --data "$data" --log-every 0
	# --target-loss: epoch 4's loss is 0.66, epoch 5's 0.36
	run train "$linear" --data "$data" --epochs 100 --target-loss 0.5 --quiet --log log.csv
	expect_status 0
	expect_err "stopped: loss reached --target-loss 0.5 at epoch 5"
	[ "$(wc -l <log.csv)" = 6 ] || { fail "--target-loss: not 5 epochs"; cat log.csv >&2; }
	usage_error "option --target-loss: bad value 'x'" train "$linear" --data "$data" --target-loss x
	;;
train-default-output)
	# without the newer options train's output is what it always was
	data=$root/examples/lecture04/data.csv
	run train "$linear" --data "$data" --epochs 2 --log log.csv
	expect_status 0
	no_times err >got
	printf '%s\n' "epoch 1/2 loss 4.0525143466666655" "epoch 2/2 loss 2.2150323422596667" >want
	cmp -s want got || { fail "default log:"; diff want got >&2; }
	[ "$(head -1 log.csv)" = "epoch,loss,seconds" ] || fail "log header: $(head -1 log.csv)"
	;;
predict-format)
	data=$root/examples/lecture04/data.csv
	run predict "$linear" --data "$data" --with-inputs
	expect_status 0
	printf 'x,y,yhat\n1.0,2.0,1.0\n2.0,4.0,2.0\n3.0,6.0,3.0\n' >want
	cmp -s want out || { fail "--with-inputs:"; diff want out >&2; }
	run predict "$linear" --data "$data" --format json
	printf '[\n{"yhat": 1.0},\n{"yhat": 2.0},\n{"yhat": 3.0}\n]\n' >want
	cmp -s want out || { fail "--format json:"; diff want out >&2; }
	run predict "$linear" --data "$data" --format csv
	printf 'yhat\n1.0\n2.0\n3.0\n' >want
	cmp -s want out || { fail "--format csv:"; diff want out >&2; }
	usage_error "unknown format 'xml' (csv, json)" predict "$linear" --data "$data" --format xml
	usage_error "option --with-inputs takes no value" predict "$linear" --data "$data" --with-inputs=yes
	usage_error "unknown format 'csv' (text, json)" test "$linear" --data "$data" --format csv
	;;
plot)
	# the curves of a log: loss, val_loss dashed, metrics on the right axis
	printf 'epoch,loss,val_loss,accuracy,val_accuracy,lr,grad_norm,seconds\n' >log.csv
	printf '%s\n' 1,0.7,0.72,0.5,0.4,0.1,0.3,0.01 2,0.5,0.6,0.7,0.6,0.1,0.2,0.02 \
		3,0.4,0.55,0.8,0.7,0.05,0.1,0.03 >>log.csv
	run plot log.csv -o loss.svg
	expect_status 0
	expect_empty err
	expect_empty out
	svg_series loss.svg >got || fail "loss.svg is not an SVG"
	printf '%s\n' 'loss 3' 'val_loss 3' 'accuracy 3' 'val_accuracy 3' >want
	grep -v '^text:' got | cmp -s want - || { fail "curves:"; cat got >&2; }
	for t in 'text: epoch' 'text: loss' 'text: metric' 'text: log'; do
		grep -qx "$t" got || fail "no '$t' in the picture"
	done
	grep -q 'stroke-dasharray' loss.svg || fail "no dashed curve"
	only_files . err got log.csv loss.svg out want
	# standard output, --columns, --log-scale, --title
	run plot log.csv
	expect_status 0
	cmp -s out loss.svg || fail "plot to standard output differs from -o"
	run plot log.csv --columns loss,lr -o cols.svg
	expect_status 0
	svg_series cols.svg | grep -v '^text:' >got
	printf '%s\n' 'loss 3' 'lr 3' >want
	cmp -s want got || { fail "--columns loss,lr:"; cat got >&2; }
	run plot log.csv --log-scale -o logy.svg
	expect_status 0
	cmp -s logy.svg loss.svg && fail "--log-scale changed nothing"
	# a title cannot inject gnuplot commands: quotes, newlines, backquotes, macros
	run plot log.csv -o t.svg --title 'a"b
set output "pwned"
`touch pwned2` @x \" ]'
	expect_status 0
	[ -e pwned ] || [ -e pwned2 ] && fail "the title ran a command"
	svg_series t.svg >got || fail "t.svg is not an SVG"
	for t in 'text: a"b' 'text: set output "pwned"' 'text: `touch pwned2` @x \" ]'; do
		grep -qxF "$t" got || { fail "title line '$t' missing:"; cat got >&2; }
	done
	# "]]>" (not allowed in XML's text; gnuplot leaves '>' as it is) in a
	# title or a column name: still well-formed, the text drawn as given
	sed '1s/val_loss/v]]>l/' log.csv >cdata.csv
	run plot cdata.csv -o c.svg --title 'a]]>b ]]]> <&>' --columns 'loss,v]]>l'
	expect_status 0
	svg_series c.svg >got || fail "a title or column with ']]>' broke the SVG"
	for t in 'text: a]]>b ]]]> <&>' 'v]]>l 3'; do
		grep -qxF "$t" got || { fail "'$t' missing:"; cat got >&2; }
	done
	;;
plot-errors)
	# every failure: exit 1, a message, the target untouched, no temporary file
	printf 'epoch,loss,seconds\n1,0.5,0.1\n2,0.4,0.2\n' >ok.csv
	: >empty.csv
	printf 'epoch,loss,seconds\n' >header.csv
	printf 'x,y\n1,2\n' >data.csv
	printf 'epoch,loss,seconds\n1,0.5,0.1\n2,x,0.2\n' >word.csv
	printf 'epoch,loss,seconds\n1,0.5\n' >short.csv
	printf 'epoch,loss,seconds\n1,0.5,0.1,7\n' >long.csv
	printf 'epoch,val_loss,seconds\n1,0.5,0.1\n' >noloss.csv
	printf 'epoch,loss,seconds\n1,nan,0.1\n' >nan.csv
	echo keep >keep.svg
	plot_fails() {
		want=$1
		shift
		run plot "$@" -o keep.svg
		expect_status 1
		expect_err "$want"
		[ "$(cat keep.svg)" = keep ] || fail "plot $*: keep.svg was changed"
	}
	plot_fails "empty.csv:1:1: error: empty log (no header)" empty.csv
	plot_fails "header.csv:1:1: error: no epochs to plot (the log has only its header)" header.csv
	plot_fails "data.csv:1:1: error: not a training log: its header starts with 'x', not 'epoch' (train --log writes one)" data.csv
	plot_fails "word.csv:3:3: error: not a number: 'x'" word.csv
	plot_fails "short.csv:2: error: 2 values, the header names 3" short.csv
	plot_fails "long.csv:2: error: more values than the header's 3" long.csv
	plot_fails "noloss.csv:1:1: error: no 'loss' column (the header is 'epoch,val_loss,seconds'; choose with --columns)" noloss.csv
	plot_fails "ok.csv:1:1: error: no column 'accuracy' to plot (the header is 'epoch,loss,seconds')" ok.csv --columns loss,accuracy
	plot_fails "missing.csv: error: cannot open: No such file or directory" missing.csv
	# gnuplot missing (PATH without it), gnuplot failing (no defined point)
	PATH=/nonexistent run plot ok.csv -o keep.svg
	expect_status 1
	expect_err "symgrad: error: plot needs gnuplot, which is not installed (on Debian: apt-get install gnuplot-nox)"
	run plot nan.csv -o keep.svg
	expect_status 1
	tail -1 err | grep -qx 'symgrad: error: gnuplot failed (exit status 1)' || { fail "all-NaN log:"; cat err >&2; }
	[ "$(cat keep.svg)" = keep ] || fail "a failed gnuplot changed keep.svg"
	run plot ok.csv -o /dev/full
	expect_status 1
	expect_err "symgrad: error: cannot write '/dev/full': No space left on device"
	"$symgrad" plot ok.csv >/dev/full 2>err
	status=$?
	expect_status 1
	expect_err "symgrad: error: cannot write to standard output: No space left on device"
	usage_error "plot needs a log file (train --log FILE writes one)" plot -o x.svg
	usage_error "unknown option --bogus" plot ok.csv --bogus
	usage_error "unexpected argument 'two.csv'" plot ok.csv two.csv
	only_files . data.csv empty.csv err header.csv keep.svg long.csv nan.csv noloss.csv ok.csv out short.csv want word.csv
	;;
train-plot)
	# train --plot: the log kept in memory, or the --log file; titled with the model
	data=$root/examples/lecture04/data.csv
	run train "$linear" --data "$data" --epochs 3 --quiet --plot p.svg
	expect_status 0
	svg_series p.svg >got || fail "p.svg is not an SVG"
	grep -qx 'loss 3' got && grep -qx 'text: linear' got || { fail "train --plot:"; cat got >&2; }
	only_files . err got out p.svg
	run train "$linear" --data "$data" --epochs 3 --val "$data" --metric mse --quiet --log log.csv --plot q.svg
	expect_status 0
	svg_series q.svg | grep -v '^text:' | tr '\n' ' ' >got
	[ "$(cat got)" = "loss 3 val_loss 3 mse 3 val_mse 3 " ] || fail "train --log --plot: $(cat got)"
	[ "$(wc -l <log.csv)" = 4 ] || fail "train --log --plot: the log has $(wc -l <log.csv) lines"
	usage_error "--plot reads the log back: give --log FILE, not standard output" \
		train "$linear" --data "$data" --log - --plot x.svg
	mkdir dir.svg
	run train "$linear" --data "$data" --epochs 1 --quiet --plot dir.svg
	expect_status 1
	grep -q "dir.svg" err || { fail "train --plot DIR:"; cat err >&2; }
	;;
progress-bar)
	# a bar after a second of training, on a terminal only
	d7=$root/examples/lecture07_diabetes
	cmd="'$symgrad' train '$d7/diabetes.sg' --data '$d7/diabetes.csv' --batch all --epochs 30000 --log-every 30000"
	sh -c "$cmd" >out 2>err
	status=$?
	expect_status 0
	grep -q "$(printf '\r')" err && fail "a progress bar on stderr that is not a terminal"
	[ "$(grep -c '^epoch' err)" = 2 ] || { fail "not a terminal: log lines"; cat err >&2; }
	command -v script >/dev/null || { fail "no 'script' (util-linux) to run on a terminal"; exit 1; }
	script -qec "$cmd" /dev/null >tty.out </dev/null
	grep -q '\] *[0-9]*% epoch [0-9]*/30000 ETA [0-9]*s' tty.out || { fail "no progress bar on a terminal:"; head -c 600 tty.out >&2; }
	grep -q "$(printf '\r\033')\[K" tty.out || fail "the bar is not erased"
	grep -q 'stopped: 30000 epochs done' tty.out || { fail "on a terminal: no stop line"; tail -c 300 tty.out >&2; }
	;;
loss-curve)
	# the README's commands, run as written, remake examples/lecture07_diabetes/loss.svg
	mkdir -p build/cli examples
	ln -s "$symgrad" build/cli/symgrad
	cp -R "$root/examples/lecture07_diabetes" examples/
	awk '
		at == 0 && index($0, "<!-- snippet: loss-curve ") == 1 { at = 1; next }
		at == 1 && !/^```/ { exit }
		at == 1 { at = 2; next }
		at == 2 && /^```/ { found = 1; exit }
		at == 2 { print }
		END { exit !found }' "$root/README.md" >cmds.sh || fail "README.md: no loss-curve snippet"
	rm examples/lecture07_diabetes/loss.svg
	sh -e cmds.sh >out 2>err || { fail "the README's commands failed:"; cat err >&2; }
	new=examples/lecture07_diabetes/loss.svg
	old=$root/$new
	svg_series "$new" >got || fail "the new picture is not an SVG"
	svg_series "$old" >want || fail "the committed picture is not an SVG"
	printf '%s\n' 'loss 500' 'val_loss 500' 'accuracy 500' 'val_accuracy 500' >curves
	grep -v '^text:' want | cmp -s curves - || { fail "committed picture's curves:"; cat want >&2; }
	cmp -s want got || { fail "the picture's curves and texts differ from the committed one:"; diff want got >&2; }
	grep -qx 'text: lecture 7: diabetes.sg, 8-6-4-1, SGD lr 0.1, batch 32' got || fail "no title"
	# with the gnuplot that made the committed picture, the same bytes
	if [ "$(grep '<desc>' "$new")" = "$(grep '<desc>' "$old")" ]; then
		cmp -s "$new" "$old" || fail "same gnuplot ($(grep '<desc>' "$old")), different picture"
	else
		echo "note: $(grep '<desc>' "$new") is not the committed picture's gnuplot; curves compared only"
	fi
	;;
explain-graph)
	# explain and graph read trained parameters; explain fits 100 columns;
	# graph labels have 6 significant digits, its JSON every digit
	data=$root/examples/lecture04/data.csv
	run train "$linear" --data "$data" --epochs 2 --quiet --save p.params
	expect_status 0
	w=$(sed -n 's/^w //p' p.params)
	[ -n "$w" ] || fail "no w in p.params"
	run explain "$linear" --params p.params --at x=1,y=2
	expect_status 0
	[ "$(head -1 out)" = "Forward pass at x = 1, y = 2, w = $w:" ] || fail "explain --params: $(head -1 out)"
	run explain "$linear" --params p.params --at x=1,y=2,w=3
	[ "$(head -1 out)" = "Forward pass at x = 1, y = 2, w = 3:" ] || fail "explain --params --at w=3: $(head -1 out)"
	# the model's names, also where the C code renames one (r: the batch's
	# row index, r_ in C; if: a C keyword)
	printf 'model ren\ninput s, v\nparam a = 2\nr = a * s - v\nif = r * r\nloss = 2 * if\n' >ren.sg
	run explain ren.sg --at s=1,v=3
	expect_status 0
	grep -q '^  r = t1 - v  *= -1 ' out || { fail "explain: r is not shown as r:"; cat out >&2; }
	grep -q '^  if = r \* r  *= 1 ' out || { fail "explain: if is not shown as if:"; cat out >&2; }
	grep -q 'r_\|if_' out && { fail "explain shows a C local's name:"; grep 'r_\|if_' out >&2; }
	run graph ren.sg --at s=1,v=3 -o ren.dot
	expect_status 0
	grep -q 'label="r = t1 - v\\n' ren.dot || { fail "graph: r is not shown as r:"; cat ren.dot >&2; }
	grep -q 'r_\|if_' ren.dot && fail "graph shows a C local's name"
	run gen ren.sg --template latex
	expect_status 0
	grep -q '^r &= ' out && grep -qF '\mathit{if} &= {r}^{2}' out ||
		{ fail "latex: r or if not shown as the model names them:"; cat out >&2; }
	grep -qF -e 'r\_' -e 'if\_' out && fail "latex shows a C local's name"
	run gen ren.sg -o ren.c
	grep -q 'r_ = ' ren.c || fail "the C no longer renames r (this case tests nothing)"
	run graph "$linear" --params p.params --at x=1,y=2 -o -
	expect_status 0
	w6=$(printf '%.6g' "$w")
	grep -qF "w (param)\\n= $w6\\n" out || { fail "graph --params: no w = $w6"; cat out >&2; }
	long=$(grep -oE '= -?[0-9.]+' out | sed -e 's/^= -*//' -e 's/\.//' -e 's/^0*//' | awk 'length > 6')
	[ -z "$long" ] || fail "graph: numbers of more than 6 digits: $long"
	grep -qF '= -0.546582' out 2>/dev/null || grep -qE '= -?0\.[0-9]{6}\\n' out || fail "graph: no 6-digit value"
	run graph "$linear" --params p.params --at x=1,y=2 -o g.json
	expect_status 0
	grep -qF '{"id": "n4", "name": "w", "kind": "param", "value": '"$w"', "adjoint": ' g.json ||
		{ fail "graph JSON: w in full"; cat g.json >&2; }
	python3 -c 'import json, sys; g = json.load(open(sys.argv[1])); assert len(g["nodes"]) == 6 and len(g["edges"]) == 6' g.json ||
		fail "graph JSON: not 6 nodes and 6 edges"
	run graph "$linear" --at x=1,y=2 --format json -o -
	cmp -s out g.json && fail "graph --format json: --params changed nothing"
	grep -q '"kind": "param", "value": 1, ' out || { fail "graph --format json -o -:"; cat out >&2; }
	run graph "$linear" --params p.params -o -
	expect_status 2
	expect_err "symgrad: error: --params needs --at (the inputs of the point to show)"
	run graph "$linear" --format svg -o -
	expect_status 2
	expect_err "symgrad: error: --format must be dot or json, not 'svg'"
	# a model of 93 params: every line within 100 columns, no trailing space
	d7=$root/examples/lecture07_diabetes
	run explain "$d7/diabetes.sg" --at 'x=0.1*,y=1'
	expect_status 0
	long=$(python3 -c '
import sys
for i, l in enumerate(open(sys.argv[1], encoding="utf-8")):
    l = l.rstrip("\n")
    if len(l) > 100 or l != l.rstrip():
        print(i + 1, len(l))' out)
	[ -z "$long" ] || fail "explain lines over 100 columns or with trailing spaces: $(echo "$long" | head -3)"
	[ "$(grep -c '∂loss/∂W1\[0,0\] += ' out)" = 1 ] || fail "explain lost a step in wrapping"
	;;
csv-header)
	# a header that names no input shows what it found and what was wanted
	printf 'a,b\n1,2\n' >ab.csv
	run train "$linear" --data ab.csv
	expect_status 1
	expect_err "ab.csv:1:1: error: no column for model input 'x' (the header's columns: a, b; the model's inputs: x, y)"
	printf 'x,Y\n1,2\n' >xy.csv
	run predict "$linear" --data xy.csv --with-inputs
	expect_status 0
	run test "$linear" --data xy.csv
	expect_status 1
	expect_err "xy.csv:1:1: error: no column for model input 'y' (the header's columns: x, Y; the model's inputs: x, y)"
	;;
readable-c)
	# literals as the model wrote them, wrapped descriptor arrays, and each
	# backward temporary's comment naming the step or adjoint it is part of
	printf 'input x, y\nparam w = 1\nyhat = max(x * w, -100.0) + 1000 * x - -2.5 * w + 1e20 * x + 0.001\nloss = (yhat - y)^2\n' >lit.sg
	run gen lit.sg
	expect_status 0
	for want in 'const double t2 = -100.0 > t1 ? -100.0 : t1;' 'const double t3 = 1000.0 * x;' \
		'const double t5 = -2.5 * w;' 'const double t7 = 1e+20 * x;' 'const double yhat = t8 + 0.001;'; do
		grep -qF "$want" out || { fail "literal: no '$want'"; grep ' = .*[0-9]' out | head -12 >&2; }
	done
	grep -q 'e+0[0-9]\|(-[0-9]' out && { fail "a literal in exponent form or in parentheses:"; grep 'e+0\|(-[0-9]' out >&2; }
	run gen lit.sg -o lit.c
	${CC:-cc} -std=c99 -Wall -Werror -c lit.c -o lit.o 2>cc.err || { fail "lit.c does not compile:"; cat cc.err >&2; }
	d7=$root/examples/lecture07_diabetes
	run gen "$d7/diabetes.sg" --loops never -o d.c
	expect_status 0
	# the descriptor's arrays: no line over 100 columns (a tab counts 8)
	long=$(sed -n '/^static const .*\[\] = {/,/^};\{0,1\}$/p' d.c | expand | awk 'length > 100' | head -3)
	[ -z "$long" ] || fail "descriptor lines over 100 columns: $(echo "$long" | cut -c1-120)"
	[ "$(sed -n '/^static const .*\[\] = {/,/^};\{0,1\}$/p' d.c | wc -l)" -gt 10 ] || fail "no descriptor arrays found"
	grep -q '^static const double diabetes_param_init\[\] = {$' d.c || fail "param_init not wrapped"
	for k in 0 1 2 3 4 5; do
		t=$(grep -E "= 1\.0 - h1_$k;" d.c | head -1)
		echo "$t" | grep -qF "part of dloss/dh1_$k * dh1_$k/dt9$((k + 1)) */" ||
			fail "the comment names another step: $t"
	done
	grep -q 'part of dloss/dh1_5 \*/' d.c || fail "no partial sum of dloss/dh1_5 named"
	${CC:-cc} -std=c99 -Wall -Werror -c d.c -o d.o 2>cc.err || { fail "d.c does not compile:"; head cc.err >&2; }
	;;
python-template)
	# --template python: a ctypes module over the generated C, checked
	# against symgrad eval from Debian's Python: lists (no NumPy needed),
	# then NumPy arrays in and out (python3-numpy is in the Quick start)
	py=/usr/bin/python3
	[ -x "$py" ] || py=python3
	d7=$root/examples/lecture07_diabetes
	at='x=[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8],y=1'
	run gen "$d7/diabetes.sg" -o diabetes_grad.c
	expect_status 0
	${CC:-cc} -std=c99 -O2 -shared -fPIC diabetes_grad.c -o libdiabetes.so -lm 2>cc.err ||
		{ fail "the library does not build:"; cat cc.err >&2; }
	run gen "$d7/diabetes.sg" --template python -o diabetes.py
	expect_status 0
	expect_empty err
	run eval "$d7/diabetes.sg" --at "$at" --format json
	expect_status 0
	mv out eval.json
	"$py" - eval.json >py.out 2>&1 <<'PY' || { fail "the Python module disagrees with eval:"; cat py.out >&2; }
import json, sys
import diabetes as d
want = json.load(open(sys.argv[1]))
x = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0]
assert d.PARAMS == list(want["grad"]), "param names"
assert d.INPUTS == ["x[%d]" % i for i in range(8)] + ["y"], d.INPUTS
assert d.PARAM_GROUPS["W1"] == (0, (6, 8)) and d.INPUT_GROUPS["y"] == (8, ()), "groups"
loss, outs = d.forward(d.INIT, x)
assert loss == want["loss"] and outs == list(want["outputs"].values()), (loss, outs)
loss, grad = d.backward(d.INIT, x)
assert loss == want["loss"] and grad == list(want["grad"].values()), "gradient"
assert d.predict(d.INIT, x) == outs
total, g2 = d.backward_batch(d.INIT, [x, x])
assert total == 2 * loss and g2 == [2 * v for v in grad], "batch"
assert d.backward_batch(d.INIT, x + x) == (total, g2), "flat rows"
import array
assert d.backward(array.array("d", d.INIT), tuple(x)) == (loss, grad), "array.array"
try:
    d.backward(d.INIT, x[:3])
    raise SystemExit("3 inputs accepted")
except ValueError as e:
    assert "inputs: 3 numbers, the model has 9" in str(e), e
# NumPy (Debian's python3-numpy, in the Quick start's apt-get line): arrays in,
# and as_numpy=True: arrays shaped as the model's tensors, the same numbers
import numpy
P, X = numpy.array(d.INIT), numpy.array(x)
l, g = d.backward(P, X, as_numpy=True)
assert l == loss and sorted(g) == ["W1", "W2", "W3", "b1", "b2", "b3"], sorted(g)
assert g["W1"].shape == (6, 8) and g["b3"].shape == (1,) and g["W3"].shape == (1, 4)
assert numpy.concatenate([g[k].ravel() for k in d.PARAM_GROUPS]).tolist() == grad, "order"
assert d.forward(P, X) == (loss, outs), "forward from arrays"
l, o = d.forward(P, X, as_numpy=True)
assert l == loss and o.shape == (1,) and o.tolist() == outs, o
assert d.predict(P.reshape(1, -1), X.reshape(3, 3)) == outs, "2-D arrays, flattened"
rows = numpy.array([x, x, x])
assert d.backward_batch(P, rows) == (3 * loss, [3 * v for v in grad]), "2-D rows"
t, gb = d.backward_batch(P, rows, as_numpy=True)
assert gb["W1"].shape == (6, 8) and numpy.allclose(gb["W1"], 3 * g["W1"], rtol=0, atol=0)
try:
    d.backward_batch(P, numpy.zeros((2, 8)))
    raise SystemExit("rows of 8 accepted")
except ValueError as e:
    assert "16 numbers is not a whole number of rows of 9" in str(e), e
print("ok")
PY
	[ "$(tail -1 py.out)" = ok ] || fail "no ok from Python: $(tail -3 py.out)"
	# the dump template shows every field, with what the docs name
	run gen "$linear" --template dump
	expect_status 0
	for f in '  param_groups: array of 1' '      init_text = "1.0"' '      dims: array of 0' \
		'  NAME = "LINEAR"' '  canonical = function'; do
		grep -qxF -- "$f" out || { fail "dump: no line '$f'"; head -30 out >&2; }
	done
	;;
wrong-command)
	# what a user of Keras or Lightning types first gets the command that
	# does it, and a mistyped name in --at or --predict a suggestion
	d=$root/examples/michaelis_menten
	usage_error "eval computes at one point (--at); the mean loss and metrics over a data file are 'symgrad test MODEL.sg --data FILE [--params P] [--metric M]'" \
		eval "$d/mm.sg" --data "$d/data.csv"
	usage_error "option --at: the model has no input or parameter 'vv' (did you mean 'v'?)" \
		eval "$d/mm.sg" --at s=1,vv=2
	usage_error "option --at: the model has no input or parameter 'w1' (did you mean 'W1'?)" \
		eval "$root/examples/lecture07_diabetes/diabetes.sg" --at 'x=0.1*,y=1,w1=1*'
	usage_error "option --predict: the model has no input 'xx' (did you mean 'x'?)" \
		train "$linear" --data "$root/examples/lecture04/data.csv" --predict xx=4
	;;
readme-commands)
	# every other ```sh block of README.md, run as written (sh -e) from a
	# copy of the repository's root: exit status 0, or the status a line
	# <!-- exit status N --> before it gives; a fenced block right after it
	# (no line between) is its exact standard output.  Not here: the Quick
	# start (CI runs it), a block after <!-- snippet: ... --> (its own
	# case), the walkthroughs (case walkthrough).
	mkdir -p build/cli examples wt tests/loops
	ln -s "$symgrad" build/cli/symgrad
	cp -R "$root/examples/." examples/
	cp "$root/tests/loops/mnist.sg" tests/loops/ # the 784 -> 100 -> 10 network
	awk '
		function out(kind) { k++; path = "wt/" k; print kind, k, status + 0 >"wt/index" }
		/^<!-- walkthrough: / { wt = 1 }
		/^<!-- walkthrough end -->$/ { wt = 0 }
		blk && /^```$/ { blk = 0; close(path); after = (kind == "sh"); next }
		blk { if (path != "") print >path; next }
		/^```/ {
			blk = 1; path = ""; kind = ""
			if ($0 == "```sh" && !wt && !snippet && nsh++ > 0) { kind = "sh"; out("sh") }
			else if (after && ($0 == "```" || $0 == "```text")) { kind = "want"; out("want") }
			if (path != "") printf "" >path
			snippet = 0; status = 0; after = 0
			next
		}
		/^<!-- snippet: / { snippet = 1 }
		/^<!-- exit status [0-9]+ -->$/ { status = $4 }
		{ after = 0 }
		END { exit blk }' "$root/README.md" || { fail "README.md: an unclosed block"; exit 1; }
	n=0
	while read -r kind k st; do
		case $kind in
		sh)
			n=$((n + 1)) last=$k
			sh -e "wt/$k" >"wt/$k.out" 2>"wt/$k.err"
			got=$?
			[ "$got" = "$st" ] || { fail "README.md's block $n exits $got, not $st:"; cat "wt/$k" "wt/$k.err" >&2; }
			;;
		want)
			cmp -s "wt/$k" "wt/$last.out" ||
				{ fail "README.md's block $n prints something else:"; diff "wt/$k" "wt/$last.out" >&2; }
			;;
		esac
	done <wt/index
	[ "$n" -ge 7 ] || fail "only $n blocks found in README.md"
	echo "README.md: $n blocks run, $(grep -c '^want' wt/index) outputs compared"
	;;
walkthrough)
	# one of README.md's walkthroughs, every command as written, in order, in
	# a directory laid out as the repository's root (build/cli/symgrad and
	# examples/); each output the README shows is compared with what the
	# commands above it printed.  The walkthrough is the text between
	# <!-- walkthrough: NAME --> and <!-- walkthrough end -->; in it, a
	# ```sh block is run (sh -e, in one directory, blocks in order), a
	# ```text block is the exact standard output of the ```sh block just
	# before it (after a <!-- stderr --> line: the last lines of its
	# standard error), and a block after a <!-- file: NAME --> line is written to
	# NAME before anything runs after it.  Any other block is an error, so
	# nothing in a walkthrough goes unchecked.
	mkdir -p build/cli examples wt
	ln -s "$symgrad" build/cli/symgrad
	# python3 is Debian's, with python3-numpy (the Quick start installs it)
	[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH
	cp -R "$root/examples/." examples/
	awk -v name="$arg" '
		function out(kind, file) { k++; path = "wt/" k; print kind, k, file >"wt/index" }
		$0 == "<!-- walkthrough: " name " -->" { on = 1; found = 1; next }
		on && $0 == "<!-- walkthrough end -->" { on = 0; next }
		!on { next }
		blk && /^```$/ { blk = 0; close(path); next }
		blk { print >path; next }
		/^<!-- file: [^ ]+ -->$/ { file = $3; next }
		$0 == "<!-- stderr -->" { err = 1; next }
		/^```/ {
			blk = 1
			if (file != "") { out("file", file); file = ""; last = "" }
			else if ($0 == "```sh") { out("sh", ""); last = "sh" }
			else if ($0 == "```text" && last == "sh") { out(err ? "wanterr" : "want", ""); last = "" }
			else { print "README.md: walkthrough " name ": unchecked block " $0 >"/dev/stderr"; bad = 1 }
			printf "" >path
			err = 0
			next
		}
		END { exit !found || bad || on || blk }' "$root/README.md" ||
		{ fail "README.md: no walkthrough '$arg', or an unchecked or unclosed block"; exit 1; }
	grep -q '^sh ' wt/index || fail "walkthrough $arg runs no command"
	# the blocks run in order, each in its own sh -e, in one directory: a
	# block sees the files the ones before it made, not their variables
	: >wt/run.sh
	while read -r kind k file; do
		case $kind in
		file) printf 'cp wt/%s %s\n' "$k" "$file" >>wt/run.sh ;;
		sh) printf 'sh -e wt/%s >wt/%s.out 2>wt/%s.err || { echo "block %s failed:"; cat wt/%s.err; exit 1; }\n' \
			"$k" "$k" "$k" "$k" "$k" >>wt/run.sh; lastsh=$k ;;
		want) echo "$lastsh.out" >"wt/$k.of" ;;
		wanterr) echo "$lastsh.err" >"wt/$k.of" ;;
		esac
	done <wt/index
	sh -e wt/run.sh >run.out 2>&1 || { fail "the walkthrough's commands failed:"; cat run.out >&2; }
	shown=0
	for of in wt/*.of; do
		[ -e "$of" ] || continue
		k=${of%.of} k=${k#wt/}
		got=wt/$(cat "$of")
		case $got in *.err) tail -n "$(wc -l <"wt/$k")" "$got" >"$got.tail"; got=$got.tail ;; esac
		cmp -s "wt/$k" "$got" ||
			{ fail "output shown in README.md differs from what the commands print:"; diff "wt/$k" "$got" >&2; }
		shown=$((shown + 1))
	done
	echo "walkthrough $arg: $(grep -c '^sh ' wt/index) blocks run, $shown outputs compared"
	;;
*)
	fail "unknown case $case"
	;;
esac
exit $failed
