"""The PyTorch side of lab claims C21 and C29: nerve's runs redone in torch
1.13 from nerve's own initial weights, to tell a fault of nerve's from one of
the experiment's (the figures are quoted in lab/C21/claim.txt and
lab/C29/claim.txt). Minutes of CPU each; make test does not run it.

  /usr/bin/python3 lab/torch_check.py c29 NERVE DIR
  /usr/bin/python3 lab/torch_check.py c21 NERVE DIR [RATE ...]   (default 0.01 0.001)

NERVE is the nerve binary, DIR a scratch folder for the cfgs and weights.
c29: the first 5 steps of weighted_inv (weights 100 for classes 5-9) in nerve
and torch from the same weights on the same batches; then 500 shuffled steps
at the experiment's lr 0.05 (seeds 1-3) in both, and 1500 in torch at 0.01 and
0.002: balanced test accuracy and fc2's dead units.
c21: relu2's greedy denoising pre-training (nerve pretrain's procedure) at each
RATE in both, fc2's weights and dead units after it, and the validation
accuracy after one fine-tuning epoch at 0.1.
"""

import gzip
import json
import os
import struct
import subprocess
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

FASHION = "/usr/share/datasets/fashion-mnist/"
torch.set_num_threads(1)


def load_safetensors(path):
    """The tensors and metadata of a safetensors file (the package is not installed)."""
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        data = f.read()
    meta = header.pop("__metadata__", {})
    return {name: torch.frombuffer(bytearray(data[i["data_offsets"][0]:i["data_offsets"][1]]),
                                   dtype=torch.float32).view(i["shape"])
            for name, i in header.items()}, meta


def idx(name, images):
    raw = gzip.open(FASHION + name).read()
    if images:
        return torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).view(-1, 784).float() / 255
    return torch.frombuffer(bytearray(raw[8:]), dtype=torch.uint8).long()


def nerve(binary, *args):
    subprocess.run([binary, *args, "--threads", "1"], check=True, stdout=subprocess.DEVNULL)


def mlp(init, names, activation):
    """torch's MLP with nerve's weights: [dense] layers `names`, the last the output."""
    layers = []
    for k, name in enumerate(names):
        w = init[name + ".weight"]
        linear = nn.Linear(w.shape[1], w.shape[0])
        linear.weight.data.copy_(w)
        linear.bias.data.copy_(init[name + ".bias"])
        layers.append(linear)
        if k < len(names) - 1:
            layers.append(activation())
    return nn.Sequential(*layers)


def dead_fraction(codes):
    return (codes.max(0).values <= 0).float().mean().item()


def start(binary, work, name, text):
    """Writes the cfg DIR/name.cfg, has nerve save its initial weights (seed 1)
    and returns the cfg's path, the weights' path, the weights and their metadata."""
    cfg = os.path.join(work, name + ".cfg")
    with open(cfg, "w") as f:
        f.write(text)
    init_path = os.path.join(work, "init.safetensors")
    nerve(binary, "train", cfg, "--epochs", "0", "--save", init_path)
    return (cfg, init_path) + load_safetensors(init_path)


# The [data] section both checks read: Fashion-MNIST's IDX files, pixels / 255.
DATA = """[data]
format = idx
train = {f}train-images-idx3-ubyte.gz
train_labels = {f}train-labels-idx1-ubyte.gz
test = {f}t10k-images-idx3-ubyte.gz
test_labels = {f}t10k-labels-idx1-ubyte.gz
scale = 255
""".format(f=FASHION)


def dense_layers(*layers):
    """[dense] sections: (name, units, activation or None), in order."""
    return "".join(f"\n[dense]\nname = {name}\nunits = {units}\n"
                   + (f"activation = {act}\n" if act else "") for name, units, act in layers)


C29_CFG = ("[net]\ninput = 784\nbatch = 128\nseed = 1\nepochs = 1\n\n" + DATA
           + "normalize = standardize\nclass_limit = 0:6000, 1:6000, 2:6000, 3:6000, 4:6000, *:60\n\n"
           + "[optimizer]\ntype = sgd\nlr = 0.05\nmomentum = 0.9\n\n"
           + "[loss]\ntype = softmax_cross_entropy\nweights = 1, 1, 1, 1, 1, 100, 100, 100, 100, 100\n"
           + dense_layers(("fc1", 256, "relu"), ("fc2", 128, "relu"), ("out", 10, None)))


