#!/usr/bin/env bash
# make install puts the docs the error messages point at (share/doc/nerve,
# docs/config.md among them) and the example cfgs (share/nerve/examples)
# beside the binary, the library and the header.
# Usage: bash tests/cli_install.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# The build tree is the nearest folder above the binary with a CMakeCache.txt
# (the binary may be a valgrind wrapper in build/memcheck/).
build=$(cd "$(dirname "$nerve")" && pwd)
while [ "$build" != / ] && [ ! -f "$build/CMakeCache.txt" ]; do build=$(dirname "$build"); done
[ -f "$build/CMakeCache.txt" ] || { echo "no build tree above $nerve"; exit 77; }
command -v cmake >/dev/null || exit 77

cmake --install "$build" --prefix "$work/prefix" >install.txt 2>&1 || fail "install: $(cat install.txt)"
for f in bin/nerve include/nerve.h include/nerve/core.h include/nerve/model.h share/doc/nerve/README.md share/doc/nerve/docs/config.md \
         share/doc/nerve/docs/errors.md share/doc/nerve/docs/api.md share/doc/nerve/docs/cli.md \
         share/nerve/examples/fashion_mlp.cfg share/nerve/examples/fashion_student.cfg; do
    [ -s "$work/prefix/$f" ] || fail "make install left out $f"
done
# An installed example cfg is a valid network.
run 0 info "$work/prefix/share/nerve/examples/fashion_mlp.cfg"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
