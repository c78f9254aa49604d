# C21: layer-wise pre-training against depth, sigmoid and ReLU.
EPOCHS=$(budget 5 1)
depths=$(budget "1 2 3 4 5" "1 3")
pre_epochs=$(budget 2 1)
pre_lrs="0.1 0.03 0.01 0.003 0.001"
prerates=""
scale "Fashion-MNIST, MLP of 1-5 hidden layers of 256, plain SGD 0.1, batch 64, $EPOCHS epochs, pre-training $pre_epochs epochs per layer with noise 0.2, seed 1 (Erhan et al. 2010: MNIST, layers of 800, many seeds)"
# deep_cfg FILE ACTIVATION DEPTH: fashion_deep_sigmoid.cfg's network at DEPTH hidden layers.
deep_cfg() {
    local i
    {
        printf '[net]\ninput = 784\nbatch = 64\nepochs = %s\nseed = 1\n\n' "$EPOCHS"
        printf '[data]\nformat = idx\ntrain = %s/train-images-idx3-ubyte.gz\n' "$FASHION"
        printf 'train_labels = %s/train-labels-idx1-ubyte.gz\n' "$FASHION"
        printf 'test = %s/t10k-images-idx3-ubyte.gz\n' "$FASHION"
        printf 'test_labels = %s/t10k-labels-idx1-ubyte.gz\n' "$FASHION"
        printf 'scale = 255\nvalidation = 5000\n\n[optimizer]\ntype = sgd\nlr = 0.1\n\n[loss]\ntype = softmax_cross_entropy\n'
        for i in $(seq 1 "$3"); do printf '\n[dense]\nname = fc%s\nunits = 256\nactivation = %s\n' "$i" "$2"; done
        printf '\n[dense]\nname = out\nunits = 10\n'
    } >"$1"
}
echo "| hidden layers | sigmoid: random | sigmoid: pre-trained | sigmoid gain (pp) | relu: random | relu: pre-trained | relu gain (pp) |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|" >>"$OUT/table.md"
echo "depth,sigmoid_random,sigmoid_pretrained,relu_random,relu_pretrained" >accuracy.csv
declare -A gain
for d in $depths; do
    declare -A acc=()
    for act in sigmoid relu; do
        deep_cfg "$act$d.cfg" "$act" "$d"
        train "$act$d-random" "$act$d.cfg"
        # The pre-training rate: the first of the list whose pre-training ends
        # with finite losses (claim.txt); another failure ends the experiment.
        prelr=""
        for lr in $pre_lrs; do
            # shellcheck disable=SC2046
            if "$NERVE" pretrain "$act$d.cfg" --epochs "$pre_epochs" --noise 0.2 --lr "$lr" --save "$PWD/$act$d-pre.safetensors" \
                --threads "$THREADS" $(smoke_data) >"$OUT/runs/$act$d-pretrain-lr$lr.out" 2>&1; then prelr=$lr; break; fi
            grep -q 'loss is \(inf\|nan\|-nan\)' "$OUT/runs/$act$d-pretrain-lr$lr.out" ||
                { echo "lab: nerve pretrain $act$d.cfg failed: $(tail -1 "$OUT/runs/$act$d-pretrain-lr$lr.out")" >&2; exit 1; }
        done
        [ -n "$prelr" ] || { echo "lab: nerve pretrain $act$d.cfg diverged at every rate of $pre_lrs" >&2; exit 1; }
        prerates="$prerates $act$d: $prelr;"
        train "$act$d-pretrained" "$act$d.cfg" --init "$PWD/$act$d-pre.safetensors"
        acc[$act-r]=$(test_accuracy "$act$d-random"); acc[$act-p]=$(test_accuracy "$act$d-pretrained")
        gain[$act-$d]=$(calc "100 * (${acc[$act-p]} - ${acc[$act-r]})")
    done
    table_row "$d" "${acc[sigmoid-r]}" "${acc[sigmoid-p]}" "${gain[sigmoid-$d]}" "${acc[relu-r]}" "${acc[relu-p]}" "${gain[relu-$d]}"
    echo "$d,${acc[sigmoid-r]},${acc[sigmoid-p]},${acc[relu-r]},${acc[relu-p]}" >>accuracy.csv
done
table_row "pre-training rates:$prerates" "" "" "" "" "" ""
table_row "nerve docs/cli.md (5 sigmoid layers, 10 epochs)" "0.1000" "0.8494" "" "" "" ""
table_row "Erhan et al. 2010 (recalled, MNIST)" "error rises with depth" "about flat" "" "" "" ""
plot accuracy.csv --x depth --y sigmoid_random,sigmoid_pretrained,relu_random,relu_pretrained --xlabel "hidden layers" \
    --ylabel "test accuracy after $EPOCHS epochs" --title "C21: layer-wise pre-training against depth" --out "$OUT/accuracy_vs_depth.png"
top=${depths##* }
plot "$OUT/runs/sigmoid$top-random.csv" "$OUT/runs/sigmoid$top-pretrained.csv" --labels "random,pre-trained" \
    --y 'grad_norm:fc1.weight' --log-y --ylabel "‖∇ fc1.weight‖ (epoch mean)" \
    --title "C21: first-layer gradient of the $top-layer sigmoid net" --out "$OUT/first_layer_gradient.png"
first=${depths%% *}
reason="pre-training rates:$prerates sigmoid gain by depth (pp):$(for d in $depths; do printf ' %s: %s;' "$d" "${gain[sigmoid-$d]}"; done) relu gain:$(for d in $depths; do printf ' %s: %s;' "$d" "${gain[relu-$d]}"; done)"
ok=1; prev=""
for d in $depths; do
    true_if "${gain[relu-$d]} <= 1 && ${gain[relu-$d]} >= -1" || ok=0
    [ -n "$prev" ] && true_if "${gain[sigmoid-$d]} < $prev - 1" && ok=0
    prev=${gain[sigmoid-$d]}
done
true_if "${gain[sigmoid-$top]} >= ${gain[sigmoid-$first]} + 5" || ok=0
if true_if "${gain[sigmoid-$top]} <= 0"; then verdict contradicted "$reason"
elif [ $ok = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
