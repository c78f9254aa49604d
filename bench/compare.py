"""Runs nerve and PyTorch on one benchmark model side by side and prints both.

    /usr/bin/python3 bench/compare.py --nerve build/bench/nerve_bench --model mlp [--rounds 3]
        [--before OLD/build/bench/nerve_bench]

The runs are interleaved (nerve, PyTorch, nerve, PyTorch, ...) and each starts
once the CPU is idle, because the machines are shared (BENCHMARKING.md). Each
side reports its own samples/s; the peak RSS of each child comes from
os.wait4. The table shows medians with min-max over the rounds and the ratio
of the medians, nerve / PyTorch. docs/benchmarks.md explains the setup.
"""
import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
IDLE_BUSY_CPUS = 0.15  # "idle": fewer busy CPUs than this over one second
IDLE_TIMEOUT_S = 60.0  # then run anyway, with a warning
# A run during which other processes kept this many CPUs busy on average was
# disturbed (/proc/stat is sampled at each tick, rusage is exact: on a quiet
# machine they differ by up to ~0.1 CPU). Two spinning OpenMP threads and a
# compiler on two cores can be 10x slower, so such a run is run again, at most
# RETRIES times.
DISTURBED_CPUS = 0.25
RETRIES = 2
IDLE_BUDGET_S = 150.0
# The sgemm ceiling the achieved GFLOP/s are a fraction of: a 1024^3 GEMM
# through nerve's own gemm kernel (oneDNN's sgemm) at the same threads,
# measured on this machine in every round (nerve_bench --gemm-ceiling), the
# median taken; --ceiling or NERVE_GEMM_CEILING give a fixed figure instead
# (make bench-gemm measures oneDNN's and OpenBLAS's directly).

# PyTorch at its best on these machines (BENCHMARKING.md): passive OpenMP
# waiting, OpenBLAS's own choice of kernels (AVX-512), and glibc keeping freed
# buffers instead of returning them and paying first touch again.
TORCH_SET = {
    "OMP_WAIT_POLICY": "passive",
    "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=68719476736",
}
TORCH_UNSET = ("OPENBLAS_CORETYPE",)
# nerve runs in the default environment: none of PyTorch's tunables.
NERVE_UNSET = tuple(TORCH_SET)

# The benchmark models: bench/<model>.cfg and bench_torch.py's network of the
# same name, with the work each round does (training steps and inference
# calls sized so that one run takes about 10 seconds here).
MODELS = {
    "mlp": {"title": "MLP 784-256-256-10, batch 128, SGD momentum",
            "warmup": 100, "steps": 938, "infer1_calls": 20000, "infer256_calls": 400},
    "lenet": {"title": "LeNet (conv5x5x32 same, pool, conv5x5x64 same, pool, fc1024, fc10), "
                       "batch 64, Adam",
              "warmup": 20, "steps": 200, "infer1_calls": 2000, "infer256_calls": 20},
    "bn_cnn": {"title": "BN-CNN ([conv3x3-BN-ReLU]x2 32ch, pool, [..]x2 64ch, pool, fc256, "
                        "dropout, fc10), batch 128, Adam",
               "warmup": 10, "steps": 100, "infer1_calls": 1000, "infer256_calls": 20},
    "resnet": {"title": "ResNet of examples/fashion_resnet.cfg (stem, 5 residual blocks 32-64-128, "
                        "global average pool, fc10), batch 128, SGD Nesterov momentum",
               "warmup": 5, "steps": 40, "infer1_calls": 200, "infer256_calls": 5},
    # Training only, counted in tokens (characters): tokens=True.
    "charlstm": {"title": "char-LSTM (one-hot symbols, LSTM 256, linear per step; truncated BPTT "
                          "64, batch 32), Adam, clip 5",
                 "warmup": 20, "steps": 300, "infer1_calls": 0, "infer256_calls": 0,
                 "tokens": True},
}

METRICS = (
    ("train_samples_per_s", "train samples/s"),
    ("infer1_samples_per_s", "infer batch 1 samples/s"),
    ("infer256_samples_per_s", "infer batch 256 samples/s"),
    ("peak_rss_mib", "peak RSS MiB"),
    ("rss_train_mib", "  training (and loading)"),
    ("rss_infer1_mib", "  inference batch 1"),
    ("rss_infer256_mib", "  inference batch 256"),
)
TOKEN_METRICS = (
    ("train_tokens_per_s", "train tokens/s"),
    ("peak_rss_mib", "peak RSS MiB"),
)
# Each side's peak resident memory per phase (rss_<phase>_mib=: VmHWM, reset
# between phases); an older nerve_bench prints none, and its rows stay empty.
RSS_PHASES = ("rss_train_mib", "rss_infer1_mib", "rss_infer256_mib")


