"""make bench-load: nerve and PyTorch alone and beside a busy loop (BENCHMARKING.md).

    /usr/bin/python3 bench/bench_load.py --nerve build/bench/nerve_bench [--rounds 1]
        [--models mlp,bn_cnn]

For each model (the MLP and the BN-CNN by default) and each side, the same
run as compare.py's (training, then inference at batch 1), first alone on an
idle machine, then beside one CPU-bound process (a busy loop, as another
user's job would be). It prints each figure alone and loaded, and the loaded
fraction of the alone figure: with one of the two cores taken, the fair share
is 0.5. docs/benchmarks.md ("A busy machine") explains how nerve's threads
wait and what to expect.
"""
import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the runner, the environments and the models)

METRICS = (("train_samples_per_s", "train samples/s"),
           ("infer1_samples_per_s", "infer batch 1 samples/s"))
BUSY_LOOP = ["/usr/bin/python3", "-c", "while True: pass"]


def commands(nerve, model, threads, overrides):
    m = {**compare.MODELS[model], **{k: v for k, v in overrides.items() if v is not None}}
    common = ["--threads", str(threads), "--warmup", str(m["warmup"]), "--steps", str(m["steps"]),
              "--infer1-calls", str(m["infer1_calls"]), "--infer256-calls", "0"]
    cfg = os.path.join(compare.HERE, model + ".cfg")
    return {
        "nerve": ([nerve, *common, cfg], compare.environment(compare.NERVE_UNSET)),
        "torch": (["/usr/bin/python3", os.path.join(compare.HERE, "bench_torch.py"), "--model",
                   model, *common[:-2], "--infer256-calls", "1"],
                  compare.environment(compare.TORCH_UNSET, compare.TORCH_SET)),
    }


def measure(side, command, env, loaded, idle_wait):
    if idle_wait > 0:
        compare.wait_until_idle(idle_wait)
    busy = subprocess.Popen(BUSY_LOOP) if loaded else None
    try:
        return compare.run(side, command, env)
    finally:
        if busy:
            busy.kill()
            busy.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nerve", required=True, help="the nerve_bench executable")
    parser.add_argument("--models", default="mlp,bn_cnn")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, help="untimed training steps (default: compare.py's)")
    parser.add_argument("--steps", type=int, help="timed training steps")
    parser.add_argument("--infer1-calls", type=int, help="timed inference calls at batch 1")
    parser.add_argument("--idle-wait", type=float, default=compare.IDLE_TIMEOUT_S,
                        help="at most this many seconds of waiting for an idle CPU per run")
    args = parser.parse_args()
    for model in args.models.split(","):
        sides = commands(args.nerve, model, args.threads,
                         {"warmup": args.warmup, "steps": args.steps,
                          "infer1_calls": args.infer1_calls})
        print(f"{compare.MODELS[model]['title']}, {args.threads} threads; alone and beside one "
              f"busy loop, rounds={args.rounds}")
        results = {(side, loaded): [] for side in sides for loaded in (False, True)}
        for round_ in range(1, args.rounds + 1):
            for side, (command, env) in sides.items():
                for loaded in (False, True):
                    figures = measure(side, command, env, loaded, args.idle_wait)
                    results[side, loaded].append(figures)
                    print(f"  round {round_} {side:5s} {'loaded' if loaded else 'alone':6s} " +
                          " ".join(f"{key}={figures[key]:.0f}" for key, _ in METRICS), flush=True)
        print(f"{'':25s} {'nerve alone':>12s} {'loaded':>10s} {'fraction':>8s}"
              f" {'torch alone':>12s} {'loaded':>10s} {'fraction':>8s}")
        for key, label in METRICS:
            row = f"{label:25s}"
            for side in sides:
                alone = statistics.median(r[key] for r in results[side, False])
                loaded = statistics.median(r[key] for r in results[side, True])
                row += f" {alone:12,.0f} {loaded:10,.0f} {loaded / alone:8.2f}"
            print(row)
        print()


if __name__ == "__main__":
    main()
