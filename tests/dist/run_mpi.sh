#!/usr/bin/env bash
# run_mpi.sh NP COMMAND...: COMMAND on NP ranks of one machine. More ranks
# than cores need --oversubscribe; Open MPI refuses root without
# --allow-run-as-root. Open MPI's own allocations that live to exit are not
# ours to report: LeakSanitizer is off in the ranks.
set -euo pipefail
np=$1
shift
flags=(--oversubscribe --bind-to none)
[[ $(id -u) -eq 0 ]] && flags+=(--allow-run-as-root)
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
exec mpirun -np "$np" "${flags[@]}" "$@"
