# C55: the first layer's gradient over the last one's through 10 layers, by activation.
steps=$(budget 100 4)
seeds=$(budget "1 2 3" "1")
variants="sigmoid tanh relu elu selu gelu"
scale "Fashion-MNIST MLPs of 10 weighted layers (9 x 256 hidden), PyTorch's default init, the first $steps steps of SGD 0.01 momentum 0.9, seeds $seeds (no paper figure)"
for v in $variants; do
    layers=(); for ((k = 0; k < 9; k++)); do layers+=("256:$v"); done
    mlp_cfg "$v.cfg" "type = sgd;lr = 0.01;momentum = 0.9" "${layers[@]}" "10:none"
done
# ratio NAME: the median over the step rows of grad_norm:fc1.weight / grad_norm:out.weight.
ratio() {
    paste -d' ' <(column "$1" grad_norm:fc1.weight step) <(column "$1" grad_norm:out.weight step) |
        awk '$2 > 0 { print $1 / $2 }' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else printf "%.4g\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
{
    echo "| hidden activation | median R = ‖∇W_fc1‖ / ‖∇W_out‖ over the first $steps steps (seeds $seeds) | vanishing (R < 0.1) | exploding (R > 10) |"
    echo "|---|---|---|---|"
} >"$OUT/table.md"
echo "activation,log10_R" >ratios.csv
vanish=0 explode=0 i=0
for v in $variants; do
    rs="" nv=0 ne=0
    for s in $seeds; do
        train "$v-s$s" "$v.cfg" --seed "$s" --steps "$steps" --log-every 1
        r=$(ratio "$v-s$s"); rs="$rs $r"
        true_if "$r < 0.1" && nv=$((nv + 1))
        true_if "$r > 10" && ne=$((ne + 1))
    done
    vanish=$((vanish + nv)); explode=$((explode + ne)); i=$((i + 1))
    table_row "$v" "$(echo $rs | tr ' ' '/')" "$nv" "$ne"
    echo "$i,$(echo $rs | awk '{ s = 0; for (k = 1; k <= NF; k++) s += log($k) / log(10); printf "%.4g\n", s / NF }')" >>ratios.csv
done
plot ratios.csv --x activation --y log10_R --hline -1,1 --xlabel "1 sigmoid, 2 tanh, 3 relu, 4 elu, 5 selu, 6 gelu" \
    --ylabel "log10 R (mean over seeds)" --title "C55: first-layer over last-layer gradient, 10 layers (dashed: R = 0.1 and 10)" \
    --out "$OUT/ratio.png"
first=${seeds%% *}
plot $(for v in $variants; do echo "$OUT/runs/$v-s$first.csv"; done) --labels "$(echo $variants | tr ' ' ',')" --x step \
    --y grad_norm:fc1.weight --log-y --ylabel "gradient norm of fc1.weight" --title "C55: the first layer's gradient (seed $first)" \
    --out "$OUT/grad_fc1.png"
reason="configurations (activation x seed) vanishing: $vanish, exploding: $explode of $((i * $(echo $seeds | wc -w)))"
if [ $vanish -gt $explode ]; then verdict confirmed "$reason"
elif [ $explode -gt $vanish ]; then verdict contradicted "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
