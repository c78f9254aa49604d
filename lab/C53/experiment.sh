# C53: Adam against the notes' constant bias correction, step by step.
EPOCHS=$(budget 2 3)
scale "Fashion-MNIST MLP 784-256-128-10, batch 128, $EPOCHS epochs, seed 1, every step logged (the paper: a formula; its experiments are not re-run)"
mlp_cfg adam.cfg "type = adam;lr = 0.001;eps = 1e-8" "256:relu" "128:relu" "10:none"
mlp_cfg notes.cfg "type = adam;lr = 0.000316228;eps = 3.16228e-10;bias_correction = 0" "256:relu" "128:relu" "10:none"
mlp_cfg none.cfg "type = adam;lr = 0.001;eps = 1e-8;bias_correction = 0" "256:relu" "128:relu" "10:none"
for v in adam notes none; do train "$v" "$v.cfg" --log-every 1; done
# ratio.csv: step, the measured update ratio notes/adam and the formula's r_t.
paste -d, <(column adam step step) <(column adam update_ratio:fc1.weight step) <(column notes update_ratio:fc1.weight step) |
    awk -F, 'BEGIN { print "step,measured,formula" }
             $2 > 0 { t = $1; printf "%d,%.6g,%.6g\n", t, $3 / $2, (1 - 0.9 ^ t) / 0.1 * sqrt(0.001 / (1 - 0.999 ^ t)) }' >ratio.csv
at() { awk -F, -v t="$1" -v c="$2" 'NR > 1 && $1 == t { print $c }' ratio.csv; }
last_step=$(tail -1 ratio.csv | cut -d, -f1)
{
    echo "| step t | update size, notes / Adam (fc1.weight) | the formula r_t |"
    echo "|---|---|---|"
} >"$OUT/table.md"
for t in 1 2 5 10 20 50 100 200 500 "$last_step"; do
    [ -n "$(at "$t" 2)" ] && table_row "$t" "$(at "$t" 2)" "$(at "$t" 3)"
done
table_row "test accuracy after $EPOCHS epochs" "Adam $(test_accuracy adam), notes $(test_accuracy notes), no correction $(test_accuracy none)" ""
plot ratio.csv --x step --y measured,formula --log-y --hline 1 --xlabel "step t" \
    --ylabel "update size, notes' variant / Adam" --title "C53: the notes' constant correction against Adam's 1 - beta^t" \
    --out "$OUT/update_ratio.png"
plot "$OUT/runs/adam.csv" "$OUT/runs/notes.csv" "$OUT/runs/none.csv" --labels "Adam,notes' 1 - beta,no correction" \
    --x step --y train_loss --smooth 0.9 --log-y --ylabel "training loss (batch, smoothed)" \
    --title "C53: training loss, Adam and the notes' variant" --out "$OUT/loss.png"
r1=$(at 1 2)
# The first step above 1.2, and the lowest ratio after it.
read -r up low < <(awk -F, 'NR > 1 && !up && $2 > 1.2 { up = $1; next } up && (low == "" || $2 < low) { low = $2 }
                            END { print (up ? up : "never"), (low == "" ? "none" : low) }' ratio.csv)
reason="measured update ratio notes/Adam: step 1 $r1, step 10 $(at 10 2) (formula $(at 10 3)), step $last_step $(at "$last_step" 2) (formula $(at "$last_step" 3)); first above 1.2 at step $up, lowest after it $low"
if true_if "$r1 >= 0.95 && $r1 <= 1.05" && [ "$up" != never ] && [ "$low" != none ] && true_if "$low < 0.8"; then
    verdict contradicted "$reason"
elif awk -F, 'NR > 1 && ($2 < 0.9 || $2 > 1.1) { bad = 1 } END { exit bad }' ratio.csv; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
