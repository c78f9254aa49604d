#!/usr/bin/env bash
# make bench-dist: data-parallel throughput on this machine (docs/distributed.md),
# printed as Markdown tables for docs/benchmarks.md.
# For the four bench models (MLP, LeNet, BN-CNN, char-LSTM), NERVE_BENCH_STEPS
# (200) steps each of:
#   1 rank x 2 threads, no MPI           (the baseline)
#   1 rank x 2 threads under mpirun      (MPI's own cost: should be within 1%)
#   2 ranks x 1 thread, bound to cores   (data parallel: should reach >= 0.9x)
# in NERVE_BENCH_ROUNDS (1) interleaved rounds: each round runs every model's
# three configurations, in an order rotated from round to round, so that a
# drift in the machine's load falls on all of them. Each cell is the median
# over the rounds with the smallest and largest value in brackets; a ratio is
# the median of the rounds' ratios (each from runs taken minutes apart, not
# hours). Beside the wall-clock throughput, CPU milliseconds per sample: the
# user + system time of every process of the run (/usr/bin/time over
# nerve or mpirun and its ranks) less that of the same run with 1 step (the
# data load, MPI's start), over the samples of the other steps. CPU time
# counts what the cores did for the run whatever else ran beside it, so it
# resolves differences (MPI's cost for one rank: 1%) that wall time on a
# shared machine cannot; it counts spinning waits too (OpenMP's bounded
# spin, Open MPI's polling of shared memory). 2 ranks x 1 thread runs
# nerve's defaults: ZeRO-1 (each rank updates its half of the parameters),
# the gradients summed through a shared-memory window (docs/distributed.md,
# "Where LeNet's time goes"). NERVE_BENCH_ZERO=1 adds 2 x 1 with --zero 0
# (the all-reduce, every rank updating everything), NERVE_BENCH_MESSAGES=1
# 2 x 1 with NERVE_MPI_SHARED_MEMORY=0 (Open MPI's collectives, as between
# hosts).
# and, when run as root with unshare and tc (NERVE_BENCH_SHAPED=1, the default
# as root), 2 ranks over TCP on a loopback shaped to 1 and 10 Gbit/s in a
# private network namespace (mpirun --mca btl self,tcp):
#   nerve comm-bench on the link: all-reduce time and bus bandwidth per size
#     against the shaped rate (sizes within tc's 4 MB burst pass at the
#     loopback's own speed); half its fastest all-reduce of 64 KB or less
#     gives the latency alpha of the model below;
#   training, once with one all-reduce after backward and once with
#     --bucket-mb (NERVE_BENCH_BUCKET_MB, 0.0625 MiB: several buckets even for
#     the small models): throughput, the step, the all-reduce's time and the
#     part of it exposed (the metrics log's comm_seconds and
#     exposed_comm_seconds, per step), the fraction hidden behind backward,
#     and the alpha-beta model's all-reduce time for N = 2 ranks,
#     k (2 (N - 1)) alpha + 2 (N - 1) / N x 4 bytes x parameters / rate,
#     k the number of all-reduces (1, or about the buckets' count).
# Throughput is the samples/s of the run's (partial) epoch in the metrics
# log, so the data load is not counted. NERVE_BENCH_QUICK=1 is a smoke check
# of the script (20 steps, one round, comm-bench to 1 MiB; about two
# minutes). A benchmark, not a test: on a shared machine the figures say little.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NERVE_BUILD_DIR:-$root/build}
nerve=$build/nerve
quick=${NERVE_BENCH_QUICK:-0}
steps=${NERVE_BENCH_STEPS:-$([[ $quick == 1 ]] && echo 20 || echo 200)}
rounds=${NERVE_BENCH_ROUNDS:-1}
models=${NERVE_BENCH_MODELS:-mlp lenet bn_cnn charlstm}
comm_max=${NERVE_BENCH_COMM_MAX_BYTES:-$([[ $quick == 1 ]] && echo 1048576 || echo 67108864)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpi=(mpirun --oversubscribe)
[[ $(id -u) -eq 0 ]] && mpi+=(--allow-run-as-root)

rate() { # rate LOG [COLUMN]: the samples/s (or COLUMN) of the log's last epoch row
  /usr/bin/python3 -c '
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["kind"] == "epoch"]
print(rows[-1][sys.argv[2]] or "nan")' "$1" "${2:-samples_per_second}"
}