def c29(binary, work):
    cfg, init_path, init, meta = start(binary, work, "weighted_inv", C29_CFG)
    x, y = idx("train-images-idx3-ubyte.gz", True), idx("train-labels-idx1-ubyte.gz", False)
    seen = torch.zeros(10, dtype=torch.long)
    keep = []
    for i, c in enumerate(y.tolist()):  # class_limit: the first of each class in file order
        if seen[c] < (6000 if c < 5 else 60):
            keep.append(i)
        seen[c] += 1
    x, y = x[keep], y[keep]
    mean, std = float(meta["nerve.normalize.mean"]), float(meta["nerve.normalize.std"])
    x = (x - mean) / std
    xt = (idx("t10k-images-idx3-ubyte.gz", True) - mean) / std
    yt = idx("t10k-labels-idx1-ubyte.gz", False)
    weights = torch.tensor([1.0] * 5 + [100.0] * 5)
    names = ["fc1", "fc2", "out"]

    # Parity: 5 steps on the file's first batches (nerve --no-shuffle).
    steps5 = os.path.join(work, "steps5.safetensors")
    nerve(binary, "train", cfg, "--init", init_path, "--steps", "5", "--no-shuffle", "--save", steps5)
    model = mlp(init, names, nn.ReLU)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for step in range(5):
        batch = slice(step * 128, (step + 1) * 128)
        loss = F.cross_entropy(model(x[batch]), y[batch], weight=weights)
        opt.zero_grad()
        loss.backward()
        opt.step()
    ref, _ = load_safetensors(steps5)
    mine = dict(zip([n + p for n in names for p in (".weight", ".bias")],
                    [p.data for p in model.parameters()]))
    diff = max((mine[k] - ref[k]).abs().max().item() for k in mine)
    print(f"c29 parity: 5 steps from the same weights, max |torch - nerve| = {diff:.2g}")

    def balanced(predict):
        with torch.no_grad():
            pred = predict(xt).argmax(1)
        return sum(((pred == c) & (yt == c)).sum().item() / (yt == c).sum().item()
                   for c in range(10)) / 10

    def torch_run(lr, steps, seed):
        torch.manual_seed(seed)
        model = mlp(init, names, nn.ReLU)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        order, pos = torch.randperm(len(x)), 0
        for _ in range(steps):
            if pos + 128 > len(x):
                order, pos = torch.randperm(len(x)), 0
            batch = order[pos:pos + 128]
            pos += 128
            loss = F.cross_entropy(model(x[batch]), y[batch], weight=weights)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            dead = dead_fraction(model[:4](x[:2000]))
        print(f"c29 torch lr {lr} seed {seed}, {steps} steps: balanced test accuracy "
              f"{balanced(model):.4f}, fc2 units dead {dead:.2f}, last loss {loss.item():.3g}")

    for seed in (1, 2, 3):
        torch_run(0.05, 500, seed)
        path = os.path.join(work, f"nerve-s{seed}.safetensors")
        nerve(binary, "train", cfg, "--init", init_path, "--steps", "500", "--seed", str(seed),
              "--save", path)
        trained, _ = load_safetensors(path)
        model = mlp(trained, names, nn.ReLU)
        with torch.no_grad():
            dead = dead_fraction(model[:4](x[:2000]))
        print(f"c29 nerve lr 0.05 seed {seed}, 500 steps: balanced test accuracy "
              f"{balanced(model):.4f}, fc2 units dead {dead:.2f}")
    for lr in (0.01, 0.002):
        torch_run(lr, 1500, 1)


C21_CFG = ("[net]\ninput = 784\nbatch = 64\nepochs = 1\nseed = 1\n\n" + DATA + "validation = 5000\n\n"
           + "[optimizer]\ntype = sgd\nlr = 0.1\n\n[loss]\ntype = softmax_cross_entropy\n"
           + dense_layers(("fc1", 256, "relu"), ("fc2", 256, "relu"), ("out", 10, None)))


