# C21: layer-wise pre-training against depth, sigmoid and ReLU.
EPOCHS=$(budget 5 1)
depths=$(budget "1 2 3 4 5" "1 3")
pre_epochs=$(budget 2 1)
pre_lrs=$(budget "0.1 0.01 0.001" "0.1 0.001")
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
# pretrain NAME CFG LR: nerve pretrain CFG at LR into NAME.safetensors (output
# in runs/NAME.out); fails (1) when it stops on a non-finite reconstruction
# loss; any other failure ends the experiment.
pretrain() {
    # shellcheck disable=SC2046
    "$NERVE" pretrain "$2" --epochs "$pre_epochs" --noise 0.2 --lr "$3" --save "$PWD/$1.safetensors" \
        --threads "$THREADS" $(smoke_data) >"$OUT/runs/$1.out" 2>&1 && return 0
    grep -q 'loss is \(inf\|nan\|-nan\)' "$OUT/runs/$1.out" ||
        { echo "lab: nerve pretrain $2 failed: $(tail -1 "$OUT/runs/$1.out")" >&2; exit 1; }
    return 1
}
# The pre-training rate of each activation (claim.txt): the best of pre_lrs by
# the validation accuracy of the deepest network fine-tuned from it (seed 1;
# pre-training that stops on a non-finite loss scores 0).
top=${depths##* }
declare -A prelr sweep
for act in sigmoid relu; do
    deep_cfg "$act$top.cfg" "$act" "$top"
    best=-1
    for lr in $pre_lrs; do
        v=0
        if pretrain "$act$top-pretrain-lr$lr" "$act$top.cfg" "$lr"; then
            train "$act$top-pretrained-lr$lr" "$act$top.cfg" --init "$PWD/$act$top-pretrain-lr$lr.safetensors"
            v=$(last "$act$top-pretrained-lr$lr" val_accuracy); v=${v:-0}
            true_if "$v > $best" && { best=$v; prelr[$act]=$lr; }
        fi
        sweep[$act]="${sweep[$act]:-}${sweep[$act]:+/}$v"
    done
    [ -n "${prelr[$act]:-}" ] || { echo "lab: nerve pretrain $act$top.cfg diverged at every rate of $pre_lrs" >&2; exit 1; }
done
prerates=""
echo "| hidden layers | sigmoid: random | sigmoid: pre-trained | sigmoid gain (pp) | relu: random | relu: pre-trained | relu gain (pp) |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|" >>"$OUT/table.md"
echo "depth,sigmoid_random,sigmoid_pretrained,relu_random,relu_pretrained" >accuracy.csv
declare -A gain
for d in $depths; do
    declare -A acc=()
    for act in sigmoid relu; do
        deep_cfg "$act$d.cfg" "$act" "$d"
        train "$act$d-random" "$act$d.cfg"
        # The activation's chosen rate (the deepest net's run is the choice's
        # own); where pre-training at it stops on a non-finite loss, the next
        # lower rate of the list.
        used=""
        for lr in $pre_lrs; do
            true_if "$lr > ${prelr[$act]}" && continue
            if [ "$d" = "$top" ]; then used=${prelr[$act]}; break; fi
            if pretrain "$act$d-pretrain-lr$lr" "$act$d.cfg" "$lr"; then
                used=$lr
                train "$act$d-pretrained-lr$lr" "$act$d.cfg" --init "$PWD/$act$d-pretrain-lr$lr.safetensors"
                break
            fi
        done
        [ -n "$used" ] || { echo "lab: nerve pretrain $act$d.cfg diverged at every rate from ${prelr[$act]} down" >&2; exit 1; }
        prerates="$prerates $act$d: $used;"
        acc[$act-r]=$(test_accuracy "$act$d-random"); acc[$act-p]=$(test_accuracy "$act$d-pretrained-lr$used")
        gain[$act-$d]=$(calc "100 * (${acc[$act-p]} - ${acc[$act-r]})")
    done
    table_row "$d" "${acc[sigmoid-r]}" "${acc[sigmoid-p]}" "${gain[sigmoid-$d]}" "${acc[relu-r]}" "${acc[relu-p]}" "${gain[relu-$d]}"
    echo "$d,${acc[sigmoid-r]},${acc[sigmoid-p]},${acc[relu-r]},${acc[relu-p]}" >>accuracy.csv
done
table_row "pre-training rate chosen at depth $top by seed-1 validation accuracy (at $pre_lrs): sigmoid ${prelr[sigmoid]} (${sweep[sigmoid]}), relu ${prelr[relu]} (${sweep[relu]}); rates used:$prerates" "" "" "" "" "" ""
table_row "nerve docs/cli.md (5 sigmoid layers, 10 epochs)" "0.1000" "0.8494" "" "" "" ""
table_row "Erhan et al. 2010 (recalled, MNIST)" "error rises with depth" "about flat" "" "" "" ""
plot accuracy.csv --x depth --y sigmoid_random,sigmoid_pretrained,relu_random,relu_pretrained --xlabel "hidden layers" \
    --ylabel "test accuracy after $EPOCHS epochs" --title "C21: layer-wise pre-training against depth" --out "$OUT/accuracy_vs_depth.png"
plot "$OUT/runs/sigmoid$top-random.csv" "$OUT/runs/sigmoid$top-pretrained-lr${prelr[sigmoid]}.csv" --labels "random,pre-trained" \
    --y 'grad_norm:fc1.weight' --log-y --ylabel "‖∇ fc1.weight‖ (epoch mean)" \
    --title "C21: first-layer gradient of the $top-layer sigmoid net" --out "$OUT/first_layer_gradient.png"
first=${depths%% *}
reason="pre-training rates (chosen at depth $top on validation: sigmoid ${sweep[sigmoid]}, relu ${sweep[relu]} at $pre_lrs):$prerates sigmoid gain by depth (pp):$(for d in $depths; do printf ' %s: %s;' "$d" "${gain[sigmoid-$d]}"; done) relu gain:$(for d in $depths; do printf ' %s: %s;' "$d" "${gain[relu-$d]}"; done)"
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