params() { # params CFG: the model's parameter count (nerve info's total)
  "$nerve" info "$1" | awk '/^total:/ {print $2}'
}

calc() { /usr/bin/python3 -c "from math import nan, ceil; print($1)"; }
fmt() { printf "%.${1}f" "$(calc "$2")"; }

# run_config CONFIG CFG STEPS LOG: one run of a configuration of the first
# table; prints the CPU seconds (user + system) of all its processes.
run_config() {
  local config=$1 cfg=$2 n=$3 log=$4 command
  case $config in
    none) command=("$nerve" train "$cfg" --threads 2) ;;
    mpi1) command=("${mpi[@]}" -np 1 --bind-to none "$nerve" train "$cfg" --threads 2) ;;
    mpi2) command=("${mpi[@]}" -np 2 --bind-to core "$nerve" train "$cfg" --threads 1) ;;
    zero0) command=("${mpi[@]}" -np 2 --bind-to core "$nerve" train "$cfg" --threads 1 --zero 0) ;;
    messages) command=(env NERVE_MPI_SHARED_MEMORY=0 "${mpi[@]}" -np 2 --bind-to core "$nerve" train
                       "$cfg" --threads 1) ;;
  esac
  /usr/bin/time -f "%U %S" -o "$work/time.txt" "${command[@]}" --steps "$n" --log "$log" >/dev/null
  awk '{print $1 + $2}' "$work/time.txt"
}

