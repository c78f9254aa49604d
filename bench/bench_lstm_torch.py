"""PyTorch's side of bench_lstm.c: forward + backward of one nn.LSTM layer
(batch_first) over a batch of one-hot sequences, the char-LSTM's shape by
default (batch 32, 64 steps, 100 inputs, hidden 256), followed by an MSE
against zeros; the input takes no gradient. Prints the best and the median
of the rounds as tokens (batch x steps) per second, as bench_lstm.c does.

    OMP_WAIT_POLICY=passive /usr/bin/python3 bench_lstm_torch.py [--threads N]
        [--batch N] [--steps T] [--inputs I] [--hidden H] [--rounds R] [--iterations K]
"""
import argparse
import time

import torch
from torch import nn
import torch.nn.functional as F


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--inputs", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    lstm = nn.LSTM(args.inputs, args.hidden, batch_first=True)
    symbols = torch.randint(0, args.inputs, (args.batch, args.steps))
    x = F.one_hot(symbols, args.inputs).float()
    target = torch.zeros(args.batch, args.steps, args.hidden)

    def step():
        lstm.zero_grad(set_to_none=False)
        output, _ = lstm(x)
        F.mse_loss(output, target).backward()

    times = []
    for round_index in range(-1, args.rounds):  # round -1 warms up
        start = time.perf_counter()
        for _ in range(args.iterations):
            step()
        if round_index >= 0:
            times.append((time.perf_counter() - start) / args.iterations)
    times.sort()
    best, median = times[0], times[len(times) // 2]
    tokens = args.batch * args.steps
    print(f"torch_bench_lstm batch={args.batch} steps={args.steps} inputs={args.inputs} "
          f"hidden={args.hidden} threads={args.threads} best_ms={best * 1e3:.2f} "
          f"median_ms={median * 1e3:.2f} best_tokens_per_s={tokens / best:.0f} "
          f"median_tokens_per_s={tokens / median:.0f}")


if __name__ == "__main__":
    main()
