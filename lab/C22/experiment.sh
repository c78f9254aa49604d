# C22: dead ReLU units against the learning rate.
EPOCHS=$(budget 5 1)
seeds=$(budget "1 2 3" "1")
lrs=$(budget "0.01 0.1 0.5 1.0" "0.01 1.0")
pass=$(budget 10000 500)
scale "Fashion-MNIST 784-512-512-10 relu, plain SGD, batch 128, $EPOCHS epochs, seeds $seeds, lr $lrs; dead = 0 on all of $pass training images (CS231n's figure has no experiment behind it)"
mlp_cfg relu.cfg "type = sgd" "512:relu" "512:relu" "10:none"
mlp_cfg bias.cfg "type = sgd" "512:relu::constant(-1)" "512:relu::constant(-1)" "10:none"
# dead NAME: the dead fractions of fc1 and fc2 ("a b") of runs/NAME's weights on
# the first $pass training images (one probe, no step).
dead() {
    "$NERVE" train "${2:-relu.cfg}" --init "$PWD/$1.safetensors" --epochs 0 --batch "$pass" \
        --probe "$OUT/runs/$1-dead.csv" --probe-size "$pass" --threads "$THREADS" $(smoke_data) \
        >"$OUT/runs/$1-dead.out" 2>&1 || { echo "lab: the dead-unit pass of $1 failed" >&2; exit 1; }
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "dead:fc1") a = i; if ($i == "dead:fc2") b = i } next }
             { print $a, $b }' "$OUT/runs/$1-dead.csv"
}
echo "| lr | seed | dead fc1 | dead fc2 | test accuracy | finished |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|" >>"$OUT/table.md"
echo "lr,dead_fc1,dead_fc2,dead" >dead.csv
declare -A D
finished_top=""
for lr in $lrs; do
    all="" f1s="" f2s="" done_all=1
    for s in $seeds; do
        name="lr$lr-s$s"
        train "$name" relu.cfg --lr "$lr" --seed "$s" --on-nan skip --probe "$OUT/runs/$name-probe.csv" --save "$PWD/$name.safetensors"
        if [ -f "$name.safetensors" ]; then
            read -r f1 f2 < <(dead "$name")
            all="$all $(calc "($f1 + $f2) / 2")"; f1s="$f1s $f1"; f2s="$f2s $f2"
            table_row "$lr" "$s" "$f1" "$f2" "$(test_accuracy "$name")" yes
        else
            done_all=0
            table_row "$lr" "$s" "" "" "" "no (numerical stop)"
        fi
    done
    if [ -n "$all" ]; then
        D[$lr]=$(mean $all)
        echo "$lr,$(mean $f1s),$(mean $f2s),${D[$lr]}" >>dead.csv
    fi
    [ $done_all = 1 ] && finished_top=$lr
done
# Outside the criterion: a negative bias, and whether dead units return at a small rate.
train bias-lr0.1 bias.cfg --lr 0.1 --on-nan skip --save "$PWD/bias-lr0.1.safetensors"
read -r b1 b2 < <(dead bias-lr0.1 bias.cfg)
table_row "0.1, bias_init constant(-1)" 1 "$b1" "$b2" "$(test_accuracy bias-lr0.1)" yes
top=${lrs##* }
if [ -f "lr$top-s1.safetensors" ]; then
    train "recover" relu.cfg --init "$PWD/lr$top-s1.safetensors" --lr 0.01 --epochs "$(budget 2 1)" --save "$PWD/recover.safetensors"
    read -r r1 r2 < <(dead recover)
    table_row "$top, then 0.01 for $(budget 2 1) more epochs" 1 "$r1" "$r2" "$(test_accuracy recover)" yes
fi
table_row "CS231n (no experiment)" "" "up to 40 % at too high an lr" "" "" ""
plot dead.csv --x lr --y dead_fc1,dead_fc2,dead --xlabel "learning rate (plain SGD)" \
    --ylabel "fraction of units dead on $pass training images" --title "C22: dead ReLU units against the learning rate (mean of seeds)" \
    --out "$OUT/dead_vs_lr.png"
plot "$OUT/runs/lr0.01-s1-probe.csv" "$OUT/runs/lr$top-s1-probe.csv" --labels "lr 0.01,lr $top" --x step --y 'dead:fc*' \
    --ylabel "dead fraction on the probe batch (128 images)" --title "C22: units dying during training (seed 1)" --out "$OUT/dead_during_training.png"
low=${lrs%% *}
reason="D by lr:$(for lr in $lrs; do printf ' %s %s;' "$lr" "${D[$lr]:-stopped}"; done) highest lr whose runs all finish: ${finished_top:-none}"
rises=0; monotone=1; prev=""
for lr in $lrs; do
    [ -n "${D[$lr]:-}" ] || continue
    [ "$lr" != "$low" ] && true_if "${D[$lr]} > ${D[$low]:-0} + 0.01" && rises=1
    [ -n "$prev" ] && true_if "${D[$lr]} < $prev - 0.02" && monotone=0
    prev=${D[$lr]}
done
if [ -n "${D[$low]:-}" ] && [ -n "$finished_top" ] && true_if "${D[$low]} <= 0.01 && ${D[$finished_top]} >= 0.10" && [ $monotone = 1 ]; then
    verdict confirmed "$reason"
elif [ $rises = 0 ]; then verdict contradicted "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
