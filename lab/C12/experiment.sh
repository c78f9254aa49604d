# C12: dropout p ∈ {0, 0.2, 0.5} on small training subsets: test accuracy and
# the train-test gap (both in eval mode).
sizes=$(budget "500 5000" "100 300")
seeds=$(budget "1 2" "1")
ps="0 0.2 0.5"
epochs_for() { if [ "$SMOKE" = 1 ]; then echo 2; elif [ "$1" -le 1000 ]; then echo 100; else echo 50; fi; }
VALIDATION=$(budget 2000 100)
scale "Fashion-MNIST first N ∈ {$sizes} training samples, 784-1024-1024-10 ReLU, dropout after each hidden layer, SGD 0.01 momentum 0.9, seeds $seeds; Srivastava Fig. 10 used MNIST and 784-1024-1024-2048-10, max-norm and input dropout"
# eval_accuracy NAME N: nerve eval of the run's weights on the first N training samples.
eval_accuracy() {
    "$NERVE" eval "$1.cfg" --weights "$1.safetensors" --threads "$THREADS" \
        --data "$FASHION/train-images-idx3-ubyte.gz" --labels "$FASHION/train-labels-idx1-ubyte.gz" \
        --set "data.test_limit=$2" >"$OUT/runs/$1-train-eval.out" 2>&1 || { echo "lab: nerve eval $1 failed" >&2; exit 1; }
    awk '/^loss .* accuracy/ { print $4; exit }' "$OUT/runs/$1-train-eval.out"
}
echo "| N | dropout p | test accuracy (mean ± spread) | train (eval mode) − test | epochs | paper (Fig. 10, MNIST) |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|" >>"$OUT/table.md"
for n in $sizes; do
    EPOCHS=$(epochs_for "$n")
    for p in $ps; do
        tests=""; gaps=""
        for s in $seeds; do
            name=n$n-p$p-s$s
            mlp_cfg "$name.cfg" "type = sgd;lr = 0.01;momentum = 0.9" "1024:relu" "1024:relu" "10:none"
            if [ "$p" != 0 ]; then # a [dropout] after each hidden layer
                awk -v p="$p" '/^\[dense\]/ { if (seen++) print "[dropout]\np = " p "\n" } { print }' "$name.cfg" >tmp.cfg
                mv tmp.cfg "$name.cfg"
            fi
            train "$name" "$name.cfg" --seed "$s" --set "data.train_limit=$n" --save "$name.safetensors"
            t=$(test_accuracy "$name"); tr=$(eval_accuracy "$name" "$n")
            tests="$tests $t"; gaps="$gaps $(calc "$tr - $t")"
        done
        m=$(mean $tests); sp=$(spread $tests); g=$(mean $gaps)
        k=$(echo "n${n}_p$p" | tr . _)
        eval "acc_$k=$m; spread_$k=$sp; gap_$k=$g"
        paper=""; [ "$p" = 0.5 ] && paper=$([ "$n" -le 500 ] && echo "no gain (100–500 samples)" || echo "helps (1K–50K)")
        table_row "$n" "$p" "$m ± $sp" "$g" "$EPOCHS" "$paper"
    done
    plot "$OUT/runs/n$n-p0-s1.csv" "$OUT/runs/n$n-p0.5-s1.csv" --labels "p = 0,p = 0.5" --y train_loss,val_loss --log-y \
        --ylabel "loss (solid: training, dashed: held-out)" --title "C12: N = $n, training against held-out loss (seed 1)" --out "$OUT/loss_n$n.png"
done
small=$(echo $sizes | awk '{ print $1 }'); large=$(echo $sizes | awk '{ print $NF }')
v() { eval echo "\$$1_$(echo "n$2_p$3" | tr . _)"; }
gain_l=$(calc "$(v acc "$large" 0.5) - $(v acc "$large" 0)")
sp_l=$(calc "($(v spread "$large" 0.5) > $(v spread "$large" 0) ? $(v spread "$large" 0.5) : $(v spread "$large" 0))")
gain_s=$(calc "$(v acc "$small" 0.5) - $(v acc "$small" 0)")
sp_s=$(calc "($(v spread "$small" 0.5) > $(v spread "$small" 0) ? $(v spread "$small" 0.5) : $(v spread "$small" 0))")
reason="N = $large: p 0.5 − p 0 = $gain_l test accuracy (seed spread $sp_l), gap $(v gap "$large" 0.5) against $(v gap "$large" 0); N = $small: $gain_s (spread $sp_s)"
if true_if "-($gain_l) > $sp_l"; then verdict contradicted "$reason"
elif true_if "$gain_l > $sp_l && $(v gap "$large" 0.5) < $(v gap "$large" 0) && (($gain_s <= $sp_s && -($gain_s) <= $sp_s) || $gain_s < 0.5 * $gain_l)"; then
    verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
