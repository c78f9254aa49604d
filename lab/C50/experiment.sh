# C50: a softmax output against 10 independent sigmoids (one-hot BCE).
EPOCHS=$(budget 10 1)
seeds=$(budget "1 2 3" "1")
lrs=$(budget "0.01 0.1 0.5" "0.1 0.5")
scale "Fashion-MNIST 784-256-10, SGD momentum 0.9, batch 128, $EPOCHS epochs, lr from $lrs, seeds $seeds (no source figure; the binary task not run)"
mlp_cfg softmax.cfg "type = sgd;momentum = 0.9" "256:relu" "10:none"
sed 's/^type = softmax_cross_entropy$/type = bce_with_logits\none_hot = 1/' softmax.cfg >sigmoid.cfg
{
    echo "| output | lr (chosen) | seed-1 val. accuracy per lr ($lrs) | test accuracy (seeds $seeds) | mean | spread |"
    echo "|---|---|---|---|---|---|"
} >"$OUT/table.md"
declare -A M S lr_of
first=${seeds%% *}
for o in softmax sigmoid; do
    best=-1 sweep=""
    for lr in $lrs; do
        train "$o-lr$lr-s$first" "$o.cfg" --lr "$lr" --seed "$first" --on-nan skip
        v=$(last "$o-lr$lr-s$first" val_accuracy); [ -n "$(test_accuracy "$o-lr$lr-s$first")" ] || v=0
        sweep="$sweep/${v:-0}"
        true_if "${v:-0} > $best" && { best=${v:-0}; lr_of[$o]=$lr; }
    done
    accs=""
    for s in $seeds; do
        name="$o-lr${lr_of[$o]}-s$s"
        [ "$s" = "$first" ] || train "$name" "$o.cfg" --lr "${lr_of[$o]}" --seed "$s" --on-nan skip
        a=$(test_accuracy "$name"); accs="$accs ${a:-0.1}"
    done
    M[$o]=$(mean $accs); S[$o]=$(spread $accs)
    table_row "$([ $o = softmax ] && echo "softmax + cross-entropy" || echo "10 sigmoids + BCE (one-hot)")" "${lr_of[$o]}" "${sweep#/}" \
        "$(echo $accs | tr ' ' '/')" "${M[$o]}" "${S[$o]}"
done
plot "$OUT/runs/softmax-lr${lr_of[softmax]}-s$first.csv" "$OUT/runs/sigmoid-lr${lr_of[sigmoid]}-s$first.csv" \
    --labels "softmax lr ${lr_of[softmax]},10 sigmoids lr ${lr_of[sigmoid]}" --y val_accuracy --ylabel "validation accuracy" \
    --title "C50: softmax against independent sigmoids at the output (seed $first)" --out "$OUT/accuracy.png"
gap=$(awk -v a="${S[softmax]}" -v b="${S[sigmoid]}" 'BEGIN { print (a > b ? a : b) }')
reason="mean test accuracy: softmax ${M[softmax]} (±${S[softmax]}, lr ${lr_of[softmax]}), sigmoids ${M[sigmoid]} (±${S[sigmoid]}, lr ${lr_of[sigmoid]})"
if true_if "${M[sigmoid]} > ${M[softmax]} + $gap"; then verdict confirmed "$reason"
elif true_if "${M[softmax]} > ${M[sigmoid]} + $gap"; then verdict contradicted "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
