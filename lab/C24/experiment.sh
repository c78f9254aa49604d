# C24: batch, stochastic and mini-batch gradient descent on a 10k subset.
EPOCHS=$(budget 10 2)
n=$(budget 10000 500)
batches="1 32 128 1024 full"
[ "$SMOKE" = 1 ] && batches="1 32 full"
scale "Fashion-MNIST first $n training images, MLP 784-256-128-10, plain SGD, $EPOCHS epochs, batch $batches, each at the best of 3 rates, seed 1 (a textbook claim: no paper setup)"
mlp_cfg mlp.cfg "type = sgd" "256:relu" "128:relu" "10:none"
lrs_of() { case $1 in 1) echo "0.001 0.003 0.01" ;; 32) echo "0.01 0.03 0.1" ;; 128) echo "0.03 0.1 0.3" ;; 1024) echo "0.1 0.3 1" ;; full) echo "0.3 1 3" ;; esac; }
# every BATCH: the step rows' interval (about 200 per run; every step of the full batch).
every() { case $1 in full) echo 1 ;; *) echo $(( (n * EPOCHS / $1 + 199) / 200 )) ;; esac; }
run() { train "$1" mlp.cfg --set net.batch="$2" --lr "$3" --set data.train_limit="$n" --log-every "$(every "$2")" --on-nan skip "${@:4}"; }
# at_epoch NAME E COLUMN: the column's value in epoch row E.
at_epoch() { column "$1" "$3" | sed -n "${2}p"; }
echo "| batch | val. loss per rate | chosen rate | val. loss after epoch 1 | final val. loss | final val. accuracy | seconds (busy machine) | std of logged step losses, last epoch |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|---|" >>"$OUT/table.md"
declare -A lr_of v1 vfinal run_of
for b in $batches; do
    best="" cells=""
    for lr in $(lrs_of $b); do
        run "b$b-lr$lr" "$b" "$lr"
        v=$(last "b$b-lr$lr" val_loss); v=${v:-1e30}
        cells="$cells $lr: $v;"
        if [ -z "$best" ] || true_if "$v < $best"; then best=$v; lr_of[$b]=$lr; fi
    done
    name="b$b-lr${lr_of[$b]}"
    run_of[$b]=$name
    v1[$b]=$(at_epoch "$name" 1 val_loss); vfinal[$b]=$(last "$name" val_loss)
    noise=$(awk -F, -v e="$EPOCHS" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "train_loss") l = i; next }
            $1 == "step" && $2 == e { s += $l; q += $l * $l; k++ } END { if (k > 1) printf "%.4f\n", sqrt((q - s * s / k) / (k - 1)); else print "n/a" }' "$OUT/runs/$name.csv")
    table_row "$b" "${cells# }" "${lr_of[$b]}" "${v1[$b]}" "${vfinal[$b]}" "$(last "$name" val_accuracy)" "$(last "$name" elapsed)" "$noise"
done
# Batch 1 at its rate with a step decay: x 0.1 after epochs 4 and 7.
printf '\n[schedule]\ntype = multistep\nmilestones = %s\ngamma = 0.1\n' "$(budget "4, 7" "1")" >>mlp.cfg
run b1-decay 1 "${lr_of[1]}"
decay=$(last b1-decay val_loss)
table_row "1, rate ${lr_of[1]} decayed x 0.1 after epochs $(budget "4 and 7" 1)" "" "${lr_of[1]}" "$(at_epoch b1-decay 1 val_loss)" "$decay" "$(last b1-decay val_accuracy)" "$(last b1-decay elapsed)" ""
# Part (2): the first run (in elapsed seconds) whose validation loss reaches L.
L=$(for b in $batches; do echo "${vfinal[$b]}"; done | sort -g | tail -1)
first_b="" first_t=""
for b in $batches; do
    t=$(awk -F, -v L="$L" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "val_loss") v = i; if ($i == "elapsed") t = i } next }
        $1 == "epoch" && $v != "" && $v <= L { print $t; exit }' "$OUT/runs/${run_of[$b]}.csv")
    [ -n "$t" ] && { [ -z "$first_t" ] || true_if "$t < $first_t"; } && { first_t=$t; first_b=$b; }
done
full_falls=$(column "${run_of[full]}" train_loss step | awk 'NR > 1 && $1 >= prev { bad = 1 } { prev = $1 } END { print bad ? 0 : 1 }')
files=""; labels=""
for b in $batches; do files="$files $OUT/runs/${run_of[$b]}.csv"; labels="$labels,batch $b (lr ${lr_of[$b]})"; done
# shellcheck disable=SC2086
plot $files --labels "${labels#,}" --y val_loss --log-y --ylabel "validation loss" \
    --title "C24: validation loss per epoch, by batch size" --out "$OUT/loss_vs_epoch.png"
# shellcheck disable=SC2086
plot $files --labels "${labels#,}" --x seconds --y val_loss --log-y --ylabel "validation loss" \
    --xlabel "seconds (a shared machine: see the meta)" --title "C24: validation loss against time" --out "$OUT/loss_vs_seconds.png"
plot "$OUT/runs/${run_of[1]}.csv" "$OUT/runs/b1-decay.csv" --labels "batch 1 constant,batch 1 step decay" --x step --y train_loss \
    --log-y --smooth 0.9 --ylabel "training loss of logged steps (smoothed)" \
    --title "C24: batch 1: the noise floor and the decay" --out "$OUT/batch1_noise.png"
p1=0; p2=0; p3=0; p4=0; mid="32 128 1024"
true_if "${v1[1]} < ${v1[${batches##* }]} && ${v1[32]} < ${v1[${batches##* }]}" && p1=1
[ "$SMOKE" = 1 ] || { true_if "${v1[1]} < ${v1[1024]} && ${v1[32]} < ${v1[1024]}" || p1=0; }
case " $mid " in *" $first_b "*) p2=1 ;; esac
true_if "$decay <= 0.98 * ${vfinal[1]}" && p3=1
[ "$full_falls" = 1 ] && [ "$(for b in $batches; do echo "${vfinal[$b]} $b"; done | sort -g | tail -1 | cut -d' ' -f2)" = full ] && p4=1
reason="(1) after epoch 1:$(for b in $batches; do printf ' %s %s;' "$b" "${v1[$b]}"; done) holds: $p1; (2) first to reach L = $L: batch ${first_b:-none} at ${first_t:-?} s, holds: $p2; (3) batch 1 decayed $decay against constant ${vfinal[1]}, holds: $p3; (4) full batch falls at every step: $full_falls, ends highest: holds: $p4"
if true_if "${v1[full]} < ${v1[32]} || $decay > ${vfinal[1]}"; then verdict contradicted "$reason"
elif [ $p1$p2$p3$p4 = 1111 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
