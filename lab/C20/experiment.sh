# C20: L2 (and L1) penalties on the book's 300-sample overfitting setup.
EPOCHS=$(budget 201 3)
BATCH=100
seeds=$(budget "1 2 3" "1")
scale "Fashion-MNIST (the book used MNIST) first 300 training samples, 784-100x6-10 relu, $EPOCHS epochs, seeds $seeds"
limit=$(budget "--set data.train_limit=300" "")
layers=("100:relu:he_normal" "100:relu:he_normal" "100:relu:he_normal" "100:relu:he_normal" "100:relu:he_normal" "100:relu:he_normal" "10:none")
echo "| penalty | final training accuracy | test accuracy | gap (train − test) |" >"$OUT/table.md"
echo "|---|---|---|---|" >>"$OUT/table.md"
for variant in "none:" "l2-0.1:weight_decay = 0.1" "l1-1e-4:l1 = 0.0001" "l1-1e-3:l1 = 0.001"; do
    name=${variant%%:*}; extra=${variant#*:}
    opt="type = sgd;lr = 0.01;decay_bias = 0"
    [ -n "$extra" ] && opt="$opt;$extra"
    mlp_cfg "$name.cfg" "$opt" "${layers[@]}"
    trains=""; tests=""; gaps=""
    for s in $seeds; do
        # shellcheck disable=SC2086
        train "$name-s$s" "$name.cfg" --seed "$s" $limit
        tr=$(last "$name-s$s" train_accuracy); te=$(test_accuracy "$name-s$s")
        trains="$trains $tr"; tests="$tests $te"; gaps="$gaps $(calc "$tr - $te")"
    done
    eval "gap_${name//[-.]/_}=$(mean $gaps); test_${name//[-.]/_}=$(mean $tests)"
    table_row "$name" "$(mean $trains) ± $(spread $trains)" "$(mean $tests) ± $(spread $tests)" "$(mean $gaps)"
done
table_row "book Fig. 6-21 (recalled)" "below 100% with λ = 0.1" "" "narrower with λ = 0.1"
plot "$OUT/runs/none-s1.csv" "$OUT/runs/l2-0.1-s1.csv" --labels "no penalty,L2 0.1" --y train_accuracy,val_accuracy \
    --ylabel accuracy --title "C20: 300 training samples, training (solid) and validation (dashed) accuracy, seed 1" \
    --out "$OUT/accuracy_vs_epoch.png"
reason="gap: none $gap_none, L2 0.1 $gap_l2_0_1; test accuracy: none $test_none, L2 0.1 $test_l2_0_1"
if true_if "$gap_l2_0_1 >= $gap_none"; then verdict contradicted "$reason"
elif true_if "$test_l2_0_1 >= $test_none"; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
