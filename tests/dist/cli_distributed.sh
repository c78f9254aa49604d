#!/usr/bin/env bash
# nerve train under mpirun, end to end (float32): the per-step losses of 10
# steps on 1-4 ranks equal one process's within 1e-5 (an uneven last batch,
# batch norm), and on 2 and 3 ranks for a CNN with batch norm, dropout and
# augmentation; the gradient all-reduce in buckets saves the same weights
# as without (the same ranks twice giving the same bytes is
# dist_equivalence's); an evaluation failing on one rank ends every rank
# non-zero with one message, and so does a failure of one rank's own
# inside a training step (its pass, rank 0's metrics log or best weights),
# and SIGTERM to one rank stops every rank (exit 143); so does memory
# running out on one rank (its plan, batch norm's sums, ZeRO-1's allocations
# and all-reduce); a network whose gradients take the shared-memory window
# trains as one process does through it and through Open MPI's messages
# (ZeRO-1 saving ZeRO-0's bytes); a
# checkpoint written on 2 ranks resumes on 1 and 3 on the same trajectory;
# nerve eval on 3 ranks reports what one process does; ZeRO-1 trains the
# same, and its checkpoint resumes at other sizes; a cfg error on one
# rank is one message and a non-zero exit; a NaN met by one rank stops every
# rank (exit 4) or is skipped everywhere (the warnings printed once); a killed rank ends mpirun non-zero
# within 30 s and the checkpoint resumes; nerve comm-bench prints its table.
# Every rank runs one thread (--threads 1): run_mpi.sh does not bind ranks
# to cores, so each would otherwise take every CPU.
# Usage: bash cli_distributed.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"
mpi=("bash" "$2/tests/dist/run_mpi.sh")

"$python" - <<'PY'
import random
random.seed(11)
def rows(n, features, nan_at=None):
    out = []
    for i in range(n):
        x = [random.uniform(-1, 1) for _ in range(features)]
        text = ",".join(f"{v:.4f}" for v in x)
        if i == nan_at:  # finite in the file, infinite in the first layer
            text = ",".join(["3e38"] * features)
        out.append(text + f",{int(sum(x[::2]) > sum(x[1::2]))}\n")
    return out
open("train.csv", "w").writelines(rows(403, 4))
open("test.csv", "w").writelines(rows(101, 4))
open("nan.csv", "w").writelines(rows(403, 4, nan_at=200))
open("images.csv", "w").writelines(rows(203, 16))
PY

# same_losses A.csv B.csv FIRST: steps FIRST..FIRST+9 of B's metrics log
# have A's train_loss within 1e-5.
same_losses() {
  "$python" - "$@" <<'PY'
import csv, sys
def losses(path):
    return {int(r["step"]): float(r["train_loss"]) for r in csv.DictReader(open(path))
            if r["kind"] == "step"}
a, b, first = losses(sys.argv[1]), losses(sys.argv[2]), int(sys.argv[3])
steps = [s for s in range(first, first + 10) if s in a and s in b]
worst = max((abs(a[s] - b[s]) for s in steps), default=float("inf"))
print(f"{sys.argv[2]}: steps {first}-{first + 9}, largest loss difference {worst:.2g}")
sys.exit(not (len(steps) == 10 and worst <= 1e-5))
PY
}

write_cfg() { # write_cfg FILE TRAIN_CSV [EXTRA LINE]
cat >"$1" <<CFG
[net]
input = 4
batch = 16
epochs = 2
seed = 1

[data]
format = csv
train = $work/$2
test = $work/test.csv
label_column = last
header = 0

[optimizer]
lr = 0.05
momentum = 0.9
${3:-}

[dense]
name = hidden
units = 16

[batchnorm]

[activation]
type = relu

[dense]
units = 2
CFG
}
write_cfg net.cfg train.csv
write_cfg nan.cfg nan.csv
write_cfg bad.cfg train.csv "colour = blue"

# Per-step losses: one process, then 1-4 ranks.
run 0 train net.cfg --steps 10 --threads 1 --log one.csv --log-every 1
for np in 1 2 3 4; do
  "${mpi[@]}" $np "$nerve" train --threads 1 net.cfg --steps 10 --log np$np.csv --log-every 1 \
    --save np$np.safetensors >out.txt 2>err.txt || fail "train on $np ranks: $(cat err.txt)"
  same_losses one.csv np$np.csv 1 || fail "losses on $np ranks differ from one process"
done

