#!/usr/bin/env bash
# dist_equivalence on 1, 2, 3 and 4 ranks (each run checks itself against
# one process, 1e-12), and twice on 2 ranks: bit-identical parameters; once
# more on 2 ranks without the buckets' progress helper: the same bits.
# Usage: dist_equivalence.sh BINARY
set -u
here=$(dirname "$0")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
for np in 1 2 3 4; do
  bash "$here/run_mpi.sh" "$np" "$1" "$work/np$np.bin" || failures=$((failures + 1))
done
bash "$here/run_mpi.sh" 2 "$1" "$work/again.bin" || failures=$((failures + 1))
cmp -s "$work/np2.bin" "$work/again.bin" || { echo "FAIL: two runs on 2 ranks differ"; failures=$((failures + 1)); }
# Without the buckets' progress helper: the same parameters, bit for bit.
NERVE_MPI_PROGRESS_THREAD=0 bash "$here/run_mpi.sh" 2 "$1" "$work/nohelper.bin" || failures=$((failures + 1))
cmp -s "$work/np2.bin" "$work/nohelper.bin" || { echo "FAIL: the runs without the progress helper differ"; failures=$((failures + 1)); }
[ -s "$work/np2.bin" ] || { echo "FAIL: no parameters written"; failures=$((failures + 1)); }
exit $((failures > 0))
