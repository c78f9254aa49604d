#!/usr/bin/env bash
# The validation set: held out of the end of the training file (warned
# about when it holds a class the training part lacks, as the end of a
# class-sorted file does), drawn at random or stratified by class (seeded),
# or read from a file of its own.
# Usage: bash tests/cli_validation.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# 90 samples sorted by class: 30 of class 0, then 1, then 2.
"$python" - <<'PY'
import random
random.seed(4)
rows = []
for c in range(3):
    for _ in range(30):
        x = [random.gauss(c, 0.3) for _ in range(2)]
        rows.append(f"{x[0]:.4f},{x[1]:.4f},{c}\n")
open("sorted.csv", "w").writelines(rows)
open("val.csv", "w").writelines(rows[::6])
PY
cat >net.cfg <<CFG
[net]
input = 2
batch = 10
epochs = 1

[data]
format = csv
train = $work/sorted.csv
validation = 30

[dense]
units = 3
CFG

run 0 train net.cfg
contains out.txt "60 train, 30 validation"
contains err.txt "nerve: warning: the validation set holds class 2, which the training set lacks"
run 0 train net.cfg --set data.validation_split=stratified
[ -s err.txt ] && fail "stratified: $(cat err.txt)"
run 0 train net.cfg --set data.validation_split=random --seed 3 --threads 1
[ -s err.txt ] && fail "random: $(cat err.txt)"
sed 's/  *[0-9.]* s$//; s/[0-9]* samples\/s//' out.txt >random1.txt
run 0 train net.cfg --set data.validation_split=random --seed 3 --threads 1
sed 's/  *[0-9.]* s$//; s/[0-9]* samples\/s//' out.txt >random2.txt
cmp -s random1.txt random2.txt || fail "the same seed drew another random split"
run 3 train net.cfg --set data.validation_split=sideways
contains err.txt "[data] validation_split: 'sideways' is not one of: end, random, stratified"

# A validation file of its own.
run 3 train net.cfg --set data.validation_file=$work/val.csv
contains err.txt "a validation file replaces validation = N"
run 0 train net.cfg --set data.validation=0 --set data.validation_file=$work/val.csv
contains out.txt "90 train, 15 validation"
contains out.txt "val loss"
run 3 train net.cfg --set data.validation=0 --set data.validation_file=$work/none.csv
contains err.txt "(--set): [data] validation_file: $work/none.csv: cannot open"
run 3 train net.cfg --set data.validation=0 --set data.validation_split=random
contains err.txt "validation_split: only applies with validation = N"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
