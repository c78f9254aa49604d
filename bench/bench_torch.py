"""PyTorch's side of the benchmarks (bench/run.sh; docs/benchmarks.md).

The same work as bench_train.c with the model's bench/<model>.cfg, step for
step: Fashion-MNIST training images scaled by 1/255, the model's network,
softmax cross-entropy, its optimizer and batch, a fresh shuffle every epoch
with the last partial batch kept; only the training steps after the warm-up
are timed. Then inference (softmax of the logits, as nerve_predict) at batch
1 and 256, in evaluation mode.

    /usr/bin/python3 bench_torch.py --model mlp|lenet|bn_cnn|resnet|charlstm [--threads N]
        [--warmup STEPS] [--steps STEPS] [--infer1-calls N] [--infer256-calls N]
        [--device cpu|cuda]

--device cuda (scripts/gpu_check.sh) runs on the GPU with
torch.backends.cudnn.benchmark = True and TF32 off (nerve's CUDA backend
keeps float32 products too), the data on the GPU, a synchronisation before
each clock reading. NERVE_BENCH_DATA and NERVE_BENCH_TEXT name the
Fashion-MNIST folder and the Jargon File where they are not in /usr/share.

Prints one line: torch train_samples_per_s=... infer1_samples_per_s=...
infer256_samples_per_s=... train_loss=... (charlstm: training only,
train_tokens_per_s=... train_loss=...: truncated BPTT over the Jargon File),
then each phase's peak resident memory, as bench_train.c: rss_train_mib=...
(the interpreter, loading and training), rss_infer1_mib=...,
rss_infer256_mib=... (each inference batch size from what was resident
before it).
Run it in the environment compare.py gives it (BENCHMARKING.md).
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
from torch import nn

DATA = os.environ.get("NERVE_BENCH_DATA", "/usr/share/datasets/fashion-mnist")
DEVICE = torch.device("cpu")  # main() sets it from --device


def clock():
    """perf_counter once the device has finished what was queued."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()
INFER256_BATCH = 256


def mlp():
    return nn.Sequential(nn.Flatten(),
                         nn.Linear(784, 256), nn.ReLU(),
                         nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def lenet():
    return nn.Sequential(nn.Conv2d(1, 32, 5, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 5, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 7 * 7, 1024), nn.ReLU(),
                         nn.Linear(1024, 10))


def bn_cnn():
    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(*block(1, 32), *block(32, 32), nn.MaxPool2d(2),
                         *block(32, 64), *block(64, 64), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(256, 10))


class Residual(nn.Module):
    """Two 3x3 convolutions with batch norm added to a shortcut: the identity,
    or a strided 1x1 convolution with batch norm where the shape changes."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
                                  nn.BatchNorm2d(c_out), nn.ReLU(),
                                  nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(c_out))
        self.shortcut = nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, 0, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def resnet():
    """examples/fashion_resnet.cfg's network (bench/resnet.cfg)."""
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                         Residual(32, 32, 1), Residual(32, 64, 2), Residual(64, 64, 1),
                         Residual(64, 128, 2), Residual(128, 128, 1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))


class CharLSTM(nn.Module):
    """One-hot symbols -> LSTM -> a linear layer per step (bench/charlstm.cfg)."""

    def __init__(self, vocab, hidden=256):
        super().__init__()
        self.vocab = vocab
        self.lstm = nn.LSTM(vocab, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, ids, state):
        x = nn.functional.one_hot(ids, self.vocab).float()
        y, state = self.lstm(x, state)
        return self.out(y), state


# Each model as in its bench/<model>.cfg: network, batch, optimizer.
MODELS = {
    "mlp": (mlp, 128, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "lenet": (lenet, 64, lambda p: torch.optim.Adam(p, lr=0.001)),
    "bn_cnn": (bn_cnn, 128, lambda p: torch.optim.Adam(p, lr=0.001)),
    "resnet": (resnet, 128, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                                      weight_decay=0.0005)),
}


TEXT = os.environ.get("NERVE_BENCH_TEXT", "/usr/share/doc/jargon-text/jargon.txt.gz")
CHARLSTM = {"batch": 32, "bptt": 64, "lr": 0.002, "clip": 5.0}


def load_text_lanes(path, lanes, bptt):
    """The text as nerve's stream cut: `lanes` contiguous lanes of token ids,
    chunk j of every lane is batch j, the target is the next character."""
    with gzip.open(path, "rb") as f:
        text = f.read().decode("utf-8")
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.int64)
    lane_length = (len(ids) - 1) // lanes // bptt * bptt
    inputs = ids[:lanes * lane_length].view(lanes, lane_length)
    targets = ids[1:lanes * lane_length + 1].view(lanes, lane_length)
    return len(vocab), inputs.to(DEVICE), targets.to(DEVICE)


