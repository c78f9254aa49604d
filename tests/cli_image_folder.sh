#!/usr/bin/env bash
# [data] format = folder (issue 19 item 7): root/<class name>/<image>, the
# layout torchvision's ImageFolder reads; images of any size and colour are
# converted and resized to the input's shape, the class folders' names
# become the class names (kept in the weights, shown by eval and predict),
# a test folder that lacks a class still means the same classes, and every
# bad image or folder is an error naming its path.
# Usage: bash tests/cli_image_folder.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# Three classes told apart by brightness: "dark", "grey" and "light", in
# PNGs of several sizes, grey and RGB; a test folder without "grey" and
# with a README that is skipped.
"$python" - <<'PY'
import os, random, struct, zlib

def png(path, width, height, channels, value):
    kind = {1: 0, 3: 2}[channels]
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    rows = b"".join(b"\0" + bytes(max(0, min(255, value + random.randint(-10, 10)))
                                  for _ in range(width * channels)) for _ in range(height))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, kind, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    open(path, "wb").write(data)

random.seed(3)
levels = {"dark": 20, "grey": 128, "light": 235}
for root, count in (("train", 12), ("test", 4)):
    for name, level in levels.items():
        if root == "test" and name == "grey":
            continue
        os.makedirs(f"{root}/{name}", exist_ok=True)
        for i in range(count):
            size = (8, 8) if i % 3 == 0 else (16, 12) if i % 3 == 1 else (5, 9)
            png(f"{root}/{name}/{i:02d}.png", size[0], size[1], 1 if i % 2 else 3, level)
open("test/dark/README.txt", "w").write("not an image: skipped\n")
PY

cat >net.cfg <<CFG
[net]
input = 1x8x8
batch = 6
epochs = 30
seed = 2

[data]
format = folder
train = train
test = test
scale = 255

[optimizer]
lr = 0.1
momentum = 0.9

[dense]
units = 3
CFG
run 0 train net.cfg --save w.safetensors
contains out.txt "36 train"
contains out.txt "8 test"
contains out.txt "test loss"

run 0 eval net.cfg --weights w.safetensors
contains out.txt "8 samples"
contains out.txt "accuracy 1.0000"
contains out.txt "0 dark"
contains out.txt "1 grey"
contains out.txt "2 light"
run 0 eval net.cfg --weights w.safetensors --json
contains out.txt '"class_names": ["dark", "grey", "light"]'

run 0 predict net.cfg --weights w.safetensors --input test/light/00.png
contains out.txt "light"
run 0 predict net.cfg --weights w.safetensors --input test/dark/01.png --json
contains out.txt '"name": "dark"'

# Errors, each naming the path.
mkdir -p bad/one bad/empty
cp train/dark/00.png bad/one/
echo "junk" >bad/one/broken.png
run 3 train net.cfg --set data.train=bad
contains err.txt "bad/empty: a class folder without images"
rmdir bad/empty
run 3 train net.cfg --set data.train=bad
contains err.txt "bad/one/broken.png: not a readable PNG or JPEG image"
mkdir -p none
run 3 train net.cfg --set data.train=none
contains err.txt "none: no class folders"
run 3 train net.cfg --set data.train=missing
contains err.txt "missing: cannot open the folder"
# A test folder with a class the model does not have.
mkdir -p other/blue
cp train/dark/00.png other/blue/
run 3 eval net.cfg --weights w.safetensors --data other
contains err.txt "other: class 'blue' is not one of the model's 3 classes (dark, grey, light)"
# A flat input cannot say the images' size.
run 3 train net.cfg --set net.input=64
contains err.txt "a folder of images needs an image input, CxHxW (C 1 to 4) or HxW, not 64"
# Keys of other formats are named as such; the format table lists folder.
run 3 train net.cfg --set data.label_column=0
contains err.txt "label_column: only applies to [data] format csv"
run 3 train net.cfg --set data.train_labels=x
contains err.txt "train_labels: only applies to [data] format idx"
run 3 train net.cfg --set data.format=folders
contains err.txt "'folders' is not one of: idx, csv, text, adding, folder"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
