#!/usr/bin/env bash
# The evidence lab: runs the experiments of lab/CNN/ (one per claim of the
# catalogue) and writes one result folder per claim.
#   lab/run.sh [--smoke] [--out DIR] [--threads N] (--all | C01 [C07 ...])
# --smoke: each experiment on a tiny budget (seconds), to check the
# machinery, not the claims (make test runs it). Result folders go to DIR
# (default lab/results); lab/report.sh DIR turns them into the report.
# NERVE names the binary (default: build/nerve beside this folder).
set -euo pipefail
LAB=$(cd "$(dirname "$0")" && pwd)
NERVE=${NERVE:-$LAB/../build/nerve}
SMOKE=0
RESULTS=$LAB/results
THREADS=2
claims=()
usage() { echo "usage: lab/run.sh [--smoke] [--out DIR] [--threads N] (--all | CLAIM...)" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) SMOKE=1 ;;
        --out) [ $# -ge 2 ] || usage; RESULTS=$2; shift ;;
        --threads) [ $# -ge 2 ] || usage; THREADS=$2; shift ;;
        --all) for d in "$LAB"/C[0-9]*/; do claims+=("$(basename "$d")"); done ;;
        -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
        C[0-9]*) [ -f "$LAB/$1/experiment.sh" ] || { echo "lab: no experiment $LAB/$1/experiment.sh" >&2; exit 2; }
                 claims+=("$1") ;;
        *) usage ;;
    esac
    shift
done
[ ${#claims[@]} -gt 0 ] || usage
[ -x "$NERVE" ] || { echo "lab: no nerve binary at $NERVE (build first, or set NERVE)" >&2; exit 2; }
NERVE=$(cd "$(dirname "$NERVE")" && pwd)/$(basename "$NERVE")
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
export OMP_WAIT_POLICY=passive
# slice SRC DST COUNT: the first COUNT items of a gzip'd IDX file (a 1-D labels
# file or 3-D images) as a new gzip'd IDX file, its count patched.
slice() {
    local - dims item=1 header
    set +o pipefail # head closes the pipe before zcat is done
    dims=$(zcat "$1" | head -c 4 | od -An -tu1 | awk '{ print $4 }')
    header=$((4 + 4 * dims))
    [ "$dims" = 3 ] && item=$(zcat "$1" | head -c 16 | od -An -tu1 | awk '{ print ($13*16777216 + $14*65536 + $15*256 + $16) * ($9*16777216 + $10*65536 + $11*256 + $12) }')
    {
        zcat "$1" | head -c 4
        printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($3 >> 24 & 255)) $(($3 >> 16 & 255)) $(($3 >> 8 & 255)) $(($3 & 255)))"
        zcat "$1" | tail -c +9 | head -c $((header - 8 + $3 * item))
    } | gzip -1 >"$2"
}
# Smoke runs read 600 training and 200 test images: loading all 70,000 would
# take longer than the runs themselves.
if [ "$SMOKE" = 1 ]; then
    SMOKE_DATA=$RESULTS/.smoke-data
    mkdir -p "$SMOKE_DATA"
    fashion=/usr/share/datasets/fashion-mnist
    slice "$fashion/train-images-idx3-ubyte.gz" "$SMOKE_DATA/train-images-idx3-ubyte.gz" 600
    slice "$fashion/train-labels-idx1-ubyte.gz" "$SMOKE_DATA/train-labels-idx1-ubyte.gz" 600
    slice "$fashion/t10k-images-idx3-ubyte.gz" "$SMOKE_DATA/t10k-images-idx3-ubyte.gz" 200
    slice "$fashion/t10k-labels-idx1-ubyte.gz" "$SMOKE_DATA/t10k-labels-idx1-ubyte.gz" 200
    export SMOKE_DATA
fi
# children_cpu FILE: user + sys seconds of the waited-for children of this
# shell (and theirs), from the builtin `times`, whose output goes to FILE
# first: `times` run in $(...) would report a fresh subshell's zeros.
children_cpu() {
    awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] } printf "%.2f", t }' "$1"
}
load1() { cut -d' ' -f1 /proc/loadavg; }
failed=0
for claim in "${claims[@]}"; do
    OUT=$RESULTS/$claim
    # A fresh folder: a result never mixes runs.
    rm -rf "$OUT.partial"
    mkdir -p "$OUT.partial"
    # The machine may be shared: the experiment's CPU seconds (everything it
    # ran) and the 1-minute load average at its start and end go beside the
    # wall time in meta.
    load_start=$(load1)
    times >"$RESULTS/.times"
    cpu_start=$(children_cpu "$RESULTS/.times")
    start=$(date +%s.%N)
    if (OUT=$OUT.partial; cd "$OUT"; source "$LAB/lib.sh"; source "$LAB/$claim/experiment.sh") \
        >"$OUT.partial/experiment.log" 2>&1 && [ -s "$OUT.partial/verdict" ]; then
        seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
        times >"$RESULTS/.times"
        cpu=$(awk -v a="$cpu_start" -v b="$(children_cpu "$RESULTS/.times")" 'BEGIN { printf "%.1f", b - a }')
        {
            echo "mode: $([ "$SMOKE" = 1 ] && echo smoke || echo full)"
            echo "wall_seconds: $seconds"
            echo "cpu_seconds: $cpu"
            echo "load_start: $load_start"
            echo "load_end: $(load1)"
            echo "threads: $THREADS"
            echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
            echo "nerve: $("$NERVE" --version)"
        } >"$OUT.partial/meta"
        # Weights are large and rebuilt by a rerun: the folder keeps the logs and cfgs.
        find "$OUT.partial" -name '*.safetensors' -delete
        rm -rf "$OUT"
        mv "$OUT.partial" "$OUT"
        echo "$claim: $(cat "$OUT/verdict") ($seconds s$([ "$SMOKE" = 1 ] && echo ", smoke: not a result"))"
    else
        echo "$claim: FAILED, see $OUT.partial/experiment.log:" >&2
        tail -5 "$OUT.partial/experiment.log" >&2
        failed=1
    fi
done
rm -f "$RESULTS/.times"
exit $failed