# The gradient all-reduce in buckets during backward (--bucket-mb; here
# about one tensor each): the same weights, byte for byte, as one
# all-reduce after backward (--zero 0: on several ranks the default is
# ZeRO-1's reduce-scatter, whose order of additions on 3 ranks is Open
# MPI's own); the log's communication columns filled, the exposed part no
# more than the whole.
"${mpi[@]}" 3 "$nerve" train --threads 1 net.cfg --steps 10 --zero 0 --save a3.safetensors \
  >out.txt 2>err.txt || fail "all-reduce on 3 ranks: $(cat err.txt)"
"${mpi[@]}" 3 "$nerve" train --threads 1 net.cfg --steps 10 --bucket-mb 0.0002 --log b3.csv --log-every 1 \
  --save b3.safetensors >out.txt 2>err.txt || fail "bucketed all-reduce on 3 ranks: $(cat err.txt)"
cmp -s a3.safetensors b3.safetensors || fail "the bucketed all-reduce trained other weights"
# Only rank 0 prints (and saves: the weights above are rank 0's file).
[ "$(grep -c '^epoch 1/2' out.txt)" -eq 1 ] || fail "not one epoch line: $(cat out.txt)"
"$python" - b3.csv one.csv <<'PY' || fail "communication columns: $(head -3 b3.csv)"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ok = all(r["comm_seconds"] and 0 <= float(r["exposed_comm_seconds"]) <= float(r["comm_seconds"])
         for r in rows)
alone = list(csv.DictReader(open(sys.argv[2])))  # one process: the columns are empty
sys.exit(not (ok and len(rows) == 11 and all(r["comm_seconds"] == "" for r in alone)))
PY
"${mpi[@]}" 2 "$nerve" train --threads 1 net.cfg --steps 1 --bucket-mb 1 --zero 1 >out.txt 2>err.txt &&
  fail "--bucket-mb with --zero 1 accepted"
contains err.txt "ZeRO-1 reduce-scatters instead"

# A CNN with batch norm, dropout and augmentation (flips, crops): their
# noise is keyed by the global sample index, so the ranks' slices draw what
# one process draws.
cat >cnn.cfg <<CFG
[net]
input = 1x4x4
batch = 16
seed = 3

[data]
format = csv
train = $work/images.csv
label_column = last
header = 0

[augment]
flip = 0.5
crop_padding = 1

[optimizer]
lr = 0.05
momentum = 0.9

[conv2d]
filters = 4
kernel = 3
padding = same

[batchnorm]
activation = relu

[dropout2d]
p = 0.25

[dense]
units = 8
activation = relu

[dropout]
p = 0.25

[dense]
units = 2
CFG
run 0 train cnn.cfg --steps 10 --threads 1 --log cnn_one.csv --log-every 1
for np in 2 3; do
  "${mpi[@]}" $np "$nerve" train --threads 1 cnn.cfg --steps 10 --log cnn$np.csv --log-every 1 >/dev/null \
    2>err.txt || fail "CNN on $np ranks: $(cat err.txt)"
  same_losses cnn_one.csv cnn$np.csv 1 || fail "CNN losses on $np ranks differ from one process"
done

# Ranks on one host sum gradients of 256 KB or more through a shared-memory
# window (src/dist/comm_shared.c); NERVE_MPI_SHARED_MEMORY=0 takes Open
# MPI's messages, as ranks on several hosts do. wide.cfg's gradients
# (106,000, 420 KB; Adam) take the window: losses within 1e-5 of one
# process on 2 ranks both ways and on 3 through the window (the messages on 3
# ranks are dist_collectives_np3_messages'); ZeRO-1 saves ZeRO-0's weights byte for
# byte (the window sums in rank order for both); and on 2 ranks the window
# and the messages save the same bytes (a + b is b + a).
cat >wide.cfg <<CFG
[net]
input = 4
batch = 16
seed = 1

[data]
format = csv
train = $work/train.csv
label_column = last
header = 0

[optimizer]
type = adam
lr = 0.001

[dense]
units = 320

[batchnorm]
activation = relu

[dense]
units = 320
activation = relu

[dense]
units = 2
CFG
run 0 train wide.cfg --steps 10 --threads 1 --log wide_one.csv --log-every 1
for run in "2 1" "2 0" "3 1"; do # ranks, window
  set -- $run
  for zero in 0 1; do
    NERVE_MPI_SHARED_MEMORY=$2 "${mpi[@]}" $1 "$nerve" train --threads 1 wide.cfg --steps 10 \
      --zero $zero --log w.csv --log-every 1 --save w$1$2$zero.safetensors >/dev/null 2>err.txt ||
      fail "wide.cfg on $1 ranks: $(cat err.txt)"
    same_losses wide_one.csv w.csv 1 || fail "wide.cfg: window $2 zero $zero on $1 ranks"
  done
