# C03: steps to a training-error target, relu against tanh, each at its fastest lr.
EPOCHS=$(budget 3 1)
lrs=$(budget "0.003 0.01 0.03 0.1" "0.01 0.1")
every=1
block=$(budget 10 1)
scale "Fashion-MNIST MLP 784-256-128-10 (not the paper's CIFAR-10 CNN), $EPOCHS epochs, lr $lrs, one seed"
opt() { echo "type = sgd;lr = $1;momentum = 0.9"; }
# smoothed NAME: runs/NAME.csv's training error against the step, one row per
# $block steps: a step row holds its own batch's accuracy (the log has a row
# every step), the rows are averaged $block at a time (1280 samples in a real
# run) and those interval errors smoothed by an EMA (0.9, debiased). Written to
# NAME-error.csv (step,train_error).
smoothed() {
    awk -F, -v block="$block" '
        NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "train_accuracy") a = i; if ($i == "step") s = i }
                  print "step,train_error"; next }
        $1 != "step" { next }
        {   sum += 1 - $a; n++
            if (n == block) {
                e = 0.9 * e + 0.1 * sum / n; w = 0.9 * w + 0.1
                printf "%d,%.6f\n", $s, e / w; sum = 0; n = 0 } }' "$OUT/runs/$1.csv" >"$OUT/runs/$1-error.csv"
}
# first_step NAME TARGET: the first step at which NAME's smoothed training
# error is <= TARGET, or "never".
first_step() {
    awk -F, -v target="$2" 'NR > 1 && $2 <= target { print $1; found = 1; exit }
                            END { if (!found) print "never" }' "$OUT/runs/$1-error.csv"
}
for act in relu tanh; do
    for lr in $lrs; do
        mlp_cfg "$act-$lr.cfg" "$(opt "$lr")" "256:$act:he_uniform" "128:$act:he_uniform" "10:none"
        train "$act-$lr" "$act-$lr.cfg" --log-every "$every"
        smoothed "$act-$lr"
    done
done
echo "| target training error | relu: steps (lr) | tanh: steps (lr) | ratio tanh/relu | paper |" >"$OUT/table.md"
echo "|---|---|---|---|---|" >>"$OUT/table.md"
steps_total=$(column "relu-$(echo $lrs | awk '{print $1}')" step | tail -1)
decisive=""
for target in 0.15 0.12 0.10; do
    for act in relu tanh; do
        best=never; best_lr=-
        for lr in $lrs; do
            s=$(first_step "$act-$lr" "$target")
            if [ "$s" != never ] && { [ "$best" = never ] || [ "$s" -lt "$best" ]; }; then best=$s; best_lr=$lr; fi
        done
        eval "best_$act=$best; lr_$act=$best_lr"
    done
    # A side that never reached the target within the run bounds the ratio.
    if [ "$best_relu" = never ] && [ "$best_tanh" = never ]; then ratio="n/a (neither reached it)"
    elif [ "$best_relu" = never ]; then ratio="< $(calc "$best_tanh / $steps_total")"
    elif [ "$best_tanh" = never ]; then ratio="> $(calc "$steps_total / $best_relu")"
    else ratio=$(calc "$best_tanh / $best_relu"); fi
    table_row "$target" "$best_relu ($lr_relu)" "$best_tanh ($lr_tanh)" "$ratio" "$([ $target = 0.12 ] && echo '6 (25% error, CIFAR-10 CNN)' || echo '')"
    if [ "$target" = 0.12 ]; then
        decisive=$ratio
        top=$(echo $lrs | awk '{print $NF}')
        plot_relu=${lr_relu/-/$top}; plot_tanh=${lr_tanh/-/$top}
    fi
done
plot "$OUT/runs/relu-$plot_relu-error.csv" "$OUT/runs/tanh-$plot_tanh-error.csv" \
    --labels "relu lr $plot_relu,tanh lr $plot_tanh" --x step --y train_error --hline 0.15,0.12,0.10 \
    --ylabel "training error (EMA of $((block * 128))-sample intervals)" \
    --title "C03: relu against tanh, each at its fastest lr for 12 % (dashed: the targets)" --out "$OUT/error_vs_step.png"
number=${decisive#[<>] }
reason="speed ratio at the 12% target: $decisive"
case "$decisive" in
    n/a*) verdict "not confirmed at this scale" "$reason" ;;
    "<"*) verdict contradicted "$reason (relu never reached it, tanh did: ≤ 1.5, refuted for this architecture)" ;;
    ">"*) if true_if "$number >= 3"; then verdict confirmed "$reason (tanh never reached it)"
          else verdict "not confirmed at this scale" "$reason (tanh never reached it; the ratio's bound decides nothing)"; fi ;;
    *) if true_if "$number >= 3"; then verdict confirmed "$reason"
       elif true_if "$number > 1.5"; then verdict "not confirmed at this scale" "$reason (weak support: between 1.5 and 3)"
       else verdict contradicted "$reason (≤ 1.5: refuted for this architecture)"; fi ;;
esac
