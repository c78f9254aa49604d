# C23: leaky ReLU, PReLU and ELU against ReLU where ReLU units die (C22's top lr).
EPOCHS=$(budget 5 1)
seeds=$(budget "1 2 3" "1")
pass=$(budget 10000 500)
variants="relu leaky0.01 leaky0.1 leaky0.2 prelu_shared prelu_channel elu"
# cfg VARIANT: the network with that hidden activation (and its settings).
cfg() {
    local act=$1 extra=""
    case "$1" in
        leaky*) act=leaky_relu; extra="slope = ${1#leaky}" ;;
        prelu_shared) act=prelu; extra="channels = shared" ;;
        prelu_channel) act=prelu; extra="channels = per_channel" ;;
    esac
    mlp_cfg "$1.cfg" "type = sgd" "512:$act" "512:$act" "10:none"
    [ -z "$extra" ] || sed -i "s/^activation = $act\$/activation = $act\n$extra/" "$1.cfg"
}
for v in $variants; do cfg "$v"; done
# stopped NAME: "stopped (step N)" for a run that ended on non-finite values
# (no test figure; it may stop before its first log row), else empty.
stopped() {
    [ -z "$(test_accuracy "$1")" ] || return 0
    echo "stopped (step $(sed -n 's/.*, step \([0-9]*\): the loss is.*/\1/p' "$OUT/runs/$1.err" | tail -1))"
}
# The rate is 1.0 unless ReLU's seed-1 run stops numerically there (claim.txt).
lr=1.0
first=${seeds%% *}
train "relu-s$first-lr1.0" relu.cfg --lr 1.0 --seed "$first" --on-nan skip --save "$PWD/relu-s$first-lr1.0.safetensors"
[ -n "$(test_accuracy "relu-s$first-lr1.0")" ] || lr=0.5
scale "Fashion-MNIST 784-512-512-10, plain SGD at lr $lr, batch 128, $EPOCHS epochs, seeds $seeds (He et al. 2015: ImageNet, 14-layer model A, a healthy learning rate)"
echo "| hidden activation | test accuracy (seeds $seeds) | mean | spread | ReLU's dead units |" >"$OUT/table.md"
echo "|---|---|---|---|---|" >>"$OUT/table.md"
echo "variant,accuracy" >accuracy.csv
declare -A M S
i=0 stops=""
for v in $variants; do
    accs="" cells="" nstop=0
    for s in $seeds; do
        name=$v-s$s-lr$lr
        [ "$name" = "relu-s$first-lr1.0" ] ||
            train "$name" "$v.cfg" --lr "$lr" --seed "$s" --on-nan skip --save "$PWD/$name.safetensors"
        # A stopped run counts as chance, 0.1 (claim.txt), and the table says it stopped.
        a=$(test_accuracy "$name"); accs="$accs ${a:-0.1}"
        cells="$cells/${a:-$(stopped "$name")}"
        [ -n "$a" ] || nstop=$((nstop + 1))
    done
    M[$v]=$(mean $accs); S[$v]=$(spread $accs)
    [ $nstop = 0 ] || stops="$stops $v $nstop/$(echo $seeds | wc -w);"
    deadnote=""
    if [ "$v" = relu ] && [ -f "relu-s$first-lr$lr.safetensors" ]; then
        "$NERVE" train relu.cfg --init "$PWD/relu-s$first-lr$lr.safetensors" --epochs 0 --batch "$pass" --probe "$OUT/runs/relu-dead.csv" \
            --probe-size "$pass" --threads "$THREADS" $(smoke_data) >"$OUT/runs/relu-dead.out" 2>&1 ||
            { echo "lab: the dead-unit pass failed" >&2; exit 1; }
        deadnote=$(awk -F, -v s="$first" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "dead:fc1") a = i; if ($i == "dead:fc2") b = i } next }
                            { printf "fc1 %s, fc2 %s (seed %s)", $a, $b, s }' "$OUT/runs/relu-dead.csv")
    fi
    table_row "$v" "${cells#/}" "${M[$v]}" "${S[$v]}" "$deadnote"
    i=$((i + 1))
    echo "$i,${M[$v]}" >>accuracy.csv
done
table_row "He et al. 2015 Table 2 (ImageNet top-1 error)" "ReLU 33.82 %, PReLU 32.64 %" "" "" ""
plot accuracy.csv --x variant --y accuracy --xlabel "1 relu, 2-4 leaky 0.01/0.1/0.2, 5-6 prelu shared/per-channel, 7 elu" \
    --ylabel "test accuracy (mean of seeds)" --title "C23: activations at lr $lr (plain SGD), where ReLU units die" --out "$OUT/accuracy.png"
# The learning curves of seed $first's runs; a run that stopped before its
# first epoch row has nothing to draw and is named in the title instead.
logs=() labels="" none=""
for v in relu leaky0.01 prelu_shared prelu_channel elu; do
    if [ -n "$(column "$v-s$first-lr$lr" val_accuracy)" ]; then logs+=("$OUT/runs/$v-s$first-lr$lr.csv"); labels="$labels,$v"
    else none="$none $v"; fi
done
title="C23: learning curves at lr $lr"
[ -z "$none" ] || title="$title (stopped before epoch 1:$none)"
[ ${#logs[@]} = 0 ] || plot "${logs[@]}" --labels "${labels#,}" --y val_accuracy --ylabel "validation accuracy (seed $first)" \
    --title "$title" --out "$OUT/curves.png"
remedy=1; contra=0; best=0; best_v=""
for v in $variants; do
    [ "$v" = relu ] && continue
    gap=$(awk -v a="${S[$v]}" -v b="${S[relu]}" 'BEGIN { print (a > b ? a : b) }')
    true_if "${M[$v]} > ${M[relu]} + $gap" || remedy=0
    case "$v" in leaky* | prelu*) true_if "${M[relu]} > ${M[$v]} + $gap" && contra=1 ;; esac
    true_if "${M[$v]} > $best" && { best=${M[$v]}; best_v=$v; }
done
prelu=$(awk -v a="${M[prelu_shared]}" -v b="${M[prelu_channel]}" 'BEGIN { print (a > b ? a : b) }')
true_if "$prelu < $best - 0.02" && contra=1
reason="lr $lr; mean test accuracy:$(for v in $variants; do printf ' %s %s (±%s);' "$v" "${M[$v]}" "${S[$v]}"; done) every variant beats ReLU beyond the spread: $([ $remedy = 1 ] && echo yes || echo no); best $best_v $best, better PReLU $prelu; runs stopped on non-finite values (counted as 0.1):${stops:- none}"
if [ $contra = 1 ]; then verdict contradicted "$reason"
elif [ $remedy = 1 ] && true_if "$prelu >= $best - 0.005"; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