done
for np in 2 3; do
  cmp -s w${np}10.safetensors w${np}11.safetensors ||
    fail "ZeRO-1 trained other weights than ZeRO-0 on $np ranks (shared memory)"
done
cmp -s w210.safetensors w200.safetensors || fail "the window and the messages differ on 2 ranks"
cmp -s w200.safetensors w201.safetensors || fail "ZeRO-1 differs from ZeRO-0 on 2 ranks (messages)"

# Sharded evaluation: the counts of one process.
run 0 eval net.cfg --weights np3.safetensors --json
mv out.txt eval_one.txt
"${mpi[@]}" 3 "$nerve" eval --threads 1 net.cfg --weights np3.safetensors --json >eval3.txt 2>err.txt ||
  fail "eval on 3 ranks: $(cat err.txt)"
"$python" - eval_one.txt eval3.txt <<'PY' || fail "eval on 3 ranks differs: $(cat eval3.txt)"
import json, sys
a, b = (json.loads(open(p).read()) for p in sys.argv[1:])
sys.exit(not (a["accuracy"] == b["accuracy"] and abs(a["loss"] - b["loss"]) < 1e-6 and
              a.get("confusion") == b.get("confusion")))
PY

# An evaluation that fails on one rank only (the test hook
# NERVE_TEST_FAIL_EVALUATION: its forward pass fails) while the others go
# on to the reduce: one message, from that rank; every rank exits non-zero.
NERVE_TEST_FAIL_EVALUATION=1 timeout 60 "${mpi[@]}" 2 "$nerve" eval --threads 1 net.cfg \
  --weights np3.safetensors >out.txt 2>err.txt
code=$?
[ $code -ne 0 ] && [ $code -ne 124 ] || fail "an evaluation failing on one rank: exit $code"
[ "$(grep -c '^nerve: ' err.txt)" -eq 1 ] || fail "not one message: $(cat err.txt)"
contains err.txt "nerve: rank 1: evaluation failed on purpose"
# The same in training's validation at an epoch's end: the run fails.
NERVE_TEST_FAIL_EVALUATION=1 timeout 60 "${mpi[@]}" 2 "$nerve" train --threads 1 net.cfg \
  --set data.validation=50 >out.txt 2>err.txt
code=$?
[ $code -ne 0 ] && [ $code -ne 124 ] || fail "a validation failing on one rank: exit $code"
[ "$(grep -c '^nerve: ' err.txt)" -eq 1 ] || fail "not one message: $(cat err.txt)"
contains err.txt "nerve: rank 1: evaluation failed on purpose"

# one_message TEXT: the run ended non-zero (and not by the timeout) with one
# message, TEXT.
one_message() {
  [ $code -ne 0 ] && [ $code -ne 124 ] || fail "$1: exit $code"
  [ "$(grep -c '^nerve: ' err.txt)" -eq 1 ] || fail "not one message: $(cat err.txt)"
  contains err.txt "$1"
}

# A step that fails on one rank after its forward pass (the test hook
# NERVE_TEST_FAIL_STEP=R:S, as a failing loss would: batch norm's forward
# collectives made, its backward ones not), while the others go on into
# the step's collectives: batch norm's, the gradient buckets, ZeRO's
# reduce-scatter. Every rank ends at that step; none waits.
for flags in "3 --bucket-mb 0.0002" "2 --zero 1"; do
  set -- $flags
  np=$1
  shift
  NERVE_TEST_FAIL_STEP=1:3 timeout 60 "${mpi[@]}" "$np" "$nerve" train --threads 1 net.cfg \
    --steps 10 "$@" >out.txt 2>err.txt
  code=$?
  one_message "nerve: rank 1: the training step failed on purpose (NERVE_TEST_FAIL_STEP=1:3)"
done
# Memory that runs out on one rank only (the test hook
# NERVE_TEST_FAIL_ALLOC=R:SITE): the memory plan before the run's first
# agreement, batch norm's sums (nerve_graph_set_comm: without them rank 1
# would normalise its slice alone and train another model), ZeRO-1's
# shards, its state gathered for a checkpoint, and its gradient-norm
# all-reduce failing inside MPI (the others then wait in it until mpirun
# ends them). One message; every rank exits non-zero.
for site in plan sync shard unshard allreduce; do
  NERVE_TEST_FAIL_ALLOC=1:$site timeout 60 "${mpi[@]}" 2 "$nerve" train --threads 1 net.cfg \
    --steps 4 --zero 1 --checkpoint oom.ckpt --every 2 >out.txt 2>err.txt
  code=$?
  one_message "nerve: rank 1: out of memory at $site on purpose (NERVE_TEST_FAIL_ALLOC=1:$site)"
