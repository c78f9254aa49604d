# C47: the binary step (no gradient below it), its straight-through twin and the sigmoid.
EPOCHS=$(budget 5 1)
seeds=$(budget "1 2 3" "1")
variants="step step_ste sigmoid"
scale "Fashion-MNIST MLP 784-256-128-10, SGD 0.05 momentum 0.9, batch 128, $EPOCHS epochs, seeds $seeds (no paper figure: a property of the derivative)"
opt="type = sgd;lr = 0.05;momentum = 0.9"
mlp_cfg step.cfg "$opt" "256:binary_step" "128:binary_step" "10:none"
sed 's/^activation = binary_step$/activation = binary_step\nstraight_through = 1/' step.cfg >step_ste.cfg
mlp_cfg sigmoid.cfg "$opt" "256:sigmoid" "128:sigmoid" "10:none"
# nonzero NAME COLUMN: how many epoch rows of runs/NAME.csv hold a non-zero COLUMN.
nonzero() { column "$1" "$2" | awk '$1 != 0 { n++ } END { print n + 0 }'; }
{
    echo "| hidden activation | test accuracy (seeds $seeds) | mean | epoch rows with a non-zero gradient: fc1.weight / fc2.weight / out.weight | last epoch's mean gradient norm fc1.weight / out.weight (seed ${seeds%% *}) |"
    echo "|---|---|---|---|---|"
} >"$OUT/table.md"
declare -A M F1 F2 FO
for v in $variants; do
    accs="" f1=0 f2=0 fo=0 rows=0
    for s in $seeds; do
        train "$v-s$s" "$v.cfg" --seed "$s"
        a=$(test_accuracy "$v-s$s"); accs="$accs ${a:-0.1}"
        f1=$((f1 + $(nonzero "$v-s$s" grad_norm:fc1.weight)))
        f2=$((f2 + $(nonzero "$v-s$s" grad_norm:fc2.weight)))
        fo=$((fo + $(nonzero "$v-s$s" grad_norm:out.weight)))
        rows=$((rows + $(column "$v-s$s" epoch | wc -l)))
    done
    M[$v]=$(mean $accs); F1[$v]=$f1; F2[$v]=$f2; FO[$v]=$fo
    first=${seeds%% *}
    table_row "$v" "$(echo $accs | tr ' ' '/')" "${M[$v]}" "$f1 / $f2 / $fo of $rows" \
        "$(last "$v-s$first" grad_norm:fc1.weight) / $(last "$v-s$first" grad_norm:out.weight)"
done
first=${seeds%% *}
plot "$OUT/runs/step-s$first.csv" "$OUT/runs/step_ste-s$first.csv" "$OUT/runs/sigmoid-s$first.csv" \
    --labels "binary step,straight-through step,sigmoid" --y grad_norm:fc1.weight \
    --ylabel "gradient norm of fc1.weight (epoch mean)" --title "C47: the gradient reaching the first layer (seed $first)" \
    --out "$OUT/grad_fc1.png"
plot "$OUT/runs/step-s$first.csv" "$OUT/runs/step_ste-s$first.csv" "$OUT/runs/sigmoid-s$first.csv" \
    --labels "binary step,straight-through step,sigmoid" --y val_accuracy \
    --ylabel "validation accuracy" --title "C47: learning with a step, a straight-through step and a sigmoid (seed $first)" \
    --out "$OUT/accuracy.png"
dead=$([ "${F1[step]}" = 0 ] && [ "${F2[step]}" = 0 ] && [ "${FO[step]}" -gt 0 ] && echo 1 || echo 0)
learn=1
for v in step_ste sigmoid; do
    true_if "${M[$v]} >= ${M[step]} + 0.02" && [ "${F1[$v]}" -gt 0 ] || learn=0
done
reason="binary step: non-zero fc1/fc2/out gradient rows ${F1[step]}/${F2[step]}/${FO[step]}, test accuracy ${M[step]}; straight-through ${M[step_ste]}; sigmoid ${M[sigmoid]}"
if [ "${F1[step]}" != 0 ] || [ "${F2[step]}" != 0 ] || true_if "${M[step]} >= ${M[sigmoid]}"; then verdict contradicted "$reason"
elif [ $dead = 1 ] && [ $learn = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
