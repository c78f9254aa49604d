#!/usr/bin/env bash
# libnerve.so exports exactly the functions nerve.h declares: every dynamic
# symbol it defines is a function declared in include/nerve.h (so nothing
# internal, such as cfg_fail or nerve_cpu_gemm, leaks out), and every
# function nerve.h declares is exported (none lacks NERVE_API or a
# definition). Exits 77 (skipped) without nm.
# Usage: bash tests/library_symbols.sh LIBNERVE_SO SOURCE_DIR C_COMPILER
set -u
lib=$1 source_dir=$2 cc=$3
command -v nm >/dev/null || { echo "SKIP: no nm (binutils)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The sanitizer runtimes' hooks are the only other names an instrumented
# build (NERVE_SANITIZE) may define; a release build has none of them.
nm -D --defined-only "$lib" | awk 'NF == 3 { print $3 }' |
    grep -Ev '^(__asan|__ubsan|__odr_asan|__sanitizer|__lsan)' | sort -u >"$work/exported"
# The declarations, with comments and macros gone: a name followed by "(",
# but not by "(*" (a type returned by a function pointer: "nerve_status
# (*on_epoch)(...)").
"$cc" -E -P -I "$source_dir/include" "$source_dir/include/nerve.h" >"$work/header.i"
grep -oE '\bnerve_[A-Za-z0-9_]+[[:space:]]*\([^*]' "$work/header.i" | sed -E 's/[[:space:]]*\(.*//' |
    sort -u >"$work/named"
# The header's static inline functions (the defaults returned by value, over
# their exported *_sized functions) are compiled into the caller, not exported.
grep -oE '^static inline [^(]*\bnerve_[A-Za-z0-9_]+\(' "$work/header.i" |
    grep -oE 'nerve_[A-Za-z0-9_]+\($' | tr -d '(' | sort -u >"$work/inline"
comm -23 "$work/named" "$work/inline" >"$work/declared"

status=0
if [ ! -s "$work/exported" ] || [ ! -s "$work/declared" ]; then
    echo "FAIL: no symbols read from $lib or no declarations from nerve.h"
    exit 1
fi
leaked=$(comm -23 "$work/exported" "$work/declared")
if [ -n "$leaked" ]; then
    echo "FAIL: $lib exports $(echo "$leaked" | wc -l) symbol(s) that nerve.h does not declare:"
    echo "$leaked" | head -50
    status=1
fi
missing=$(comm -13 "$work/exported" "$work/declared")
if [ -n "$missing" ]; then
    echo "FAIL: nerve.h declares $(echo "$missing" | wc -l) function(s) that $lib does not" \
         "export (no NERVE_API, or no definition):"
    echo "$missing" | head -50
    status=1
fi
[ "$status" -eq 0 ] && echo "$lib: $(wc -l <"$work/exported") symbols, all declared in nerve.h"
exit $status
