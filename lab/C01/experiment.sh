# C01: test accuracy against depth for none / relu / tanh hidden layers.
EPOCHS=$(budget 10 1)
seeds=$(budget "1 2" "1")
depths=$(budget "0 1 2 3 5" "0 1 2")
# The linear nets' rate is the best of a grid by seed 1's final validation
# accuracy (claim.txt); relu and tanh keep 0.05.
linear_lrs=$(budget "0.002 0.01 0.05" "0.01 0.05")
first=${seeds%% *}
scale "Fashion-MNIST 55k/5k/10k, depths $depths, width 256, $EPOCHS epochs, seeds $seeds; linear nets at the best of lr $linear_lrs on the validation split, relu and tanh at 0.05; the paper's reference is sklearn on 60k without a validation split"
# run DEPTH ACTIVATION SEED LR: trains the net, named in $name.
run() {
    local layers=() k
    name="d$1-$2-s$3-lr$4"
    for ((k = 0; k < $1; k++)); do layers+=("256:$2:he_uniform"); done
    mlp_cfg "$name.cfg" "type = sgd;lr = $4;momentum = 0.9" "${layers[@]}" "10:none"
    train "$name" "$name.cfg" --seed "$3"
}
# A run stopped on non-finite values (exit 4) has no test figure: it scores 0
# and its validation figure, for the choice of the rate, is 0 too.
accuracy() { local a; a=$(test_accuracy "$1"); echo "${a:-0}"; }
val_accuracy() { [ -n "$(test_accuracy "$1")" ] && last "$1" val_accuracy || echo 0; }
# choose_lr DEPTH ACTIVATION: the chosen rate in $chosen, seed 1's validation
# accuracies at each rate of the grid in $sweep_note (the runs are kept).
choose_lr() {
    local best=-1 lr v
    chosen="" sweep_note=""
    for lr in $linear_lrs; do
        run "$1" "$2" "$first" "$lr"
        v=$(val_accuracy "$name")
        sweep_note="$sweep_note/$v"
        true_if "$v > $best" && { best=$v; chosen=$lr; }
    done
    sweep_note=${sweep_note#/}
}
echo "layers,none,relu,tanh" >summary.csv
{
    echo "| hidden layers | none (lr chosen; seed-1 val. accuracy at $linear_lrs) | relu (lr 0.05) | tanh (lr 0.05) | paper |"
    echo "|---|---|---|---|---|"
} >"$OUT/table.md"
base=""; lin_ok=1; relu_ok=1; refuted=0; worst_gap=0; diverged=""
for d in $depths; do
    row="$d"; cells=()
    for act in none relu tanh; do
        if [ "$d" = 0 ] && [ "$act" != none ]; then
            row="$row,$m"; cells+=("$m"); continue
        fi
        lr=0.05; note=""
        if [ "$act" = none ]; then
            choose_lr "$d" none; lr=$chosen
            note=" (lr $lr; $sweep_note)"
        fi
        values=""
        for s in $seeds; do
            if [ "$act" = none ] && [ "$s" = "$first" ]; then name="d$d-none-s$s-lr$lr"
            else run "$d" "$act" "$s" "$lr"; fi
            [ -n "$(test_accuracy "$name")" ] || diverged="$diverged $name"
            values="$values $(accuracy "$name")"
        done
        m=$(mean $values)
        row="$row,$m"
        cells+=("$m ± $(spread $values)$note")
        if [ "$act" = none ]; then
            [ -z "$base" ] && base=$m
            gap=$(calc "$m - $base")
            awk -v g="$gap" -v w="$worst_gap" 'BEGIN { exit !((g < 0 ? -g : g) > (w < 0 ? -w : w)) }' && worst_gap=$gap
            true_if "$gap <= 0.005 && $gap >= -0.005" || lin_ok=0
            true_if "$gap > 0.01" && refuted=1
        elif [ "$act" = relu ]; then
            true_if "$m >= 0.88" || relu_ok=0
        fi
    done
    paper=$([ "$d" = 0 ] && echo "0.842 (LogReg)" || ([ "$d" = 1 ] && echo "relu 0.871, tanh 0.868 (100 units)" || echo ""))
    table_row "$d" "${cells[@]}" "$paper"
    echo "$row" >>summary.csv
done
plot summary.csv --x layers --y none,relu,tanh --hline 0.842 --xlabel "hidden layers" \
    --ylabel "test accuracy" --title "C01: depth without a nonlinearity (dashed: paper's LogReg 0.842)" \
    --out "$OUT/accuracy_vs_depth.png"
reason="0-layer model $base; linear nets' largest gap $worst_gap; relu ≥ 0.88 at every depth: $([ $relu_ok = 1 ] && echo yes || echo no); runs stopped on non-finite values (scored 0):${diverged:- none}"
if [ $refuted = 1 ]; then verdict contradicted "$reason"
elif [ $lin_ok = 1 ] && [ $relu_ok = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
