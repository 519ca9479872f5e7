#!/bin/bash
# Builds every libFuzzer target test/fuzz/fuzz-NAME.c into test/fuzz/fuzz-NAME.fuzz
# and runs each for a short while on its seed corpus test/fuzz/corpus/NAME/.
#
# Usage: test/fuzz/run.sh [NAME...]    (default: every fuzz-*.c)
# Environment:
#   FUZZ_TIME=SECONDS   how long each target runs (default 20)
#   FUZZ_WORKDIR=DIR    where new inputs and crash files go (default: a temp dir)
#   FUZZ_ARGS="..."     extra libFuzzer flags, e.g. "-max_len=65536 -jobs=4"
#   FUZZ_MERGE=1        afterwards, merge inputs with new coverage into the seed
#                       corpus (otherwise the committed corpus is never written)
#
# A crash, leak or timeout stops with a non-zero status and the path of the
# input. Copy it into test/fuzz/corpus/NAME/ once fixed: the unit tests replay
# every corpus file through the parser.
set -eu
cd "$(dirname "$0")/../.."

CC=${FUZZ_CC:-clang}
FUZZ_TIME=${FUZZ_TIME:-20}
pkgs=(libprotobuf-c libarchive libcap zlib libnftables)
read -ra pkg_cflags <<<"$(pkg-config --cflags "${pkgs[@]}")"
read -ra libs <<<"$(pkg-config --libs "${pkgs[@]}")"
read -ra extra_args <<<"${FUZZ_ARGS:-}"
sanitizers=address,undefined
cflags=(-g -O1 -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE '-DCRIU_VERSION="fuzz"'
	-Icriu/include -Iinclude -Iimages "${pkg_cflags[@]}"
	"-fsanitize=$sanitizers" -fno-sanitize-recover=all)

if ! command -v "$CC" >/dev/null; then
	echo "fuzz: $CC not found (install clang)" >&2
	exit 1
fi

# The generated protobuf sources must exist.
make -s protos

work=${FUZZ_WORKDIR:-$(mktemp -d /tmp/criu-fuzz.XXXXXX)}
mkdir -p "$work/obj"
echo "fuzz: work directory $work"

# Every library source except the one with main(), plus the generated
# protobuf code, compiled once with coverage and sanitizers.
objs=()
for src in criu/*.c criu/*/*.c images/*.pb-c.c; do
	[ -e "$src" ] || continue
	[ "$src" = criu/crtools.c ] && continue
	obj=$work/obj/$(echo "${src%.c}" | tr / _).o
	"$CC" "${cflags[@]}" -fsanitize=fuzzer-no-link -c -o "$obj" "$src"
	objs+=("$obj")
done

if [ $# -gt 0 ]; then
	names=("$@")
else
	names=()
	for t in test/fuzz/fuzz-*.c; do
		[ -e "$t" ] || continue
		t=${t##*/fuzz-}
		names+=("${t%.c}")
	done
fi

status=0
for name in "${names[@]}"; do
	src=test/fuzz/fuzz-$name.c
	bin=test/fuzz/fuzz-$name.fuzz
	seeds=test/fuzz/corpus/$name
	out=$work/$name
	mkdir -p "$out/corpus" "$out/artifacts" "$seeds"

	echo "== fuzz-$name: build"
	"$CC" "${cflags[@]}" -fsanitize=fuzzer -o "$bin" "$src" "${objs[@]}" "${libs[@]}"

	dict=()
	[ -e "test/fuzz/$name.dict" ] && dict=("-dict=test/fuzz/$name.dict")

	echo "== fuzz-$name: run ${FUZZ_TIME}s"
	# New inputs go to the first (writable) corpus dir; the seeds are only read.
	if ! "$bin" -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/" "${dict[@]}" "${extra_args[@]}" "$out/corpus" "$seeds" >"$out/log" 2>&1; then
		tail -n 60 "$out/log"
		echo "not ok fuzz-$name: crash input(s):"
		find "$out/artifacts" -type f
		status=1
		continue
	fi
	grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+.*DONE)' "$out/log" || true
	echo "ok fuzz-$name"

	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		"$bin" -merge=1 "$seeds" "$out/corpus" >>"$out/log" 2>&1
		echo "fuzz-$name: merged into $seeds ($(find "$seeds" -type f | wc -l) files)"
	fi
done

[ -n "${FUZZ_WORKDIR:-}" ] || [ "$status" -ne 0 ] || rm -rf "$work"
exit "$status"
