# C35: a CNN with 2x2 max pooling against the same CNN without it.
EPOCHS=$(budget 20 1)
seeds=$(budget "1 2 3" "1")
limit=$(budget 5000 200)
scale "first $limit Fashion-MNIST training images, CNN conv16-[pool]-conv32-[pool]-dense10, Adam 0.001, batch 64, $EPOCHS epochs, seeds $seeds (a textbook claim: no paper figure)"
# cnn FILE POOL(0|1)
cnn() {
    {
        printf '[net]\ninput = 1x28x28\nbatch = 64\nepochs = %s\nseed = 1\n\n' "$EPOCHS"
        printf '[data]\nformat = idx\ntrain = %s/train-images-idx3-ubyte.gz\ntrain_labels = %s/train-labels-idx1-ubyte.gz\n' "$FASHION" "$FASHION"
        printf 'test = %s/t10k-images-idx3-ubyte.gz\ntest_labels = %s/t10k-labels-idx1-ubyte.gz\n' "$FASHION" "$FASHION"
        printf 'scale = 255\nnormalize = standardize\nvalidation = 5000\n\n[optimizer]\ntype = adam\nlr = 0.001\n\n'
        printf '[loss]\ntype = softmax_cross_entropy\n\n'
        printf '[conv2d]\nname = conv1\nfilters = 16\nkernel = 3\npadding = same\nactivation = relu\n\n'
        [ "$2" = 1 ] && printf '[maxpool2d]\nname = pool1\nkernel = 2\n\n'
        printf '[conv2d]\nname = conv2\nfilters = 32\nkernel = 3\npadding = same\nactivation = relu\n\n'
        [ "$2" = 1 ] && printf '[maxpool2d]\nname = pool2\nkernel = 2\n\n'
        printf '[dense]\nname = out\nunits = 10\n'
    } >"$1"
}
cnn pooled.cfg 1; cnn unpooled.cfg 0
params() { "$NERVE" info "$1.cfg" >"$OUT/runs/$1-info.out" 2>&1 && awk '/^total:/ { print $2 }' "$OUT/runs/$1-info.out"; }
{
    echo "| CNN | parameters | dense layer's input | training accuracy (eval mode, seeds $seeds) | test accuracy | gap (mean) | gap spread |"
    echo "|---|---|---|---|---|---|---|"
} >"$OUT/table.md"
declare -A P G S
for v in pooled unpooled; do
    P[$v]=$(params $v)
    gaps="" trains="" tests=""
    for s in $seeds; do
        train "$v-s$s" "$v.cfg" --seed "$s" --set "data.train_limit=$limit" --eval-train
        tr=$(last "$v-s$s" train_eval_accuracy); te=$(test_accuracy "$v-s$s")
        trains="$trains ${tr:-nan}"; tests="$tests ${te:-nan}"; gaps="$gaps $(calc "${tr:-0} - ${te:-0}")"
    done
    G[$v]=$(mean $gaps); S[$v]=$(spread $gaps)
    into=$(awk '$1 == "conv2" { print $3 }' "$OUT/runs/$v-info.out")
    [ $v = pooled ] && into=$(awk '$1 == "pool2" { print $3 }' "$OUT/runs/$v-info.out")
    table_row "$v" "${P[$v]}" "$into" "$(echo $trains | tr ' ' '/')" "$(echo $tests | tr ' ' '/')" "${G[$v]}" "${S[$v]}"
done
table_row "2×2 max pool, nerve info" "" "conv1 $(awk '$1 == "conv1" { print $3 }' "$OUT/runs/pooled-info.out") → pool1 $(awk '$1 == "pool1" { print $3 }' "$OUT/runs/pooled-info.out"): one output per 2×2 window, not 4×4" "" "" "" ""
first=${seeds%% *}
plot "$OUT/runs/pooled-s$first.csv" "$OUT/runs/unpooled-s$first.csv" --labels "pooled,unpooled" --y train_eval_accuracy,val_accuracy \
    --ylabel "training (solid) and validation (dashed) accuracy" --title "C35: with and without 2x2 max pooling, $limit images (seed $first)" \
    --out "$OUT/accuracy.png"
gap=$(awk -v a="${S[pooled]}" -v b="${S[unpooled]}" 'BEGIN { print (a > b ? a : b) }')
reason="parameters: pooled ${P[pooled]}, unpooled ${P[unpooled]}; mean gap: pooled ${G[pooled]} (±${S[pooled]}), unpooled ${G[unpooled]} (±${S[unpooled]})"
if [ "${P[pooled]}" -ge "${P[unpooled]}" ] || true_if "${G[pooled]} > ${G[unpooled]} + $gap"; then verdict contradicted "$reason"
elif true_if "${G[pooled]} <= ${G[unpooled]}"; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
