# C37: the mean activation of each hidden layer for ReLU and its relatives.
EPOCHS=$(budget 5 1)
seeds=$(budget "1 2 3" "1")
depth=$(budget 8 3)
variants="relu leaky_relu prelu elu selu tanh"
scale "Fashion-MNIST MLP 784-(128 x $depth)-10, SGD 0.01 momentum 0.9, $EPOCHS epochs, seeds $seeds, probe of 256 training images (Clevert et al.: deep nets on MNIST and CIFAR)"
for v in $variants; do
    layers=(); for ((k = 0; k < depth; k++)); do layers+=("128:$v"); done
    mlp_cfg "$v.cfg" "type = sgd;lr = 0.01;momentum = 0.9" "${layers[@]}" "10:none"
done
# means NAME ROW: the hidden layers' means in runs/NAME-probe.csv's row ROW
# (first or last), one per line.
means() {
    awk -F, -v which="$2" -v depth="$depth" '
        NR == 1 { for (i = 1; i <= NF; i++) for (k = 1; k <= depth; k++) if ($i == "mean:fc" k) c[k] = i; next }
        { row = $0 } NR == 2 && which == "first" { exit }
        END { n = split(row, f, ","); for (k = 1; k <= depth; k++) print f[c[k]] }' "$OUT/runs/$1-probe.csv"
}
absmean() { awk '{ s += ($1 < 0 ? -$1 : $1); n++ } END { printf "%.4g\n", s / n }'; }
{
    echo "| activation | the layers' absolute means, averaged over the $depth layers, at init (seed ${seeds%% *}) | at the end, seeds $seeds | each layer's mean at the end (seed ${seeds%% *}) | test accuracy (seeds) |"
    echo "|---|---|---|---|---|"
} >"$OUT/table.md"
declare -A A
relu_pos=1
for v in $variants; do
    ends="" accs=""
    for s in $seeds; do
        train "$v-s$s" "$v.cfg" --seed "$s" --probe "$OUT/runs/$v-s$s-probe.csv"
        ends="$ends $(means "$v-s$s" last | absmean)"
        a=$(test_accuracy "$v-s$s"); accs="$accs ${a:-stopped}"
        [ $v = relu ] && { means "$v-s$s" last | awk '!($1 > 0) { bad = 1 } END { exit bad }' || relu_pos=0; }
    done
    A[$v]=$ends
    first=${seeds%% *}
    table_row "$v" "$(means "$v-s$first" first | absmean)" "$(echo $ends | tr ' ' '/')" \
        "$(means "$v-s$first" last | awk '{ printf "%s%.3g", (NR > 1 ? " " : ""), $1 }')" "$(echo $accs | tr ' ' '/')"
done
first=${seeds%% *}
# layers.csv: each hidden layer's mean at the end of training (seed $first), a column per activation.
for v in $variants; do means "$v-s$first" last >"$OUT/runs/$v.means"; done
{ echo "layer,$(echo $variants | tr ' ' ',')"; paste -d, <(seq 1 $depth) $(for v in $variants; do echo "$OUT/runs/$v.means"; done); } >layers.csv
plot layers.csv --x layer --y "$(echo $variants | tr ' ' ',')" --hline 0 --xlabel "hidden layer" \
    --ylabel "mean output on the probe batch" --title "C37: mean activation per layer after training (seed $first)" \
    --out "$OUT/mean_vs_layer.png"
plot "$OUT/runs/relu-s$first-probe.csv" "$OUT/runs/elu-s$first-probe.csv" "$OUT/runs/prelu-s$first-probe.csv" \
    --labels relu,elu,prelu --x step --y "mean:fc$depth" --hline 0 --ylabel "mean output of fc$depth" \
    --title "C37: the last hidden layer's mean over training (seed $first)" --out "$OUT/mean_vs_step.png"
# nearer VARIANT: how many seeds have VARIANT's averaged |mean| below ReLU's.
nearer() { paste <(echo ${A[$1]} | tr ' ' '\n') <(echo ${A[relu]} | tr ' ' '\n') | awk '$1 < $2 { n++ } END { print n + 0 }'; }
nseeds=$(echo $seeds | wc -w)
reason="the absolute layer means averaged over the layers at the end (seeds $seeds):$(for v in $variants; do printf ' %s %s;' "$v" "$(echo ${A[$v]} | tr ' ' '/')"; done) every ReLU layer's mean > 0: $([ $relu_pos = 1 ] && echo yes || echo no); seeds with ELU nearer 0 than ReLU $(nearer elu)/$nseeds, PReLU $(nearer prelu)/$nseeds"
if [ "$(nearer elu)" = 0 ] || [ "$(nearer prelu)" = 0 ]; then verdict contradicted "$reason"
elif [ $relu_pos = 1 ] && [ "$(nearer elu)" = "$nseeds" ] && [ "$(nearer prelu)" = "$nseeds" ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