def pretrain_torch(init, x, lr, names):
    """nerve pretrain's procedure: per hidden layer, bottom up, an autoencoder
    whose encoder starts from the layer's weights (decoder: torch's default
    init; sigmoid when the inputs lie in [0, 1]), squared error summed over a
    row and averaged over the batch of 64, masking noise 0.2, plain SGD, 2
    epochs. Returns the pre-trained weights (None where a loss went non-finite)."""
    weights = dict(init)
    codes = x
    for name in names:
        enc = nn.Linear(codes.shape[1], 256)
        enc.weight.data.copy_(init[name + ".weight"])
        enc.bias.data.copy_(init[name + ".bias"])
        dec = nn.Linear(256, codes.shape[1])
        squash = bool(((codes >= 0) & (codes <= 1)).all())
        opt = torch.optim.SGD(list(enc.parameters()) + list(dec.parameters()), lr=lr)
        for _ in range(2):
            order = torch.randperm(len(codes))
            for s in range(0, len(codes), 64):
                clean = codes[order[s:s + 64]]
                out = dec(torch.relu(enc(clean * (torch.rand_like(clean) >= 0.2))))
                loss = ((torch.sigmoid(out) if squash else out) - clean).pow(2).sum() / len(clean)
                if not torch.isfinite(loss):
                    return None
                opt.zero_grad()
                loss.backward()
                opt.step()
        weights[name + ".weight"] = enc.weight.data.clone()
        weights[name + ".bias"] = enc.bias.data.clone()
        with torch.no_grad():
            codes = torch.relu(enc(codes))
    return weights


def c21(binary, work, rates):
    cfg, _, init, _ = start(binary, work, "relu2", C21_CFG)
    x_all, y_all = idx("train-images-idx3-ubyte.gz", True), idx("train-labels-idx1-ubyte.gz", False)
    x, y, xv, yv = x_all[:55000], y_all[:55000], x_all[55000:], y_all[55000:]
    names = ["fc1", "fc2", "out"]

    def report(who, lr, weights, finetune_accuracy):
        model = mlp(weights, names, nn.ReLU)
        with torch.no_grad():
            dead = dead_fraction(model[:4](x[:5000]))
        w = weights["fc2.weight"]
        print(f"c21 {who} lr {lr}: fc2.weight norm {w.norm():.4g} (initial {init['fc2.weight'].norm():.4g}), "
              f"min {w.min():.4g}, bias min {weights['fc2.bias'].min():.4g}; fc2 units dead {dead:.3f}; "
              f"validation accuracy after one fine-tuning epoch {finetune_accuracy:.4f}")

    for lr in rates:
        pre = os.path.join(work, f"pre{lr}.safetensors")
        log = os.path.join(work, f"finetune{lr}.csv")
        nerve(binary, "pretrain", cfg, "--epochs", "2", "--noise", "0.2", "--lr", str(lr), "--save", pre)
        nerve(binary, "train", cfg, "--init", pre, "--log", log)
        with open(log) as f:
            rows = [line.rstrip("\n").split(",") for line in f]
        column = rows[0].index("val_accuracy")
        report("nerve", lr, load_safetensors(pre)[0], float(rows[-1][column]))

        torch.manual_seed(1)
        weights = pretrain_torch(init, x, lr, names[:2])
        if weights is None:
            print(f"c21 torch lr {lr}: pre-training stopped on a non-finite loss")
            continue
        model = mlp(weights, names, nn.ReLU)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        order = torch.randperm(len(x))
        for s in range(0, len(x), 64):
            batch = order[s:s + 64]
            loss = F.cross_entropy(model(x[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            accuracy = (model(xv).argmax(1) == yv).float().mean().item()
        report("torch", lr, weights, accuracy)


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("c21", "c29"):
        sys.exit(__doc__)
    os.makedirs(sys.argv[3], exist_ok=True)
    if sys.argv[1] == "c29":
        c29(sys.argv[2], sys.argv[3])
    else:
        c21(sys.argv[2], sys.argv[3], [float(r) for r in sys.argv[4:]] or [0.01, 0.001])


if __name__ == "__main__":
    main()
