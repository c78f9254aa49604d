# C16: augmentation against training-set size, MLP (3 seeds) and a small CNN.
seeds=$(budget "1 2 3" "1")
sizes=$(budget "1000 5000 55000" "100 500")
# epochs N: 100, 40 or 15 epochs for 1k, 5k, 55k images; 1 in smoke mode.
epochs() { if [ "$SMOKE" = 1 ]; then echo 1; else case $1 in 1000) echo 100 ;; 5000) echo 40 ;; *) echo 15 ;; esac; fi; }
scale "Fashion-MNIST subsets N = $sizes (train_limit), MLP 784-256-128-10 seeds $seeds, small CNN seed ${seeds%% *} at the two smaller N (Krizhevsky 2012: ImageNet, 1.2 M images)"
# net_cfg FILE KIND AUGMENT: KIND mlp or cnn; AUGMENT 1 adds fashion_augment.cfg's [augment].
net_cfg() {
    {
        printf '[net]\ninput = 1x28x28\nbatch = 128\nepochs = 10\nseed = 1\n\n'
        printf '[data]\nformat = idx\ntrain = %s/train-images-idx3-ubyte.gz\n' "$FASHION"
        printf 'train_labels = %s/train-labels-idx1-ubyte.gz\n' "$FASHION"
        printf 'test = %s/t10k-images-idx3-ubyte.gz\n' "$FASHION"
        printf 'test_labels = %s/t10k-labels-idx1-ubyte.gz\n' "$FASHION"
        printf 'scale = 255\nnormalize = standardize\nvalidation = 5000\n\n'
        [ "$3" = 1 ] && printf '[augment]\ncrop_padding = 2\nflip = 0.5\nrotation = 10\nerase = 0.25\n\n'
        printf '[optimizer]\ntype = sgd\nlr = 0.05\nmomentum = 0.9\n\n[loss]\ntype = softmax_cross_entropy\n\n'
        if [ "$2" = cnn ]; then
            printf '[conv2d]\nname = conv1\nfilters = 16\nkernel = 5\npadding = same\nactivation = relu\n\n'
            printf '[maxpool2d]\nname = pool1\nkernel = 2\n\n'
            printf '[conv2d]\nname = conv2\nfilters = 32\nkernel = 5\npadding = same\nactivation = relu\n\n'
            printf '[maxpool2d]\nname = pool2\nkernel = 2\n\n[dense]\nname = fc1\nunits = 128\nactivation = relu\n\n'
        else
            printf '[dense]\nname = fc1\nunits = 256\nactivation = relu\ninit = he_uniform\n\n'
            printf '[dense]\nname = fc2\nunits = 128\nactivation = relu\ninit = he_uniform\n\n'
        fi
        printf '[dense]\nname = out\nunits = 10\n'
    } >"$1"
}
for k in mlp cnn; do net_cfg "$k-plain.cfg" $k 0; net_cfg "$k-aug.cfg" $k 1; done
"$NERVE" augment mlp-aug.cfg --out "$OUT/augmentations.png" --zoom 2 --rows 6 $(smoke_data) >/dev/null ||
    { echo "lab: nerve augment failed" >&2; exit 1; }
echo "| N | model | without: test acc. (seeds) | mean | with [augment] | mean | gain (pp) | final train acc. without / with |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|---|" >>"$OUT/table.md"
echo "n,mlp_plain,mlp_aug,cnn_plain,cnn_aug" >accuracy.csv
declare -A gain spr
for n in $sizes; do
    declare -A m=()
    for k in mlp cnn; do
        ss=$seeds
        if [ $k = cnn ]; then
            [ "$n" = "${sizes##* }" ] && continue
            ss=${seeds%% *}
        fi
        declare -A accs=()
        for v in plain aug; do
            for s in $ss; do
                train "$k-$v-n$n-s$s" "$k-$v.cfg" --seed "$s" --epochs "$(epochs "$n")" --set data.train_limit="$n"
                accs[$v]="${accs[$v]:-} $(test_accuracy "$k-$v-n$n-s$s")"
            done
            m[$k-$v]=$(mean ${accs[$v]})
        done
        g=$(calc "100 * (${m[$k-aug]} - ${m[$k-plain]})")
        sp=$(awk -v a="$(spread ${accs[plain]})" -v b="$(spread ${accs[aug]})" 'BEGIN { print 100 * (a > b ? a : b) }')
        [ $k = mlp ] && { gain[$n]=$g; spr[$n]=$sp; }
        s1=${ss%% *}
        table_row "$n" "$k" "$(echo ${accs[plain]} | tr ' ' '/')" "${m[$k-plain]}" "$(echo ${accs[aug]} | tr ' ' '/')" "${m[$k-aug]}" \
            "$g" "$(last "$k-plain-n$n-s$s1" train_accuracy) / $(last "$k-aug-n$n-s$s1" train_accuracy)"
    done
    echo "$n,${m[mlp-plain]},${m[mlp-aug]},${m[cnn-plain]:-},${m[cnn-aug]:-}" >>accuracy.csv
done
table_row "Krizhevsky 2012 (ImageNet)" "AlexNet" "" "" "" "" "> 1 pp top-1 from colour jitter" ""
plot accuracy.csv --x n --y mlp_plain,mlp_aug,cnn_plain,cnn_aug --xlabel "training images N" \
    --ylabel "test accuracy (MLP: mean of seeds)" --title "C16: augmentation against training-set size" --out "$OUT/accuracy_vs_n.png"
small=${sizes%% *}; mid=$(echo $sizes | awk '{ print $2 }'); big=${sizes##* }
plot "$OUT/runs/mlp-plain-n$small-s${seeds%% *}.csv" "$OUT/runs/mlp-aug-n$small-s${seeds%% *}.csv" --labels "without,with [augment]" \
    --y train_loss,val_loss --ylabel "loss (solid: training, dashed: validation)" \
    --title "C16: MLP on $small images: overfitting with and without augmentation" --out "$OUT/overfitting_n$small.png"
reason="MLP gain in pp (seed spread): N=$small ${gain[$small]} (${spr[$small]}), N=$mid ${gain[$mid]} (${spr[$mid]}), N=$big ${gain[$big]} (${spr[$big]})"
if true_if "${gain[$small]} >= 1 && ${gain[$small]} > ${spr[$small]} && ${gain[$mid]} >= 1 && ${gain[$mid]} > ${spr[$mid]} && ${gain[$big]} < ${gain[$small]} && ${gain[$big]} < ${gain[$mid]}"; then
    verdict confirmed "$reason"
elif true_if "${gain[$small]} <= 0 && ${gain[$mid]} <= 0"; then verdict contradicted "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
