#!/usr/bin/env bash
# End to end: nerve gan on 320 Fashion-MNIST images. A small MLP GAN trains
# for two epochs: the sample grids are valid 8x8 PNGs of 28x28 tiles, the
# log has both losses and D's accuracies, the classifier's scores of the
# generated and the real images are printed, the generator's weights are
# saved; the minimax loss runs and logs a negative G loss; bad input (a
# missing cfg, shapes that do not fit, a bad --k or --loss) is a one-line
# error with the right exit code.
# Usage: bash tests/cli_gan.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

fashion=/usr/share/datasets/fashion-mnist
# The first 320 test images and labels, as uncompressed IDX files.
"$python" - "$fashion" <<'EOF'
import gzip, sys
src = sys.argv[1]
with gzip.open(f"{src}/t10k-images-idx3-ubyte.gz") as f:
    images = f.read()
with gzip.open(f"{src}/t10k-labels-idx1-ubyte.gz") as f:
    labels = f.read()
n = 320
with open("images.idx", "wb") as f:
    f.write(images[:4] + n.to_bytes(4, "big") + images[8:16] + images[16:16 + n * 784])
with open("labels.idx", "wb") as f:
    f.write(labels[:4] + n.to_bytes(4, "big") + labels[8:8 + n])
EOF
[ -s images.idx ] || { echo "FAIL: could not read $fashion"; exit 1; }

data="format = idx
train = $work/images.idx
train_labels = $work/labels.idx
test = $work/images.idx
test_labels = $work/labels.idx
scale = 255"

cat >g.cfg <<EOF
[net]
input = 16
seed = 1

[optimizer]
type = adam
lr = 0.0002
beta1 = 0.5

[dense]
units = 64
activation = leaky_relu
slope = 0.2

[dense]
units = 784
activation = tanh
EOF

cat >d.cfg <<EOF
[net]
input = 784
batch = 32
epochs = 2
seed = 1

[data]
$data
normalize = minus_one_one

[optimizer]
type = adam
lr = 0.0002
beta1 = 0.5

[loss]
type = bce_with_logits

[dense]
units = 64
activation = leaky_relu
slope = 0.2

[dense]
units = 1
EOF

cat >c.cfg <<EOF
[net]
input = 784
batch = 32
epochs = 3
seed = 1

[data]
$data

[optimizer]
type = adam
lr = 0.002

[dense]
units = 32
activation = relu

[dense]
units = 10
EOF

run 0 train c.cfg --save c.safetensors --threads 1

# png_size FILE: "WIDTHxHEIGHT" of a PNG, or "not a PNG".
png_size() {
    "$python" - "$1" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
ok = data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and data[-8:-4] == b"IEND"
print("%dx%d" % struct.unpack(">II", data[16:24]) if ok else "not a PNG")
EOF
}

mkdir grids
run 0 gan --generator g.cfg --discriminator d.cfg --samples grid.png --samples-dir grids \
    --log log.csv --log-every 4 --classifier c.cfg:c.safetensors --score-samples 100 \
    --save-generator g.safetensors --threads 1
contains out.txt "epoch 1/2: D loss"
contains out.txt "epoch 2/2: D loss"
contains out.txt "D accuracy real"
contains out.txt "of 100 generated images: mean max-probability"
contains out.txt "of 100 real test images: mean max-probability"
contains out.txt "class entropy"
contains out.txt "inception score"
# 8 tiles of 28 pixels and 7 gaps of 2 a side.
for png in grid.png grids/epoch_001.png grids/epoch_002.png; do
    [ "$(png_size "$png")" = "238x238" ] || fail "$png: $(png_size "$png"), expected 238x238"
done
head -1 log.csv | grep -q "^kind,epoch,step,discriminator_loss,generator_loss,real_accuracy,fake_accuracy,seconds,d_real,d_fake$" ||
    fail "log header: $(head -1 log.csv)"
# D(x) and D(G(z)) are probabilities, in every row.
awk -F, 'NR > 1 && !($9 > 0 && $9 < 1 && $10 > 0 && $10 < 1) { exit 1 }' log.csv ||
    fail "d_real, d_fake not probabilities: $(cat log.csv)"
contains out.txt "D(G(z))"
# 10 batches of 32 per epoch, 20 steps: step rows at 4, 8, ..., 20 and an epoch row each epoch.
[ "$(grep -c '^step,' log.csv)" -eq 5 ] && [ "$(grep -c '^epoch,' log.csv)" -eq 2 ] ||
    fail "log rows: $(cat log.csv)"
[ -s g.safetensors ] || fail "no generator weights"

run 0 gan --generator g.cfg --discriminator d.cfg --loss minimax --steps 3 --log minimax.csv \
    --threads 1
"$python" - <<'EOF' || fail "minimax: the G loss log(1 - D(G(z))) should be negative: $(cat minimax.csv)"
import csv
rows = list(csv.DictReader(open("minimax.csv")))
assert rows and all(float(r["generator_loss"]) < 0 for r in rows)
EOF
contains out.txt "epoch 1/2"

# k = 2: two D steps per G step, so 10 batches make 5 G steps; G.cfg as the bare argument.
run 0 gan g.cfg --discriminator d.cfg --k 2 --epochs 1 --log k2.csv --log-every 1 --threads 1
[ "$(grep -c '^step,' k2.csv)" -eq 5 ] && grep -q '^epoch,1,5,' k2.csv || fail "--k 2: $(cat k2.csv)"

# one_line_error CODE PATTERN ARGS...: nerve ARGS fails with CODE and one line holding PATTERN.
one_line_error() {
    local code=$1 pattern=$2
    shift 2
    run "$code" "$@"
    contains err.txt "$pattern"
    [ "$(wc -l <err.txt)" -eq 1 ] || fail "nerve $*: not one line: $(cat err.txt)"
}
one_line_error 3 "missing.cfg" gan --generator missing.cfg --discriminator d.cfg
one_line_error 3 "missing.cfg" gan --generator g.cfg --discriminator missing.cfg
sed 's/units = 784/units = 100/' g.cfg >small.cfg
one_line_error 3 "the generator's output 100 (100 values) does not fit the discriminator's input 784" \
    gan --generator small.cfg --discriminator d.cfg
one_line_error 2 "--k" gan --generator g.cfg --discriminator d.cfg --k 0
one_line_error 2 "--loss must be non-saturating or minimax, got 'hinge'" \
    gan --generator g.cfg --discriminator d.cfg --loss hinge
one_line_error 2 "missing --discriminator D.cfg" gan --generator g.cfg
one_line_error 2 "--classifier expects C.cfg:W" \
    gan --generator g.cfg --discriminator d.cfg --classifier c.cfg
one_line_error 3 "must output one logit" gan --generator g.cfg --discriminator c.cfg
one_line_error 1 "nogrids: cannot write the sample grids there" \
    gan --generator g.cfg --discriminator d.cfg --samples-dir nogrids
one_line_error 3 "fewer than k x batch" gan --generator g.cfg --discriminator d.cfg --k 11

[ "$failures" -eq 0 ] || exit 1
echo "cli_gan: ok"
