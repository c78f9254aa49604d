#!/usr/bin/env bash
# nerve augment: a PNG grid of augmented training images from IDX and CSV
# data, its dimensions (read from the PNG's IHDR chunk), and its errors.
# Usage: bash tests/cli_augment.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# 12 IDX images of 6x5 pixels and their labels; 5 RGB images 4x4 in CSV.
"$python" - <<'PY'
import struct
images = [[(17 * i + 5 * k) % 256 for k in range(30)] for i in range(12)]
with open("images.idx", "wb") as f:
    f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, len(images), 6, 5))
    f.write(bytes(sum(images, [])))
with open("labels.idx", "wb") as f:
    f.write(struct.pack(">BBBBI", 0, 0, 8, 1, len(images)))
    f.write(bytes(i % 2 for i in range(len(images))))
with open("rgb.csv", "w") as f:
    for i in range(5):
        f.write(",".join(str((i * 40 + k * 5) % 256) for k in range(48)) + f",{i % 2}\n")
PY
[ -s images.idx ] || { echo "FAIL: $python could not write the data"; exit 1; }

# png_size FILE: "WIDTHxHEIGHT COLOUR_TYPE" from the IHDR chunk, or "invalid".
png_size() {
    "$python" - "$1" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
ok = data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
ok = ok and struct.unpack(">I", data[29:33])[0] == zlib.crc32(data[12:29]) & 0xffffffff
ok = ok and data[-8:-4] == b"IEND"
width, height, depth, colour = struct.unpack(">IIBB", data[16:26]) if ok else (0, 0, 0, 0)
print(f"{width}x{height} {colour}" if ok and depth == 8 else "invalid")
PY
}

cat >idx.cfg <<CFG
[net]
input = 1x6x5
batch = 4
seed = 3

[data]
format = idx
train = $work/images.idx
train_labels = $work/labels.idx
scale = 255
normalize = standardize

[augment]
crop_padding = 1
flip = 0.5
rotation = 10
translate = 0.1
brightness = 0.2
contrast = 0.2
erase = 0.5

[dense]
units = 2

[loss]
type = softmax_cross_entropy
CFG

# Defaults: 8 rows, the original and 7 versions; tiles 5x6 with 2-pixel gaps.
run 0 augment idx.cfg --out grid.png
contains out.txt "grid.png: 8 rows"
[ "$(png_size grid.png)" = "$((8 * 5 + 7 * 2))x$((8 * 6 + 7 * 2)) 0" ] ||
    fail "grid.png: $(png_size grid.png)"

# Seeded: the same seed writes the same file, another seed another.
run 0 augment idx.cfg --out again.png
cmp -s grid.png again.png || fail "the same seed wrote different grids"
run 0 augment idx.cfg --out other.png --seed 4
cmp -s grid.png other.png && fail "--seed 4 wrote the same grid"

# --rows beyond the data stops at the data; --samples and --zoom.
run 0 augment idx.cfg --out big.png --rows 100 --samples 2 --zoom 3
[ "$(png_size big.png)" = "$((3 * 15 + 2 * 2))x$((12 * 18 + 11 * 2)) 0" ] ||
    fail "big.png: $(png_size big.png)"

# Three channels are drawn in colour.
cat >rgb.cfg <<CFG
[net]
input = 3x4x4
[data]
format = csv
train = $work/rgb.csv
[augment]
flip = 1
[dense]
units = 2
[loss]
CFG
run 0 augment rgb.cfg --out rgb.png --samples 1
[ "$(png_size rgb.png)" = "$((2 * 4 + 2))x$((5 * 4 + 4 * 2)) 2" ] ||
    fail "rgb.png: $(png_size rgb.png)"

# Without a transform there is nothing to show; --set can turn one on.
sed '/^\[augment\]/,/^erase/d' idx.cfg >plain.cfg
run 3 augment plain.cfg --out none.png
contains err.txt "plain.cfg: [augment] enables no transform, so there is nothing to show"
[ -e none.png ] && fail "none.png was written without a transform"
run 0 augment plain.cfg --out set.png --set augment.flip=1

# nerve eval --augment: the test samples transformed as [augment] says
# (here turned on by --set), drawn from the seed: the same figures twice,
# others than the plain evaluation's, and the noise key alone will do.
sed "s|^train_labels = .*|&\ntest = $work/images.idx\ntest_labels = $work/labels.idx|" plain.cfg >evalnet.cfg
run 0 train evalnet.cfg --epochs 3 --save eval.safetensors --threads 1
run 0 eval evalnet.cfg --weights eval.safetensors --json
cp out.txt plain_eval.json
run 0 eval evalnet.cfg --weights eval.safetensors --json --augment --set augment.noise=200
cp out.txt noisy_eval.json
run 0 eval evalnet.cfg --weights eval.safetensors --json --augment --set augment.noise=200
cmp -s out.txt noisy_eval.json || fail "two seeded noisy evaluations differ"
"$python" -c '
import json, sys
plain, noisy = json.load(open("plain_eval.json")), json.load(open("noisy_eval.json"))
sys.exit(0 if noisy["loss"] != plain["loss"] and noisy["count"] == plain["count"] == 12 else 1)' ||
    fail "--augment changed nothing: $(cat plain_eval.json) $(cat noisy_eval.json)"
run 3 eval evalnet.cfg --weights eval.safetensors --augment
contains err.txt "[augment] enables no transform"
run 2 eval evalnet.cfg --weights eval.safetensors,eval.safetensors --augment
contains err.txt "--augment evaluates one model"

# Errors.
run 2 augment idx.cfg
contains err.txt "--out FILE.png is required"
run 2 augment idx.cfg --out x.png --samples 0
sed 's/^input = 1x6x5/input = 30/' idx.cfg >flat.cfg
run 3 augment flat.cfg --out flat.png
contains err.txt "flat.cfg:14: [augment] crop_padding: augmentation takes images: [net] input must be CxHxW"
run 1 augment idx.cfg --out "$work/no/such/dir/grid.png"
contains err.txt "no/such/dir/grid.png: cannot create"
sed "s|$work/images.idx|$work/missing.idx|" idx.cfg >missing.cfg
run 3 augment missing.cfg --out missing.png
contains err.txt "missing.idx"
[ -e missing.png ] && fail "missing.png was written without data"
run 3 augment idx.cfg --out x.png --set augment.erase_value=3 --set augment.erase=0
contains err.txt "erase_value: only applies with erase > 0"
ls ./*.tmp* >/dev/null 2>&1 && fail "a temporary file was left behind: $(ls ./*.tmp*)"

run 0 augment --help
contains out.txt "usage: nerve augment CFG [options]"
run 0 help
contains out.txt "augment"

exit $((failures > 0))
