# C36: ReLU's exact zeros and the train-test gap, against dense twins.
EPOCHS=$(budget 30 1)
seeds=$(budget "1 2 3" "1")
limit=$(budget 5000 200)
variants="relu leaky_relu softplus tanh"
scale "first $limit Fashion-MNIST training images, MLP 784-512-512-10, SGD 0.05 momentum 0.9, $EPOCHS epochs, seeds $seeds, probe of 256 training images (Glorot et al.: MNIST, CIFAR-10, NISTP, NORB)"
for v in $variants; do mlp_cfg "$v.cfg" "type = sgd;lr = 0.05;momentum = 0.9" "512:$v" "512:$v" "10:none"; done
# zeros NAME LAYER: the last probe's zero fraction of LAYER.
zeros() { awk -F, -v c="zero:$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { z = $k } END { print z }' "$OUT/runs/$1-probe.csv"; }
{
    echo "| hidden activation | zeros fc1 / fc2 (mean of seeds) | training accuracy (eval mode, seeds $seeds) | test accuracy | gap (mean) | gap spread |"
    echo "|---|---|---|---|---|---|"
} >"$OUT/table.md"
declare -A G S Z1 Z2
for v in $variants; do
    gaps="" z1="" z2="" trains="" tests=""
    for s in $seeds; do
        train "$v-s$s" "$v.cfg" --seed "$s" --set "data.train_limit=$limit" --eval-train --probe "$OUT/runs/$v-s$s-probe.csv"
        tr=$(last "$v-s$s" train_eval_accuracy); te=$(test_accuracy "$v-s$s")
        trains="$trains ${tr:-nan}"; tests="$tests ${te:-nan}"
        gaps="$gaps $(calc "${tr:-0} - ${te:-0}")"
        z1="$z1 $(zeros "$v-s$s" fc1)"; z2="$z2 $(zeros "$v-s$s" fc2)"
    done
    G[$v]=$(mean $gaps); S[$v]=$(spread $gaps); Z1[$v]=$(mean $z1); Z2[$v]=$(mean $z2)
    table_row "$v" "${Z1[$v]} / ${Z2[$v]}" "$(echo $trains | tr ' ' '/')" "$(echo $tests | tr ' ' '/')" "${G[$v]}" "${S[$v]}"
done
table_row "Glorot et al. 2011 (recalled)" "68-83 % zeros" "" "" "" ""
first=${seeds%% *}
plot "$OUT/runs/relu-s$first-probe.csv" --x step --y zero:fc1,zero:fc2 --ylabel "fraction of exact zeros (probe batch)" \
    --title "C36: ReLU's sparsity over training (seed $first)" --out "$OUT/relu_zeros.png"
plot $(for v in $variants; do echo "$OUT/runs/$v-s$first.csv"; done) --labels "$(echo $variants | tr ' ' ',')" \
    --y val_accuracy --ylabel "validation accuracy" --title "C36: validation accuracy, $limit training images (seed $first)" \
    --out "$OUT/val_accuracy.png"
sparse=$(true_if "${Z1[relu]} >= 0.5 && ${Z2[relu]} >= 0.5" && echo 1 || echo 0)
smaller=1 larger=0
for v in $variants; do
    [ $v = relu ] && continue
    gap=$(awk -v a="${S[relu]}" -v b="${S[$v]}" 'BEGIN { print (a > b ? a : b) }')
    true_if "${G[relu]} < ${G[$v]} - $gap" || smaller=0
    true_if "${G[$v]} < ${G[relu]} - $gap" && larger=1
done
reason="ReLU zeros fc1 ${Z1[relu]}, fc2 ${Z2[relu]}; mean gaps:$(for v in $variants; do printf ' %s %s (±%s);' "$v" "${G[$v]}" "${S[$v]}"; done)"
if [ $sparse = 0 ] || [ $larger = 1 ]; then verdict contradicted "$reason"
elif [ $smaller = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
