#!/usr/bin/env bash
# A relative path in a cfg's [data] is taken from the cfg file's folder, so
# a project folder trains from anywhere; a path given with --set (or
# --data) is the command line's, from the current directory. A file that
# cannot be opened is named with the cfg file, line and key that set it.
# Usage: bash tests/cli_relative_paths.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

mkdir -p project/data elsewhere
"$python" - <<'PY'
import random
random.seed(2)
with open("project/data/train.csv", "w") as f:
    for _ in range(64):
        x = [random.uniform(-1, 1) for _ in range(3)]
        f.write(",".join(f"{v:.4f}" for v in x) + f",{int(x[0] > 0)}\n")
PY
cp project/data/train.csv elsewhere/test.csv
cat >project/net.cfg <<CFG
[net]
input = 3
batch = 16
epochs = 1

[data]
format = csv
train = data/train.csv
test = data/test.csv

[dense]
units = 2
CFG

# From another directory: train is found beside the cfg; the missing test
# file is named with where it was set.
cd elsewhere
run 3 train ../project/net.cfg
contains err.txt "nerve: ../project/net.cfg:9: [data] test: ../project/data/test.csv: cannot open: No such file or directory"
# --set paths are the command line's.
run 0 train ../project/net.cfg --set data.test=test.csv
contains out.txt "64 train, 0 validation, 64 test samples"
run 3 train ../project/net.cfg --set data.test=nothing.csv
contains err.txt "nerve: ../project/net.cfg (--set): [data] test: nothing.csv: cannot open"
cd ..
cp elsewhere/test.csv project/data/test.csv
run 0 train "$work/project/net.cfg" --save w.safetensors
run 0 eval project/net.cfg --weights w.safetensors --data elsewhere/test.csv
contains out.txt "elsewhere/test.csv: 64 samples"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
