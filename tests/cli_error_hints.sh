#!/usr/bin/env bash
# Mistakes whose message says what to do (docs/errors.md): a CSV whose
# first row is text read without a header, a file with another delimiter,
# a regression loss against class labels. (A prime outside the vocabulary
# naming the weights file: tests/cli_generate.sh.)
# Usage: bash tests/cli_error_hints.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

printf 'a,b,c,label\n0.1,0.2,0.3,0\n0.4,0.5,0.6,1\n0.7,0.8,0.9,2\n' >header.csv
printf '0.1;0.2;0.3;0\n0.4;0.5;0.6;1\n0.7;0.8;0.9;2\n' >semicolon.csv
printf '0.1,0.2,0.3,0\n0.4;0.5;0.6;1\n' >mixed.csv
printf '0.1,0.2,0.3,0\n0.4,0.5,0.6,1\n0.7,0.8,0.9,2\n' >good.csv
cat >net.cfg <<CFG
[net]
input = 3
batch = 2
epochs = 1

[data]
format = csv
train = $work/good.csv

[dense]
units = 3
CFG

run 3 train net.cfg --set data.train=$work/header.csv
contains err.txt "header.csv:1:1: 'a' is not a number (the first row looks like a header: set [data] header = 1)"
run 0 train net.cfg --set data.train=$work/header.csv --set data.header=1
# A bad number later on is no header.
printf '0.1,0.2,0.3,0\n0.4,x,0.6,1\n' >later.csv
run 3 train net.cfg --set data.train=$work/later.csv
contains err.txt "later.csv:2:2: 'x' is not a number"
grep -q "header" err.txt && fail "a bad value past the first row was taken for a header: $(cat err.txt)"

run 3 train net.cfg --set data.train=$work/semicolon.csv
contains err.txt "semicolon.csv:1: a label and a feature need 2 columns, found 1 (is the delimiter ','? nerve reads comma-separated values)"
run 3 train net.cfg --set data.train=$work/mixed.csv
contains err.txt "mixed.csv:2: expected 4 columns, found 1 (is the delimiter ','?"

run 3 train net.cfg --set loss.type=mse
contains err.txt "good.csv: 1 targets per sample, the network outputs 3 (the file has class labels: use [loss] type = softmax_cross_entropy, or [loss] one_hot = 1 to compare the outputs with the labels' one-hot vectors)"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
