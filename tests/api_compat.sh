#!/usr/bin/env bash
# Adding a field to an option struct does not break a program built against
# the previous header: tests/api_compat/program.c is compiled against a copy
# of include/ without the fields marked "since <this version>" (the previous
# header) and against include/ as it is, both are linked to this build's
# libnerve.so, and both run.
# Usage: bash tests/api_compat.sh SOURCE_DIR LIBNERVE_SO C_COMPILER SANITIZE(ON/OFF)
set -u
source_dir=$1 lib=$2 cc=$3 sanitize=${4:-OFF}
flags=()
# An instrumented library (NERVE_SANITIZE) needs an instrumented program.
[ "$sanitize" = ON ] && flags=(-fsanitize=address,undefined)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

version=$(sed -n 's/^#define NERVE_VERSION "\(.*\)"$/\1/p' "$source_dir/include/nerve/core.h")
[ -n "$version" ] || { echo "FAIL: no NERVE_VERSION in nerve/core.h"; exit 1; }
cp -r "$source_dir/include" "$work/previous"
grep -rl "since $version" "$work/previous" >"$work/changed" || true
[ -s "$work/changed" ] || { echo "FAIL: no field marked 'since $version' to leave out"; exit 1; }
while read -r f; do sed -i "/since $version/d" "$f"; done <"$work/changed"
if grep -rq "since $version" "$work/previous"; then
    fail "a 'since $version' mark is not on a line of its own field"
fi

libdir=$(dirname "$lib")
for header in previous current; do
    inc=$work/previous defs=
    [ "$header" = current ] && inc=$source_dir/include defs=-DNEW_HEADER
    "$cc" -std=c11 -Wall -Wextra -Werror "${flags[@]}" $defs -I "$inc" "$source_dir/tests/api_compat/program.c" \
        -L "$libdir" -l:"$(basename "$lib")" -Wl,-rpath,"$libdir" -o "$work/program-$header" \
        2>"$work/cc.txt" || { fail "building against the $header header: $(head -5 "$work/cc.txt")"; continue; }
    mkdir -p "$work/run-$header"
    "$work/program-$header" "$work/run-$header" >"$work/out.txt" 2>&1 ||
        fail "the program built against the $header header: $(cat "$work/out.txt")"
    echo "$header header: $(cat "$work/out.txt")"
done
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
