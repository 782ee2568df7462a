#!/bin/sh
# usage: run.sh SOURCE_ROOT
# Builds tests/subproject/consumer in a temporary directory, with symgrad
# linked in as subprojects/symgrad, and checks what its program prints.
set -eu
root=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/tests/subproject/consumer" "$work/consumer"
mkdir -p "$work/consumer/subprojects"
ln -s "$root" "$work/consumer/subprojects/symgrad"
cd "$work/consumer"
meson setup build >setup.log 2>&1 || { cat setup.log; exit 1; }
meson compile -C build >compile.log 2>&1 || { cat compile.log; exit 1; }
out=$(build/consumer)
echo "$out"
[ "$out" = "dloss/dw = -8.0" ]
