# C51: Nesterov against classical momentum at 0.9 and 0.99 (same lr / (1 - mu)).
EPOCHS=$(budget 5 1)
seeds=$(budget "1 2 3" "1")
scale "Fashion-MNIST MLP 784-(256 x 5)-10 relu, SGD lr/(1 - mu) = 0.1, batch 128, $EPOCHS epochs, seeds $seeds (Sutskever et al.: deep autoencoders, with schedules)"
lr_of() { [ "$1" = 0.9 ] && echo 0.01 || echo 0.001; }
for mu in 0.9 0.99; do
    for nag in 0 1; do
        mlp_cfg "mu$mu-nag$nag.cfg" "type = sgd;lr = $(lr_of $mu);momentum = $mu;nesterov = $nag" \
            "256:relu:he_uniform" "256:relu:he_uniform" "256:relu:he_uniform" "256:relu:he_uniform" "256:relu:he_uniform" "10:none"
    done
done
# epoch_means NAMES...: the epoch rows' train_loss averaged over the runs, one per epoch.
epoch_means() {
    local f
    for f in "$@"; do column "$f" train_loss | paste -sd' '; done |
        awk '{ for (i = 1; i <= NF; i++) { s[i] += $i; n[i]++ } if (NF > m) m = NF }
             END { for (i = 1; i <= m; i++) printf "%.5f\n", s[i] / n[i] }'
}
{
    echo "| momentum | lr | classical: training loss per epoch (mean of seeds) | Nesterov | last epoch, classical (seeds) | last epoch, Nesterov (seeds) |"
    echo "|---|---|---|---|---|---|"
} >"$OUT/table.md"
ok=1 contra=1 detail=""
for mu in 0.9 0.99; do
    declare -A E L S
    for nag in 0 1; do
        names=() lasts=""
        for s in $seeds; do
            train "mu$mu-nag$nag-s$s" "mu$mu-nag$nag.cfg" --seed "$s" --on-nan skip
            names+=("mu$mu-nag$nag-s$s")
            l=$(last "mu$mu-nag$nag-s$s" train_loss); lasts="$lasts ${l:-nan}"
        done
        epoch_means "${names[@]}" >"$OUT/runs/mu$mu-nag$nag.means"
        E[$nag]=$(paste -sd' ' "$OUT/runs/mu$mu-nag$nag.means")
        L[$nag]=$(mean $lasts); S[$nag]=$(spread $lasts)
        LS[$nag]=$lasts
    done
    table_row "$mu" "$(lr_of $mu)" "${E[0]}" "${E[1]}" "$(echo ${LS[0]} | tr ' ' '/')" "$(echo ${LS[1]} | tr ' ' '/')"
    # Nesterov at most classical at every epoch
    paste -d' ' "$OUT/runs/mu$mu-nag1.means" "$OUT/runs/mu$mu-nag0.means" | awk '$1 > $2 { bad = 1 } END { exit bad }' || ok=0
    gap=$(awk -v a="${S[0]}" -v b="${S[1]}" 'BEGIN { print (a > b ? a : b) }')
    true_if "${L[0]} < ${L[1]} - $gap" || contra=0
    [ "$mu" = 0.99 ] && { true_if "${L[1]} <= 0.95 * ${L[0]}" || ok=0; }
    detail="$detail μ $mu: last-epoch loss classical ${L[0]} (±${S[0]}), Nesterov ${L[1]} (±${S[1]});"
    { echo "epoch,classical,nesterov"; paste -d, <(seq 1 "$(wc -l <"$OUT/runs/mu$mu-nag0.means")") \
        "$OUT/runs/mu$mu-nag0.means" "$OUT/runs/mu$mu-nag1.means"; } >"loss_mu$mu.csv"
done
first=${seeds%% *}
plot loss_mu0.9.csv loss_mu0.99.csv --labels "momentum 0.9,momentum 0.99" --y classical,nesterov --log-y \
    --ylabel "training loss (epoch mean, mean of seeds)" --title "C51: Nesterov (dashed) against classical momentum" \
    --out "$OUT/loss.png"
plot "$OUT/runs/mu0.99-nag0-s$first.csv" "$OUT/runs/mu0.99-nag1-s$first.csv" --labels "classical 0.99,Nesterov 0.99" \
    --x step --y train_loss --smooth 0.9 --log-y --ylabel "training loss (batch, smoothed)" \
    --title "C51: momentum 0.99, seed $first" --out "$OUT/loss_steps_mu0.99.png"
reason="Nesterov ≤ classical at every epoch at both momenta and ≥ 5 % lower at 0.99: $([ $ok = 1 ] && echo yes || echo no);$detail"
if [ $contra = 1 ]; then verdict contradicted "$reason"
elif [ $ok = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