def train_charlstm(warmup, steps):
    """Truncated BPTT over the lanes, state carried (detached) from batch to
    batch and reset each epoch: returns (tokens per second, mean loss)."""
    c = CHARLSTM
    vocab, inputs, targets = load_text_lanes(TEXT, c["batch"], c["bptt"])
    model = CharLSTM(vocab).to(DEVICE)
    optimizer = torch.optim.Adam(model.parameters(), lr=c["lr"])
    loss_fn = nn.CrossEntropyLoss()
    chunks = inputs.shape[1] // c["bptt"]
    model.train()
    start, timed_tokens, loss_sum, seen = 0.0, 0, 0.0, 0
    for global_step in range(1, warmup + steps + 1):
        j = (global_step - 1) % chunks
        if j == 0:
            state = None
        x = inputs[:, j * c["bptt"]:(j + 1) * c["bptt"]]
        y = targets[:, j * c["bptt"]:(j + 1) * c["bptt"]]
        optimizer.zero_grad(set_to_none=True)
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state)
        loss = loss_fn(logits.reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), c["clip"])
        optimizer.step()
        loss_sum += loss.item()
        seen += 1
        if global_step == warmup:
            start = clock()
        elif global_step > warmup:
            timed_tokens += x.numel()
    return timed_tokens / (clock() - start), loss_sum / seen


def load_idx(images_path, labels_path):
    with gzip.open(images_path, "rb") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)
    with gzip.open(labels_path, "rb") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    images = images.reshape(len(labels), 1, 28, 28).astype(np.float32) / 255
    return (torch.from_numpy(images).to(DEVICE),
            torch.from_numpy(labels.astype(np.int64)).to(DEVICE))


def train(model, batch, optimizer, inputs, labels, warmup, steps):
    """Returns (samples per second, the epoch's running mean loss at the end)."""
    loss_fn = nn.CrossEntropyLoss()
    count = len(labels)
    steps_per_epoch = (count + batch - 1) // batch
    generator = torch.Generator().manual_seed(1)
    model.train()
    start = 0.0
    timed_samples = 0
    for global_step in range(1, warmup + steps + 1):
        step = (global_step - 1) % steps_per_epoch
        if step == 0:
            order = torch.randperm(count, generator=generator).to(DEVICE)
            loss_sum, seen = 0.0, 0
        index = order[step * batch:(step + 1) * batch]
        x, y = inputs[index], labels[index]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        # nerve reads every step's loss too (it stops on a non-finite one).
        loss_sum += loss.item() * len(index)
        seen += len(index)
        if global_step == warmup:
            start = clock()
        elif global_step > warmup:
            timed_samples += len(index)
    stop = clock()
    return timed_samples / (stop - start), loss_sum / seen


def infer(model, inputs, batch, calls):
    warmup = max(1, calls // 40)  # as bench_train.c
    model.eval()
    batches_in_data = len(inputs) // batch
    # inference_mode: no_grad without version counters or view tracking,
    # PyTorch's fastest way to run a model that will not be trained.
    with torch.inference_mode():
        for i in range(warmup + calls):
            if i == warmup:
                start = clock()
            j = i % batches_in_data
            torch.softmax(model(inputs[j * batch:(j + 1) * batch]), dim=1)
    return calls * batch / (clock() - start)


class RssPhases:
    """Each phase's peak resident memory (Linux's VmHWM, reset between
    phases through clear_refs, as bench_train.c does), as " rss_<phase>_mib=N"."""

    def __init__(self):
        self.text = ""
        self.resets = True

    def end(self, phase):
        try:
            with open("/proc/self/status") as f:
                kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            return
        if not self.resets:
            return
        self.text += f" rss_{phase}_mib={kib / 1024:.1f}"
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            self.resets = False  # the next phases' peaks would include this one


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS) + ["charlstm"], default="mlp")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--steps", type=int, default=938)  # two epochs' worth at batch 128
    parser.add_argument("--infer1-calls", type=int, default=20000)
    parser.add_argument("--infer256-calls", type=int, default=400)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    if args.model == "charlstm":  # training only: tokens per second
        rate, loss = train_charlstm(args.warmup, args.steps)
        rss = RssPhases()
        rss.end("train")
        print(f"torch train_tokens_per_s={rate:.1f} train_loss={loss:.4f}{rss.text}")
        return
    inputs, labels = load_idx(f"{DATA}/train-images-idx3-ubyte.gz",
                              f"{DATA}/train-labels-idx1-ubyte.gz")
    build, batch, make_optimizer = MODELS[args.model]
    model = build().to(DEVICE)
    train_rate, loss = train(model, batch, make_optimizer(model.parameters()), inputs, labels,
                             args.warmup, args.steps)
    rss = RssPhases()
    rss.end("train")
    infer1 = infer(model, inputs, 1, args.infer1_calls)
    if args.infer1_calls:
        rss.end("infer1")
    infer256 = infer(model, inputs, INFER256_BATCH, args.infer256_calls)
    if args.infer256_calls:
        rss.end("infer256")
    print(f"torch train_samples_per_s={train_rate:.1f} infer1_samples_per_s={infer1:.1f} "
          f"infer256_samples_per_s={infer256:.1f} train_loss={loss:.4f}{rss.text}")


if __name__ == "__main__":
    main()
