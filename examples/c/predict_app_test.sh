#!/usr/bin/env bash
# predict_app on the first 20 Fashion-MNIST test images with the weights
# custom_loop saved: every line in the documented format, a probability in
# (0, 1], and most classes right; a missing weights file fails with a message.
# Usage: bash predict_app_test.sh PREDICT_APP CFG WEIGHTS
app=$1 cfg=$2 weights=$3
data=/usr/share/datasets/fashion-mnist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$app" "$cfg" "$weights" "$data/t10k-images-idx3-ubyte.gz" 0 20 >"$work/out.txt" 2>"$work/err.txt" ||
    fail "predict_app exited $?: $(cat "$work/err.txt")"
[ "$(wc -l <"$work/out.txt")" -eq 20 ] || fail "expected 20 lines: $(cat "$work/out.txt")"
grep -vqE '^image [0-9]+: class [0-9] probability (0\.[0-9]{4}|1\.0000)$' "$work/out.txt" &&
    fail "lines not in the format: $(grep -vE '^image [0-9]+: class' "$work/out.txt")"

# The true labels: the IDX label file's bytes after its 8-byte header.
labels=$(gzip -dc "$data/t10k-labels-idx1-ubyte.gz" | tail -c +9 | head -c 20 | od -An -v -tu1)
read -r -a truth <<<"$labels"
correct=0
while read -r _ index _ class _ _; do
    index=${index%:}
    [ "$class" -eq "${truth[$index]}" ] && correct=$((correct + 1))
done <"$work/out.txt"
echo "$correct of 20 correct"
[ "$correct" -ge 15 ] || fail "only $correct of 20 images classified correctly"

"$app" "$cfg" "$work/missing.safetensors" "$data/t10k-images-idx3-ubyte.gz" >/dev/null 2>"$work/err.txt" &&
    fail "a missing weights file was accepted"
grep -q "missing.safetensors" "$work/err.txt" || fail "no file named in: $(cat "$work/err.txt")"

[ "$failures" -eq 0 ]
