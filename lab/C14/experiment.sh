# C14: the training loss against a constant learning rate (the U), then
# constant, step and cosine schedules at the best rate and at three times it.
sweep_epochs=$(budget 5 1)
EPOCHS=$(budget 15 3)
decay_at=$(budget 10 2)
lrs=$(budget "0.0003 0.001 0.003 0.01 0.03 0.1 0.3 1 3" "0.001 0.1 3")
seeds=$(budget "1 2 3" "1")
scale "Fashion-MNIST 784-256-128-10 ReLU, SGD momentum 0.9, batch 128; sweep of $(echo $lrs | wc -w) rates × $sweep_epochs epochs (seed 1); schedules $EPOCHS epochs (step: ÷10 after epoch $decay_at), seeds $seeds. The sources give practice, not one experiment"
sgd() { echo "type = sgd;lr = $1;momentum = 0.9"; }
# diverged NAME: the run stopped on a non-finite value before its last epoch.
diverged() { grep -q ": the loss is " "$OUT/runs/$1.err"; }
# (1) the sweep
echo "lr,train_loss" >sweep.csv
best=""; best_loss=""; echo "| lr | final training loss (epoch $sweep_epochs) |" >sweep.md; echo "|---|---|" >>sweep.md
for lr in $lrs; do
    EPOCHS=$sweep_epochs mlp_cfg "sweep-$lr.cfg" "$(sgd "$lr")" "256:relu:he_uniform" "128:relu:he_uniform" "10:none"
    train "sweep-$lr" "sweep-$lr.cfg"
    if diverged "sweep-$lr"; then loss=diverged; else
        loss=$(last "sweep-$lr" train_loss)
        echo "$(calc "log($lr) / log(10)"),$loss" >>sweep.csv
        if [ -z "$best" ] || true_if "$loss < $best_loss"; then best=$lr; best_loss=$loss; fi
    fi
    eval "loss_$(echo "$lr" | tr . _)=$loss"
    echo "| $lr | $loss |" >>sweep.md
done
plot sweep.csv --x lr --y train_loss --log-y --xlabel "log10 of the learning rate" --ylabel "training loss after $sweep_epochs epochs" \
    --title "C14: training loss against a constant learning rate (diverged rates left out)" --out "$OUT/loss_vs_lr.png"
first_lr=$(echo $lrs | awk '{ print $1 }'); last_lr=$(echo $lrs | awk '{ print $NF }')
lo=$(eval echo "\$loss_$(echo "$first_lr" | tr . _)"); hi=$(eval echo "\$loss_$(echo "$last_lr" | tr . _)")
u=1
{ [ "$best" = "$first_lr" ] || [ "$best" = "$last_lr" ]; } && u=0
no_u=$((1 - u))
[ "$hi" = diverged ] || true_if "$hi >= 2 * $best_loss" || u=0
[ "$lo" != diverged ] && true_if "$lo >= 1.5 * $best_loss" || u=0
# (2) the schedules at lr* and 3 lr*
triple=$(calc "3 * $best")
echo "| schedule | lr | final validation accuracy (mean ± spread) | test accuracy (mean) | training loss, epochs $((decay_at - 1)) → $decay_at → $((decay_at + 1)) (seed 1) |" >"$OUT/table.md"
echo "|---|---|---|---|---|" >>"$OUT/table.md"
drop_ok=1
for lr in "$best" "$triple"; do
    for sched in constant step cosine; do
        vals=""; tests=""
        for s in $seeds; do
            name=$sched-$lr-s$s
            mlp_cfg "$name.cfg" "$(sgd "$lr")" "256:relu:he_uniform" "128:relu:he_uniform" "10:none"
            case "$sched" in
                step) printf '\n[schedule]\ntype = step\nstep_size = %s\ngamma = 0.1\n' "$decay_at" >>"$name.cfg" ;;
                cosine) printf '\n[schedule]\ntype = cosine\nT_max = %s\n' "$EPOCHS" >>"$name.cfg" ;;
            esac
            train "$name" "$name.cfg" --seed "$s"
            if diverged "$name"; then v=0.1; else v=$(last "$name" val_accuracy); fi
            vals="$vals $v"; t=$(test_accuracy "$name"); tests="$tests ${t:-0.1}"
            if [ "$sched" = step ] && [ "$lr" = "$best" ]; then
                l=($(column "$name" train_loss | sed -n "$((decay_at - 1)),$((decay_at + 1))p"))
                if [ ${#l[@]} -eq 3 ]; then true_if "${l[1]} - ${l[2]} > ${l[0]} - ${l[1]}" || drop_ok=0; else drop_ok=0; fi
            fi
        done
        m=$(mean $vals); sp=$(spread $vals)
        eval "acc_${sched}_$(echo "$lr" | tr . _)=$m; spread_${sched}_$(echo "$lr" | tr . _)=$sp"
        around=$(column "$sched-$lr-s1" train_loss | sed -n "$((decay_at - 1)),$((decay_at + 1))p" | paste -sd' ' | sed 's/ / → /g')
        table_row "$sched" "$lr" "$m ± $sp" "$(mean $tests)" "${around:-diverged}"
    done
    plot "$OUT/runs/constant-$lr-s1.csv" "$OUT/runs/step-$lr-s1.csv" "$OUT/runs/cosine-$lr-s1.csv" --labels constant,step,cosine \
        --y val_accuracy --ylabel "validation accuracy" --title "C14: schedules at lr $lr (seed 1; step: ÷10 after epoch $decay_at)" \
        --out "$OUT/val_accuracy_lr$lr.png"
done
{ echo; echo "Sweep (seed 1):"; echo; cat sweep.md; } >>"$OUT/table.md"; rm sweep.md
k=$(echo "$best" | tr . _)
c=$(eval echo "\$acc_constant_$k"); st=$(eval echo "\$acc_step_$k"); co=$(eval echo "\$acc_cosine_$k")
sp=$(calc "($(eval echo "\$spread_constant_$k") > $(eval echo "\$spread_step_$k") ? $(eval echo "\$spread_constant_$k") : $(eval echo "\$spread_step_$k"))")
sp=$(calc "($sp > $(eval echo "\$spread_cosine_$k") ? $sp : $(eval echo "\$spread_cosine_$k"))")
decay_ok=0; true_if "$st - $c > $sp && $co - $c > $sp" && decay_ok=1
worse=0; true_if "$c - $st > $sp && $c - $co > $sp" && worse=1
reason="lr* = $best (loss $best_loss); smallest rate $first_lr: $lo, largest $last_lr: $hi (U: $([ $u = 1 ] && echo yes || echo no)); at lr*: constant $c, step $st, cosine $co (largest spread $sp); step's drop at the decay larger than the epoch before in every seed: $([ $drop_ok = 1 ] && echo yes || echo no)"
if [ $no_u = 1 ] || [ $worse = 1 ]; then verdict contradicted "$reason"
elif [ $u = 1 ] && [ $decay_ok = 1 ] && [ $drop_ok = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
