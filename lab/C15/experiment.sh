# C15: gradient clipping against exploding gradients in a tanh RNN (adding problem).
EPOCHS=$(budget 5 1)
samples=$(budget 10000 400)
lrs=$(budget "0.1 0.5 1.0" "1.0")
clips=$(budget "0 10 1" "0 1")
scale "adding problem T = 50, $samples training sequences, tanh RNN 64, plain SGD, $EPOCHS epochs, seed 1, lr $lrs x clip_norm $clips (the paper: toy RNNs and music/character models; no figure to match)"
# adding_cfg FILE LENGTH: the adding problem with a tanh RNN of 64 and plain SGD.
adding_cfg() {
    {
        printf '[net]\ninput = %sx2\nbatch = 64\nepochs = %s\nseed = 1\n\n' "$2" "$EPOCHS"
        printf '[data]\nformat = adding\nlength = %s\ntrain_samples = %s\ntest_samples = 1000\nvalidation = 1000\n\n' "$2" "$samples"
        printf '[optimizer]\ntype = sgd\nlr = 0.1\n\n[loss]\ntype = mse\n\n'
        printf '[rnn]\nname = rnn\nhidden = 64\nreturn = last\n\n[dense]\nname = out\nunits = 1\n'
    } >"$1"
}
adding_cfg rnn50.cfg 50
# test_mse NAME: the test MSE nerve train printed, empty for a stopped run.
test_mse() { awk '/^test loss/ { print $3 }' "$OUT/runs/$1.out"; }
# skips NAME: steps dropped for a non-finite loss or gradient (warnings on stderr).
skips() { grep -c ': skipped (' "$OUT/runs/$1.err" || true; }
# spike NAME: the largest step gradient norm over the median (finite steps only).
spike() {
    column "$1" grad_norm step | grep -E '^[0-9.eE+-]+$' | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } m = v[int((NR + 1) / 2)]; printf "%.4g\n", (m > 0 ? v[NR] / m : 0) }'
}
echo "| lr | clip_norm | test MSE | steps skipped | numerical stop | max / median step ‖g‖ | explodes |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|" >>"$OUT/table.md"
declare -A mse explode stopped
for lr in $lrs; do
    for clip in $clips; do
        name="lr$lr-clip$clip"
        train "$name" rnn50.cfg --lr "$lr" --set optimizer.clip_norm="$clip" --on-nan skip --log-every 1
        m=$(test_mse "$name"); s=$(skips "$name"); r=$(spike "$name")
        stopped[$name]=0; [ -z "$m" ] && stopped[$name]=1
        explode[$name]=0
        if [ "${stopped[$name]}" = 1 ] || [ "$s" -gt 0 ] || { [ "$r" != n/a ] && true_if "$r > 100"; }; then explode[$name]=1; fi
        mse[$name]=$m
        table_row "$lr" "$clip" "${m:-none (stopped)}" "$s" "$([ "${stopped[$name]}" = 1 ] && echo yes || echo no)" "$r" \
            "$([ "${explode[$name]}" = 1 ] && echo yes || echo no)"
    done
done
# The aside: clipping does not cure a vanishing gradient (T = 100).
top=${lrs##* }
adding_cfg rnn100.cfg 100
train "t100-lr$top-clip1" rnn100.cfg --lr "$top" --set optimizer.clip_norm=1 --on-nan skip
table_row "T = 100: $top" 1 "$(test_mse "t100-lr$top-clip1")" "$(skips "t100-lr$top-clip1")" "" "" "(aside: vanishing, C11)"
table_row "predicting 1 always" "" "$(grep -o 'MSE [0-9.]*' "$OUT/runs/lr$top-clip0.out" | head -1)" "" "" "" ""
table_row "Pascanu et al. 2013" "" "clipping removes the jumps at cliffs (no figure to match)" "" "" "" ""
plot "$OUT/runs/lr$top-clip0.csv" "$OUT/runs/lr$top-clip1.csv" --labels "lr $top unclipped,lr $top clip_norm 1" \
    --x step --y grad_norm --log-y --ylabel "step gradient norm (before clipping)" \
    --title "C15: tanh RNN on the adding problem (T = 50)" --out "$OUT/gradient_norm.png"
plot "$OUT/runs/lr$top-clip0.csv" "$OUT/runs/lr$top-clip1.csv" --labels "lr $top unclipped,lr $top clip_norm 1" \
    --x step --y train_loss --log-y --smooth 0.9 --hline 0.167 --ylabel "step training MSE (smoothed)" \
    --title "C15: training loss, clipped against unclipped (dashed: predicting 1)" --out "$OUT/loss.png"
any=0; good=1; bad=0; reason=""
for lr in $lrs; do
    u="lr$lr-clip0"; c="lr$lr-clip1"
    [ "${explode[$u]}" = 1 ] || continue
    any=1
    reason="$reason lr $lr: unclipped explodes (MSE ${mse[$u]:-stopped}), clip 1 MSE ${mse[$c]:-stopped}, skips $(skips "$c");"
    if [ "${stopped[$c]}" = 1 ] || [ "$(skips "$c")" -gt 0 ]; then good=0; bad=1; continue; fi
    if [ -n "${mse[$u]}" ]; then
        true_if "${mse[$c]} <= ${mse[$u]}" || good=0
        true_if "${mse[$c]} > 1.1 * ${mse[$u]}" && bad=1
    fi
done
[ $any = 1 ] || reason="no unclipped run explodes (largest max/median ratio: $(for lr in $lrs; do spike "lr$lr-clip0"; done | sort -g | tail -1))"
if [ $any = 1 ] && [ $bad = 1 ]; then verdict contradicted "$reason"
elif [ $any = 1 ] && [ $good = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
