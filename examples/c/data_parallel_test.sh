#!/usr/bin/env bash
# data_parallel on 3 ranks with ZeRO-1: while training each rank keeps a
# third of the optimizer state (the shards differ by at most a value per
# state slot), which the end of training gathers back whole.
# Usage: data_parallel_test.sh BINARY SOURCE_DIR
set -u
out=$(bash "$2/tests/dist/run_mpi.sh" 3 "$1" "$2/examples/c/tiny_fashion.cfg" --zero) ||
  { echo "FAIL: data_parallel --zero on 3 ranks"; exit 1; }
echo "$out"
/usr/bin/python3 - "$out" <<'PY'
import re, sys
text = sys.argv[1]
shards = [int(b) for b in re.findall(r"rank \d of 3: optimizer state (\d+) bytes", text)]
whole = [int(b) for b in re.findall(r"after training: optimizer state (\d+) bytes", text)]
ok = len(shards) == 3 and len(whole) == 1 and sum(shards) == whole[0]
ok = ok and max(shards) - min(shards) <= 3 * 4
print(f"optimizer state: {whole} bytes whole, {shards} per rank with ZeRO-1 on 3 ranks")
sys.exit(not ok)
PY
