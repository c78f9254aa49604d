"""PyTorch's side of bench_conv.c: forward + backward of LeNet's two
convolutions at batch 64 (conv 5x5 1->32 'same' on 28x28 without the input's
gradient, conv 5x5 32->64 'same' on 14x14 with it), each followed by an MSE
against a fixed target, in ms per batch.

    OMP_WAIT_POLICY=passive /usr/bin/python3 bench_conv_torch.py [--threads N] [--steps N]
"""
import argparse
import time

import torch
from torch import nn
import torch.nn.functional as F

BATCH = 64
ROUNDS = 5  # each figure is the best of 5 rounds of --steps steps, as bench_conv.c


def time_conv(channels, side, filters, input_gradient, steps):
    torch.manual_seed(1)
    conv = nn.Conv2d(channels, filters, 5, padding=2)
    x = torch.rand(BATCH, channels, side, side) - 0.5
    x.requires_grad_(input_gradient)
    target = torch.rand(BATCH, filters, side, side) - 0.5
    best = float("inf")
    for _ in range(ROUNDS):
        for step in range(-3, steps):
            if step == 0:
                start = time.perf_counter()
            conv.zero_grad(set_to_none=False)
            if x.grad is not None:
                x.grad.zero_()
            F.mse_loss(conv(x), target).backward()
        best = min(best, (time.perf_counter() - start) * 1e3 / steps)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    conv1 = time_conv(1, 28, 32, False, args.steps)
    conv2 = time_conv(32, 14, 64, True, args.steps)
    print(f"torch conv1_ms={conv1:.2f} conv2_ms={conv2:.2f} total_ms={conv1 + conv2:.2f}")


if __name__ == "__main__":
    main()
