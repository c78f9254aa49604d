# C10: plain and residual MLPs of 20 and 56 weighted layers with batch norm:
# final training error, and plain-56's per-layer gradient norms in epoch 1.
EPOCHS=$(budget 15 1)
seeds=$(budget "1 2" "1")
depths=$(budget "20 56" "4 8")
limit=$(budget 20000 400)
scale "Fashion-MNIST first $limit training samples, MLPs of width 64 with $depths weighted layers (BN, relu), plain and residual, SGD 0.05 momentum 0.9, cosine over $EPOCHS epochs, seeds $seeds; He et al. used CIFAR-10 conv nets (16-64 channels, 64k iterations)"
# net_cfg FILE LAYERS KIND: LAYERS weighted layers, plain or residual.
net_cfg() {
    local k prev=fc1 hidden=$(($2 - 2))
    {
        printf '[net]\ninput = 784\nbatch = 128\nepochs = %s\nseed = 1\n\n' "$EPOCHS"
        printf '[data]\nformat = idx\ntrain = %s/train-images-idx3-ubyte.gz\n' "$FASHION"
        printf 'train_labels = %s/train-labels-idx1-ubyte.gz\n' "$FASHION"
        printf 'test = %s/t10k-images-idx3-ubyte.gz\ntest_labels = %s/t10k-labels-idx1-ubyte.gz\n' "$FASHION" "$FASHION"
        printf 'scale = 255\nnormalize = standardize\nvalidation = 5000\ntrain_limit = %s\n\n' "$limit"
        printf '[optimizer]\ntype = sgd\nlr = 0.05\nmomentum = 0.9\n\n[schedule]\ntype = cosine\nT_max = %s\n\n' "$EPOCHS"
        printf '[loss]\ntype = softmax_cross_entropy\n\n[dense]\nname = fc1\nunits = 64\nactivation = relu\n'
        for ((k = 2; k <= hidden + 1; k++)); do
            printf '\n[dense]\nname = fc%s\nunits = 64\nbias = 0\n' "$k"
            if [ "$3" = residual ] && [ $((k % 2)) = 1 ]; then # the block's second layer: add, then relu
                printf '\n[batchnorm]\nname = bn%s\n\n[add]\nname = add%s\ninput = bn%s, %s\n' "$k" "$k" "$k" "$prev"
                printf '\n[activation]\nname = relu%s\ntype = relu\n' "$k"
                prev=relu$k
            else
                printf '\n[batchnorm]\nname = bn%s\nactivation = relu\n' "$k"
                [ "$3" = plain ] && prev=bn$k
            fi
        done
        printf '\n[dense]\nname = out\nunits = 10\n'
    } >"$1"
}
echo "| network | training error (mean ± spread) | test error (mean) | paper (CIFAR-10) |" >"$OUT/table.md"
echo "|---|---|---|---|" >>"$OUT/table.md"
for kind in plain residual; do
    for d in $depths; do
        errs=""; tests=""
        for s in $seeds; do
            name=$kind-$d-s$s
            net_cfg "$name.cfg" "$d" "$kind"
            train "$name" "$name.cfg" --seed "$s"
            a=$(last "$name" train_accuracy); errs="$errs $(calc "1 - ${a:-0.1}")"
            t=$(test_accuracy "$name"); tests="$tests $(calc "1 - ${t:-0.1}")"
        done
        eval "err_${kind}_$d=$(mean $errs)"
        paper=""
        case "$kind-$d" in plain-20) paper="train/test error below plain-56 (Fig. 6)" ;; plain-56) paper="higher train and test error (Fig. 1, 6)" ;;
            residual-20) paper="test 8.75 % (Table 6)" ;; residual-56) paper="test 6.97 % (Table 6)" ;; esac
        table_row "$kind-$d" "$(mean $errs) ± $(spread $errs)" "$(mean $tests)" "$paper"
    done
done
shallow=$(echo $depths | awk '{ print $1 }'); deep=$(echo $depths | awk '{ print $NF }')
# plain-deep's epoch-1 gradient norm per hidden weight, seed 1
echo "layer,plain,residual" >gradients.csv
max=0; min=1e30; first=""
for ((k = 2; k <= deep - 1; k++)); do
    gp=$(column "plain-$deep-s1" "grad_norm:fc$k.weight" | head -1); gr=$(column "residual-$deep-s1" "grad_norm:fc$k.weight" | head -1)
    echo "$k,$gp,$gr" >>gradients.csv
    [ -z "$first" ] && first=$gp
    true_if "$gp > $max" && max=$gp
    true_if "$gp < $min" && min=$gp
done
spread_g=$(calc "$max / ($min > 0 ? $min : 1e-30)"); first_share=$(calc "$first / ($max > 0 ? $max : 1e-30)")
plot gradients.csv --x layer --y plain,residual --log-y --xlabel "weighted layer (2 = next to the input)" \
    --ylabel "epoch-1 mean ‖∇W‖" --title "C10: gradient norm per layer, $deep layers, seed 1" --out "$OUT/gradient_per_layer.png"
files=(); labels=""
for kind in plain residual; do for d in $depths; do files+=("$OUT/runs/$kind-$d-s1.csv"); labels="$labels,$kind-$d"; done; done
plot "${files[@]}" --labels "${labels#,}" --y train_accuracy,val_accuracy --ylabel "accuracy (solid: training, dashed: held-out)" \
    --title "C10: plain and residual, $shallow and $deep layers (seed 1)" --out "$OUT/accuracy_vs_epoch.png"
v() { eval echo "\$err_$1_$2"; }
reason="training error plain-$shallow $(v plain "$shallow"), plain-$deep $(v plain "$deep"), res-$shallow $(v residual "$shallow"), res-$deep $(v residual "$deep"); plain-$deep epoch-1 gradient norms max/min $spread_g, layer nearest the input at $first_share of the largest"
degrades=0; true_if "$(v plain "$deep") > $(v plain "$shallow")" && degrades=1
if { [ $degrades = 1 ] && true_if "$first_share < 0.01"; } || true_if "$(v residual "$deep") > $(v plain "$deep")"; then
    verdict contradicted "$reason"
elif [ $degrades = 1 ] && true_if "$(v residual "$deep") <= $(v residual "$shallow") && $spread_g <= 10"; then
    verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
