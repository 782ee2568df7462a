#!/bin/sh
# usage: run.sh SOURCE_ROOT
# Builds README.md's meson snippets, verbatim, both ways the README documents:
# with symgrad as a subproject (the README's .wrap, symgrad's tree linked in as
# subprojects/symgrad) and with symgrad installed (into a temporary prefix).
# Each time the program must print the gradient of consumer/linear.sg.
#
# How the snippets are found: a README line
#     <!-- snippet: NAME ... -->
# immediately followed by a fenced block marks that block as snippet NAME.
# This test uses consumer-meson.build (the consumer's meson.build, building
# program mymodel from main.c and linear.sg) and symgrad.wrap. consumer/
# holds only what the README leaves to the user: main.c and linear.sg.
set -eu
root=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
expected='dloss/dw = -8.0'

# snippet NAME: prints the block README.md marks as NAME; fails if none.
snippet() {
	awk -v name="$1" '
		at == 0 && index($0, "<!-- snippet: " name " ") == 1 { at = 1; next }
		at == 1 && !/^```/ { exit }
		at == 1 { at = 2; next }
		at == 2 && /^```/ { found = 1; exit }
		at == 2 { print }
		END { exit !found }' "$root/README.md" ||
		{ echo "README.md: no fenced block after <!-- snippet: $1 ... -->" >&2; exit 1; }
}

# consumer DIR: a fresh project in DIR from the README's meson.build.
consumer() {
	mkdir -p "$1"
	snippet consumer-meson.build >"$1/meson.build"
	cp "$root/tests/subproject/consumer/main.c" "$root/tests/subproject/consumer/linear.sg" "$1"
}

# quiet LOG CMD...: runs CMD, showing its output only if it fails.
quiet() {
	log=$1
	shift
	"$@" >"$log" 2>&1 || { cat "$log"; echo "failed: $*" >&2; exit 1; }
}

# check DIR: builds the consumer in DIR and checks what mymodel prints.
check() {
	quiet "$1/compile.log" meson compile -C "$1/build" -j 2
	out=$("$1/build/mymodel")
	echo "$out"
	[ "$out" = "$expected" ] || { echo "expected: $expected" >&2; exit 1; }
}

echo "subproject:"
sub=$work/sub
consumer "$sub"
mkdir "$sub/subprojects"
ln -s "$root" "$sub/subprojects/symgrad"
snippet symgrad.wrap >"$sub/subprojects/symgrad.wrap"
# forcefallback: an installed symgrad would otherwise win over the subproject.
quiet "$sub/setup.log" meson setup --wrap-mode=forcefallback "$sub/build" "$sub"
check "$sub"
[ -x "$sub/build/subprojects/symgrad/cli/symgrad" ] ||
	{ echo "symgrad was not built as a subproject" >&2; exit 1; }
# As a subproject symgrad builds neither its examples nor its tests.
extra=$(ninja -C "$sub/build" -t targets all | grep -c 'subprojects/symgrad/\(examples\|tests\)/' || true)
[ "$extra" = 0 ] || { echo "subproject builds $extra example or test targets" >&2; exit 1; }

echo "installed:"
prefix=$work/prefix
quiet "$work/install-setup.log" meson setup "$work/symgrad-build" "$root" \
	-Dtests=false -Dexamples=false --prefix "$prefix" --libdir lib
quiet "$work/install.log" meson install -C "$work/symgrad-build"
inst=$work/installed
consumer "$inst"
quiet "$inst/setup.log" env PATH="$prefix/bin:$PATH" PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
	meson setup "$inst/build" "$inst"
grep -qF "Program symgrad found: YES ($prefix/bin/symgrad)" "$inst/setup.log" ||
	{ cat "$inst/setup.log"; echo "the installed symgrad was not used" >&2; exit 1; }
check "$inst"
