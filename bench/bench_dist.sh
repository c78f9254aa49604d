#!/usr/bin/env bash
# make bench-dist: data-parallel throughput on this machine (docs/distributed.md).
# For the four bench models (MLP, LeNet, BN-CNN, char-LSTM), NERVE_BENCH_STEPS
# (200) steps each of:
#   1 rank x 2 threads, no MPI           (the baseline)
#   1 rank x 2 threads under mpirun      (MPI's own cost: should be within 1%)
#   2 ranks x 1 thread, bound to cores   (data parallel: should reach >= 0.9x)
# and, when run as root with unshare and tc (NERVE_BENCH_SHAPED=1, the default
# as root), 2 ranks over TCP on a loopback shaped to 1 and 10 Gbit/s in a
# private network namespace (mpirun --mca btl self,tcp), once with one
# all-reduce after backward and once with --bucket-mb (NERVE_BENCH_BUCKET_MB,
# 0.0625 MiB: several buckets even for the small models), each with the
# metrics log's communication and exposed communication per step and the
# fraction hidden behind backward, beside the alpha-beta model's
# prediction of one all-reduce of the model's gradients:
# 2 (N - 1) / N x 4 bytes x parameters / rate (latency left out). Throughput is the samples/s of the run's (partial) epoch
# in the metrics log, so the data load is not counted. A benchmark, not a
# test: on a shared machine the figures say little.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NERVE_BUILD_DIR:-$root/build}
nerve=$build/nerve
steps=${NERVE_BENCH_STEPS:-200}
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

calc() { /usr/bin/python3 -c "from math import nan; print($1)"; }

printf '%-9s %14s %14s %8s %14s %8s\n' model "1x2 samples/s" "MPI 1x2" ratio "2x1 samples/s" ratio
for model in ${NERVE_BENCH_MODELS:-mlp lenet bn_cnn charlstm}; do
  cfg=$root/bench/$model.cfg
  "$nerve" train "$cfg" --steps "$steps" --threads 2 --log "$work/a.csv" >/dev/null
  "${mpi[@]}" -np 1 --bind-to none "$nerve" train "$cfg" --steps "$steps" --threads 2 \
    --log "$work/b.csv" >/dev/null
  "${mpi[@]}" -np 2 --bind-to core "$nerve" train "$cfg" --steps "$steps" --threads 1 \
    --log "$work/c.csv" >/dev/null
  a=$(rate "$work/a.csv") b=$(rate "$work/b.csv") c=$(rate "$work/c.csv")
  printf '%-9s %14.0f %14.0f %8.3f %14.0f %8.3f\n' "$model" "$a" "$b" \
    "$(calc "$b / $a")" "$c" "$(calc "$c / $a")"
done

shaped=${NERVE_BENCH_SHAPED:-$([[ $(id -u) -eq 0 ]] && echo 1 || echo 0)}
[[ $shaped == 1 ]] || exit 0
echo
bucket_mb=${NERVE_BENCH_BUCKET_MB:-0.0625}
echo "2 ranks over TCP on a shaped loopback (unshare -n, tc tbf); ms per step:"
printf '%-9s %6s %9s %11s %8s %8s %8s %7s %8s\n' model Gbit/s buckets samples/s step comm \
  exposed hidden model
for gbit in 1 10; do
  for model in ${NERVE_BENCH_MODELS:-mlp lenet bn_cnn charlstm}; do
    cfg=$root/bench/$model.cfg
    n=$(params "$cfg")
    batch=$(awk -F' *= *' '/^batch/ {print $2; exit}' "$cfg")
    for buckets in none "$bucket_mb"; do
      flags=""
      [[ $buckets == none ]] || flags="--bucket-mb $buckets"
      unshare -n bash -c "
        ip link set lo up
        tc qdisc add dev lo root tbf rate ${gbit}gbit burst 4mb latency 100ms
        ${mpi[*]} -np 2 --bind-to core --mca btl self,tcp --mca btl_tcp_if_include lo \
          $nerve train $cfg --steps $steps --threads 1 $flags --log $work/s.csv >/dev/null" ||
        continue
      s=$(rate "$work/s.csv") comm=$(rate "$work/s.csv" comm_seconds)
      exposed=$(rate "$work/s.csv" exposed_comm_seconds)
      printf '%-9s %6s %9s %11.0f %8.2f %8.2f %8.2f %6.0f%% %8.2f\n' "$model" "$gbit" "$buckets" \
        "$s" "$(calc "1000 * $batch / $s")" "$(calc "1000 * $comm")" \
        "$(calc "1000 * $exposed")" "$(calc "100 * (1 - $exposed / $comm) if $comm > 0 else 0")" \
        "$(calc "1000 * 2 * (2 - 1) / 2 * 4 * $n * 8 / ($gbit * 1e9)")"
    done
  done
done
