#!/usr/bin/env bash
# nerve plot: the pixels of known lines land where they must (linear and log
# axes), several files overlaid, histograms and heat maps, SVG, and errors
# naming file:line with the previous image left in place.
# Usage: bash tests/cli_plot.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# pixels.py PNG: decodes an 8-bit RGB/RGBA PNG (every filter type) with the
# standard library and answers questions about it (below).
cat >pixels.py <<'PY'
import struct, sys, zlib

def decode(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert depth == 8 and colour in (2, 6), f"depth {depth} colour {colour}"
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows

def near(p, rgb, tolerance=40):
    return sum(abs(a - b) for a, b in zip(p, rgb)) <= tolerance

BLUE, ORANGE = (31, 119, 180), (255, 127, 14)
width, height, rows = decode(sys.argv[2])
question = sys.argv[1]

def coloured(rgb):
    return [(x, y) for y in range(height) for x in range(width) if near(rows[y][x], rgb)]

def frame():
    """The plot area: the longest vertical runs of black pixels in each half
    of the image (the left and right edges) and the longest horizontal runs
    in each half (top and bottom)."""
    def dark(c):
        return c[0] < 60 and c[1] < 60 and c[2] < 60
    def longest(cells):
        best = run = 0
        for c in cells:
            run = run + 1 if dark(c) else 0
            best = max(best, run)
        return best
    across = [longest(rows[y]) for y in range(height)]
    down = [longest([rows[y][x] for y in range(height)]) for x in range(width)]
    left = max(range(width // 2), key=lambda x: down[x])
    right = max(range(width // 2, width), key=lambda x: down[x])
    top = max(range(height // 2), key=lambda y: across[y])
    bottom = max(range(height // 2, height), key=lambda y: across[y])
    return left, top, right, bottom

def diagonal(rgb, rising):
    """The line of colour rgb runs corner to corner of the frame: at every
    column its mean row is within 3 px of the straight line."""
    left, top, right, bottom = frame()
    points = coloured(rgb)
    assert len(points) > 200, f"only {len(points)} pixels of the line"
    columns = {}
    for x, y in points:
        columns.setdefault(x, []).append(y)
    worst = 0
    for x, ys in columns.items():
        t = (x - left) / (right - left)
        expected = bottom - t * (bottom - top) if rising else top + t * (bottom - top)
        worst = max(worst, abs(sum(ys) / len(ys) - expected))
    xs = [x for x, _ in points]
    assert abs(min(xs) - left) <= 3 and abs(max(xs) - right) <= 3, \
        f"line spans {min(xs)}..{max(xs)}, frame {left}..{right}"
    return worst

if question == "size":
    print(f"{width}x{height}")
elif question == "rising":
    worst = diagonal(BLUE, True)
    assert worst <= 3, f"the line strays {worst:.1f} px from the diagonal"
elif question == "falling":
    worst = diagonal(BLUE, False)
    assert worst <= 3, f"the line strays {worst:.1f} px from the diagonal"
elif question == "curved":
    worst = diagonal(BLUE, True)
    assert worst > 20, f"an exponential on a linear axis should bend ({worst:.1f} px)"
elif question == "colours":
    for name, rgb in (("blue", BLUE), ("orange", ORANGE)):
        assert len(coloured(rgb)) > 100, f"no {name} line"
elif question == "heatmap":
    # viridis' ends: dark purple for the least value, yellow for the most
    assert coloured((68, 1, 84)) and coloured((253, 231, 37)), "no viridis extremes"
    # the title and the column labels above the cells are dark text on white
    cells_top = min(y for _, y in coloured((68, 1, 84)) + coloured((253, 231, 37)))
    text = sum(1 for y in range(cells_top) for p in rows[y] if max(p) < 100)
    assert text > 30, f"{text} dark pixels above the cells: no title or labels"
elif question == "bars":
    # a histogram of 0..9 with one value 9 times: the tallest bar is 9x the rest
    left, top, right, bottom = frame()
    tops = {}
    for x, y in coloured(BLUE):
        tops[x] = min(tops.get(x, bottom), y)
    heights = sorted(bottom - y for y in tops.values())
    assert heights[-1] > 5 * heights[len(heights) // 4], f"bar heights {heights[:3]}..{heights[-3:]}"
PY
pixels() { "$python" pixels.py "$@" || fail "pixels $*"; }

# y = x and y = 10 - x on 0..10: the nice ticks put 0 and 10 on the frame.
{ echo "x,up,down"; for i in $(seq 0 10); do echo "$i,$i,$((10 - i))"; done; } >line.csv
run 0 plot line.csv --x x --y up --out up.png
pixels rising up.png
[ "$("$python" pixels.py size up.png)" = 800x500 ] || fail "default size"
run 0 plot line.csv --x x --y down --out down.png --title "falling" --size 300x200
pixels falling down.png
[ "$("$python" pixels.py size down.png)" = 300x200 ] || fail "--size 300x200"

# y = 10^(x/5): straight on a log axis, bent on a linear one.
{ echo "x,grows"; for i in $(seq 0 10); do echo "$i,$("$python" -c "print(10 ** ($i / 5))")"; done; } >exp.csv
run 0 plot exp.csv --x x --y grows --log-y --out log.png --size 400x250
pixels rising log.png
# 1 to 1e20, more decades than ticks: the whole range stays on the axis.
{ echo "x,grows"; for i in $(seq 0 10); do echo "$i,1e$((2 * i))"; done; } >wide.csv
run 0 plot wide.csv --x x --y grows --log-y --out wide.png --size 400x250
pixels rising wide.png
run 0 plot exp.csv --x x --y grows --out linear.png --size 400x250
pixels curved linear.png

# Two files overlaid, told apart by colour, named by --labels.
sed 's/,\([0-9]*\),\([0-9]*\)$/,\2,\1/' line.csv >swapped.csv
run 0 plot line.csv swapped.csv --x x --y up --labels first,second --out two.png --hline 5 --size 400x250
pixels colours two.png
run 2 plot line.csv exp.csv --x x --y up --labels one --out two.png
contains err.txt "--labels needs one label per file (2)"

# Histogram and heat map.
{ echo "v"; for i in $(seq 0 9); do echo "$i"; done; for i in $(seq 1 8); do echo 9; done; } >values.csv
run 0 plot values.csv --y v --hist --bins 10 --out hist.png --size 400x250
pixels bars hist.png
run 0 plot line.csv --y up,down --heatmap --title heat --out heat.png --size 400x250
pixels heatmap heat.png
# A recurrent layer's per-time-step gradients: one column per step, more than
# a line chart takes (64).
"$python" -c "
print(','.join(['epoch'] + ['dh:rnn:%d' % t for t in range(100)]))
for e in range(3): print(','.join([str(e)] + [str(10.0 ** (-t / 10 - e)) for t in range(100)]))
" >steps.csv
run 0 plot steps.csv --y 'dh:*' --heatmap --log-y --title steps --out steps.png --size 400x250
pixels heatmap steps.png
run 2 plot steps.csv --y 'dh:*' --out lines.png
contains err.txt "selects more than 64 columns (a --heatmap takes more)"

# SVG.
run 0 plot line.csv --x x --y up,down --out chart.svg
grep -q "<svg" chart.svg || fail "chart.svg is not SVG: $(head -c 200 chart.svg)"

# A metrics log from nerve train: step rows for --x step, per-tensor columns by prefix.
"$python" - <<'PY'
import random
random.seed(3)
with open("train.csv", "w") as f:
    for _ in range(200):
        x, y = random.uniform(-1, 1), random.uniform(-1, 1)
        f.write(f"{x:.4f},{y:.4f},{int(x + y > 0)}\n")
PY
cat >points.cfg <<EOF
[net]
input = 2
batch = 20
epochs = 3
seed = 1
[data]
format = csv
train = $work/train.csv
label_column = last
[optimizer]
type = sgd
lr = 0.1
[loss]
type = softmax_cross_entropy
[dense]
name = hidden
units = 4
activation = tanh
[dense]
name = out
units = 2
EOF
run 0 train points.cfg --log log.csv --log-every 2 --threads 1
run 0 plot log.csv --x step --y train_loss --out loss.png
run 0 plot log.csv --x step --y 'grad_norm:*' --log-y --out grads.png
run 0 plot log.csv --x seconds --y train_loss --rows epoch --out seconds.png
run 3 plot log.csv --y no_such_column --out x.png
contains err.txt "log.csv:1: no column 'no_such_column'"

# Malformed tables: file:line, and the image already there stays as it was.
cp up.png kept.png
printf 'x,y\n1,2\n3\n' >short.csv
run 3 plot short.csv --x x --y y --out kept.png
contains err.txt "short.csv:3: 1 fields, the header has 2"
printf 'x,y\n1,2\n3,abc\n' >text.csv
run 3 plot text.csv --x x --y y --out kept.png
contains err.txt "text.csv:3: column 'y': 'abc' is not a number"
cmp -s up.png kept.png || fail "a failed plot changed the existing image"
ls kept.png.tmp* 2>/dev/null && fail "a temporary file was left behind"
run 3 plot missing.csv --y y --out m.png
contains err.txt "missing.csv: cannot read"
run 2 plot line.csv --y up --out chart.jpg
contains err.txt "must end in .png or .svg"
run 2 plot line.csv --out x.png
contains err.txt "missing --y"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_plot: all passed"
