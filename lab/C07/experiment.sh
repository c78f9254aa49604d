# C07: zero and constant initialisation against the default and a width-1 net.
EPOCHS=$(budget 3 1)
scale "Fashion-MNIST 784-64-64-10, $EPOCHS epochs, one seed (a textbook claim: no paper setup)"
opt="type = sgd;lr = 0.05;momentum = 0.9"
echo "| activation | zeros: acc | zeros: max ‖∇W1‖ | constant(0.05): acc | default: acc | width 1: acc | distinct rows of W1 of 64: zeros / constant / default |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|" >>"$OUT/table.md"
# distinct NAME: the distinct rows of the trained fc1.weight (nerve inspect).
distinct() {
    "$NERVE" inspect "$1.safetensors" --json | tr '{' '\n' | grep '"name": "fc1.weight"' |
        sed 's/.*"distinct_rows": \([0-9]*\).*/\1/'
}
ok=1; contra=0; slip=""; zeros_ok=1; beaten=""; rows_note=""
for act in tanh relu sigmoid; do
    mlp_cfg "zeros-$act.cfg" "$opt" "64:$act:zeros:zeros" "64:$act:zeros:zeros" "10:none:zeros:zeros"
    mlp_cfg "const-$act.cfg" "$opt" "64:$act:constant(0.05):constant(0.05)" "64:$act:constant(0.05):constant(0.05)" \
        "10:none:constant(0.05):constant(0.05)"
    mlp_cfg "default-$act.cfg" "$opt" "64:$act" "64:$act" "10:none"
    mlp_cfg "width1-$act.cfg" "$opt" "1:$act" "1:$act" "10:none"
    for v in zeros const default width1; do train "$v-$act" "$v-$act.cfg" --save "$PWD/$v-$act.safetensors"; done
    grad=$(column "zeros-$act" "grad_norm:fc1.weight" | sort -g | tail -1)
    z=$(test_accuracy "zeros-$act"); c=$(test_accuracy "const-$act")
    d=$(test_accuracy "default-$act"); w=$(test_accuracy "width1-$act")
    rows="$(distinct "zeros-$act") / $(distinct "const-$act") / $(distinct "default-$act")"
    rows_note="$rows_note $act $rows;"
    table_row "$act" "$z" "$grad" "$c" "$d" "$w" "$rows"
    if [ "$act" != sigmoid ]; then
        true_if "$grad == 0 && $z <= 0.2" || { ok=0; zeros_ok=0; }
    elif true_if "$grad > 0"; then
        slip="sigmoid zeros: ‖∇W1‖ reaches $grad, so 001:230's 'all gradients are 0' fails for sigmoid"
    fi
    for v in "zeros:$z" "constant:$c"; do
        a=${v#*:}
        true_if "$a <= $w + 0.03" || { ok=0; beaten="$beaten $act ${v%%:*} $a > width-1 $w;"; }
        true_if "$a > $w + 0.05" && contra=1
    done
done
plot "$OUT/runs/zeros-sigmoid.csv" "$OUT/runs/const-sigmoid.csv" "$OUT/runs/default-sigmoid.csv" "$OUT/runs/width1-sigmoid.csv" \
    --labels zeros,constant,default,width-1 --y val_accuracy --ylabel "validation accuracy" \
    --title "C07: sigmoid 784-64-64-10 by initialisation" --out "$OUT/sigmoid_accuracy.png"
plot "$OUT/runs/default-tanh.csv" "$OUT/runs/zeros-sigmoid.csv" "$OUT/runs/const-tanh.csv" \
    --labels "tanh default,sigmoid zeros,tanh constant" --y "grad_norm:fc1.weight" --ylabel "‖∇W1‖ (epoch mean)" \
    --title "C07: first-layer gradient norm (tanh zeros: exactly 0, not drawable on log axes)" --log-y --out "$OUT/first_layer_gradient.png"
reason="tanh/relu zeros: first-layer gradient exactly 0 and accuracy ≤ 0.2: $([ $zeros_ok = 1 ] && echo yes || echo no); nets beating their width-1 reference by more than 3 pp:${beaten:- none}${slip:+; $slip}; distinct first-layer rows (zeros / constant / default):$rows_note"
if [ $contra = 1 ]; then verdict contradicted "$reason"
elif [ $ok = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
