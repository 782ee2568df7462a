#!/bin/sh
# Renders the lecture model's graph to SVG when Graphviz's dot is installed;
# without dot, checks that symgrad fails with a message naming Graphviz.
symgrad=$1
case $symgrad in /*) ;; */*) symgrad=$PWD/$symgrad ;; esac
cd "${MESON_SOURCE_ROOT:?}" || exit 1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if command -v dot >/dev/null 2>&1; then
	"$symgrad" graph examples/lecture04/linear.sg --at x=1,y=2,w=1 -o "$out/g.svg" || exit 1
	grep -q '<svg' "$out/g.svg" || { echo "no SVG written" >&2; exit 1; }
	grep -q 'yhat' "$out/g.svg" || { echo "SVG lacks the node yhat" >&2; exit 1; }
	echo "rendered with $(dot -V 2>&1)"
else
	if "$symgrad" graph examples/lecture04/linear.sg -o "$out/g.svg" 2>"$out/err"; then
		echo "expected a failure without Graphviz" >&2
		exit 1
	fi
	grep -q "Graphviz" "$out/err" || { cat "$out/err" >&2; exit 1; }
	echo "dot not installed: checked the message instead"
fi
