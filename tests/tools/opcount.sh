#!/bin/sh
# opcount.sh SYMGRAD MODEL.sg [GEN OPTIONS...]: the arithmetic operations the
# generated C performs per call, counted from the emitted text (not from
# --stats): "MODEL forward=N backward=N predict=N".  Counted in the unrolled
# form (--loops never), where every operation is written out once:
# each binary + - * /, each comparison, each unary minus, each call of a
# <math.h> function is one operation; copies, loads and stores are free.
set -eu
symgrad=$1 model=$2
shift 2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$symgrad" gen "$model" --loops never "$@" -o "$out" --header /dev/null 2>/dev/null
awk -v model="$model" '
function count(e,   n, s) {
	n = 0
	sub(/;[ \t]*(\/\*.*)?$/, "", e)
	s = e; n += gsub(/ [-+*\/<>] | == | != | >= | <= /, "", s)
	s = e; n += gsub(/[a-z][a-z0-9]*\(/, "", s)
	s = e; n += gsub(/(^|[(, ])-[A-Za-z_(]/, "", s)
	return n
}
/^[a-z].*_(forward|backward|predict)\(/ {
	fn = $0; sub(/\(.*/, "", fn); sub(/.*_/, "", fn); infn = 1; next
}
infn && /^}/ { infn = 0; next }
infn && /^\t(const )?(double|float) [A-Za-z_][A-Za-z_0-9]* = / {
	e = $0; sub(/^[^=]*= /, "", e)
	if (e ~ /^(params|inputs)\[/) next
	ops[fn] += count(e); next
}
infn && /^\t(grad|outputs)\[/ { e = $0; sub(/^[^=]*= /, "", e); ops[fn] += count(e) }
infn && /^\treturn / { e = $0; sub(/^\treturn /, "", e); ops[fn] += count(e) }
END { printf "%s forward=%d backward=%d predict=%d\n", model, ops["forward"], ops["backward"], ops["predict"] }
' "$out"
