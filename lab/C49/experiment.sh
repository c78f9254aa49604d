# C49: a ReLU on the logits against the default linear output.
EPOCHS=$(budget 5 1)
seeds=$(budget "1 2 3" "1")
scale "Fashion-MNIST MLP 784-256-128-10, SGD 0.05 momentum 0.9, $EPOCHS epochs, seeds $seeds (a textbook answer: no paper figure)"
mlp_cfg linear.cfg "type = sgd;lr = 0.05;momentum = 0.9" "256:relu" "128:relu" "10:none"
mlp_cfg relu.cfg "type = sgd;lr = 0.05;momentum = 0.9" "256:relu" "128:relu" "10:relu"
images=$FASHION/t10k-images-idx3-ubyte.gz
{
    echo "| output layer | test accuracy (seeds $seeds) | mean | spread | test images with every output 0 (seed ${seeds%% *}) | outputs that are 0 (seed ${seeds%% *}) |"
    echo "|---|---|---|---|---|---|"
} >"$OUT/table.md"
declare -A M S
first=${seeds%% *}
for v in linear relu; do
    accs=""
    for s in $seeds; do
        train "$v-s$s" "$v.cfg" --seed "$s" --save "$PWD/$v-s$s.safetensors"
        a=$(test_accuracy "$v-s$s"); accs="$accs ${a:-0.1}"
    done
    M[$v]=$(mean $accs); S[$v]=$(spread $accs)
    "$NERVE" predict "$v.cfg" --weights "$PWD/$v-s$first.safetensors" --input "$images" --layer out --threads "$THREADS" \
        >"$OUT/runs/$v-s$first-logits.out" 2>&1 || { echo "lab: nerve predict $v failed" >&2; exit 1; }
    read -r all0 zero < <(awk 'NR > 1 { n++; z = 0; for (i = 2; i <= NF; i++) if ($i == 0) z++; if (z == NF - 1) a++; zs += z / (NF - 1) }
                               END { printf "%.4f %.4f\n", a / n, zs / n }' "$OUT/runs/$v-s$first-logits.out")
    table_row "$([ $v = linear ] && echo "none (logits)" || echo relu)" "$(echo $accs | tr ' ' '/')" "${M[$v]}" "${S[$v]}" "$all0" "$zero"
done
plot "$OUT/runs/linear-s$first.csv" "$OUT/runs/relu-s$first.csv" --labels "no activation,relu" --y train_loss,val_accuracy \
    --ylabel "training loss / validation accuracy" --title "C49: a ReLU on the output layer (seed $first)" --out "$OUT/curves.png"
gap=$(awk -v a="${S[linear]}" -v b="${S[relu]}" 'BEGIN { print (a > b ? a : b) }')
reason="mean test accuracy: no activation ${M[linear]} (±${S[linear]}), relu ${M[relu]} (±${S[relu]})"
if true_if "${M[relu]} < ${M[linear]} - $gap"; then verdict confirmed "$reason"
elif true_if "${M[relu]} > ${M[linear]} + $gap"; then verdict contradicted "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
