# C04: relu, tanh and softplus 3-hidden-layer nets, from random weights and
# from denoising-autoencoder pre-training: test error and relu's sparsity.
EPOCHS=$(budget 10 1)
seeds=$(budget "1 2" "1")
pre_epochs=$(budget 2 1)
pre_lrs="0.01 0.003 0.001 0.0003 0.0001"
units=$(budget 500 64)
scale "Fashion-MNIST 784-$units-$units-$units-10, SGD 0.05 momentum 0.9, $EPOCHS epochs, seeds $seeds, pre-training $pre_epochs epochs per layer; the paper: MNIST, CIFAR10, NISTP, NORB"
opt="type = sgd;lr = 0.05;momentum = 0.9"
error_of() { local a; a=$(test_accuracy "$1"); calc "100 * (1 - ${a:-0.1})"; }
echo "| activation | random init: test error % | pre-trained | pre-training rate (seeds $seeds) | paper (MNIST): random / pre-trained | exact zeros of hidden layers 1, 2, 3 (random init, end, seed 1) |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|" >>"$OUT/table.md"
for act in relu tanh softplus; do
    mlp_cfg "$act.cfg" "$opt" "$units:$act" "$units:$act" "$units:$act" "10:none"
    rand=""; pre=""; prelrs=""
    for s in $seeds; do
        train "$act-random-s$s" "$act.cfg" --seed "$s" --probe "$OUT/runs/$act-random-s$s-probe.csv"
        rand="$rand $(error_of "$act-random-s$s")"
        # The pre-training rate: the first of the list whose pre-training ends
        # with finite losses (claim.txt); another failure ends the experiment.
        prelr=""
        for lr in $pre_lrs; do
            # shellcheck disable=SC2046
            if "$NERVE" pretrain "$act.cfg" --save "$act-pre-s$s.safetensors" --epochs "$pre_epochs" --noise 0.25 --lr "$lr" \
                --seed "$s" --threads "$THREADS" $(smoke_data) >"$OUT/runs/$act-pretrain-s$s-lr$lr.out" 2>&1; then prelr=$lr; break; fi
            grep -q 'loss is \(inf\|nan\|-nan\)' "$OUT/runs/$act-pretrain-s$s-lr$lr.out" ||
                { echo "lab: nerve pretrain $act.cfg failed: $(tail -1 "$OUT/runs/$act-pretrain-s$s-lr$lr.out")" >&2; exit 1; }
        done
        [ -n "$prelr" ] || { echo "lab: nerve pretrain $act.cfg diverged at every rate of $pre_lrs" >&2; exit 1; }
        prelrs="$prelrs/$prelr"
        train "$act-pre-s$s" "$act.cfg" --seed "$s" --init "$act-pre-s$s.safetensors"
        pre="$pre $(error_of "$act-pre-s$s")"
    done
    eval "r_$act=$(mean $rand); rs_$act=$(spread $rand); p_$act=$(mean $pre); ps_$act=$(spread $pre)"
    zeros=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) for (k = 1; k <= 3; k++) if ($i == "zero:fc" k) c[k] = i; next }
        { last = sprintf("%.3f, %.3f, %.3f", $c[1], $c[2], $c[3]) } END { print last }' "$OUT/runs/$act-random-s1-probe.csv")
    case "$act" in relu) paper="1.43 / 1.20" ;; tanh) paper="1.57 / 1.16" ;; softplus) paper="1.77 / 1.17" ;; esac
    table_row "$act" "$(mean $rand) ± $(spread $rand)" "$(mean $pre) ± $(spread $pre)" "${prelrs#/}" "$paper" "$zeros"
done
plot_csv=errors.csv
{ echo "activation,random,pretrained"; i=1; for act in relu tanh softplus; do eval echo "$i,\$r_$act,\$p_$act"; i=$((i + 1)); done; } >$plot_csv
plot $plot_csv --x activation --y random,pretrained --xlabel "1 relu, 2 tanh, 3 softplus" --ylabel "test error %" \
    --title "C04: test error from random weights and after pre-training (mean of seeds)" --out "$OUT/test_error.png"
max() { calc "($1 > $2 ? $1 : $2)"; }
s_rt=$(max "$rs_relu" "$rs_tanh"); s_ts=$(max "$rs_tanh" "$rs_softplus"); s_rr=$(max "$rs_relu" "$ps_relu")
gain_relu=$(calc "$r_relu - $p_relu"); gain_tanh=$(calc "$r_tanh - $p_tanh"); gain_softplus=$(calc "$r_softplus - $p_softplus")
reason="random init: relu $r_relu %, tanh $r_tanh %, softplus $r_softplus %; pre-training lowers them by $gain_relu, $gain_tanh, $gain_softplus pp (seed spreads: relu/tanh $s_rt, tanh/softplus $s_ts, relu random/pre-trained $s_rr)"
if true_if "$r_relu - $r_tanh > 2 * $s_rt || $gain_relu > 2 * $s_rr"; then verdict contradicted "$reason"
elif true_if "$r_relu <= $r_tanh + $s_rt && $r_tanh <= $r_softplus + $s_ts && $gain_relu <= $s_rr && -($gain_relu) <= $s_rr && $gain_tanh >= $gain_relu && $gain_softplus >= $gain_relu"; then
    verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
