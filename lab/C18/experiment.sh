# C18: Adam's default rate and tuned Adam against tuned SGD with momentum.
sweep_epochs=$(budget 5 1); lstm_epochs=$(budget 10 1); tuned_epochs=$(budget 20 1)
lrs=$(budget "1e-5 3.16e-5 1e-4 3.16e-4 1e-3 3.16e-3 1e-2 3.16e-2 1e-1" "1e-3 1e-1")
seeds=$(budget "1 2 3" "1")
samples=$(budget 10000 400)
scale "lr sweep $lrs, seed 1: Fashion-MNIST MLP $sweep_epochs epochs, adding problem T = 50 LSTM 64 $lstm_epochs epochs; tuned runs $tuned_epochs epochs, seeds $seeds (Kingma & Ba: MNIST, IMDB, CIFAR-10; Wilson et al.: CIFAR-10, language models)"
EPOCHS=$sweep_epochs mlp_cfg mlp-adam.cfg "type = adam" "256:relu" "128:relu" "10:none"
EPOCHS=$sweep_epochs mlp_cfg mlp-sgd.cfg "type = sgd;momentum = 0.9" "256:relu" "128:relu" "10:none"
for o in adam sgd; do
    {
        printf '[net]\ninput = 50x2\nbatch = 64\nepochs = %s\nseed = 1\n\n' "$lstm_epochs"
        printf '[data]\nformat = adding\nlength = 50\ntrain_samples = %s\ntest_samples = 1000\nvalidation = 1000\n\n' "$samples"
        printf '[optimizer]\ntype = %s\nclip_norm = 1\n' "$o"
        [ $o = sgd ] && printf 'momentum = 0.9\n'
        printf '\n[loss]\ntype = mse\n\n[lstm]\nname = lstm\nhidden = 64\nreturn = last\n\n[dense]\nname = out\nunits = 1\n'
    } >"lstm-$o.cfg"
done
# test_mse NAME: the test loss nerve train printed.
test_mse() { awk '/^test loss/ { print $3 }' "$OUT/runs/$1.out"; }
echo "task,optimizer,lr,val_loss" >sweep.csv
declare -A best bestlr at_default
for task in mlp lstm; do
    for o in adam sgd; do
        for lr in $lrs; do
            train "$task-$o-lr$lr" "$task-$o.cfg" --lr "$lr" --on-nan skip
            v=$(last "$task-$o-lr$lr" val_loss)
            echo "$task,$o,$lr,$v" >>sweep.csv
            [ "$o" = adam ] && [ "$lr" = 1e-3 ] && at_default[$task]=${v:-1e30}
            if [ -n "$v" ] && { [ -z "${best[$task-$o]:-}" ] || true_if "$v < ${best[$task-$o]}"; }; then
                best[$task-$o]=$v; bestlr[$task-$o]=$lr
            fi
        done
    done
done
# One CSV per task and optimizer, for the plot: log10(lr) and validation loss.
for task in mlp lstm; do
    for o in adam sgd; do
        { echo "log10_lr,val_loss"; awk -F, -v t=$task -v o=$o '$1 == t && $2 == o && $4 != "" { printf "%.2f,%s\n", log($3) / log(10), $4 }' sweep.csv; } >"sweep-$task-$o.csv"
    done
done
declare -A tuned tuned_seeds
for task in mlp lstm; do
    for o in adam sgd; do
        figs=""
        for s in $seeds; do
            name="tuned-$task-$o-s$s"
            train "$name" "$task-$o.cfg" --lr "${bestlr[$task-$o]}" --seed "$s" --epochs "$tuned_epochs" --on-nan skip
            if [ $task = mlp ]; then f=$(test_accuracy "$name"); f=${f:-0.1}; else f=$(test_mse "$name"); f=${f:-1}; fi
            figs="$figs $f"
        done
        tuned[$task-$o]=$(mean $figs)
        tuned_seeds[$task-$o]=$(echo $figs | tr ' ' '/')
    done
done
echo "| task | optimizer | best lr | best val. loss | val. loss at lr 0.001 | tuned, $tuned_epochs epochs: test figure (seeds $seeds) | mean |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|" >>"$OUT/table.md"
for task in mlp lstm; do
    for o in adam sgd; do
        table_row "$([ $task = mlp ] && echo "Fashion-MNIST MLP (accuracy)" || echo "adding T = 50, LSTM (MSE)")" "$o" "${bestlr[$task-$o]}" "${best[$task-$o]}" \
            "$(awk -F, -v t=$task -v o=$o '$1 == t && $2 == o && $3 == "1e-3" { print $4 }' sweep.csv)" "${tuned_seeds[$task-$o]}" "${tuned[$task-$o]}"
    done
done
table_row "Kingma & Ba 2015" "adam" "0.001 (default)" "" "" "fastest training cost (Fig. 2)" ""
for task in mlp lstm; do
    plot "sweep-$task-adam.csv" "sweep-$task-sgd.csv" --labels "adam,SGD momentum 0.9" --x log10_lr --y val_loss --log-y \
        --xlabel "log10 of the learning rate" --ylabel "final validation loss" \
        --title "C18: learning-rate sweep, $([ $task = mlp ] && echo "Fashion-MNIST MLP" || echo "adding problem T = 50, LSTM")" --out "$OUT/sweep_$task.png"
done
notune=1; bestpart=1; contra=0
for task in mlp lstm; do
    true_if "${at_default[$task]} <= 1.1 * ${best[$task-adam]}" || notune=0
    true_if "${at_default[$task]} > 1.5 * ${best[$task-adam]}" && contra=1
done
true_if "${tuned[mlp-adam]} >= ${tuned[mlp-sgd]}" || bestpart=0
true_if "${tuned[lstm-adam]} <= ${tuned[lstm-sgd]}" || bestpart=0
true_if "${tuned[mlp-sgd]} > ${tuned[mlp-adam]} + 0.01" && contra=1
true_if "${tuned[lstm-sgd]} < 0.8 * ${tuned[lstm-adam]}" && contra=1
reason="adam at 0.001 against its best val. loss: MLP ${at_default[mlp]} vs ${best[mlp-adam]} (lr ${bestlr[mlp-adam]}), LSTM ${at_default[lstm]} vs ${best[lstm-adam]} (lr ${bestlr[lstm-adam]}); tuned test figures: MLP accuracy adam ${tuned[mlp-adam]} vs SGD ${tuned[mlp-sgd]}, LSTM MSE adam ${tuned[lstm-adam]} vs SGD ${tuned[lstm-sgd]}; no tuning: $([ $notune = 1 ] && echo holds || echo fails), the best: $([ $bestpart = 1 ] && echo holds || echo fails)"
if [ $contra = 1 ]; then verdict contradicted "$reason"
elif [ $notune = 1 ] && [ $bestpart = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
