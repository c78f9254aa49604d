# C65: output sizes of stacked same- and valid-padding convolutions (nerve info).
layers=$(budget 6 3)
scale "1 to $layers stacked 3x3 and 5x5 convolutions of 8 filters on 1x28x28 (Fashion-MNIST's shape), shapes from nerve info; no training (a definition: the paper's is the formula)"
# conv_cfg FILE KERNEL PADDING N: N convolutions, then a dense layer of 10.
conv_cfg() {
    local n
    {
        printf '[net]\ninput = 1x28x28\n\n[loss]\ntype = softmax_cross_entropy\n'
        for ((n = 1; n <= $4; n++)); do
            printf '\n[conv2d]\nname = conv%d\nfilters = 8\nkernel = %s\npadding = %s\nactivation = relu\n' "$n" "$2" "$3"
        done
        printf '\n[flatten]\nname = flat\n\n[dense]\nname = out\nunits = 10\n'
    } >"$1"
}
# sides FILE: each convolution's output height and width ("HxW"), one a line.
sides() {
    "$NERVE" info "$1" >"$OUT/runs/$(basename "$1" .cfg).out" 2>&1 ||
        { echo "lab: nerve info $1 failed: $(tail -1 "$OUT/runs/$(basename "$1" .cfg).out")" >&2; exit 1; }
    awk '$2 == "conv2d" { split($3, s, "x"); print s[2] "x" s[3] }' "$OUT/runs/$(basename "$1" .cfg).out"
}
printf "layers,same3,valid3,same5,valid5,formula_valid3,formula_valid5\n0,28,28,28,28,28,28\n" >sizes.csv
{
    echo "| layer n | same 3×3 | valid 3×3 (formula 28 − 2n) | same 5×5 | valid 5×5 (formula 28 − 4n) |"
    echo "|---|---|---|---|---|"
} >"$OUT/table.md"
ok=1 wrong=""
for k in 3 5; do
    for p in same valid; do
        conv_cfg "$p$k.cfg" "$k" "$p" "$layers"
        sides "$p$k.cfg" >"$p$k.sides"
    done
done
for ((n = 1; n <= layers; n++)); do
    cells=() row=$n
    for k in 3 5; do
        for p in same valid; do
            got=$(sed -n "${n}p" "$p$k.sides")
            want=28x28
            [ $p = valid ] && want=$((28 - n * (k - 1)))x$((28 - n * (k - 1)))
            [ "$got" = "$want" ] || { ok=0; wrong="$wrong $p ${k}x$k layer $n: $got (want $want);"; }
            cells+=("$got$([ $p = valid ] && echo " ($want)")")
            row="$row,${got%x*}"
        done
    done
    table_row "$n" "${cells[@]}"
    echo "$row,$((28 - 2 * n)),$((28 - 4 * n))" >>sizes.csv
done
plot sizes.csv --x layers --y same3,valid3,same5,valid5 --xlabel "convolution layers stacked" \
    --ylabel "output height (= width)" --title "C65: same padding keeps 28 (the top edge), valid takes k - 1 off per layer" \
    --out "$OUT/size_vs_layers.png"
reason="$layers layers of 3x3 and 5x5: same keeps 28x28 and valid shrinks by k - 1 per layer at every layer: $([ $ok = 1 ] && echo yes || echo "no:$wrong")"
if [ $ok = 1 ]; then verdict confirmed "$reason"; else verdict contradicted "$reason"; fi
