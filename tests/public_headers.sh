#!/usr/bin/env bash
# Each part of the public header family stands alone: include/nerve/<part>.h
# compiles by itself (it includes what it uses), twice in a row (its guard),
# as strict C11 with every warning an error, and as C++ where a C++ compiler
# is found (extern "C"); nerve.h includes every part.
# Usage: bash tests/public_headers.sh SOURCE_DIR C_COMPILER
set -u
source_dir=$1 cc=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cxx=$(command -v c++ || command -v g++ || command -v clang++ || true)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

headers=("nerve.h")
for h in "$source_dir"/include/nerve/*.h; do headers+=("nerve/$(basename "$h")"); done
[ "${#headers[@]}" -gt 1 ] || fail "no parts in $source_dir/include/nerve"
for h in "${headers[@]}"; do
    printf '#include "%s"\n#include "%s"\nint main(void) { return 0; }\n' "$h" "$h" >"$work/t.c"
    "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I "$source_dir/include" \
        "$work/t.c" 2>"$work/err.txt" || fail "$h alone (C11): $(head -5 "$work/err.txt")"
    if [ -n "$cxx" ]; then
        "$cxx" -x c++ -std=c++11 -Wall -Wextra -Werror -fsyntax-only -I "$source_dir/include" \
            "$work/t.c" 2>"$work/err.txt" || fail "$h alone (C++): $(head -5 "$work/err.txt")"
    fi
    if [ "$h" != nerve.h ]; then
        grep -qF "#include \"$h\"" "$source_dir/include/nerve.h" || fail "nerve.h does not include $h"
    fi
done
echo "${#headers[@]} headers checked"
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
