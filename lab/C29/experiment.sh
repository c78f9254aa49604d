# C29: weighted and focal losses on a 100:1 imbalanced Fashion-MNIST.
EPOCHS=$(budget 15 1)
seeds=$(budget "1 2 3" "1")
major=$(budget 6000 50); minor=$(budget 60 5)
# Each loss's rate: the best of these by seed 1's validation balanced accuracy
# (claim.txt; one rate for all, 0.05, made 1/freq's 100x weights collapse).
lrs=$(budget "0.05 0.01 0.002" "0.05 0.002")
scale "Fashion-MNIST, $major images of each of classes 0-4 and $minor of 5-9 (a tenth of each held out for validation), MLP 784-256-128-10, $EPOCHS epochs, lr per loss from $lrs, seeds $seeds (Lin et al. 2017: COCO detection, about 1:1000)"
# idx_csv IMAGES LABELS: one CSV row per image, its 784 pixels then its label.
idx_csv() {
    paste -d, <(zcat "$1" | tail -c +17 | od -An -tu1 -w784 -v | sed 's/^ *//; s/  */,/g') \
              <(zcat "$2" | tail -c +9 | od -An -tu1 -w1 -v | tr -d ' ')
}
# Of each class's first images, every tenth (the 1st, 11th, ...) is validation
# (val.csv, read by nerve eval only, for the choice of each loss's rate).
idx_csv "$FASHION/train-images-idx3-ubyte.gz" "$FASHION/train-labels-idx1-ubyte.gz" |
    awk -F, -v a="$major" -v b="$minor" '{ c = $NF; k = n[c]++; if (k < (c < 5 ? a : b)) print >(k % 10 ? "train.csv" : "val.csv") }'
idx_csv "$FASHION/t10k-images-idx3-ubyte.gz" "$FASHION/t10k-labels-idx1-ubyte.gz" >test.csv
cfg() {
    {
        printf '[net]\ninput = 784\nbatch = 128\nepochs = %s\nseed = 1\n\n' "$EPOCHS"
        printf '[data]\nformat = csv\ntrain = %s/train.csv\ntest = %s/test.csv\nscale = 255\nnormalize = standardize\n\n' "$PWD" "$PWD"
        printf '[optimizer]\ntype = sgd\nlr = 0.05\nmomentum = 0.9\n\n[loss]\n%s\n' "$(echo "$2" | tr ';' '\n')"
        printf '\n[dense]\nname = fc1\nunits = 256\nactivation = relu\n\n[dense]\nname = fc2\nunits = 128\nactivation = relu\n\n[dense]\nname = out\nunits = 10\n'
    } >"$1.cfg"
}
w_inv=$(awk -v a="$major" -v b="$minor" 'BEGIN { r = a / b; printf "1, 1, 1, 1, 1, %g, %g, %g, %g, %g", r, r, r, r, r }')
w_sqrt=$(awk -v a="$major" -v b="$minor" 'BEGIN { r = sqrt(a / b); printf "1, 1, 1, 1, 1, %g, %g, %g, %g, %g", r, r, r, r, r }')
cfg ce "type = softmax_cross_entropy"
cfg weighted_inv "type = softmax_cross_entropy;weights = $w_inv"
cfg weighted_sqrt "type = softmax_cross_entropy;weights = $w_sqrt"
for g in 0.5 1 2 5; do cfg "focal$g" "type = focal;gamma = $g"; done
cfg focal2_alpha "type = focal;gamma = 2;alpha = 0.1, 0.1, 0.1, 0.1, 0.1, 1, 1, 1, 1, 1"
losses="ce weighted_inv weighted_sqrt focal0.5 focal1 focal2 focal5 focal2_alpha"
# class_accuracy RUN [DATA]: the ten per-class accuracies of RUN's weights on
# the test set (or the file DATA), one a line; ten zeros for a run stopped on
# non-finite values (exit 4, no weights), as C01 scores one.
class_accuracy() {
    if [ ! -f "$PWD/$1.safetensors" ]; then printf '0\n%.0s' 1 2 3 4 5 6 7 8 9 10; return; fi
    "$NERVE" eval "${1%%-lr*}.cfg" --weights "$PWD/$1.safetensors" ${2:+--data "$2"} --json --threads "$THREADS" \
        >"$OUT/runs/eval-$1${2:+-val}.json" || { echo "lab: nerve eval $1 failed" >&2; exit 1; }
    sed 's/.*"class_accuracy": \[\([^]]*\)\].*/\1/' "$OUT/runs/eval-$1${2:+-val}.json" | tr ',' '\n' | tr -d ' '
}
# balanced VALUES...: the mean of the ten per-class accuracies.
balanced() { echo "$@" | awk '{ s = 0; for (i = 1; i <= 10; i++) s += $i; printf "%.4f", s / 10 }'; }
echo "| loss | lr (chosen) | seed-1 val. balanced accuracy per lr ($lrs) | balanced accuracy (seeds $seeds) | mean | minority recall, classes 5-9 (mean) | majority recall, 0-4 (mean) | accuracy (mean) |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|---|" >>"$OUT/table.md"
{ printf 'loss'; for c in 0 1 2 3 4 5 6 7 8 9; do printf ',class%s' "$c"; done; echo; } >per_class.csv
declare -A bal minr lr_of
first=${seeds%% *}
i=0
for l in $losses; do
    best=-1 sweep=""
    for lr in $lrs; do
        train "$l-lr$lr-s$first" "$l.cfg" --lr "$lr" --seed "$first" --save "$PWD/$l-lr$lr-s$first.safetensors"
        v=$(balanced $(class_accuracy "$l-lr$lr-s$first" "$PWD/val.csv"))
        sweep="$sweep/$v"
        true_if "$v > $best" && { best=$v; lr_of[$l]=$lr; }
    done
    bs="" ms="" js="" as=""
    declare -A sum=()
    for s in $seeds; do
        run="$l-lr${lr_of[$l]}-s$s"
        [ "$s" = "$first" ] || train "$run" "$l.cfg" --lr "${lr_of[$l]}" --seed "$s" --save "$PWD/$run.safetensors"
        mapfile -t ca < <(class_accuracy "$run")
        for c in 0 1 2 3 4 5 6 7 8 9; do sum[$c]=$(calc "${sum[$c]:-0} + ${ca[$c]}"); done
        bs="$bs $(balanced "${ca[@]}")"
        ms="$ms $(echo "${ca[@]}" | awk '{ printf "%.4f", ($6 + $7 + $8 + $9 + $10) / 5 }')"
        js="$js $(echo "${ca[@]}" | awk '{ printf "%.4f", ($1 + $2 + $3 + $4 + $5) / 5 }')"
        a=$(test_accuracy "$run"); as="$as ${a:-0}"
    done
    bal[$l]=$(mean $bs); minr[$l]=$(mean $ms)
    table_row "$l" "${lr_of[$l]}" "${sweep#/}" "$(echo $bs | tr ' ' '/')" "${bal[$l]}" "${minr[$l]}" "$(mean $js)" "$(mean $as)"
    i=$((i + 1))
    { printf '%s' "$i"; for c in 0 1 2 3 4 5 6 7 8 9; do printf ',%s' "$(calc "${sum[$c]} / $(echo $seeds | wc -w)")"; done; echo; } >>per_class.csv