def cpu_jiffies():
    """(busy, total) jiffies of all CPUs together, and the number of CPUs."""
    with open("/proc/stat") as f:
        lines = f.read().splitlines()
    fields = [int(v) for v in lines[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    cpus = sum(1 for line in lines if line.startswith("cpu") and line[3].isdigit())
    return sum(fields[:8]) - idle, sum(fields[:8]), cpus  # guest time is already in user


def busy_cpus(interval=1.0):
    busy0, total0, cpus = cpu_jiffies()
    time.sleep(interval)
    busy1, total1, _ = cpu_jiffies()
    return cpus * (busy1 - busy0) / max(1, total1 - total0)


def wait_until_idle(budget):
    """Waits for an idle CPU; returns what is left of the budget (seconds)."""
    start = time.monotonic()
    limit = min(IDLE_TIMEOUT_S, budget)
    while True:
        busy = busy_cpus()
        waited = time.monotonic() - start
        if busy < IDLE_BUSY_CPUS:
            return max(0.0, budget - waited)
        if waited >= limit:
            print(f"warning: the CPU is still busy ({busy:.2f} CPUs) after {waited:.0f} s;"
                  " measuring anyway, figures may be low", file=sys.stderr)
            return max(0.0, budget - waited)


def run(side, command, env):
    """Runs one benchmark child; returns its key=value figures, its peak RSS
    and how many CPUs other processes kept busy meanwhile."""
    busy0, _, _ = cpu_jiffies()
    start = time.monotonic()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    child.stdout.close()
    # wait4 rather than Popen.wait: it returns the child's own rusage, whose
    # ru_maxrss (KiB on Linux) is that child's peak and nobody else's.
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    busy1, _, _ = cpu_jiffies()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"compare: {' '.join(command)} exited with {child.returncode}")
    tag = "nerve" if side == "before" else side  # an older nerve_bench prints "nerve ..."
    lines = [line for line in output.splitlines() if line.startswith(tag + " ")]
    if len(lines) != 1:
        sys.exit(f"compare: {' '.join(command)} printed no '{tag} ...' line:\n{output}")
    figures = {key: float(value) for key, value in
               (field.split("=", 1) for field in lines[0].split()[1:])}
    # Resetting the phases' peaks resets the one ru_maxrss reports too: the
    # process's peak is the largest of its phases'.
    figures["peak_rss_mib"] = max([usage.ru_maxrss / 1024] +
                                  [figures[key] for key in RSS_PHASES if key in figures])
    busy_seconds = (busy1 - busy0) / os.sysconf("SC_CLK_TCK")
    figures["other_cpus"] = max(0.0, busy_seconds - usage.ru_utime - usage.ru_stime) / wall
    return figures


def environment(unset, set_=None):
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(set_ or {})
    return env


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def cell(values):
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nerve", required=True, help="the nerve_bench executable")
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, help="untimed training steps")
    parser.add_argument("--steps", type=int, help="timed training steps")
    parser.add_argument("--infer1-calls", type=int, help="timed inference calls at batch 1")
    parser.add_argument("--infer256-calls", type=int, help="timed inference calls at batch 256")
    parser.add_argument("--before", default=os.environ.get("NERVE_BEFORE") or None,
                        help="another nerve_bench (an older build; default $NERVE_BEFORE), run "
                             "interleaved with --nerve: a before column and nerve/before")
    ceiling = os.environ.get("NERVE_GEMM_CEILING")
    parser.add_argument("--ceiling", type=float, default=float(ceiling) if ceiling else None,
                        help="sgemm GFLOP/s at these threads (default: measured each round)")
    args = parser.parse_args()
    model = MODELS[args.model]
    metrics = TOKEN_METRICS if model.get("tokens") else METRICS
    for key in ("warmup", "steps", "infer1_calls", "infer256_calls"):
        if getattr(args, key) is None:
            setattr(args, key, model[key])
    for path in filter(None, (args.nerve, args.before)):
        if not os.access(path, os.X_OK):
            sys.exit(f"compare: {path} is not an executable (build it first: make build)")

    common = ["--threads", str(args.threads), "--warmup", str(args.warmup),
              "--steps", str(args.steps), "--infer1-calls", str(args.infer1_calls),
              "--infer256-calls", str(args.infer256_calls)]
    cfg = os.path.join(HERE, args.model + ".cfg")
    sides = {
        "nerve": ([args.nerve, *common, *(["--tokens"] if model.get("tokens") else []), cfg],
                  environment(NERVE_UNSET)),
        "torch": (["/usr/bin/python3", os.path.join(HERE, "bench_torch.py"), "--model",
                   args.model, *common], environment(TORCH_UNSET, TORCH_SET)),
    }
    if args.before:
        sides["before"] = ([args.before, *sides["nerve"][0][1:]], environment(NERVE_UNSET))
        print(f"before: {args.before}")
    print(f"{model['title']}, {args.threads} threads, "
          f"{args.steps} timed steps after {args.warmup} warm-up; rounds={args.rounds}, interleaved")
    print(f"{datetime.date.today()}  {cpu_model()}, {os.cpu_count()} CPUs")
    print("PyTorch environment: " + " ".join(f"{k}={v}" for k, v in TORCH_SET.items()) +
          " " + " ".join(f"-u {k}" for k in TORCH_UNSET))
    results = {side: [] for side in sides}
    ceilings = []
    idle_budget = IDLE_BUDGET_S
    for round_ in range(1, args.rounds + 1):
        if args.ceiling is None:
            idle_budget = wait_until_idle(idle_budget)
            ceilings.append(gemm_ceiling(args.nerve, args.threads))
        for side, (command, env) in sides.items():
            for attempt in range(RETRIES + 1):
                idle_budget = wait_until_idle(idle_budget)
                figures = run(side, command, env)
                print(f"  round {round_} {side:5s} " +
                      " ".join(f"{key}={figures[key]:.0f}" for key, _ in metrics
                               if key in figures) +
                      f" train_loss={figures['train_loss']:.4f}"
                      f" other_cpus={figures['other_cpus']:.2f}", flush=True)
                if figures["other_cpus"] < DISTURBED_CPUS:
                    break
                # Without idle-waiting budget the machine is busy for good: a
                # second try would be disturbed too.
                again = attempt < RETRIES and idle_budget > 0
                print(f"  (other processes kept {figures['other_cpus']:.2f} CPUs busy during "
                      "that run" + ("; running it again)" if again else
                                    "; keeping it, figures may be low)"), flush=True)
                if not again:
                    break
            results[side].append(figures)

    print()
    before = "before" in results
    print(f"{'':27s} {'nerve':>26s} {'PyTorch':>26s} {'nerve/PyTorch':>14s}" +
          (f" {'before':>26s} {'nerve/before':>13s}" if before else ""))
    for key, label in metrics:
        if any(key not in r for r in results["nerve"] + results["torch"]):
            continue
        nerve = [r[key] for r in results["nerve"]]
        torch = [r[key] for r in results["torch"]]
        ratio = statistics.median(nerve) / statistics.median(torch)
        line = f"{label:27s} {cell(nerve):>26s} {cell(torch):>26s} {ratio:14.2f}"
        if before and all(key in r for r in results["before"]):
            old = [r[key] for r in results["before"]]
            line += f" {cell(old):>26s} {statistics.median(nerve) / statistics.median(old):13.2f}"
        print(line)
    print("medians (min-max); samples/s and tokens/s: higher is better, RSS: lower is better")
    ceiling = args.ceiling or statistics.median(ceilings)
    if ceilings:
        print(f"sgemm ceiling, nerve_bench --gemm-ceiling: {cell(ceilings)} GFLOP/s")
    if "forward_flops" in results["nerve"][0]:
        print_gflops(results, ceiling)
    elif "forward_flops_per_token" in results["nerve"][0]:
        print_gflops(results, ceiling, "token")


