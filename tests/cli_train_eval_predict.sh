#!/usr/bin/env bash
# End to end: train a small classifier on CSV data, save it, evaluate it
# (table and JSON), predict from CSV, IDX and PNG inputs, describe it with
# info, and reject corrupt weights and images with exit 3.
# Usage: bash tests/cli_train_eval_predict.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# Data: two linearly separable classes in 2-D (label = x + y > 0), and 4x4
# images whose bright half (left: class 0, right: class 1) is the class;
# PNG and IDX files written by hand.
"$python" - <<'EOF'
import random, struct, zlib
random.seed(7)

def points(n):
    rows = []
    for _ in range(n):
        x, y = random.uniform(-1, 1), random.uniform(-1, 1)
        if abs(x + y) < 0.1:
            continue
        rows.append((x, y, int(x + y > 0)))
    return rows

for name, n in (("train.csv", 400), ("test.csv", 100)):
    with open(name, "w") as f:
        f.writelines(f"{x:.4f},{y:.4f},{label}\n" for x, y, label in points(n))

def image(label):
    return [random.randint(170, 255) if (x < 2) == (label == 0) else random.randint(0, 85)
            for y in range(4) for x in range(4)]

with open("images.csv", "w") as f:
    for i in range(300):
        f.write(",".join(map(str, image(i % 2))) + f",{i % 2}\n")
images = [image(label) for label in (0, 1, 1, 0, 1)]
with open("images.idx", "wb") as f:
    f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, len(images), 4, 4))
    f.write(bytes(sum(images, [])))

