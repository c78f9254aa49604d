#!/usr/bin/env bash
# The CUDA backend is a module, libnerve_cuda.so, loaded when cuda is asked
# for (docs/cuda.md, "The module"):
#   - libnerve.so, the nerve command and a test program list no CUDA library
#     as NEEDED (the module does: the check sees what it looks for);
#   - the module exports its entry alone;
#   - a CPU training run loads none of them (LD_DEBUG=files lists every
#     object the run maps, dlopen's included); asking for cuda loads them;
#   - a missing or broken module is one line naming the file and dlopen's
#     message, exit 3;
#   - after make install, the installed nerve loads the installed module.
# Skipped (77) where the build has no CUDA backend.
# Usage: bash tests/cli_cuda_module.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"
unset NERVE_BACKEND NERVE_CUDA_MODULE

build=$(cd "$(dirname "$nerve")" && pwd)
while [ "$build" != / ] && [ ! -f "$build/CMakeCache.txt" ]; do build=$(dirname "$build"); done
module=$build/libnerve_cuda.so
[ -f "$module" ] || { echo "SKIP: this build has no CUDA backend"; exit 77; }
command -v readelf >/dev/null && command -v nm >/dev/null || { echo "SKIP: no binutils"; exit 77; }

cuda_libraries='lib(cuda|cudart|cublas|cublasLt|cudnn[a-z_]*|nerve_cuda)\.so'
needed() { readelf -d "$1" | grep NEEDED; }
for object in "$build/libnerve.so" "$nerve" "$build/tests/test_backend_ops"; do
    [ -f "$object" ] || { fail "no $object"; continue; }
    if needed "$object" | grep -E "$cuda_libraries"; then fail "$object links a CUDA library"; fi
done
needed "$module" | grep -q "libcudart.so" || fail "the module does not link cudart: $(needed "$module")"
needed "$module" | grep -q "libcublas.so" || fail "the module does not link cuBLAS"

exports=$(nm -D --defined-only "$module" | awk 'NF == 3 { print $3 }')
[ "$exports" = nerve_cuda_module_entry ] || fail "the module exports more than its entry: $exports"

cat >train.csv <<CSV
0,0,0
0,1,1
1,0,1
1,1,0
CSV
cat >xor.cfg <<CFG
[net]
input = 2
batch = 4
epochs = 3

[data]
format = csv
train = $work/train.csv

[dense]
units = 8
activation = tanh

[dense]
units = 2
CFG

# traced ARGS...: runs nerve ARGS (exit status in $code) with the objects the
# dynamic linker opened, dlopen's included, in loaded.txt (LD_DEBUG=files).
traced() {
    rm -rf "$work/ld" && mkdir "$work/ld"
    LD_DEBUG=files LD_DEBUG_OUTPUT=$work/ld/trace "$nerve" "$@" >out.txt 2>err.txt
    code=$?
    cat "$work"/ld/trace.* | grep -oE "file=[^ ]+" | sed 's/^file=//' | sort -u >loaded.txt
}
traced train xor.cfg
[ "$code" -eq 0 ] || fail "a CPU run: exit $code: $(cat err.txt)"
grep -q "libgomp" loaded.txt || fail "LD_DEBUG listed nothing: $(head -5 loaded.txt)"
if grep -E "$cuda_libraries" loaded.txt; then fail "a CPU training run loaded a CUDA library"; fi

# Asking for cuda loads the module and its libraries (GPU or not).
traced train xor.cfg --device cuda
grep -q "libnerve_cuda.so" loaded.txt || fail "--device cuda did not load the module"
grep -q "libcudart.so" loaded.txt || fail "--device cuda did not load cudart"
[ "$code" -eq 0 ] || [ "$code" -eq 3 ] || fail "--device cuda: exit $code: $(cat err.txt)"

# A missing module, and a file that is not one: one line naming it, exit 3.
NERVE_CUDA_MODULE=$work/none.so run 3 train xor.cfg --device cuda
contains err.txt "nerve: cuda: cannot load the CUDA module $work/none.so: "
contains err.txt "No such file"
[ "$(wc -l <err.txt)" -eq 1 ] || fail "more than one line: $(cat err.txt)"
echo "not a module" >broken.so
NERVE_CUDA_MODULE=$work/broken.so run 3 train xor.cfg --device cuda
contains err.txt "cannot load the CUDA module $work/broken.so: "
NERVE_CUDA_MODULE=$work/none.so run 0 info xor.cfg
contains out.txt "cuda: no CUDA GPU available (cannot load the CUDA module $work/none.so: "
# A CPU run never looks for the module.
NERVE_CUDA_MODULE=$work/none.so run 0 train xor.cfg

# Installed: the installed nerve finds the installed module (bin/../lib).
command -v cmake >/dev/null || { echo "SKIP: no cmake"; exit 77; }
cmake --install "$build" --prefix "$work/prefix" >install.txt 2>&1 ||
    fail "install: $(cat install.txt)"
installed=$(find "$work/prefix" -name libnerve_cuda.so | head -1)
[ -n "$installed" ] || fail "make install left out libnerve_cuda.so"
nerve=$work/prefix/bin/nerve
traced info xor.cfg
[ "$code" -eq 0 ] || fail "installed nerve info: exit $code: $(cat err.txt)"
got=$(grep "libnerve_cuda.so" loaded.txt | head -1)
[ -n "$got" ] && [ "$(realpath "$got")" = "$(realpath "$installed")" ] ||
    fail "the installed nerve loaded '$got', not $installed"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_cuda_module: all passed"
