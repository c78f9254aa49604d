#!/usr/bin/env bash
# Choosing the backend: --backend on a command, [net] backend in the cfg and
# the NERVE_BACKEND variable, in that order of precedence; info names the
# backend and lists them; the same training on cpu and on ref prints the
# same losses, and weights saved by one evaluate on the other; an unknown
# name, wherever it comes from, is a one-line error listing the backends.
# Usage: bash tests/cli_backend.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"
unset NERVE_BACKEND

"$python" - <<'EOF'
import random
random.seed(5)
with open("train.csv", "w") as f:
    for _ in range(96):
        x, y = random.uniform(-1, 1), random.uniform(-1, 1)
        f.write(f"{x:.4f},{y:.4f},{int(x * y > 0)}\n")
EOF

cat >xor.cfg <<EOF
[net]
input = 2
batch = 16
epochs = 3

[data]
format = csv
train = $work/train.csv
test = $work/train.csv

[dense]
units = 8
activation = tanh

[dense]
units = 2
EOF

run 0 info xor.cfg
contains out.txt "backend: cpu (available: cpu, ref"
run 0 info xor.cfg --backend ref
contains out.txt "backend: ref (available: cpu, ref"
NERVE_BACKEND=ref run 0 info xor.cfg
contains out.txt "backend: ref (available: cpu, ref"
NERVE_BACKEND=ref run 0 info xor.cfg --set net.backend=cpu
contains out.txt "backend: cpu (available: cpu, ref"
run 0 info xor.cfg --set net.backend=cpu --backend ref
contains out.txt "backend: ref (available: cpu, ref"

# The same run on both backends: the same losses to the digits printed.
run 0 train xor.cfg --backend cpu --save cpu.safetensors
sed -n 's/  [0-9.]* samples\/s.*//; /^epoch\|^test/p' out.txt >cpu.txt
run 0 train xor.cfg --backend ref --save ref.safetensors
sed -n 's/  [0-9.]* samples\/s.*//; /^epoch\|^test/p' out.txt >ref.txt
[ -s cpu.txt ] && cmp -s cpu.txt ref.txt || fail "cpu and ref train differently: $(cat cpu.txt ref.txt)"
run 0 eval xor.cfg --weights cpu.safetensors --backend ref
contains out.txt "$(sed -n 's/^test loss \([0-9.]*\).*/\1/p' cpu.txt)"

run 2 train xor.cfg --backend gpu
contains err.txt "nerve train: --backend: unknown backend 'gpu' (available: cpu, ref"
run 2 predict xor.cfg --weights cpu.safetensors --input train.csv --backend gpu
contains err.txt "unknown backend 'gpu' (available: cpu, ref"
run 3 train xor.cfg --set net.backend=gpu
contains err.txt "[net] backend: 'gpu' is not one of: cpu, ref, sealed"
NERVE_BACKEND=gpu run 3 train xor.cfg
contains err.txt "NERVE_BACKEND: unknown backend 'gpu' (available: cpu, ref"
[ "$(wc -l <err.txt)" -eq 1 ] || fail "more than one line: $(cat err.txt)"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_backend: all passed"