done
# Rank 0 alone writes the metrics log: a directory that is not there, and a
# full device (the writes fail mid-run), end every rank.
timeout 60 "${mpi[@]}" 2 "$nerve" train --threads 1 net.cfg --log missing/log.csv >out.txt 2>err.txt
code=$?
one_message "nerve: rank 0: missing/log.csv: cannot write the metrics log"
timeout 60 "${mpi[@]}" 2 "$nerve" train --threads 1 net.cfg --log /dev/full --log-every 1 \
  >out.txt 2>err.txt
code=$?
one_message "nerve: rank 0: /dev/full: writing the metrics log failed"
# ... and the best epoch's weights: a directory where the file should be.
mkdir best.safetensors
timeout 60 "${mpi[@]}" 2 "$nerve" train --threads 1 net.cfg --set data.validation=50 \
  --save-best best.safetensors >out.txt 2>err.txt
code=$?
one_message "nerve: rank 0: best.safetensors: cannot replace"

# A checkpoint written on 2 ranks resumes on 1 (no MPI) and on 3.
"${mpi[@]}" 2 "$nerve" train --threads 1 net.cfg --steps 20 --log full.csv --log-every 1 >/dev/null 2>err.txt ||
  fail "20 steps on 2 ranks: $(cat err.txt)"
"${mpi[@]}" 2 "$nerve" train --threads 1 net.cfg --steps 10 --checkpoint c.ckpt >/dev/null 2>err.txt ||
  fail "10 steps on 2 ranks: $(cat err.txt)"
cp c.ckpt c2.ckpt
run 0 train net.cfg --steps 20 --resume c.ckpt --threads 1 --log r1.csv --log-every 1
"${mpi[@]}" 3 "$nerve" train --threads 1 net.cfg --steps 20 --resume c2.ckpt --log r3.csv --log-every 1 \
  >/dev/null 2>err.txt || fail "resume on 3 ranks: $(cat err.txt)"
for resumed in r1.csv r3.csv; do
  same_losses full.csv $resumed 11 || fail "$resumed left the trajectory of full.csv"
done

# ZeRO-1 equals ZeRO-0; its checkpoint from 2 ranks resumes on 1 and on 3 (sharded).
"${mpi[@]}" 2 "$nerve" train --threads 1 net.cfg --steps 10 --zero 1 --checkpoint z.ckpt --log z.csv \
  --log-every 1 >/dev/null 2>err.txt || fail "ZeRO-1 on 2 ranks: $(cat err.txt)"
cp z.ckpt z3.ckpt
run 0 train net.cfg --steps 20 --resume z.ckpt --threads 1 --log z1r.csv --log-every 1
"${mpi[@]}" 3 "$nerve" train --threads 1 net.cfg --steps 20 --zero 1 --resume z3.ckpt --log z3r.csv \
  --log-every 1 >/dev/null 2>err.txt || fail "ZeRO-1 resumed on 3 ranks: $(cat err.txt)"
for pair in "full.csv z.csv 1" "full.csv z1r.csv 11" "full.csv z3r.csv 11"; do
  set -- $pair
  same_losses "$1" "$2" "$3" || fail "ZeRO-1: $2 left the trajectory of $1"
done

# A cfg error on rank 1 only: one message, from rank 1; non-zero exit.
timeout 60 "${mpi[@]}" 1 "$nerve" train --threads 1 net.cfg : -np 1 "$nerve" train --threads 1 bad.cfg >out.txt 2>err.txt
code=$?
[ $code -ne 0 ] && [ $code -ne 124 ] || fail "a cfg error on one rank: exit $code"
[ "$(grep -c '^nerve: ' err.txt)" -eq 1 ] || fail "not one message: $(cat err.txt)"
contains err.txt "nerve: rank 1: "
contains err.txt "colour"

