# C08: per-layer activation spread at initialisation and the back-propagated
# gradient at the first step, ten hidden layers, for σ, Xavier and He.
EPOCHS=1
hidden=10
steps=$(budget 0 3) # smoke: a few steps only
scale "Fashion-MNIST 784-256x$hidden-10, biases zero, 1 epoch SGD 0.01 (the statistics are read at initialisation and at the first step), one seed, probe of 256 training samples; the book sends 1000 Gaussian inputs through 5 layers of 100 units without training"
inits=("normal(0, 0.01)" "normal(0, 0.05)" "normal(0, 1)" "xavier_normal" "kaiming_normal")
[ "$SMOKE" = 1 ] && inits=("normal(0, 0.01)" "normal(0, 1)" "xavier_normal" "kaiming_normal")
short() { case "$1" in "normal(0, "*) s=${1#normal(0, }; echo "s${s%)}" ;; xavier_normal) echo xavier ;; *) echo he ;; esac; }
# probe_value NAME COLUMN: the first probe row's (initialisation) value.
probe_value() {
    awk -F, -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next } NR == 2 { print $c }' \
        "$OUT/runs/$1-probe.csv"
}
# first_step NAME COLUMN: the first step row's value (empty if the run stopped before).
first_step() { column "$1" "$2" step | head -1; }
echo "| activation | init | std layer 1 → 5 → 10 (init) | std 10/1 | saturated, layer 10 | ‖∇b₁‖/‖∇b₁₀‖ (step 1) | loss after 1 epoch | book (recalled) |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|---|" >>"$OUT/table.md"
a_ok=1; b_ok=1; c_ok=1; refuted=0; notes=""
for act in tanh sigmoid relu; do
    columns=$(for init in "${inits[@]}"; do short "$init"; done | paste -sd,)
    echo "layer,$columns" >"std-$act.csv"
    for init in "${inits[@]}"; do
        name=$act-$(short "$init")
        layers=()
        for ((k = 0; k < hidden; k++)); do layers+=("256:$act:$init:zeros"); done
        mlp_cfg "$name.cfg" "type = sgd;lr = 0.01" "${layers[@]}" "10:none:$init:zeros"
        extra=(); [ "$steps" != 0 ] && extra=(--steps "$steps")
        train "$name" "$name.cfg" --log-every 1 --probe "$OUT/runs/$name-probe.csv" "${extra[@]}"
        # Keep the first 20 step rows and the epoch rows: the log is read at step 1.
        awk -F, 'NR == 1 || $1 != "step" || $3 <= 20' "$OUT/runs/$name.csv" >trim.csv && mv trim.csv "$OUT/runs/$name.csv"
        s1=$(probe_value "$name" std:fc1); s5=$(probe_value "$name" std:fc5); s10=$(probe_value "$name" "std:fc$hidden")
        sat=$(probe_value "$name" "saturated:fc$hidden")
        max=0; min=1e30
        for ((k = 1; k <= hidden; k++)); do
            s=$(probe_value "$name" "std:fc$k")
            true_if "$s > $max" && max=$s
            true_if "$s < $min" && min=$s
        done
        spread_ratio=$(calc "$max / ($min > 0 ? $min : 1e-30)")
        g1=$(first_step "$name" grad_norm:fc1.bias); g10=$(first_step "$name" "grad_norm:fc$hidden.bias")
        exploded=0
        if grep -q "^[0-9]" <<<"$g1$g10" && true_if "$g10 > 0"; then gr=$(calc "$g1 / $g10"); else gr="n/a"; fi
        loss=$(last "$name" train_loss)
        if [ -z "$loss" ] || grep -qi "nan\|inf" <<<"$loss$g1$g10" || grep -q ": the loss is " "$OUT/runs/$name.err"; then
            exploded=1; loss="exploded (non-finite)"
        fi
        r=$(calc "$s10 / ($s1 > 0 ? $s1 : 1e-30)")
        book=""
        case "$act-$(short "$init")" in
            sigmoid-s1) book="piled at 0 and 1" ;; sigmoid-s0.01) book="all at 0.5" ;; sigmoid-xavier | tanh-xavier) book="spread in every layer" ;;
            relu-he) book="spread kept" ;; relu-xavier | relu-s0.01) book="shrinks layer by layer" ;;
        esac
        table_row "$act" "$init" "$s1 → $s5 → $s10" "$r" "${sat:-—}" "$gr" "$loss" "$book"
        # (a) σ = 1
        if [ "$init" = "normal(0, 1)" ]; then
            if [ "$act" = relu ]; then
                grows=0; true_if "$r >= 10" && grows=1
                explodes=$exploded; [ "$gr" != n/a ] && true_if "$gr >= 10" && explodes=1
                [ $grows = 1 ] && [ $explodes = 1 ] || a_ok=0
                notes="$notes relu σ=1: std ×$r, gradient ratio $gr$([ $exploded = 1 ] && echo ", non-finite");"
            else
                true_if "$sat >= 0.5" || a_ok=0
                true_if "$sat < 0.1" && refuted=1
                notes="$notes $act σ=1 saturated $sat;"
            fi
        fi
        # (b) σ = 0.01
        if [ "$init" = "normal(0, 0.01)" ]; then
            if [ "$gr" = n/a ] || ! true_if "$gr <= 0.1"; then b_ok=0; fi
            notes="$notes $act σ=0.01 gradient ratio $gr;"
        fi
        # (c) Xavier-tanh, He-relu
        if [ "$act-$(short "$init")" = tanh-xavier ] || [ "$act-$(short "$init")" = relu-he ]; then
            true_if "$spread_ratio <= 2" || c_ok=0
            true_if "$spread_ratio >= 10" && refuted=1
            notes="$notes $act $(short "$init") std max/min $spread_ratio;"
        fi
    done
    for ((k = 1; k <= hidden; k++)); do
        row=$k
        for init in "${inits[@]}"; do row="$row,$(probe_value "$act-$(short "$init")" "std:fc$k")"; done
        echo "$row" >>"std-$act.csv"
    done
    plot "std-$act.csv" --x layer --y "$columns" --log-y --xlabel "hidden layer" \
        --ylabel "activation std at initialisation" --title "C08: $act, activation spread per layer by initialiser" \
        --out "$OUT/std_per_layer_$act.png"
done
plot "$OUT/runs/tanh-s1-probe.csv" --y 'hist:fc1:*' --heatmap --title "C08: tanh σ = 1, layer-1 histogram (row 1: init, row 2: after 1 epoch)" \
    --out "$OUT/tanh_sigma1_histogram.png"
reason="(a) σ = 1 saturates/explodes: $([ $a_ok = 1 ] && echo yes || echo no); (b) σ = 0.01 vanishes (≥ 10×): $([ $b_ok = 1 ] && echo yes || echo no); (c) Xavier-tanh and He-relu within 2×: $([ $c_ok = 1 ] && echo yes || echo no).$notes"
if [ $refuted = 1 ]; then verdict contradicted "$reason"
elif [ $a_ok = 1 ] && [ $b_ok = 1 ] && [ $c_ok = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
