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
# The rate is 1.0 unless ReLU's seed-1 run stops numerically there (claim.txt).
lr=1.0
first=${seeds%% *}
train "relu-s$first" relu.cfg --lr 1.0 --seed "$first" --on-nan skip --save "$PWD/relu-s$first.safetensors"
[ -n "$(test_accuracy "relu-s$first")" ] || lr=0.5
scale "Fashion-MNIST 784-512-512-10, plain SGD at lr $lr, batch 128, $EPOCHS epochs, seeds $seeds (He et al. 2015: ImageNet, 14-layer model A, a healthy learning rate)"
echo "| hidden activation | test accuracy (seeds $seeds) | mean | spread | ReLU's dead units |" >"$OUT/table.md"
echo "|---|---|---|---|---|" >>"$OUT/table.md"
echo "variant,accuracy" >accuracy.csv
declare -A M S
i=0
for v in $variants; do
    accs=""
    for s in $seeds; do
        [ "$v-s$s-$lr" = "relu-s$first-1.0" ] ||
            train "$v-s$s" "$v.cfg" --lr "$lr" --seed "$s" --on-nan skip --save "$PWD/$v-s$s.safetensors"
        a=$(test_accuracy "$v-s$s"); accs="$accs ${a:-0.1}"
    done
    M[$v]=$(mean $accs); S[$v]=$(spread $accs)
    deadnote=""
    if [ "$v" = relu ] && [ -f relu-s1.safetensors ]; then
        "$NERVE" train relu.cfg --init "$PWD/relu-s1.safetensors" --epochs 0 --batch "$pass" --probe "$OUT/runs/relu-s1-dead.csv" \
            --probe-size "$pass" --threads "$THREADS" $(smoke_data) >"$OUT/runs/relu-s1-dead.out" 2>&1 ||
            { echo "lab: the dead-unit pass failed" >&2; exit 1; }
        deadnote=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "dead:fc1") a = i; if ($i == "dead:fc2") b = i } next }
                            { printf "fc1 %s, fc2 %s (seed 1)", $a, $b }' "$OUT/runs/relu-s1-dead.csv")
    fi
    table_row "$v" "$(echo $accs | tr ' ' '/')" "${M[$v]}" "${S[$v]}" "$deadnote"
    i=$((i + 1))
    echo "$i,${M[$v]}" >>accuracy.csv
done
table_row "He et al. 2015 Table 2 (ImageNet top-1 error)" "ReLU 33.82 %, PReLU 32.64 %" "" "" ""
plot accuracy.csv --x variant --y accuracy --xlabel "1 relu, 2-4 leaky 0.01/0.1/0.2, 5-6 prelu shared/per-channel, 7 elu" \
    --ylabel "test accuracy (mean of seeds)" --title "C23: activations at lr $lr (plain SGD), where ReLU units die" --out "$OUT/accuracy.png"
plot "$OUT/runs/relu-s1.csv" "$OUT/runs/leaky0.01-s1.csv" "$OUT/runs/prelu_shared-s1.csv" "$OUT/runs/elu-s1.csv" \
    --labels "relu,leaky 0.01,prelu shared,elu" --y val_accuracy --ylabel "validation accuracy (seed 1)" \
    --title "C23: learning curves at lr $lr" --out "$OUT/curves.png"
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
reason="lr $lr; mean test accuracy:$(for v in $variants; do printf ' %s %s (±%s);' "$v" "${M[$v]}" "${S[$v]}"; done) every variant beats ReLU beyond the spread: $([ $remedy = 1 ] && echo yes || echo no); best $best_v $best, better PReLU $prelu"
if [ $contra = 1 ]; then verdict contradicted "$reason"
elif [ $remedy = 1 ] && true_if "$prelu >= $best - 0.005"; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
