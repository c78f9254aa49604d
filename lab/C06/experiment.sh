# C06: a sigmoid MLP with and without batch norm (Ioffe & Szegedy Fig. 1):
# held-out accuracy against steps, the percentiles of the last hidden
# sigmoid's input over training, and the highest learning rate that trains.
EPOCHS=$(budget 10 1)
every=$(budget 200 2)
lrs=$(budget "0.1 0.5 2 8" "0.1 8")
scale "Fashion-MNIST 784-100-100-100-10 sigmoid, init normal(0, 0.01), SGD batch 60, $EPOCHS epochs, lr ∈ {$lrs}, one seed; Ioffe & Szegedy: MNIST, 50,000 steps, one unit's percentiles"
net_cfg() { # FILE LR BN
    local k
    {
        printf '[net]\ninput = 784\nbatch = 60\nepochs = %s\nseed = 1\n\n' "$EPOCHS"
        printf '[data]\nformat = idx\ntrain = %s/train-images-idx3-ubyte.gz\n' "$FASHION"
        printf 'train_labels = %s/train-labels-idx1-ubyte.gz\n' "$FASHION"
        printf 'scale = 255\nnormalize = standardize\nvalidation = 5000\n\n'
        printf '[optimizer]\ntype = sgd\nlr = %s\n\n[loss]\ntype = softmax_cross_entropy\n' "$2"
        for k in 1 2 3; do
            if [ "$3" = 1 ]; then
                printf '\n[dense]\nname = fc%s\nunits = 100\ninit = normal(0, 0.01)\nbias = 0\n' "$k"
                printf '\n[batchnorm]\nname = in%s\n' "$k"
            else
                printf '\n[dense]\nname = in%s\nunits = 100\ninit = normal(0, 0.01)\n' "$k"
            fi
            printf '\n[activation]\nname = sig%s\ntype = sigmoid\n' "$k"
        done
        printf '\n[dense]\nname = out\nunits = 10\ninit = normal(0, 0.01)\n'
    } >"$1"
}
diverged() { grep -q ": the loss is " "$OUT/runs/$1.err"; }
# first_reach NAME: the first eval row's step with val_accuracy >= 0.8, else "never".
first_reach() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "val_accuracy") a = i; if ($i == "step") s = i }; next }
        $1 == "eval" && $a >= 0.8 { print $s; found = 1; exit } END { if (!found) print "never" }' "$OUT/runs/$1.csv"
}
# pct_range NAME: the largest (max − min over the probes) of the three percentiles of in3.
pct_range() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "p15:in3") a = i; if ($i == "p50:in3") b = i; if ($i == "p85:in3") c = i }; next }
        { for (j = 0; j < 3; j++) { v = $(j == 0 ? a : j == 1 ? b : c) + 0
              if (NR == 2 || v < lo[j]) lo[j] = v; if (NR == 2 || v > hi[j]) hi[j] = v } }
        END { r = 0; for (j = 0; j < 3; j++) if (hi[j] - lo[j] > r) r = hi[j] - lo[j]; printf "%.4g\n", r }' "$OUT/runs/$1-probe.csv"
}
echo "| lr | network | final validation accuracy | first step at 0.8 | percentile range of the last sigmoid input | epoch-1 ‖∇W₁‖ | paper |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|" >>"$OUT/table.md"
highest_bn=0; highest_plain=0; plain_all=1
for lr in $lrs; do
    for bn in 1 0; do
        net=$([ $bn = 1 ] && echo bn || echo plain); name=$net-$lr
        net_cfg "$name.cfg" "$lr" "$bn"
        train "$name" "$name.cfg" --eval-every "$every" --probe "$OUT/runs/$name-probe.csv" --probe-every "$every"
        if diverged "$name"; then acc="stopped (non-finite)"; ok=0; else
            acc=$(last "$name" val_accuracy); ok=0; true_if "${acc:-0} >= 0.8" && ok=1; fi
        w1=$([ $bn = 1 ] && echo fc1 || echo in1)
        g=$(column "$name" "grad_norm:$w1.weight" | head -1)
        r=$(pct_range "$name"); f=$(first_reach "$name")
        eval "acc_$net=\"$acc\"; first_$net=$f; range_$net=$r"
        if [ $ok = 1 ]; then
            [ $bn = 1 ] && highest_bn=$lr || highest_plain=$lr
        fi
        [ $bn = 1 ] && bn_ok=$ok || { [ $bn_ok = 1 ] && [ $ok = 0 ] && plain_all=0; }
        paper=""; [ "$lr" = "$(echo $lrs | awk '{ print $1 }')" ] && paper=$([ $bn = 1 ] && echo "higher, earlier; stable band (Fig. 1)" || echo "lower; drifting band (Fig. 1)")
        table_row "$lr" "$net" "$acc" "$f" "$r" "$g" "$paper"
    done
    if [ "$lr" = "$(echo $lrs | awk '{ print $1 }')" ]; then
        lr0=$lr; bn0_acc=$acc_bn; plain0_acc=$acc_plain; bn0_first=$first_bn; plain0_first=$first_plain; bn0_range=$range_bn; plain0_range=$range_plain
        # The two runs evaluate at the same steps: pair them in order (a run
        # stopped early leaves the other's later points unmatched: BN's).
        share=$(paste -d, <(awk -F, '$1 == "eval" { print $7 }' "$OUT/runs/bn-$lr.csv") \
            <(awk -F, '$1 == "eval" { print $7 }' "$OUT/runs/plain-$lr.csv") |
            awk -F, '{ n++; if ($2 == "" || $1 != "" && $1 >= $2) k++ } END { printf "%.3f\n", n ? k / n : 0 }')
    fi
done
plot "$OUT/runs/bn-$lr0.csv" "$OUT/runs/plain-$lr0.csv" --labels "batch norm,plain" --rows eval --x step --y val_accuracy \
    --ylabel "validation accuracy" --title "C06: sigmoid MLP at lr $lr0 (Ioffe & Szegedy Fig. 1a)" --out "$OUT/accuracy_vs_step.png"
for net in bn plain; do
    plot "$OUT/runs/$net-$lr0-probe.csv" --x step --y p15:in3,p50:in3,p85:in3 --ylabel "last hidden sigmoid's input" \
        --title "C06: $net, 15th/50th/85th percentiles over training (Fig. 1$([ $net = bn ] && echo c || echo b))" --out "$OUT/percentiles_$net.png"
done
earlier=0
if [ "$bn0_first" != never ] && { [ "$plain0_first" = never ] || [ "$bn0_first" -lt "$plain0_first" ]; }; then earlier=1; fi
reason="lr $lr0: BN ≥ plain at $share of the evaluations, 0.8 first reached at step $bn0_first (BN) against $plain0_first (plain), final $bn0_acc against $plain0_acc; percentile range $bn0_range (BN) against $plain0_range (plain); highest rate that trains: BN $highest_bn, plain $highest_plain"
a=0; [ $earlier = 1 ] && true_if "$share >= 0.8" && a=1
b=0; true_if "$bn0_range < 0.5 * $plain0_range" && b=1
c=0; true_if "$highest_bn > $highest_plain" && c=1
if grep -q "^[0-9]" <<<"$plain0_acc" && grep -q "^[0-9]" <<<"$bn0_acc" && true_if "$plain0_acc - $bn0_acc > 0.01" && [ $plain_all = 1 ]; then
    verdict contradicted "$reason"
elif [ $a = 1 ] && [ $b = 1 ] && [ $c = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
