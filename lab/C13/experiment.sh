# C13: six optimizers on the book's 4x100 ReLU MLP, 2000 steps.
steps=$(budget 2000 20)
every=$(budget 50 5)
from=$(budget 500 5)
seeds=$(budget "1 2 3" "1")
EPOCHS=100
scale "Fashion-MNIST (the book used MNIST), 784-100x4-10 relu, $steps steps, seeds $seeds"
names=(sgd momentum nesterov adagrad rmsprop adam)
opts=("type = sgd;lr = 0.01" "type = sgd;lr = 0.01;momentum = 0.9" "type = sgd;lr = 0.01;momentum = 0.9;nesterov = 1"
      "type = adagrad;lr = 0.01" "type = rmsprop;lr = 0.001" "type = adam;lr = 0.001")
# smoothed NAME: "step loss" lines, the loss an EMA (0.9, debiased) of the step rows' loss.
smoothed() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "train_loss") l = i; if ($i == "step") s = i }; next }
        $1 == "step" { e = 0.9 * e + 0.1 * $l; w = 0.9 * w + 0.1; print $s, e / w }' "$OUT/runs/$1.csv"
}
for k in "${!names[@]}"; do
    mlp_cfg "${names[$k]}.cfg" "${opts[$k]}" "100:relu:he_normal" "100:relu:he_normal" "100:relu:he_normal" "100:relu:he_normal" "10:none"
    for s in $seeds; do train "${names[$k]}-s$s" "${names[$k]}.cfg" --seed "$s" --steps "$steps" --log-every "$every"; done
done
echo "| optimizer | smoothed loss at step $from (mean over seeds) | at step $steps | below SGD from step $from on, in all seeds |" >"$OUT/table.md"
echo "|---|---|---|---|" >>"$OUT/table.md"
ok=1; worse_at_end=0
for k in "${!names[@]}"; do
    n=${names[$k]}; at_from=""; at_end=""; below=yes; above_end_all=1
    for s in $seeds; do
        smoothed "$n-s$s" >"$n-s$s.txt"
        at_from="$at_from $(awk -v f="$from" '$1 == f { print $2 }' "$n-s$s.txt")"
        at_end="$at_end $(tail -1 "$n-s$s.txt" | awk '{ print $2 }')"
        if [ "$n" != sgd ]; then
            awk -v f="$from" 'NR == FNR { sgd[$1] = $2; next } $1 >= f && $2 >= sgd[$1] { bad = 1 } END { exit bad }' \
                "sgd-s$s.txt" "$n-s$s.txt" || below=no
            awk 'NR == FNR { last = $2; next } { mine = $2 } END { exit !(mine > last) }' "sgd-s$s.txt" "$n-s$s.txt" || above_end_all=0
        fi
    done
    [ "$n" = sgd ] && below="(reference)"
    [ "$below" = no ] && ok=0
    [ "$n" != sgd ] && [ $above_end_all = 1 ] && worse_at_end=1
    table_row "$n" "$(mean $at_from)" "$(mean $at_end)" "$below"
done
table_row "book Fig. 6-9 (recalled)" "" "" "SGD slowest; others similar"
{ echo "step,$(IFS=,; echo "${names[*]}")"
  paste -d' ' $(for n in "${names[@]}"; do echo "$n-s1.txt"; done) | awk '{ printf "%s", $1; for (i = 2; i <= NF; i += 2) printf ",%s", $i; print "" }'
} >smoothed-s1.csv
cp smoothed-s1.csv "$OUT/"
plot smoothed-s1.csv --x step --y "$(IFS=,; echo "${names[*]}")" --ylabel "training loss (EMA 0.9)" \
    --title "C13: optimizers on 784-100x4-10 relu, seed 1" --out "$OUT/loss_vs_step.png"
reason="every non-SGD method below SGD from step $from on in all seeds: $([ $ok = 1 ] && echo yes || echo no); a method above SGD at the end in every seed: $([ $worse_at_end = 1 ] && echo yes || echo no)"
if [ $worse_at_end = 1 ]; then verdict contradicted "$reason"
elif [ $ok = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
