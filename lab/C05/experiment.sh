# C05: batch norm against plain, training accuracy after 200 steps on 1000
# samples, for 16 initial weight scales (the book's Fig. 6-19).
EPOCHS=$(budget 20 2)
seeds=$(budget "1 2 3" "1")
limit=$(budget 1000 400)
all_w=$(awk 'BEGIN { for (i = 0; i < 16; i++) printf "%.3g ", 10 ^ (-4 * i / 15) }')
ws=$(budget "$all_w" "1 0.0858 0.0001")
scale "Fashion-MNIST first $limit training samples (the book: MNIST 1000), 784-100x5-10, SGD 0.01, batch 100, $EPOCHS epochs of $((limit / 100)) steps, seeds $seeds, $(echo $ws | wc -w) values of w; training accuracy is the last epoch's running mean in training mode (the book: eval mode over the 1000)"
# net_cfg FILE W BN: the book's MultiLayerNetExtend, with (BN = 1) or without batch norm.
net_cfg() {
    local k
    {
        printf '[net]\ninput = 784\nbatch = 100\nepochs = %s\nseed = 1\n\n' "$EPOCHS"
        printf '[data]\nformat = idx\ntrain = %s/train-images-idx3-ubyte.gz\n' "$FASHION"
        printf 'train_labels = %s/train-labels-idx1-ubyte.gz\n' "$FASHION"
        printf 'scale = 255\nvalidation = 5000\ntrain_limit = %s\n\n' "$limit"
        printf '[optimizer]\ntype = sgd\nlr = 0.01\n\n[loss]\ntype = softmax_cross_entropy\n'
        for k in 1 2 3 4 5; do
            printf '\n[dense]\nname = fc%s\nunits = 100\ninit = normal(0, %s)\nbias_init = zeros\n' "$k" "$2"
            if [ "$3" = 1 ]; then printf '\n[batchnorm]\nname = bn%s\nactivation = relu\n' "$k"
            else printf 'activation = relu\n'; fi
        done
        printf '\n[dense]\nname = out\nunits = 10\ninit = normal(0, %s)\nbias_init = zeros\n' "$2"
    } >"$1"
}
# final NAME: the last epoch's training accuracy, 0.1 (chance) if the run
# stopped on a non-finite value before its last epoch.
final() {
    local n a
    n=$(column "$1" epoch | tail -1)
    a=$(last "$1" train_accuracy)
    if [ "${n:-0}" != "$EPOCHS" ] || [ -z "$a" ]; then echo 0.1; else echo "$a"; fi
}
echo "| w | BN: training accuracy | plain | BN: held-out | plain: held-out | BN ≥ plain |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|" >>"$OUT/table.md"
echo "w,bn,plain" >summary.csv
wins=0; losses=0; bn_low=""; plain_high=""; n_w=0
for w in $ws; do
    n_w=$((n_w + 1))
    for bn in 1 0; do
        acc=""; held=""
        for s in $seeds; do
            name=$([ $bn = 1 ] && echo bn || echo plain)-w$w-s$s
            net_cfg "$name.cfg" "$w" "$bn"
            train "$name" "$name.cfg" --seed "$s"
            acc="$acc $(final "$name")"
            h=$(last "$name" val_accuracy); [ "$(column "$name" epoch | tail -1)" = "$EPOCHS" ] || h=0.1
            held="$held ${h:-0.1}"
        done
        if [ $bn = 1 ]; then bn_acc=$(mean $acc); bn_spread=$(spread $acc); bn_held=$(mean $held)
        else plain_acc=$(mean $acc); plain_spread=$(spread $acc); plain_held=$(mean $held); fi
    done
    if true_if "$bn_acc >= $plain_acc"; then wins=$((wins + 1)); won=yes; else losses=$((losses + 1)); won=no; fi
    true_if "$bn_acc >= 0.8" || bn_low="$bn_low $w ($bn_acc)"
    # w >= 0.29 (the three largest) or w <= 0.0074 (the eight smallest)
    if true_if "$w >= 0.29 || $w <= 0.0074"; then true_if "$plain_acc <= 0.2" || plain_high="$plain_high $w ($plain_acc)"; fi
    table_row "$w" "$bn_acc ± $bn_spread" "$plain_acc ± $plain_spread" "$bn_held" "$plain_held" "$won"
    echo "$(calc "log($w) / log(10)"),$bn_acc,$plain_acc" >>summary.csv
done
plot summary.csv --x w --y bn,plain --hline 0.2,0.8 --xlabel "log10 of the initial weight std w" \
    --ylabel "training accuracy at epoch $EPOCHS (mean of seeds)" \
    --title "C05: batch norm (bn) against plain, by initial weight scale (dashed: 0.2 and 0.8)" --out "$OUT/accuracy_vs_w.png"
# Four of the book's panels: the training accuracy per epoch, seed 1.
s1=$(echo $seeds | awk '{ print $1 }')
for w in $(echo $ws | awk '{ print $1, $(int(NF / 3) + 1), $(int(2 * NF / 3) + 1), $NF }'); do
    # A run stopped on a non-finite value in its first epoch has no row to draw.
    files=(); labels=""; gone=""
    for net in bn plain; do
        if [ "$(column "$net-w$w-s$s1" train_accuracy | wc -l)" -gt 0 ]; then
            files+=("$OUT/runs/$net-w$w-s$s1.csv"); labels="$labels,$([ $net = bn ] && echo "batch norm" || echo plain)"
        else gone=" ($net stopped on a non-finite value in epoch 1)"; fi
    done
    plot "${files[@]}" --labels "${labels#,}" --y train_accuracy --ylabel "training accuracy" \
        --title "C05: w = $w (seed $s1)$gone" --size 560x360 --out "$OUT/panel_w$w.png"
done
reason="BN ≥ plain for $wins of $n_w w; BN below 0.8 at:${bn_low:- none}; plain above 0.2 where it should fail:${plain_high:- none}"
if [ $losses -ge 8 ]; then verdict contradicted "$reason"
elif [ $wins -ge 13 ] && [ -z "$bn_low" ] && [ -z "$plain_high" ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
