# C39: SELU's layer statistics at initialisation, 32 layers deep.
depth=$(budget 32 4)
seeds=$(budget "1 2 3" "1")
probe=$(budget 1000 200)
variants="selu_lecun_normal selu_lecun_uniform selu_default relu_he_normal"
scale "Fashion-MNIST's standardised inputs, MLPs of $depth x 256 at initialisation, probe of $probe images, seeds $seeds (Klambauer et al.: UCI, Tox21, HTRU2; up to 32 layers)"
for v in $variants; do
    act=${v%%_*} init=${v#*_}; [ "$init" = default ] && init=""
    layers=(); for ((k = 0; k < depth; k++)); do layers+=("256:$act:$init:zeros"); done
    mlp_cfg "$v.cfg" "type = sgd;lr = 0.01" "${layers[@]}" "10:none"
done
# stats NAME: "mean std" of each hidden layer in runs/NAME-probe.csv, one line each.
stats() {
    awk -F, -v depth="$depth" 'NR == 1 { for (i = 1; i <= NF; i++) for (k = 1; k <= depth; k++) { if ($i == "mean:fc" k) m[k] = i; if ($i == "std:fc" k) s[k] = i } next }
        NR == 2 { for (k = 1; k <= depth; k++) print $m[k], $s[k] }' "$OUT/runs/$1-probe.csv"
}
{
    echo "| hidden layers | init | layers within mean 0 ± 0.1 and std 0.894-1.095 (all seeds) | last layer's mean / std (seeds $seeds) | worst mean, worst std over layers and seeds |"
    echo "|---|---|---|---|---|"
} >"$OUT/table.md"
declare -A IN
for v in $variants; do
    lasts="" files=()
    for s in $seeds; do
        "$NERVE" train "$v.cfg" --seed "$s" --epochs 0 --batch "$probe" --probe "$OUT/runs/$v-s$s-probe.csv" --probe-size "$probe" \
            --threads "$THREADS" $(smoke_data) >"$OUT/runs/$v-s$s.out" 2>&1 ||
            { echo "lab: the probe of $v failed: $(tail -1 "$OUT/runs/$v-s$s.out")" >&2; exit 1; }
        stats "$v-s$s" >"$OUT/runs/$v-s$s.stats"
        files+=("$OUT/runs/$v-s$s.stats")
        lasts="$lasts $(tail -1 "$OUT/runs/$v-s$s.stats" | awk '{ printf "%.3g/%.3g", $1, $2 }')"
    done
    # Over every layer of every seed: how many lie within the bounds, and the
    # mean and the standard deviation farthest from 0 and 1.
    read -r inside total worst_m worst_s < <(cat "${files[@]}" | awk '
        { t++; if ($1 >= -0.1 && $1 <= 0.1 && $2 >= 0.894 && $2 <= 1.095) i++
          a = ($1 < 0 ? -$1 : $1); if (t == 1 || a > wm) { wm = a; m = $1 }
          d = ($2 > 1 ? $2 - 1 : 1 - $2); if (t == 1 || d > ws) { ws = d; sd = $2 } }
        END { printf "%d %d %.4g %.4g\n", i, t, m, sd }')
    IN[$v]="$inside $total"
    table_row "${v%%_*}" "${v#*_}" "$inside of $total" "$(echo $lasts | sed 's/ /; /g')" "$worst_m, $worst_s"
done
first=${seeds%% *}
{
    echo "layer,$(for v in $variants; do printf '%s_mean,%s_std,' "$v" "$v"; done | sed 's/,$//')"
    # shellcheck disable=SC2046
    paste -d' ' <(seq 1 "$depth") $(for v in $variants; do echo "$OUT/runs/$v-s$first.stats"; done) | tr ' ' ','
} >layers.csv
plot layers.csv --x layer --y "$(for v in $variants; do printf '%s_std,' "$v"; done | sed 's/,$//')" --log-y --hline 0.894,1.095 \
    --xlabel "hidden layer" --ylabel "standard deviation of the layer's outputs" \
    --title "C39: the spread through $depth layers at initialisation (seed $first; dashed: the bounds)" --out "$OUT/std_vs_layer.png"
plot layers.csv --x layer --y "$(for v in $variants; do printf '%s_mean,' "$v"; done | sed 's/,$//')" --hline -0.1,0.1 \
    --xlabel "hidden layer" --ylabel "mean of the layer's outputs" \
    --title "C39: the mean through $depth layers at initialisation (seed $first; dashed: the bounds)" --out "$OUT/mean_vs_layer.png"
all() { set -- ${IN[$1]}; [ "$1" = "$2" ]; }
reason="layers within the bounds:$(for v in $variants; do printf ' %s %s of %s;' "$v" ${IN[$v]}; done)"
if ! all selu_lecun_normal || all selu_lecun_uniform; then verdict contradicted "$reason"
else verdict confirmed "$reason"; fi