done
table_row "Lin et al. 2017 (COCO, recalled)" "" "" "focal γ = 2 about 3 AP above α-balanced CE" "" "" "" ""
rm -f train.csv val.csv test.csv
echo "loss,balanced_accuracy,minority_recall" >balanced.csv
i=0; for l in $losses; do i=$((i + 1)); echo "$i,${bal[$l]},${minr[$l]}" >>balanced.csv; done
plot balanced.csv --x loss --y balanced_accuracy,minority_recall \
    --xlabel "1 CE, 2 weights 1/freq, 3 weights 1/sqrt(freq), 4-7 focal γ 0.5/1/2/5, 8 focal γ 2 + alpha" \
    --ylabel "test figure (mean of seeds)" --title "C29: losses on 100:1 imbalanced Fashion-MNIST" --out "$OUT/balanced_accuracy.png"
plot per_class.csv --y 'class*' --heatmap --xlabel "class (5-9: 1 % of the training images)" --ylabel "loss (rows in the table's order)" \
    --title "C29: per-class test accuracy (mean of seeds)" --out "$OUT/per_class.png"
weighting=1; focal=0; contra=0; all_focal_worse=1
for l in weighted_inv weighted_sqrt; do
    true_if "${minr[$l]} > ${minr[ce]} && ${bal[$l]} > ${bal[ce]}" || weighting=0
    true_if "${bal[$l]} < ${bal[ce]} - 0.01" && contra=1
done
true_if "${bal[focal2]} >= ${bal[ce]}" && focal=1
for l in focal0.5 focal1 focal2 focal5 focal2_alpha; do true_if "${bal[$l]} < ${bal[ce]} - 0.01" || all_focal_worse=0; done
[ $all_focal_worse = 1 ] && contra=1
reason="mean balanced accuracy / minority recall (lr chosen on validation):$(for l in $losses; do printf ' %s %s / %s (lr %s);' "$l" "${bal[$l]}" "${minr[$l]}" "${lr_of[$l]}"; done) weighting: $([ $weighting = 1 ] && echo holds || echo fails), focal γ = 2 ≥ CE: $([ $focal = 1 ] && echo holds || echo fails)"
if [ $contra = 1 ]; then verdict contradicted "$reason"
elif [ $weighting = 1 ] && [ $focal = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