# An overflow in one sample (the loader refuses NaN itself): every rank stops at the same step (exit 4), one
# message; with --on-nan skip every rank skips and finishes.
timeout 60 "${mpi[@]}" 3 "$nerve" train --threads 1 nan.cfg >out.txt 2>err.txt
code=$?
[ $code -eq 4 ] || fail "a NaN on one rank: exit $code, expected 4: $(cat err.txt)"
[ "$(grep -c '^nerve: ' err.txt)" -eq 1 ] || fail "not one message: $(cat err.txt)"
# Skipped: the warnings one process prints, printed once (by rank 0); without
# batch norm, which spreads it, the NaN is in one rank's slice alone, and
# rank 0 names that rank.
grep -v '^\[batchnorm\]' nan.cfg >nan_plain.cfg
run 0 train nan_plain.cfg --threads 1 --epochs 1 --on-nan skip
skips=$(grep -c '^nerve: warning: .*skipped' err.txt)
timeout 60 "${mpi[@]}" 3 "$nerve" train --threads 1 nan_plain.cfg --epochs 1 --on-nan skip >out.txt \
  2>err.txt || fail "a NaN skipped on 3 ranks: $(cat err.txt)"
[ "$skips" -gt 0 ] && [ "$(grep -c '^nerve: warning: .*skipped' err.txt)" -eq "$skips" ] ||
  fail "not the $skips skip warnings of one process: $(cat err.txt)"
contains err.txt "the loss is not finite on rank 2's slice of the batch"

# A rank killed mid-run: mpirun ends non-zero within 30 s; the run resumes.
sed -i 's/^epochs = 2/epochs = 100000/' net.cfg
"${mpi[@]}" 2 "$nerve" train --threads 1 net.cfg --checkpoint k.ckpt --every 20 >/dev/null 2>kill_err.txt &
launcher=$!
for _ in $(seq 200); do [ -s k.ckpt ] && break; sleep 0.1; done
[ -s k.ckpt ] || fail "no checkpoint before the kill"
rank=$(pgrep -P "$launcher" -n nerve || pgrep -P "$(pgrep -P "$launcher" -n)" -n nerve)
start=$(date +%s)
kill -9 "$rank"
wait "$launcher"
code=$?
elapsed=$(($(date +%s) - start))
[ $code -ne 0 ] || fail "mpirun exited 0 after a rank was killed"
[ $elapsed -le 30 ] || fail "mpirun took $elapsed s to end after a rank was killed"
# SIGTERM to one rank: every rank stops after the same step, writes the
# checkpoint and exits 143; rank 0 says so, once.
"${mpi[@]}" 2 "$nerve" train --threads 1 net.cfg --checkpoint t.ckpt --every 20 >/dev/null 2>err.txt &
launcher=$!
for _ in $(seq 200); do [ -s t.ckpt ] && break; sleep 0.1; done
rank=$(pgrep -P "$launcher" -n nerve || pgrep -P "$(pgrep -P "$launcher" -n)" -n nerve)
kill -TERM "$rank"
(sleep 30 && kill -9 "$launcher" 2>/dev/null) &
watchdog=$!
wait "$launcher"
code=$?
kill "$watchdog" 2>/dev/null
[ $code -eq 143 ] || fail "SIGTERM to one rank: exit $code, expected 143: $(cat err.txt)"
[ "$(grep -c '^nerve: ' err.txt)" -eq 1 ] || fail "not one message: $(cat err.txt)"
contains err.txt "nerve: rank 0: stopped at epoch"
sed -i 's/^epochs = 100000/epochs = 2/' net.cfg
# One step more than the checkpoint holds (a resume with nothing to train is an error).
done_steps=$("$python" -c "
import json, struct
f = open('k.ckpt', 'rb'); size = struct.unpack('<Q', f.read(8))[0]
print(json.loads(f.read(size))['__metadata__']['nerve.checkpoint.global_step'])")
"${mpi[@]}" 2 "$nerve" train --threads 1 net.cfg --resume k.ckpt --epochs 100000 --steps $((done_steps + 1)) \
  >out.txt 2>err.txt; code=$?
[ $code -eq 0 ] || fail "resume after the kill: exit $code: $(cat err.txt)"
# comm-bench: a row per size, busbw = algbw on 2 ranks (2 (N - 1) / N = 1).
"${mpi[@]}" 2 "$nerve" comm-bench --max-bytes 16384 --iterations 3 >out.txt 2>err.txt ||
  fail "comm-bench on 2 ranks: $(cat err.txt)"
contains out.txt "all-reduce of float32 on 2 ranks"
[ "$(grep -cE '^ +(4096|8192|16384) ' out.txt)" -eq 3 ] || fail "comm-bench rows: $(cat out.txt)"
"$python" - out.txt <<'PY' || fail "busbw is not algbw on 2 ranks: $(cat out.txt)"
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.split() and l.split()[0].isdigit()]
sys.exit(not all(r[2] == r[3] for r in rows))
PY
exit $((failures > 0))