configs=(none mpi1 mpi2)
[[ ${NERVE_BENCH_ZERO:-0} == 1 ]] && configs+=(zero0)
[[ ${NERVE_BENCH_MESSAGES:-0} == 1 ]] && configs+=(messages)
for ((round = 1; round <= rounds; round++)); do
  for model in $models; do
    cfg=$root/bench/$model.cfg
    batch=$(awk -F' *= *' '/^batch/ {print $2; exit}' "$cfg")
    for ((k = 0; k < ${#configs[@]}; k++)); do
      config=${configs[(k + round - 1) % ${#configs[@]}]}
      cpu=$(run_config "$config" "$cfg" "$steps" "$work/run.csv")
      wall=$(rate "$work/run.csv")
      start=$(run_config "$config" "$cfg" 1 "$work/start.csv")
      echo "$model $config $round $wall $(calc "1000 * ($cpu - $start) / (($steps - 1) * $batch)")"
    done
  done
done >"$work/rounds.txt"

echo "Data parallel on this machine, $steps steps per run, $rounds interleaved round(s):"
echo "samples/s and CPU ms per sample, medians (min-max over the rounds)."
echo
/usr/bin/python3 - "$work/rounds.txt" $models <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    model, config, round_, wall, cpu = line.split()
    runs[model, config, int(round_)] = (float(wall), float(cpu))

def cell(values, digits):
    values = sorted(values)
    return (f"{statistics.median(values):.{digits}f} "
            f"({values[0]:.{digits}f}-{values[-1]:.{digits}f})")

def figure(model, config, which):
    return [v[which] for (m, c, _), v in sorted(runs.items()) if m == model and c == config]

def ratio(model, top, bottom, which):
    rounds = sorted({r for (m, _, r) in runs if m == model})
    return [runs[model, top, r][which] / runs[model, bottom, r][which] for r in rounds]

names = {"none": "1 rank x 2 threads", "mpi1": "1 x 2 under mpirun",
         "mpi2": "2 ranks x 1 thread", "zero0": "2 x 1 --zero 0",
         "messages": "2 x 1 Open MPI's collectives"}
configs = [c for c in names if any(k[1] == c for k in runs)]
parallel = [c for c in configs if c in ("mpi2", "zero0", "messages")]
short = {"none": "1 x 2", "mpi1": "mpirun 1 x 2", "mpi2": "2 x 1", "zero0": "2 x 1 zero 0",
         "messages": "2 x 1 messages"}
head = ([names[c] for c in configs] + ["mpirun / none"] +
        [f"{short[c]} / 1 x 2" for c in parallel] +
        [f"CPU ms/sample {short[c]}" for c in configs] + ["CPU mpirun / none"])
print("| model | " + " | ".join(head) + " |")
print("|---|" + "---:|" * len(head))
for model in sys.argv[2:]:
    cells = ([cell(figure(model, c, 0), 0) for c in configs] +
             [cell(ratio(model, "mpi1", "none", 0), 3)] +
             [cell(ratio(model, c, "none", 0), 3) for c in parallel] +
             [cell(figure(model, c, 1), 3) for c in configs] +
             [cell(ratio(model, "mpi1", "none", 1), 3)])
    print(f"| {model} | " + " | ".join(cells) + " |")
PY

shaped=${NERVE_BENCH_SHAPED:-$([[ $(id -u) -eq 0 ]] && echo 1 || echo 0)}
[[ $shaped == 1 ]] || exit 0
bucket_mb=${NERVE_BENCH_BUCKET_MB:-0.0625}

# on_link GBIT COMMAND: COMMAND in a private network namespace whose
# loopback is shaped to GBIT Gbit/s, its ranks talking TCP over it as ranks
# on two hosts do (NERVE_MPI_SHARED_MEMORY=0: no shared-memory window).
on_link() {
  local gbit=$1
  shift
  unshare -n bash -c "
    ip link set lo up
    tc qdisc add dev lo root tbf rate ${gbit}gbit burst 4mb latency 100ms
    NERVE_MPI_SHARED_MEMORY=0 ${mpi[*]} -np 2 --bind-to core --mca btl self,tcp --mca btl_tcp_if_include lo $*"
}

echo
echo "nerve comm-bench, 2 ranks over TCP on a loopback shaped by tc (unshare -n):"
echo
echo "| link | bytes | time (us) | busbw (GB/s) | busbw / link |"
echo "|---|---:|---:|---:|---:|"
declare -A alpha
for gbit in 1 10; do
  on_link "$gbit" "$nerve" comm-bench --max-bytes "$comm_max" --iterations 10 >"$work/cb.txt"
  # Rows: bytes, time (us), algbw, busbw (GB/s). alpha: half the fastest
  # all-reduce of 64 KB or less (2 (N - 1) = 2 messages), the least noisy.
  alpha[$gbit]=$(awk '$1 ~ /^[0-9]+$/ && $1 <= 65536 && (best == "" || $2 < best) {best = $2}
    END {print best / 2 / 1e6}' "$work/cb.txt")
  while read -r bytes us algbw busbw; do
    echo "| $gbit Gbit/s | $bytes | $(fmt 1 "$us") | $(fmt 3 "$busbw") | $(fmt 2 "$busbw * 8 / $gbit") |"
  done < <(awk '$1 ~ /^[0-9]+$/' "$work/cb.txt")
done

echo
echo "Training, 2 ranks x 1 thread over the shaped loopback; ms per step; the"
echo "all-reduce's time and its exposed part from the metrics log; the model's"
echo "all-reduce time with alpha from comm-bench's small sizes:"
echo
echo "| model | link | buckets (MiB) | samples/s | step | all-reduce | exposed | hidden | alpha-beta model |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for gbit in 1 10; do
  for model in $models; do
    cfg=$root/bench/$model.cfg
    n=$(params "$cfg")
    batch=$(awk -F' *= *' '/^batch/ {print $2; exit}' "$cfg")
    for buckets in none "$bucket_mb"; do
      flags="" k=1
      if [[ $buckets != none ]]; then
        flags="--bucket-mb $buckets"
        k=$(calc "max(1, ceil(4 * $n / ($buckets * 1048576)))")
      fi
      # --zero 0: the all-reduce whose time the model predicts (ZeRO-1, the
      # default, reduce-scatters and all-gathers instead).
      on_link "$gbit" "$nerve" train "$cfg" --steps "$steps" --threads 1 --zero 0 $flags \
        --log "$work/s.csv" >/dev/null || continue
      s=$(rate "$work/s.csv") comm=$(rate "$work/s.csv" comm_seconds)
      exposed=$(rate "$work/s.csv" exposed_comm_seconds)
      echo "| $model | $gbit Gbit/s | $buckets | $(fmt 0 "$s") | $(fmt 2 "1000 * $batch / $s")" \
        "| $(fmt 2 "1000 * $comm") | $(fmt 2 "1000 * $exposed")" \
        "| $(fmt 0 "100 * (1 - $exposed / $comm) if $comm > 0 else 0")%" \
        "| $(fmt 2 "1000 * ($k * 2 * ${alpha[$gbit]} + 2 * (2 - 1) / 2 * 4 * $n * 8 / ($gbit * 1e9))") |"
    done
  done
done
