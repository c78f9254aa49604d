#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) and the
cfg dictionary from the repository's examples and fixtures and a few small
hand-made files. Run from anywhere: python3 tests/fuzz/make_corpus.py.
Each seed is small (a few KB): the fuzzer mutates it, it need not be real.
The corpus directories also hold fuzzed-<sha1> files: inputs the fuzzers found
that reach code the seeds do not (libFuzzer -merge=1 of a run's corpus), kept so
that the replay in `make test` covers that code too; this script leaves them."""
import glob
import gzip
import json
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FASHION = "/usr/share/datasets/fashion-mnist"
JARGON = "/usr/share/doc/jargon-text/jargon.txt.gz"


def write(target, name, data):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def cfg_seeds():
    files = sorted(glob.glob(os.path.join(ROOT, "examples", "*.cfg")))
    files += [os.path.join(ROOT, "examples", "c", "tiny_fashion.cfg"),
              os.path.join(ROOT, "tests", "fixtures", "cnn.cfg")]
    for path in files:
        write("cfg", os.path.basename(path), open(path, "rb").read())
    write("cfg", "sequence_gru.cfg", b"""[net]
input = 12x3
[data]
format = csv
train = a.csv
sequence_column = 0
[gru]
hidden = 8
bidirectional = 1
return = last
[dense]
units = 4
[loss]
type = softmax_cross_entropy
""")
    write("cfg", "embedding_rnn.cfg", b"""[net]
bptt = 16
[data]
format = text
train = t.txt
[embedding]
vocab = 30
dim = 8
[rnn]
hidden = 16
return = sequence
[dense]
units = 30
[loss]
type = softmax_cross_entropy
""")
    write("cfg", "class_limit.cfg", b"""[net]
input = 2
[data]
format = csv
train = blobs.csv
label_column = last
validation = 10
class_limit = *:0.5, 0:100, 1:3
[dense]
units = 2
""")
    write("cfg", "noise_init.cfg", b"""[net]
input = 1x6x6
init = he_normal
[conv2d]
filters = 2
kernel = 3
[batchnorm]
[noise]
scale = 0.2
shift = 0.5
[flatten]
[dense]
units = 3
""")
    write("cfg", "conv_transpose.cfg", b"""[net]
input = 2x6x6
[conv_transpose2d]
filters = 3
kernel = 3
stride = 2
output_padding = 1
[dropout2d]
p = 0.2
[flatten]
[dense]
units = 1
activation = sigmoid
[loss]
type = bce
""")


def cfg_dictionary():
    sections, keys = set(), set()
    sources = glob.glob(os.path.join(ROOT, "examples", "*.cfg")) + [
        os.path.join(ROOT, "docs", "config.md")]
    for path in sources:
        text = open(path, encoding="utf-8").read()
        sections.update(re.findall(r"^\[([a-z_0-9]+)\]", text, re.M))
        keys.update(re.findall(r"^([a-z_0-9]+) *=", text, re.M))
    for path in glob.glob(os.path.join(ROOT, "src", "model", "*.c")):
        text = open(path, encoding="utf-8").read()
        keys.update(re.findall(r'cfg_(?:read|has)[a-z_]*\(&?r, "([a-z_0-9]+)"', text))
        sections.update(re.findall(r'\{"([a-z_0-9]+)", \.(?:build|join) =', text))
    with open(os.path.join(HERE, "cfg.dict"), "w") as f:
        f.write("# libFuzzer dictionary for fuzz_cfg (tests/fuzz/make_corpus.py)\n")
        for s in sorted(sections):
            f.write('section_%s="[%s]\\x0a"\n' % (s, s))
        for k in sorted(keys):
            f.write('key_%s="%s = "\n' % (k, k))
        for word in ["relu", "sigmoid", "tanh", "softmax", "none", "last", "sequence", "1x28x28",
                     "idx", "csv", "text", "adam", "sgd", "cosine", "mean", "sum", "same", "valid",
                     "input", "full", "2147483647", "16777216", "-1", "0", "1e30", "nan"]:
            f.write('"%s"\n' % word)


def idx(dims, payload):
    return struct.pack(">BBBB", 0, 0, 8, len(dims)) + b"".join(
        struct.pack(">I", d) for d in dims) + payload


def idx_seed(mode, images, labels):
    return struct.pack("<BI", mode, len(images)) + images + labels


def idx_seeds():
    images = idx([3, 4, 4], bytes(range(48)))
    labels = idx([3], bytes([0, 1, 2]))
    for mode in range(4):
        write("idx", "tiny_mode%d" % mode, idx_seed(mode, images, labels))
    # Two real Fashion-MNIST images and labels, plain and as real .gz files.
    real_images = gzip.open(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")).read(16 + 2 * 784)
    real_labels = gzip.open(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz")).read(8 + 2)
    real_images = real_images[:4] + struct.pack(">I", 2) + real_images[8:]
    real_labels = real_labels[:4] + struct.pack(">I", 2) + real_labels[8:]
    write("idx", "fashion2_plain", idx_seed(1, real_images, real_labels))
    write("idx", "fashion2_gzfiles", idx_seed(1, gz(real_images), gz(real_labels)))
    write("idx", "truncated_header", idx_seed(0, images[:10], b""))
    write("idx", "count_mismatch", idx_seed(1, images, idx([2], bytes([0, 1]))))


def csv_seeds():
    # The options byte: bit 0 header, bits 1-2 label column (last, first,
    # second, none), bits 3-4 targets, bit 5 sequences, bits 6-7 their id column.
    write("csv", "classes_header", bytes([1]) + b"x1,x2,label\n0.5,1,0\n-2,3e-2,1\n 4 ,\t5,2\r\n")
    write("csv", "label_first", bytes([2]) + b"1,0.1,0.2\n0,0.3,0.4\n\n2,0.5,0.6\n")
    write("csv", "regression2", bytes([2 << 3]) + b"1,2,3,4\n5,6,7,8\n")
    write("csv", "no_label", bytes([3 << 1]) + b"\xef\xbb\xbf1,2\n3,4\n")
    seq = b"".join(b"%d,%d,%.2f,%d\n" % (s, t, s + t / 10, s % 2) for s in range(3) for t in range(4))
    write("csv", "sequences", bytes([1 << 5]) + seq)
    seq_id1 = b"".join(b"%.1f,%d,%d,%d\n" % (t / 2, s * 7, t, s) for s in range(2) for t in range(3))
    write("csv", "sequences_id_column1", bytes([1 << 5 | 1 << 6 | 1 << 3]) + seq_id1)
    write("csv", "bad_number", bytes([0]) + b"1,2\n3,x\n")


def text_seeds():
    jargon = gzip.open(JARGON).read(64 * 1024)
    write("text", "jargon_2k", bytes([8 << 1]) + jargon[32768:32768 + 2048])
    write("text", "jargon_1k_gz", bytes([8 << 1 | 1]) + jargon[40960:40960 + 1024])
    utf8 = "na\u00efve caf\u00e9 \u2014 \u65e5\u672c\u8a9e \U0001f600\nline two\n".encode()
    write("text", "utf8_multibyte", bytes([3 << 1]) + utf8)
    write("text", "bom", bytes([0]) + b"\xef\xbb\xbfhello world\n")
    write("text", "gzip_file", bytes([5 << 1]) + gz(b"a gzip file read as text, plain in the stream\n" * 4))
    write("text", "steps_max", bytes([0xfe]) + b"abcab" * 60)


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds():
    fixtures = os.path.join(ROOT, "tests", "fixtures")
    for name in ["state_dict", "norm_state_dict", "state_dict_outputs", "losses"]:
        write("safetensors", name + ".safetensors",
              open(os.path.join(fixtures, name + ".safetensors"), "rb").read())
    write("safetensors", "dtypes.safetensors", safetensors([
        ("f64", "F64", [2], struct.pack("<2d", 1.5, -2)),
        ("i64", "I64", [], struct.pack("<q", -7)),
        ("empty", "F32", [0, 3], b""),
        ("f32", "F32", [1, 2], struct.pack("<2f", 3, 4))], {"format": "pt"}))
    write("safetensors", "unsupported_f16.safetensors", safetensors([("h", "F16", [2], b"\0\0\0\0")]))
    write("safetensors", "empty_header.safetensors", struct.pack("<Q", 2) + b"{}")


if __name__ == "__main__":
    cfg_seeds()
    cfg_dictionary()
    idx_seeds()
    csv_seeds()
    text_seeds()
    safetensors_seeds()
