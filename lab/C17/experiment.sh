# C17: ensembles of k = 1..5 seeds of fashion_mlp.
EPOCHS=$(budget 20 1)
seeds=$(budget "1 2 3 4 5" "1 2 3")
scale "Fashion-MNIST fashion_mlp, $EPOCHS epochs per member, seeds $seeds (Krizhevsky's figure is for ImageNet CNNs)"
mlp_cfg mlp.cfg "type = sgd;lr = 0.05;momentum = 0.9" "256:relu:he_uniform" "128:relu:he_uniform" "10:none"
printf '\n[schedule]\ntype = step\nstep_size = 10\ngamma = 0.1\n' >>mlp.cfg
members=(); list=""
echo "k,member,ensemble" >ensemble.csv
echo "| k | member k accuracy | ensemble of 1..k accuracy | ensemble loss |" >"$OUT/table.md"
echo "|---|---|---|---|" >>"$OUT/table.md"
best=0; previous=0; monotone=1; k=0; accuracies=""
for s in $seeds; do
    k=$((k + 1))
    train "s$s" mlp.cfg --seed "$s" --save "$PWD/s$s.safetensors"
    a=$(test_accuracy "s$s"); accuracies="$accuracies $a"
    true_if "$a > $best" && best=$a
    list="${list:+$list,}$PWD/s$s.safetensors"
    "$NERVE" eval mlp.cfg --weights "$list" --json --threads "$THREADS" >"eval-$k.json"
    read -r e_acc e_loss < <(sed 's/.*"ensemble": {//; s/.*{"loss"/{"loss"/' "eval-$k.json" | tr ',{}' '\n\n\n' | awk -F': ' '/"accuracy"/ && a == "" { a = $2 } /"loss"/ && l == "" { l = $2 } END { print a, l }')
    table_row "$k" "$a" "$e_acc" "$e_loss"
    echo "$k,$a,$e_acc" >>ensemble.csv
    true_if "$e_acc < $previous - 0.001" && monotone=0
    previous=$e_acc
done
table_row "nerve README (3 seeds)" "0.8929 / 0.8981 / 0.8954" "0.9024" ""
plot ensemble.csv --x k --y member,ensemble --xlabel "members k" --ylabel "test accuracy" \
    --title "C17: ensemble of the first k seeds against member k alone" --out "$OUT/accuracy_vs_members.png"
member_mean=$(mean $accuracies)
reason="ensemble of $k: $previous; best member $best; members' mean $member_mean; never dropping by > 0.1 pp: $([ $monotone = 1 ] && echo yes || echo no)"
if true_if "$previous <= $member_mean"; then verdict contradicted "$reason"
elif true_if "$previous > $best" && [ $monotone = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
