# C62: the cross-entropy at the first epoch of 100 % training accuracy, and after.
EPOCHS=$(budget 200 60)
seeds=$(budget "1 2 3" "1")
limit=$(budget 1000 100)
BATCH=100 VALIDATION=$(budget 1000 100)
scale "first $limit Fashion-MNIST training images, MLP 784-256-128-10 relu, Adam 0.001, batch 100, $EPOCHS epochs, seeds $seeds, label smoothing 0 and 0.1 (a definition: no paper figure)"
mlp_cfg ce.cfg "type = adam;lr = 0.001" "256:relu" "128:relu" "10:none"
sed 's/^type = softmax_cross_entropy$/type = softmax_cross_entropy\nlabel_smoothing = 0.1/' ce.cfg >smooth.cfg
# at_full NAME: "EPOCH LOSS" at the first epoch whose whole-training-set accuracy
# (eval mode) is 1, or "never"; final NAME: the last epoch's loss.
at_full() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "train_eval_accuracy") a = i; if ($i == "train_eval_loss") l = i } next }
             $1 == "epoch" && $a == 1 { print $2, $l; found = 1; exit }
             END { if (!found) print "never" }' "$OUT/runs/$1.csv"
}
final() { last "$1" train_eval_loss; }
{
    echo "| loss | seed | first epoch at 100 % training accuracy | training loss then | training loss at epoch $EPOCHS | floor |"
    echo "|---|---|---|---|---|---|"
} >"$OUT/table.md"
slip=1 holds=0 reached=1 detail=""
for v in ce smooth; do
    for s in $seeds; do
        train "$v-s$s" "$v.cfg" --seed "$s" --set "data.train_limit=$limit" --eval-train
        read -r e l < <(at_full "$v-s$s")
        f=$(final "$v-s$s")
        table_row "$([ $v = ce ] && echo cross-entropy || echo "label smoothing 0.1")" "$s" "$e" "${l:-}" "$f" \
            "$([ $v = ce ] && echo 0 || echo 0.50)"
        [ $v = ce ] || continue
        detail="$detail seed $s: epoch $e, loss ${l:--} -> $f;"
        if [ "$e" = never ]; then reached=0; slip=0; continue; fi
        true_if "$l > 0.001 && $f < $l" || slip=0
        true_if "$l < 1e-6" && holds=1
    done
done
first=${seeds%% *}
plot "$OUT/runs/ce-s$first.csv" "$OUT/runs/smooth-s$first.csv" --labels "cross-entropy,label smoothing 0.1" \
    --y train_eval_loss --log-y --hline 0.5 --ylabel "training loss (whole set, eval mode)" \
    --title "C62: the loss keeps falling after every sample is correct (dashed: smoothing's floor, seed $first)" --out "$OUT/loss.png"
plot "$OUT/runs/ce-s$first.csv" "$OUT/runs/smooth-s$first.csv" --labels "cross-entropy,label smoothing 0.1" \
    --y train_eval_accuracy --ylabel "training accuracy (whole set, eval mode)" \
    --title "C62: training accuracy (seed $first)" --out "$OUT/accuracy.png"
reason="without smoothing, at the first epoch of 100 % training accuracy and at the end:$detail"
if [ $holds = 1 ]; then verdict confirmed "$reason"
elif [ $reached = 1 ] && [ $slip = 1 ]; then verdict contradicted "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
