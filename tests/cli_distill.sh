#!/usr/bin/env bash
# End to end: nerve distill. A teacher (20-128-6 MLP) is trained on labels of
# which 30% are noise; a 20-8-6 student distilled from it must beat chance and
# agree with the teacher's test predictions clearly more often than the same
# student trained alone (--alpha 0: same seed, same steps), which in turn must
# match nerve train exactly. Mismatched teachers and bad flags are one-line
# errors.
# Usage: bash tests/cli_distill.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# 20 features in (-1, 1); the class is the argmax of a fixed random tanh
# network's 6 outputs; the training labels get 30% noise, the test's none.
"$python" - <<'EOF'
import math, random
random.seed(3)
W1 = [[random.gauss(0, 1) for _ in range(20)] for _ in range(12)]
W2 = [[random.gauss(0, 1) for _ in range(12)] for _ in range(6)]
def label(x):
    h = [math.tanh(sum(w * v for w, v in zip(row, x))) for row in W1]
    s = [sum(w * v for w, v in zip(row, h)) for row in W2]
    return s.index(max(s))
for name, n, noise in (("train.csv", 3000, 0.3), ("test.csv", 1000, 0.0)):
    with open(name, "w") as f:
        for _ in range(n):
            x = [random.uniform(-1, 1) for _ in range(20)]
            y = random.randrange(6) if random.random() < noise else label(x)
            f.write(",".join(f"{v:.4f}" for v in x) + f",{y}\n")
EOF
[ -s train.csv ] || { echo "FAIL: $python could not write the data"; exit 1; }

# mlp NAME UNITS EPOCHS [CLASSES [INPUT]]
mlp() {
    cat >"$1" <<EOF
[net]
input = ${5:-20}
batch = 32
epochs = $3
seed = 1

[data]
format = csv
train = $work/train.csv
test = $work/test.csv
label_column = last
header = 0

[optimizer]
type = adam
lr = 0.01

[loss]
type = softmax_cross_entropy

[dense]
name = fc1
units = $2
activation = tanh

[dense]
name = out
units = ${4:-6}
EOF
}
mlp teacher.cfg 128 15
mlp student.cfg 8 2

run 0 train teacher.cfg --save teacher.safetensors --threads 1
run 0 train student.cfg --threads 1
alone=$(grep '^test loss' out.txt)

run 0 distill --teacher teacher.cfg:teacher.safetensors --student student.cfg --alpha 0 --threads 1
[ "$(grep '^test loss' out.txt)" = "$alone" ] ||
    fail "--alpha 0 is not the student trained alone: $(grep '^test loss' out.txt) vs $alone"
baseline=$(sed -n 's/.*agrees with the teacher on \([0-9.]*\) .*/\1/p' out.txt)

run 0 distill --teacher teacher.cfg:teacher.safetensors --student student.cfg --save s.safetensors \
    --threads 1
contains out.txt "T = 4, alpha = 0.9"
contains out.txt "saved weights to s.safetensors"
distilled=$(sed -n 's/.*agrees with the teacher on \([0-9.]*\) .*/\1/p' out.txt)
accuracy=$(sed -n 's/^test loss [0-9.]* accuracy \([0-9.]*\)$/\1/p' out.txt)
"$python" -c "import sys; sys.exit(not (float('$accuracy') > 0.45))" ||
    fail "distilled student accuracy $accuracy does not beat chance (about 0.28 for the largest class)"
"$python" -c "import sys; sys.exit(not (float('$distilled') > float('$baseline') + 0.03))" ||
    fail "distilled student agrees $distilled, the student alone $baseline"

# A distillation checkpointed inside its first epoch and resumed in a fresh
# process saves the same bytes as the uninterrupted one.
run 0 distill --teacher teacher.cfg:teacher.safetensors --student student.cfg --steps 40 \
    --checkpoint d.ckpt --threads 1
run 0 distill --teacher teacher.cfg:teacher.safetensors --student student.cfg --resume d.ckpt \
    --save resumed.safetensors --threads 1
cmp -s s.safetensors resumed.safetensors || fail "a resumed distillation saved other weights"
contains out.txt "resuming d.ckpt: epoch 1, step 40 of the epoch, 40 steps done"
# A resume prints what it changes, as train's does.
run 0 distill --teacher teacher.cfg:teacher.safetensors --student student.cfg --resume d.ckpt \
    --lr 0.005 --steps 41 --threads 1
contains out.txt "resume changes lr 0.01 -> 0.005, from step 41 on"

# IDX images are kept as bytes (the data set's inputs are NULL): the test
# set's logits for the agreement line must read them as pixels. Random 4x4
# images of 3 classes in plain (not gzip'd) IDX files.
"$python" - <<'EOF'
import random, struct
random.seed(5)
for name, n in (("tr", 60), ("te", 30)):
    labels = [i % 3 for i in range(n)]
    with open(name + "-images.idx", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 4, 4))
        for y in labels:
            f.write(bytes(min(255, 60 * y + random.randrange(80)) for _ in range(16)))
    with open(name + "-labels.idx", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(labels))
EOF
for net in idx_teacher idx_student; do
    cat >"$net.cfg" <<EOF
[net]
input = 16
batch = 16
epochs = 2
seed = 1

[data]
format = idx
train = $work/tr-images.idx
train_labels = $work/tr-labels.idx
test = $work/te-images.idx
test_labels = $work/te-labels.idx
scale = 255

[optimizer]
lr = 0.1

[loss]
type = softmax_cross_entropy

[dense]
name = out
units = 3
EOF
done
run 0 train idx_teacher.cfg --save idx_teacher.safetensors --threads 1
run 0 distill --teacher idx_teacher.cfg:idx_teacher.safetensors --student idx_student.cfg --threads 1
contains out.txt "the student agrees with the teacher on"

# Teacher and student that do not fit together, and bad flags.
mlp five.cfg 8 1 5
run 3 distill --teacher five.cfg:s.safetensors --student student.cfg
contains err.txt "five.cfg and student.cfg differ in classes: 5 and 6"
mlp wide.cfg 8 1 6 21
run 3 distill --teacher wide.cfg:s.safetensors --student student.cfg
contains err.txt "wide.cfg and student.cfg differ in [net] input: 21 and 20"
run 2 distill --student student.cfg
contains err.txt "missing --teacher T.cfg:W"
run 2 distill --teacher teacher.cfg --student student.cfg
contains err.txt "--teacher expects T.cfg:W, got 'teacher.cfg'"
run 2 distill --teacher teacher.cfg:teacher.safetensors --student student.cfg --alpha 1.5
contains err.txt "--alpha must be in [0, 1], got '1.5'"
run 3 distill --teacher teacher.cfg:missing.safetensors --student student.cfg
[ "$(wc -l <err.txt)" -eq 1 ] || fail "a missing teacher weights file: $(cat err.txt)"

[ "$failures" -eq 0 ] || exit 1
echo "cli_distill: ok (agreement: distilled $distilled, alone $baseline)"
