# C03: steps to a training-error target, relu against tanh, each at its fastest lr.
EPOCHS=$(budget 3 1)
lrs=$(budget "0.003 0.01 0.03 0.1" "0.01 0.1")
every=$(budget 10 1)
scale "Fashion-MNIST MLP 784-256-128-10 (not the paper's CIFAR-10 CNN), $EPOCHS epochs, lr $lrs, one seed"
opt() { echo "type = sgd;lr = $1;momentum = 0.9"; }
# first_step NAME TARGET: the first logged step at which the smoothed training
# error is <= TARGET, or "never". A step row's train_accuracy is the running
# mean of its epoch so far, so the error of the steps between two rows is
# recovered from the correct counts (accuracy x samples seen) at both rows;
# those interval errors are smoothed by an EMA (0.9, debiased).
first_step() {
    awk -F, -v target="$2" -v batch="${BATCH:-128}" -v per_epoch="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "train_accuracy") a = i; if ($i == "step") s = i }; next }
        $1 != "step" { next }
        {   in_epoch = $s - per_epoch * int(($s - 1) / per_epoch)
            seen = in_epoch * batch; correct = $a * seen
            if (in_epoch <= last_in_epoch) { last_seen = 0; last_correct = 0 }
            if (seen > last_seen) {
                err = 1 - (correct - last_correct) / (seen - last_seen)
                e = 0.9 * e + 0.1 * err; w = 0.9 * w + 0.1
                if (e / w <= target) { print $s; found = 1; exit }
            }
            last_seen = seen; last_correct = correct; last_in_epoch = in_epoch }
        END { if (!found) print "never" }' "$OUT/runs/$1.csv"
}
for act in relu tanh; do
    for lr in $lrs; do
        mlp_cfg "$act-$lr.cfg" "$(opt "$lr")" "256:$act:he_uniform" "128:$act:he_uniform" "10:none"
        train "$act-$lr" "$act-$lr.cfg" --log-every "$every"
    done
done
echo "| target training error | relu: steps (lr) | tanh: steps (lr) | ratio tanh/relu | paper |" >"$OUT/table.md"
echo "|---|---|---|---|---|" >>"$OUT/table.md"
steps_total=$(column "relu-$(echo $lrs | awk '{print $1}')" step | tail -1)
per_epoch=$(column "relu-$(echo $lrs | awk '{print $1}')" step | head -1)
decisive=""
for target in 0.15 0.12 0.10; do
    for act in relu tanh; do
        best=never; best_lr=-
        for lr in $lrs; do
            s=$(first_step "$act-$lr" "$target" "$per_epoch")
            if [ "$s" != never ] && { [ "$best" = never ] || [ "$s" -lt "$best" ]; }; then best=$s; best_lr=$lr; fi
        done
        eval "best_$act=$best; lr_$act=$best_lr"
    done
    if [ "$best_relu" = never ]; then ratio="n/a (relu never reached it)"
    elif [ "$best_tanh" = never ]; then ratio="> $(calc "$steps_total / $best_relu")"
    else ratio=$(calc "$best_tanh / $best_relu"); fi
    table_row "$target" "$best_relu ($lr_relu)" "$best_tanh ($lr_tanh)" "$ratio" "$([ $target = 0.12 ] && echo '6 (25% error, CIFAR-10 CNN)' || echo '')"
    [ "$target" = 0.12 ] && decisive=$ratio
done
plot "$OUT/runs/relu-$(echo $lrs | awk '{print $NF}').csv" "$OUT/runs/tanh-$(echo $lrs | awk '{print $NF}').csv" \
    --labels relu,tanh --x step --y train_accuracy --hline 0.85,0.88,0.90 --ylabel "running training accuracy" \
    --title "C03: relu against tanh at lr $(echo $lrs | awk '{print $NF}') (dashed: the targets)" --out "$OUT/accuracy_vs_step.png"
number=${decisive#> }
reason="speed ratio at the 12% target: $decisive"
case "$number" in n/a*) verdict "not confirmed at this scale" "$reason" ;; *)
    if true_if "$number >= 3"; then verdict confirmed "$reason"
    elif true_if "$number > 1.5"; then verdict "not confirmed at this scale" "$reason (weak support: between 1.5 and 3)"
    else verdict contradicted "$reason (≤ 1.5: refuted for this architecture)"; fi ;;
esac
