"""PyTorch's side of the MLP benchmark (bench/run.sh; docs/benchmarks.md).

The same work as bench_mlp.c, step for step: Fashion-MNIST training images
scaled by 1/255, MLP 784-256(relu)-256(relu)-10, softmax cross-entropy, SGD
lr 0.05 momentum 0.9, batch 128, a fresh shuffle every epoch with the last
partial batch kept; only the training steps after the warm-up are timed.
Then inference (softmax of the logits, as nerve_predict) at batch 1 and 256.

    /usr/bin/python3 bench_mlp_torch.py [--threads N] [--warmup STEPS] [--steps STEPS]

Prints one line: torch train_samples_per_s=... infer1_samples_per_s=...
infer256_samples_per_s=... train_loss=...
Run it in the environment compare.py gives it (BENCHMARKING.md).
"""
import argparse
import gzip
import time

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"
BATCH = 128
LR, MOMENTUM = 0.05, 0.9
# The same counts as bench_mlp.c.
INFER1_WARMUP, INFER1_CALLS = 500, 20000
INFER256_BATCH, INFER256_WARMUP, INFER256_CALLS = 256, 20, 400


def load_idx(images_path, labels_path):
    with gzip.open(images_path, "rb") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)
    with gzip.open(labels_path, "rb") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    images = images.reshape(len(labels), 784).astype(np.float32) / 255
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def train(model, inputs, labels, warmup, steps):
    """Returns (samples per second, the epoch's running mean loss at the end)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    count = len(labels)
    steps_per_epoch = (count + BATCH - 1) // BATCH
    generator = torch.Generator().manual_seed(1)
    model.train()
    start = 0.0
    timed_samples = 0
    for global_step in range(1, warmup + steps + 1):
        step = (global_step - 1) % steps_per_epoch
        if step == 0:
            order = torch.randperm(count, generator=generator)
            loss_sum, seen = 0.0, 0
        index = order[step * BATCH:(step + 1) * BATCH]
        x, y = inputs[index], labels[index]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        # nerve reads every step's loss too (it stops on a non-finite one).
        loss_sum += loss.item() * len(index)
        seen += len(index)
        if global_step == warmup:
            start = time.perf_counter()
        elif global_step > warmup:
            timed_samples += len(index)
    stop = time.perf_counter()
    return timed_samples / (stop - start), loss_sum / seen


def infer(model, inputs, batch, warmup, calls):
    model.eval()
    batches_in_data = len(inputs) // batch
    # inference_mode: no_grad without version counters or view tracking,
    # PyTorch's fastest way to run a model that will not be trained.
    with torch.inference_mode():
        for i in range(warmup + calls):
            if i == warmup:
                start = time.perf_counter()
            j = i % batches_in_data
            torch.softmax(model(inputs[j * batch:(j + 1) * batch]), dim=1)
    return calls * batch / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--steps", type=int, default=938)  # two epochs' worth at batch 128
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    inputs, labels = load_idx(f"{DATA}/train-images-idx3-ubyte.gz",
                              f"{DATA}/train-labels-idx1-ubyte.gz")
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(),
                          nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    train_rate, loss = train(model, inputs, labels, args.warmup, args.steps)
    infer1 = infer(model, inputs, 1, INFER1_WARMUP, INFER1_CALLS)
    infer256 = infer(model, inputs, INFER256_BATCH, INFER256_WARMUP, INFER256_CALLS)
    print(f"torch train_samples_per_s={train_rate:.1f} infer1_samples_per_s={infer1:.1f} "
          f"infer256_samples_per_s={infer256:.1f} train_loss={loss:.4f}")


if __name__ == "__main__":
    main()
