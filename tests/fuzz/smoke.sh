#!/bin/sh
# usage: smoke.sh FUZZER SECONDS CORPUS...
# A short fuzz run that never writes into the source tree: new inputs go to a
# temporary directory, the committed corpora are read only.
# meson passes the fuzzer relative to the build directory: make it absolute
# before leaving it.
fuzzer=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
seconds=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=4096 \
	-close_fd_mask=2 -print_final_stats=1 "$work" "$@"
