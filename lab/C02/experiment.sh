# C02: per-layer gradient norms for sigmoid / tanh / relu under three inits.
EPOCHS=$(budget 2 1)
BATCH=64
scale "Fashion-MNIST 784-256x5-10, $EPOCHS epochs, plain SGD 0.1, one seed; Glorot & Bengio used 5x1000 units, Nielsen 4x30 on MNIST"
layers=(fc1 fc2 fc3 fc4 fc5 out)
ratio() { calc "$(last "$1" grad_norm:fc1.weight) / $(last "$1" grad_norm:out.weight)"; }
echo "| activation | init | ‖∇W1‖/‖∇W_out‖ (epoch 1) | test accuracy |" >"$OUT/table.md"
echo "|---|---|---|---|" >>"$OUT/table.md"
for act in sigmoid tanh relu; do
    for init in default xavier_uniform kaiming_uniform; do
        name=$act-$init
        mlp_cfg "$name.cfg" "type = sgd;lr = 0.1" "256:$act:$init" "256:$act:$init" "256:$act:$init" \
            "256:$act:$init" "256:$act:$init" "10:none:$init"
        # epoch 1 only for the ratio: the log's first epoch row
        train "$name" "$name.cfg"
        r=$(calc "$(column "$name" grad_norm:fc1.weight | head -1) / $(column "$name" grad_norm:out.weight | head -1)")
        eval "ratio_${act}_$init=$r"
        table_row "$act" "$init" "$r" "$(test_accuracy "$name")"
    done
done
for init in default kaiming_uniform; do
    echo "layer,sigmoid,tanh,relu" >"layers-$init.csv"
    for k in 0 1 2 3 4 5; do
        row=$((k + 1))
        for act in sigmoid tanh relu; do
            row="$row,$(column "$act-$init" "grad_norm:${layers[$k]}.weight" | head -1)"
        done
        echo "$row" >>"layers-$init.csv"
    done
    cp "layers-$init.csv" "$OUT/"
    plot "layers-$init.csv" --x layer --y sigmoid,tanh,relu --log-y --xlabel "weight layer (1 = next to the input)" \
        --ylabel "epoch-1 mean ‖∇W‖" --title "C02: gradient norm per layer, init $init" --out "$OUT/gradient_per_layer_$init.png"
done
table_row "sigmoid (Nielsen, recalled)" "N(0,1)" "≈ 0.013 (0.002 / 0.159, 4x30 units)" ""
reason="R: sigmoid $ratio_sigmoid_default, tanh $ratio_tanh_default, relu $ratio_relu_default (default init); relu+kaiming $ratio_relu_kaiming_uniform"
if true_if "$ratio_sigmoid_default >= 1"; then verdict contradicted "$reason"
elif true_if "$ratio_sigmoid_default < 0.01 && $ratio_tanh_default > $ratio_sigmoid_default && $ratio_tanh_default < $ratio_relu_default && $ratio_relu_kaiming_uniform >= 0.1 && $ratio_relu_kaiming_uniform <= 10"; then
    verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