def png(path, width, height, channels, pixel):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    raw = b"".join(b"\0" + bytes(v for x in range(width) for v in pixel(x, y))
                   for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, {1: 0, 3: 2}[channels], 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

# 8x8 images, resized to the 4x4 input; the RGB one is converted to grey.
png("left.png", 8, 8, 3, lambda x, y: (240, 220, 200) if x < 4 else (20, 30, 10))
png("right.png", 8, 8, 1, lambda x, y: (230,) if x >= 4 else (15,))
png("flat_right.png", 4, 4, 1, lambda x, y: (230,) if x >= 2 else (15,))
EOF
[ -s train.csv ] || { echo "FAIL: $python could not write the data"; exit 1; }

cat >points.cfg <<EOF
[net]
input = 2
batch = 16
epochs = 8
seed = 1

[data]
format = csv
train = $work/train.csv
test = $work/test.csv
label_column = last
header = 0

[optimizer]
type = sgd
lr = 0.1
momentum = 0.9

[loss]
type = softmax_cross_entropy

[dense]
name = hidden
units = 8
activation = relu

[dense]
name = out
units = 2
EOF

cat >images.cfg <<EOF
[net]
input = 1x4x4
batch = 16
epochs = 10
seed = 3

[data]
format = csv
train = $work/images.csv
scale = 255
normalize = standardize

[optimizer]
type = sgd
lr = 0.1
momentum = 0.9

[dense]
name = out
units = 2
EOF

# --- train: summary, one line per epoch, test accuracy, weights saved, log.
run 0 train points.cfg --save points.safetensors --log log.csv --threads 1
contains out.txt "points.cfg: 2 layers, 42 parameters; "
contains out.txt "epoch 1/8  train loss "
contains out.txt "epoch 8/8  train loss "
contains out.txt "saved weights to points.safetensors"
test_accuracy=$(sed -n 's/^test loss [0-9.]* accuracy \([0-9.]*\)$/\1/p' out.txt)
[ -n "$test_accuracy" ] || fail "no 'test loss L accuracy A' line: $(cat out.txt)"
"$python" -c "import sys; sys.exit(0 if float('$test_accuracy') >= 0.9 else 1)" ||
    fail "test accuracy $test_accuracy < 0.9"
[ -s points.safetensors ] || fail "no weights file"
[ -s log.csv ] || fail "no metrics log"
[ -s err.txt ] && fail "train wrote on stderr (not a terminal): $(cat err.txt)"

# Flags override the file: 2 epochs, and a step limit.
run 0 train points.cfg --epochs 2 --batch 32 --lr 0.05 --seed 9 --no-shuffle
contains out.txt "epoch 2/2  "
grep -q "epoch 3/" out.txt && fail "--epochs 2 ran a third epoch"
run 0 train points.cfg --steps 3
contains out.txt "epoch 1/8 (3 of "
grep -q "epoch 2/" out.txt && fail "--steps 3 ran a second epoch of 25 steps"
# --init continues from saved weights: the first epoch is already good.
run 0 train points.cfg --init points.safetensors --epochs 1
contains out.txt "test loss"

# Divergence exits 4 (a numerical stop); a --save that cannot be written exits 1
# (found before training, not after).
run 4 train points.cfg --set hidden.activation=identity --lr 1000000 --epochs 20
contains err.txt "the loss is"
run 1 train points.cfg --save "$work/missing/w.safetensors"
contains err.txt "missing/w.safetensors: cannot save the weights there"
grep -q "^epoch" out.txt && fail "trained although the weights could not be saved"

# --- eval: the table, and JSON that agrees with train's test accuracy.
run 0 eval points.cfg --weights points.safetensors
contains out.txt "accuracy $test_accuracy  error rate "
contains out.txt "confusion matrix (rows: true class, columns: predicted class)"
run 0 eval points.cfg --weights points.safetensors --json
"$python" - "$test_accuracy" <<'EOF' || fail "eval --json: $(cat out.txt)"
import json, sys
e = json.load(open("out.txt"))
assert set(e) == {"loss", "accuracy", "error_rate", "count", "class_accuracy", "confusion", "ece",
                  "calibration"}, e
assert abs(e["accuracy"] - float(sys.argv[1])) < 1e-4, (e["accuracy"], sys.argv[1])
assert abs(e["error_rate"] - (1 - e["accuracy"])) < 1e-12, e
assert sum(map(sum, e["confusion"])) == e["count"] and len(e["class_accuracy"]) == 2
EOF
# --data: another file in the [data] format (here the training set).
run 0 eval points.cfg --weights points.safetensors --data train.csv --json
"$python" -c "import json; assert json.load(open('out.txt'))['count'] > 300" ||
    fail "eval --data train.csv: $(cat out.txt)"

# --- predict from CSV: labelled rows (label ignored) and features only
# give the same classes, which agree with the labels as eval said.
run 0 predict points.cfg --weights points.safetensors --input test.csv --json
cp out.txt predictions.json
cut -d, -f1,2 test.csv >features.csv
run 0 predict points.cfg --weights points.safetensors --input features.csv --json
cmp -s out.txt predictions.json || fail "features-only CSV predicts differently"
"$python" - "$test_accuracy" <<'EOF' || fail "predict --json disagrees with the labels"
import json, sys
predictions = json.load(open("predictions.json"))
labels = [int(line.rsplit(",", 1)[1]) for line in open("test.csv")]
assert len(predictions) == len(labels)
for p in predictions:
    assert abs(sum(p["probabilities"]) - 1) < 1e-4 and len(p["probabilities"]) == 2, p
    assert p["class"] == max(range(2), key=lambda c: p["probabilities"][c]), p
agree = sum(p["class"] == label for p, label in zip(predictions, labels)) / len(labels)
assert abs(agree - float(sys.argv[1])) < 1e-4, (agree, sys.argv[1])
EOF
run 0 predict points.cfg --weights points.safetensors --input test.csv --top 1
contains out.txt "index  class  top 1"
run 0 predict points.cfg --weights points.safetensors --input test.csv
contains out.txt "index  class  probabilities"

# --- an image model: PNG (resized, colour to grey) and IDX images.
run 0 train images.cfg --save images.safetensors
run 0 predict images.cfg --weights images.safetensors --input left.png
[ "$(sed -n 2p out.txt | awk '{print $2}')" = 0 ] || fail "left.png: $(cat out.txt)"
run 0 predict images.cfg --weights images.safetensors --input right.png --json
"$python" -c "import json; assert json.load(open('out.txt'))[0]['class'] == 1" ||
    fail "right.png: $(cat out.txt)"
run 0 predict images.cfg --weights images.safetensors --input images.idx --json
"$python" -c "
import json
assert [p['class'] for p in json.load(open('out.txt'))] == [0, 1, 1, 0, 1]" ||
    fail "images.idx: $(cat out.txt)"
# A flat input of 16 takes a 4x4 grey image as it is, and refuses an 8x8 one.
run 0 predict images.cfg --set net.input=16 --weights images.safetensors --input flat_right.png
[ "$(sed -n 2p out.txt | awk '{print $2}')" = 1 ] || fail "flat_right.png: $(cat out.txt)"
run 3 predict images.cfg --set net.input=16 --weights images.safetensors --input left.png
contains err.txt "left.png: a 8x8 image with 3 channels does not fit the network input 16"

# --- bad inputs: exit 3 and a message naming the file.
head -c 60 points.safetensors >truncated.safetensors
run 3 eval points.cfg --weights truncated.safetensors
contains err.txt "nerve: truncated.safetensors: "
echo "not weights at all" >garbage.safetensors
run 3 predict points.cfg --weights garbage.safetensors --input test.csv
contains err.txt "nerve: garbage.safetensors: "
run 3 eval points.cfg --weights images.safetensors
contains err.txt "images.safetensors"
run 3 predict points.cfg --weights missing.safetensors --input test.csv
contains err.txt "missing.safetensors"
head -c 40 left.png >truncated.png
run 3 predict images.cfg --weights images.safetensors --input truncated.png
contains err.txt "nerve: truncated.png: "
run 3 predict points.cfg --weights points.safetensors --input images.csv
contains err.txt "images.csv: rows have 17 columns; the network takes 2 features"
run 3 eval points.cfg --weights points.safetensors --data images.csv
contains err.txt "images.csv"
run 2 eval images.cfg --weights images.safetensors
contains err.txt "has no [data] test"

# --- info: the layer table with parameter counts and FLOPs.
run 0 info points.cfg
contains out.txt "points.cfg: input 2, 2 classes, loss softmax_cross_entropy"
grep -Eq '^hidden +dense +8 +24 +48$' out.txt || fail "info hidden row: $(cat out.txt)"
grep -Eq '^out +dense +2 +18 +34$' out.txt || fail "info out row: $(cat out.txt)"
contains out.txt "total: 42 parameters (168 bytes of float32 weights), 82 FLOPs per sample"
grep -Eq '^arena at batch [0-9]+: [0-9.]+ (bytes|KiB|MiB) training, [0-9.]+ (bytes|KiB|MiB) inference$' \
  out.txt || fail "info arena line: $(cat out.txt)"
run 0 info images.cfg
grep -Eq '^input +input +1x4x4 +0 +0$' out.txt || fail "info input row: $(cat out.txt)"

# A label out of range in an IDX labels file: the message names the labels
# file, not the images beside it.
"$python" -c "
import struct
open('bad-labels.idx', 'wb').write(struct.pack('>BBBBI', 0, 0, 8, 1, 5) + bytes([0, 1, 255, 0, 1]))"
sed 's/^format = csv/format = idx/; /^train = /d' images.cfg >images-idx.cfg
run 3 eval images-idx.cfg --weights images.safetensors --data images.idx --labels bad-labels.idx
contains err.txt "bad-labels.idx: labels go up to 255 but the network has 2 outputs"

# One parameter count everywhere: train and info both say "N parameters + M in buffers".
sed 's/^\[dense\]$/[batchnorm]\nname = bn\n\n[dense]/' points.cfg | awk '/^\[batchnorm\]/ && seen++ { exit } 1' >bn.cfg
printf '\n[dense]\nname = out\nunits = 2\n' >>bn.cfg
run 0 info bn.cfg
info_count=$(grep -o '[0-9]* parameters + [0-9]* in buffers' out.txt)
[ -n "$info_count" ] || fail "info bn.cfg: no buffers counted: $(cat out.txt)"
run 0 train bn.cfg --epochs 0
contains out.txt "bn.cfg: 3 layers, $info_count;"

# predict --layer: a hidden layer's outputs after its relu, 8 per sample.
run 0 predict points.cfg --weights points.safetensors --input test.csv --layer hidden --json
"$python" - <<'PY' || fail "predict --layer hidden: $(head -c 300 out.txt)"
import json
rows = json.load(open("out.txt"))
assert len(rows) == sum(1 for _ in open("test.csv"))
assert all(len(r["outputs"]) == 8 and min(r["outputs"]) >= 0 for r in rows)
assert any(max(r["outputs"]) > 0 for r in rows)
PY
run 3 predict points.cfg --weights points.safetensors --input test.csv --layer nowhere
contains err.txt "no layer named 'nowhere'"
run 2 predict points.cfg --weights points.safetensors --input test.csv --layer hidden --top 1
contains err.txt "--top is for the network's classes"

# [data] train_limit and test_limit: the first N samples only.
run 0 train points.cfg --epochs 1 --set data.train_limit=50 --set data.test_limit=20
contains out.txt "50 train, 0 validation, 20 test samples"
run 3 train points.cfg --set data.train_limit=-1
contains err.txt "train_limit"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_train_eval_predict: all passed"
