#!/usr/bin/env bash
# Choosing the GPU (docs/cuda.md): --device cuda[:N] (--backend's other
# name), [net] device and NERVE_BACKEND=cuda. Where the build has the CUDA
# backend but the machine no GPU, every way of asking for it is one line,
# "nerve: cuda: no CUDA GPU is available (...)", exit 3, never a crash, and
# nerve info says there is none; without the backend, cuda is an unknown
# backend (exit 2); with a GPU, a short run trains and a missing ordinal is
# one line (exit 3).
# Usage: bash tests/cli_cuda.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"
unset NERVE_BACKEND

"$python" - <<'PY'
import random
random.seed(5)
with open("train.csv", "w") as f:
    for _ in range(64):
        x, y = random.uniform(-1, 1), random.uniform(-1, 1)
        f.write(f"{x:.4f},{y:.4f},{int(x * y > 0)}\n")
PY
xor_cfg "$work/train.csv" 16 2

one_line() {
    [ "$(wc -l <err.txt)" -eq 1 ] || fail "more than one line: $(cat err.txt)"
}

run 0 info xor.cfg
if ! grep -q "available:.*cuda" out.txt; then
    run 2 train xor.cfg --device cuda
    contains err.txt "unknown backend 'cuda'"
    echo "cli_cuda: no CUDA backend in this build: cuda is an unknown backend"
elif grep -q "^cuda: no CUDA GPU available" out.txt; then
    for how in "--device cuda" "--device cuda:1" "--backend cuda" "--set net.device=cuda" \
               "--set net.backend=cuda:0"; do
        # shellcheck disable=SC2086
        run 3 train xor.cfg $how
        contains err.txt "nerve: cuda: no CUDA GPU is available ("
        one_line
    done
    NERVE_BACKEND=cuda run 3 train xor.cfg
    contains err.txt "cuda: no CUDA GPU is available ("
    one_line
    run 3 train xor.cfg --set net.device=cuda --set net.backend=cpu
    contains err.txt "give backend or device, not both"
    echo "cli_cuda: no GPU here: every way of choosing cuda is one line, exit 3"
else
    contains out.txt "cuda:0: "
    run 0 train xor.cfg --device cuda
    contains out.txt "epoch 2/2"
    run 3 train xor.cfg --device cuda:99
    contains err.txt "cuda:99: no such GPU"
    one_line
fi
run 2 train xor.cfg --device cuda:x
contains err.txt "unknown backend 'cuda:x'"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_cuda: all passed"
