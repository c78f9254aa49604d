# C28: cross-entropy against squared loss on one-hot targets for a classifier.
EPOCHS=$(budget 10 1)
seeds=$(budget "1 2 3" "1")
lrs=$(budget "0.01 0.1 0.5 2.0" "0.1 2.0")
every=$(budget 43 2)
scale "Fashion-MNIST 784-256-10, SGD momentum 0.9, batch 128, $EPOCHS epochs, lr from $lrs, seeds $seeds (Golik et al. 2013: speech frames; no figure used)"
opt="type = sgd;momentum = 0.9"
mlp_cfg ce.cfg "$opt" "256:relu" "10:none"
mlp_cfg softmax_mse.cfg "$opt" "256:relu" "10:softmax"
mlp_cfg sigmoid_mse.cfg "$opt" "256:relu" "10:sigmoid"
for f in softmax_mse.cfg sigmoid_mse.cfg; do
    sed -i 's/^type = softmax_cross_entropy$/type = mse\none_hot = 1/' "$f"
done
losses="ce softmax_mse sigmoid_mse"
# to_target NAME: the first step whose validation accuracy is >= 0.85 (eval
# rows), or the run's last step.
to_target() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "val_accuracy") a = i; if ($i == "step") s = i } next }
             ($1 == "eval" || $1 == "epoch") && $a != "" && $a >= 0.85 && !hit { hit = $s }
             { last = $s } END { print hit ? hit : last }' "$OUT/runs/$1.csv"
}
echo "| loss | lr (chosen) | seed-1 val. accuracy per lr ($lrs) | steps to 85 % val. (seeds $seeds) | mean | test accuracy | mean |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|" >>"$OUT/table.md"
declare -A steps acc lr_of
first=${seeds%% *}
for l in $losses; do
    best=-1; sweep=""
    for lr in $lrs; do
        train "$l-lr$lr-s$first" "$l.cfg" --lr "$lr" --seed "$first" --on-nan skip --eval-every "$every"
        v=$(last "$l-lr$lr-s$first" val_accuracy); v=${v:-0}
        sweep="$sweep/$v"
        true_if "$v > $best" && { best=$v; lr_of[$l]=$lr; }
    done
    ss="" as=""
    for s in $seeds; do
        name="$l-lr${lr_of[$l]}-s$s"
        [ "$s" = "$first" ] || train "$name" "$l.cfg" --lr "${lr_of[$l]}" --seed "$s" --on-nan skip --eval-every "$every"
        ss="$ss $(to_target "$name")"; a=$(test_accuracy "$name"); as="$as ${a:-0.1}"
    done
    steps[$l]=$(mean $ss); acc[$l]=$(mean $as)
    table_row "$l" "${lr_of[$l]}" "${sweep#/}" "$(echo $ss | tr ' ' '/')" "${steps[$l]}" "$(echo $as | tr ' ' '/')" "${acc[$l]}"
done
table_row "Golik et al. 2013 (recalled)" "" "" "cross-entropy converges faster" "" "and lower" ""
plot "$OUT/runs/ce-lr${lr_of[ce]}-s$first.csv" "$OUT/runs/softmax_mse-lr${lr_of[softmax_mse]}-s$first.csv" \
    "$OUT/runs/sigmoid_mse-lr${lr_of[sigmoid_mse]}-s$first.csv" \
    --labels "cross-entropy lr ${lr_of[ce]},softmax + MSE lr ${lr_of[softmax_mse]},sigmoid + MSE lr ${lr_of[sigmoid_mse]}" \
    --rows eval --x step --y val_accuracy --hline 0.85 --ylabel "validation accuracy" \
    --title "C28: cross-entropy against squared loss on one-hot targets (seed $first)" --out "$OUT/accuracy_vs_step.png"
reason="mean steps to 85 %: ce ${steps[ce]}, softmax+mse ${steps[softmax_mse]}, sigmoid+mse ${steps[sigmoid_mse]}; mean test accuracy: ce ${acc[ce]}, softmax+mse ${acc[softmax_mse]}, sigmoid+mse ${acc[sigmoid_mse]}"
ok=1; contra=0
for l in softmax_mse sigmoid_mse; do
    true_if "${steps[ce]} < ${steps[$l]} && ${acc[ce]} >= ${acc[$l]}" || ok=0
    true_if "${steps[$l]} < ${steps[ce]} && ${acc[$l]} >= ${acc[ce]} + 0.005" && contra=1
done
if [ $contra = 1 ]; then verdict contradicted "$reason"
elif [ $ok = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
