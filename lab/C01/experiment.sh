# C01: test accuracy against depth for none / relu / tanh hidden layers.
EPOCHS=$(budget 10 1)
seeds=$(budget "1 2" "1")
depths=$(budget "0 1 2 3 5" "0 1 2")
scale "Fashion-MNIST 55k/5k/10k, depths $depths, width 256, $EPOCHS epochs, seeds $seeds; the paper's reference is sklearn on 60k without a validation split"
opt="type = sgd;lr = 0.05;momentum = 0.9"
accuracy() { # depth activation seed
    local name="d$1-$2-s$3" layers=() k
    for ((k = 0; k < $1; k++)); do layers+=("256:$2:he_uniform"); done
    mlp_cfg "$name.cfg" "$opt" "${layers[@]}" "10:none"
    train "$name" "$name.cfg" --seed "$3"
    local a
    a=$(test_accuracy "$name")
    echo "${a:-0}" # a diverged run (exit 4) scores 0
}
echo "layers,none,relu,tanh" >summary.csv
echo "| hidden layers | none | relu | tanh | paper |" >"$OUT/table.md"
echo "|---|---|---|---|---|" >>"$OUT/table.md"
base=""; lin_ok=1; relu_ok=1; refuted=0; worst_gap=0
for d in $depths; do
    row="$d"; cells=()
    for act in none relu tanh; do
        if [ "$d" = 0 ] && [ "$act" != none ]; then
            row="$row,$m"; cells+=("$m"); continue
        fi
        values=""
        for s in $seeds; do values="$values $(accuracy "$d" "$act" "$s")"; done
        m=$(mean $values)
        row="$row,$m"
        cells+=("$m ± $(spread $values)")
        if [ "$act" = none ]; then
            [ -z "$base" ] && base=$m
            gap=$(calc "$m - $base")
            true_if "($gap < 0 ? -$gap : $gap) > (${worst_gap#-} + 0)" && worst_gap=$gap
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
reason="0-layer model $base; linear nets' largest gap $worst_gap; relu ≥ 0.88 at every depth: $([ $relu_ok = 1 ] && echo yes || echo no)"
if [ $refuted = 1 ]; then verdict contradicted "$reason"
elif [ $lin_ok = 1 ] && [ $relu_ok = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
