# C69: nerve predict's class (softmax) against the argmax of the logits.
EPOCHS=$(budget 2 1)
scale "Fashion-MNIST MLP 784-256-128-10, $EPOCHS epochs, seed 1; the $(budget "10,000" 200) test images (a monotonicity: no paper figure)"
mlp_cfg mlp.cfg "type = sgd;lr = 0.05;momentum = 0.9" "256:relu" "128:relu" "10:none"
train mlp mlp.cfg --save "$PWD/mlp.safetensors"
images=$FASHION/t10k-images-idx3-ubyte.gz
"$NERVE" predict mlp.cfg --weights "$PWD/mlp.safetensors" --input "$images" --threads "$THREADS" >"$OUT/runs/classes.out" 2>&1 &&
    "$NERVE" predict mlp.cfg --weights "$PWD/mlp.safetensors" --input "$images" --layer out --threads "$THREADS" >"$OUT/runs/logits.out" 2>&1 ||
    { echo "lab: nerve predict failed: $(tail -1 "$OUT/runs/classes.out" "$OUT/runs/logits.out")" >&2; exit 1; }
# compare.csv: per image the softmax class, the logits' argmax, the margin
# between the two largest logits and whether they tie.
paste <(awk 'NR > 1 { print $2 }' "$OUT/runs/classes.out") <(awk 'NR > 1' "$OUT/runs/logits.out") |
    awk 'BEGIN { print "index,softmax_class,logit_argmax,margin,tie" }
         { best = 3; second = -1; for (i = 4; i <= NF; i++) if ($i > $best) best = i
           for (i = 3; i <= NF; i++) if (i != best && (second < 0 || $i > $second)) second = i
           printf "%d,%d,%d,%.6g,%d\n", $2, $1, best - 3, $best - $second, ($best == $second) }' >compare.csv
read -r n agree ties < <(awk -F, 'NR > 1 { n++; if ($5) t++; else if ($2 == $3) a++ } END { print n + 0, a + 0, t + 0 }' compare.csv)
smallest=$(awk -F, 'NR > 1 && !$5 { if (m == "" || $4 < m) m = $4 } END { print m }' compare.csv)
{
    echo "| test images | ties (equal top logits) | softmax class = logits' argmax | smallest top-2 logit margin | test accuracy |"
    echo "|---|---|---|---|---|"
} >"$OUT/table.md"
table_row "$n" "$ties" "$agree of $((n - ties))" "$smallest" "$(test_accuracy mlp)"
plot compare.csv --y margin --hist --bins 40 --xlabel "largest logit minus the second (nats)" --ylabel "test images" \
    --title "C69: how far apart the two top logits are (softmax keeps their order either way)" --out "$OUT/margin_hist.png"
reason="$agree of $((n - ties)) non-tied test images: the softmax's class is the logits' argmax ($ties ties; smallest margin $smallest)"
if [ "$agree" = $((n - ties)) ] && [ "$n" -gt 0 ]; then verdict confirmed "$reason"; else verdict contradicted "$reason"; fi
