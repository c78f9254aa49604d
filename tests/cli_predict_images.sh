#!/usr/bin/env bash
# nerve predict on images (issue 19 item 6): a flat input trained on IDX
# images keeps their shape (1x28x28) with the weights, so that a PNG of
# another size or colour is converted and resized to it; --invert turns a
# dark-on-light picture into the light-on-dark images Fashion-MNIST has; a
# file named .png that is no image is an error saying so, not CSV.
# Usage: bash tests/cli_predict_images.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# 64 IDX images 28x28 (a bright square for class 1, a dark one for class
# 0) and PNG files: uniform grey 235 at 28x28 (grey), at 84x84 and 50x30 (RGB),
# grey 20 (235 inverted), and a text file named .png.
"$python" - <<'PY'
import gzip, random, struct, zlib

def idx(path, magic, dims, data):
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims))
        f.write(bytes(data))

random.seed(1)
images, labels = [], []
for i in range(64):
    c = i % 2
    level = 200 if c else 30
    images += [min(255, max(0, level + random.randint(-20, 20))) for _ in range(784)]
    labels.append(c)
idx("train-images", 0x803, [64, 28, 28], images)
idx("train-labels", 0x801, [64], labels)

def png(path, width, height, channels, value):
    kind = {1: 0, 3: 2}[channels]
    row = b"\0" + bytes([value] * (width * channels))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, kind, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))
    open(path, "wb").write(data)

png("grey28.png", 28, 28, 1, 235)
png("rgb84.png", 84, 84, 3, 235)
png("dark28.png", 28, 28, 1, 20)
png("rgb50.png", 50, 30, 3, 235)
open("notimage.png", "w").write("0.1,0.2,0.3\n")
PY

cat >net.cfg <<CFG
[net]
input = 784
batch = 16
epochs = 10

[data]
format = idx
train = train-images
train_labels = train-labels
scale = 255

[optimizer]
lr = 0.05

[dense]
units = 2
CFG
run 0 train net.cfg --save w.safetensors
# The image shape is in the weights' metadata.
"$python" - <<'PY' || fail "the weights do not record the image shape 1x28x28"
import json, struct, sys
raw = open("w.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
meta = json.loads(raw[8:8 + n])["__metadata__"]
sys.exit(meta.get("nerve.image_shape") != "1x28x28")
PY

# A 28x28 grey image and an 84x84 colour one of the same grey: the same
# sample after conversion and resizing, so the same probabilities.
run 0 predict net.cfg --weights w.safetensors --input grey28.png --json
cp out.txt grey.json
run 0 predict net.cfg --weights w.safetensors --input rgb84.png --json
cmp -s out.txt grey.json || fail "84x84 RGB predicted $(cat out.txt), 28x28 grey $(cat grey.json)"
run 0 predict net.cfg --weights w.safetensors --input rgb50.png --json
cmp -s out.txt grey.json || fail "50x30 RGB predicted $(cat out.txt), 28x28 grey $(cat grey.json)"
contains grey.json '"class": 1'
# --invert: 255 - 20 = 235.
run 0 predict net.cfg --weights w.safetensors --input dark28.png --invert --json
cmp -s out.txt grey.json || fail "--invert on grey 20 predicted $(cat out.txt), grey 235 $(cat grey.json)"
run 0 predict net.cfg --weights w.safetensors --input dark28.png --json
contains out.txt '"class": 0'
run 3 predict net.cfg --weights w.safetensors --input train-images --invert
contains err.txt "--invert applies to a PNG or JPEG image"

# A .png that is not an image.
run 3 predict net.cfg --weights w.safetensors --input notimage.png
contains err.txt "notimage.png: named like an image, but it is not a PNG or JPEG file"

# Weights without the image shape (trained on CSV rows): an image that does
# not have the input's size is refused, naming the rule.
"$python" -c "
import random
random.seed(2)
open('rows.csv','w').writelines(','.join(str(random.randint(0,255)) for _ in range(784)) + ',%d\n' % (i % 2) for i in range(32))"
sed 's/format = idx/format = csv/; s/^train = .*/train = rows.csv/; /train_labels/d' net.cfg >csv.cfg
run 0 train csv.cfg --save c.safetensors
run 0 predict csv.cfg --weights c.safetensors --input grey28.png
run 3 predict csv.cfg --weights c.safetensors --input rgb84.png
contains err.txt "rgb84.png: a 84x84 image with 3 channels does not fit the network input 784"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
