# C63: the expected calibration error of fashion_mlp, with a reliability diagram.
EPOCHS=$(budget 20 1)
seeds=$(budget "1 2 3" "1")
scale "Fashion-MNIST fashion_mlp, $EPOCHS epochs, seeds $seeds, and seed 1 with label smoothing 0.1 (Guo et al.: ImageNet and CIFAR ResNets)"
mlp_cfg mlp.cfg "type = sgd;lr = 0.05;momentum = 0.9" "256:relu:he_uniform" "128:relu:he_uniform" "10:none"
printf '\n[schedule]\ntype = step\nstep_size = 10\ngamma = 0.1\n' >>mlp.cfg
sed 's/^type = softmax_cross_entropy$/type = softmax_cross_entropy\nlabel_smoothing = 0.1/' mlp.cfg >smooth.cfg
# json_field FILE KEY: a top-level number of nerve eval --json.
json_field() { tr ',{}' '\n\n\n' <"$1" | awk -F': ' -v key="\"$2\"" '$1 ~ key"$" { print $2; exit }'; }
# reliability FILE: the non-empty bins as CSV rows confidence,accuracy,count;
# mean_confidence FILE: the labels' mean confidence.
reliability() {
    sed 's/.*"calibration": \[//; s/\].*//' "$1" | tr '}' '\n' |
        awk -F'[:,]' '/count/ { for (i = 1; i < NF; i++) { gsub(/[ "{]/, "", $i); v[$i] = $(i + 1) }
                                if (v["count"] + 0 > 0) printf "%s,%s,%s\n", v["confidence"] + 0, v["accuracy"] + 0, v["count"] + 0 }'
}
mean_confidence() { reliability "$1" | awk -F, '{ s += $1 * $3; n += $3 } END { printf "%.4f\n", s / n }'; }
echo "| run | test accuracy | ECE (15 bins) | mean confidence |" >"$OUT/table.md"
echo "|---|---|---|---|" >>"$OUT/table.md"
eces=""; accuracies=""; confidences=""
for run in $(for s in $seeds; do echo "s$s"; done) smooth; do
    cfg=mlp.cfg; seed=${run#s}
    [ "$run" = smooth ] && { cfg=smooth.cfg; seed=1; }
    train "$run" "$cfg" --seed "$seed" --save "$PWD/$run.safetensors"
    "$NERVE" eval "$cfg" --weights "$PWD/$run.safetensors" --json --threads "$THREADS" >"$OUT/runs/eval-$run.json" ||
        { echo "lab: nerve eval failed" >&2; exit 1; }
    e=$(json_field "$OUT/runs/eval-$run.json" ece); a=$(json_field "$OUT/runs/eval-$run.json" accuracy)
    c=$(mean_confidence "$OUT/runs/eval-$run.json")
    { echo "confidence,accuracy,count"; reliability "$OUT/runs/eval-$run.json"; } >"reliability-$run.csv"
    table_row "$run$([ "$run" = smooth ] && echo ' (label smoothing 0.1, seed 1)')" "$a" "$e" "$c"
    if [ "$run" != smooth ]; then eces="$eces $e"; accuracies="$accuracies $a"; confidences="$confidences $c"; fi
done
table_row "catalogue threshold" "" "< 0.02" ""
plot reliability-s1.csv reliability-smooth.csv --x confidence --y accuracy,confidence \
    --labels "plain (seed 1),label smoothing 0.1" --xlabel "confidence (bin mean)" --ylabel "accuracy (bin)" \
    --title "C63: reliability diagram (the diagonal: calibrated)" --out "$OUT/reliability.png"
ece=$(mean $eces); accuracy=$(mean $accuracies); confidence=$(mean $confidences)
reason="mean ECE $ece (seeds $seeds: $eces); mean confidence $confidence against accuracy $accuracy"
if true_if "$ece < 0.02"; then verdict confirmed "$reason"
elif true_if "$confidence > $accuracy"; then verdict contradicted "$reason (overconfident)"
else verdict "not confirmed at this scale" "$reason (underconfident)"; fi