def gemm_ceiling(nerve, threads):
    """GFLOP/s of one 1024^3 GEMM through nerve's gemm kernel (median of 15)."""
    out = subprocess.run([nerve, "--threads", str(threads), "--gemm-ceiling"], check=True,
                         capture_output=True, text=True, env=environment(NERVE_UNSET)).stdout
    return float(re.search(r"gemm_gflops=([0-9.]+)", out).group(1))


def print_gflops(results, ceiling, unit="sample"):
    """Achieved GFLOP/s: the graph's forward FLOPs per sample (nerve's count,
    the same network on both sides) x samples/s; a training step counts three
    forward passes (the backward pass's two products per forward one). A
    sequence model counts per token."""
    flops = results["nerve"][0]["forward_flops" if unit == "sample" else "forward_flops_per_token"]
    print(f"\nGFLOP/s ({flops / 1e6:.2f} MFLOP per {unit} forward, training x3) and fraction of "
          f"the sgemm ceiling ({ceiling:.0f} GFLOP/s)")
    rows = ((("train_samples_per_s", "train", 3), ("infer256_samples_per_s", "infer batch 256", 1))
            if unit == "sample" else (("train_tokens_per_s", "train", 3),))
    for key, label, passes in rows:
        cells = []
        for side in ("nerve", "torch"):
            rate = statistics.median(r[key] for r in results[side])
            gflops = rate * flops * passes / 1e9
            cells.append(f"{gflops:8.1f} ({gflops / ceiling:4.0%})")
        print(f"{label:27s} {cells[0]:>26s} {cells[1]:>26s}")


if __name__ == "__main__":
    main()
