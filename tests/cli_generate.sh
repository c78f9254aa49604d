#!/usr/bin/env bash
# End to end with text: nerve train on [data] format = text prints the corpus
# baselines and saves the vocabulary with the weights; nerve generate needs
# only the cfg and the weights, continues its --prime, repeats itself with the
# same --seed, takes the most likely character at --temperature 0, and stops
# with one line on a prime character outside the vocabulary, weights without
# a vocabulary, a cfg that is not a character model, or a bad command line.
# The first part uses a model the engine has had all along (a dense layer
# reading the token id, which can learn "a is followed by b"); the second the
# character LSTM (embedding -> lstm -> dense over every step), run once the
# recurrent layers are in the tree.
# Usage: bash tests/cli_generate.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

"$python" -c "open('ab.txt', 'w').write('ab' * 500)"
cat >ab.cfg <<EOF
[net]
bptt = 1
batch = 4
epochs = 5

[data]
format = text
train = $work/ab.txt
validation = 100

[optimizer]
lr = 0.5
momentum = 0.9

[dense]
units = 2
EOF

run 0 train ab.cfg --save ab.safetensors --log ab.csv
contains out.txt "ab.cfg: 1 layer, 4 parameters; 896 train, 96 validation, 0 test samples"
contains out.txt "corpus: 2 characters; unigram 0.693 nats/char, bigram "
contains ab.csv "grad_norm,elapsed,comm_seconds,exposed_comm_seconds,test_loss,test_accuracy,train_eval_loss,train_eval_accuracy,grad_norm:dense0.weight,grad_norm:dense0.bias"

run 0 generate ab.cfg --weights ab.safetensors --prime ba --length 7 --temperature 0
[ "$(cat out.txt)" = "babababab" ] || fail "generate --temperature 0: '$(cat out.txt)'"
[ ! -s err.txt ] || fail "generate wrote on stderr: $(cat err.txt)"

run 0 generate ab.cfg --weights ab.safetensors --length 30 --seed 7
cp out.txt first.txt
run 0 generate ab.cfg --weights ab.safetensors --length 30 --seed 7
cmp -s out.txt first.txt || fail "the same --seed drew '$(cat first.txt)' then '$(cat out.txt)'"
[ "$(tr -d '\n' <out.txt | wc -c)" -eq 30 ] || fail "--length 30 printed '$(cat out.txt)'"

run 3 generate ab.cfg --weights ab.safetensors --prime abc
contains err.txt "nerve: ab.safetensors: the prime's character 3, 'c' (U+0063), is not in the model's vocabulary"
[ "$(wc -l <err.txt)" -eq 1 ] || fail "more than one line on stderr: $(cat err.txt)"

# Weights with the same tensors but no vocabulary: those of a CSV model.
printf '0,1\n1,0\n0,1\n1,0\n' >ids.csv
sed -e "s|format = text|format = csv|" -e "s|train = .*|train = $work/ids.csv|" \
    -e "s|bptt = 1|input = 1|" -e "/validation/d" ab.cfg >csv.cfg
run 0 train csv.cfg --save csv.safetensors
run 3 generate ab.cfg --weights csv.safetensors
contains err.txt "nerve: csv.safetensors: the model has no vocabulary"
run 3 generate csv.cfg --weights ab.safetensors
contains err.txt "csv.cfg: [data] format is csv; generate samples character models"

run 2 generate ab.cfg
contains err.txt "--weights W is required"
run 2 generate ab.cfg --weights ab.safetensors --temperature -1
contains err.txt "--temperature expects a number >= 0, got '-1'"

# The character LSTM, once [lstm] (src/model/recurrent_sections.c) and
# [embedding] are in the tree.
if [ ! -f "$2/src/model/recurrent_sections.c" ]; then
    echo "cli_generate: the character LSTM part waits for the recurrent layers"
    [ "$failures" -eq 0 ] || exit 1
    exit 0
fi

"$python" - <<'EOF'
import random
random.seed(5)
words = "the cat sat on a mat and the dog ran to the red door".split()
text = []
for _ in range(400):
    text.append(" ".join(random.choice(words) for _ in range(6)).capitalize() + ".\n")
open("corpus.txt", "w").write("".join(text))
open("vocab.txt", "w").write(str(len(set("".join(text)))))
EOF
vocab=$(cat vocab.txt)
cat >charlm.cfg <<EOF
[net]
bptt = 16
batch = 8
epochs = 4
seed = 2

[data]
format = text
train = $work/corpus.txt
validation = 2000

[optimizer]
type = adam
lr = 0.01
clip_norm = 5

[embedding]
vocab = $vocab
dim = 16

[lstm]
hidden = 64

[dense]
units = $vocab
EOF

run 0 train charlm.cfg --save charlm.safetensors
unigram=$(sed -n 's/^corpus: .* unigram \([0-9.]*\) nats.*/\1/p' out.txt)
val_loss=$(sed -n 's/^epoch 4\/4 .* val loss \([0-9.]*\) .*/\1/p' out.txt)
"$python" -c "import sys; sys.exit(0 if float('$val_loss') < float('$unigram') - 0.5 else 1)" ||
    fail "validation loss '$val_loss' not well below the unigram '$unigram': $(cat out.txt)"

run 0 generate charlm.cfg --weights charlm.safetensors --prime "The cat " --length 100 \
    --temperature 0
cp out.txt greedy.txt
run 0 generate charlm.cfg --weights charlm.safetensors --prime "The cat " --length 100 \
    --temperature 0
cmp -s out.txt greedy.txt || fail "--temperature 0 is not deterministic"
run 0 generate charlm.cfg --weights charlm.safetensors --prime "The cat " --length 100 --seed 3
"$python" - <<'EOF' || fail "generated text: $(cat out.txt)"
import sys
text = open("out.txt", encoding="utf-8").read()[:-1]
corpus = set(open("corpus.txt", encoding="utf-8").read())
sys.exit(0 if text.startswith("The cat ") and len(text) == 108 and set(text) <= corpus else 1)
EOF

# A model trained on windows (no bptt) generates the same way.
sed -e "s/^bptt = 16/input = 16/" charlm.cfg >windows.cfg
run 0 train windows.cfg --epochs 1 --save windows.safetensors
run 0 generate windows.cfg --weights windows.safetensors --prime "The " --length 20

[ "$failures" -eq 0 ] || exit 1
