# C25: small against large batches at a matched training loss (Keskar et al. 2017).
seeds=$(budget "1 2 3" "1")
small_epochs=$(budget 15 1); large_epochs=$(budget 45 2)
large=$(budget 5500 250)
scale "Fashion-MNIST MLP 784-256-128-10, Adam 0.001, batch 256 ($small_epochs epochs) against $large ($large_epochs epochs; and lr x sqrt(21.5) after a 5-epoch warm-up), seeds $seeds (Keskar et al.: MNIST, TIMIT, CIFAR networks, batch 256 against 10 % of the data)"
EPOCHS=$small_epochs BATCH=256 mlp_cfg small.cfg "type = adam;lr = 0.001" "256:relu" "128:relu" "10:none"
EPOCHS=$large_epochs BATCH=$large mlp_cfg large.cfg "type = adam;lr = 0.001" "256:relu" "128:relu" "10:none"
cp large.cfg scaled.cfg
sed -i 's/^lr = 0.001$/lr = 0.00464/' scaled.cfg
printf '\n[schedule]\ntype = constant\nwarmup = %s\n' "$(budget 5 1)" >>scaled.cfg
# first_at NAME LOSS: "epoch accuracy train_loss" at the first epoch of runs/NAME
# whose training loss is <= LOSS; empty if none.
first_at() {
    awk -F, -v target="$2" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "train_loss") l = i; if ($i == "val_accuracy") a = i } next }
        $1 == "epoch" && $l <= target { print $2, $a, $l; exit }' "$OUT/runs/$1.csv"
}
# match SMALL LARGE: "small_accuracy large_accuracy where" at a matched training
# loss: the large run where it first reaches the small run's final loss, else
# the small run where it first reaches the large run's final loss.
match() {
    local hit
    hit=$(first_at "$2" "$(last "$1" train_loss)")
    if [ -n "$hit" ]; then
        set -- $hit "$(last "$1" val_accuracy)"
        echo "$4 $2 large_epoch_$1_(loss_$3)"
    else
        hit=$(first_at "$1" "$(last "$2" train_loss)")
        [ -n "$hit" ] || hit="$(column "$1" epoch | tail -1) $(last "$1" val_accuracy) $(last "$1" train_loss)"
        set -- $hit "$(last "$2" val_accuracy)" "$(last "$2" train_loss)"
        echo "$2 $4 small_epoch_$1_(loss_$3)_against_large's_last_(loss_$5)"
    fi
}
echo "| seed | batch 256: final train loss | batch 256: val. accuracy | batch $large lr 0.001: val. accuracy | where matched | gap (pp) | batch $large lr 0.00464 + warm-up: val. accuracy (batch 256's) | where matched | gap (pp) |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|---|---|" >>"$OUT/table.md"
gaps="" gaps_scaled=""
for s in $seeds; do
    for v in small large scaled; do train "$v-s$s" "$v.cfg" --seed "$s"; done
    read -r a1 b1 w1 < <(match "small-s$s" "large-s$s")
    read -r a2 b2 w2 < <(match "small-s$s" "scaled-s$s")
    g=$(calc "100 * ($a1 - $b1)"); gs=$(calc "100 * ($a2 - $b2)")
    gaps="$gaps $g"; gaps_scaled="$gaps_scaled $gs"
    table_row "$s" "$(last "small-s$s" train_loss)" "$a1" "$b1" "$(echo "$w1" | tr _ ' ')" "$g" "$b2 ($a2)" "$(echo "$w2" | tr _ ' ')" "$gs"
done
gap=$(mean $gaps); gap_scaled=$(mean $gaps_scaled)
table_row "mean" "" "" "" "" "$gap" "" "" "$gap_scaled"
table_row "Keskar et al. 2017 (6 networks)" "" "" "" "" "a gap on every network (figures not checked)" "" "" ""
first=${seeds%% *}
plot "$OUT/runs/small-s$first.csv" "$OUT/runs/large-s$first.csv" "$OUT/runs/scaled-s$first.csv" \
    --labels "batch 256,batch $large,batch $large lr x4.64 warm-up" --x train_loss --y val_accuracy \
    --xlabel "training loss (epoch mean; training runs right to left)" --ylabel "validation accuracy" \
    --title "C25: validation accuracy against training loss (seed $first)" --out "$OUT/accuracy_vs_loss.png"
plot "$OUT/runs/small-s$first.csv" "$OUT/runs/large-s$first.csv" "$OUT/runs/scaled-s$first.csv" \
    --labels "batch 256,batch $large,batch $large lr x4.64 warm-up" --y train_loss,val_loss --log-y \
    --ylabel "loss (solid: training, dashed: validation)" --title "C25: losses per epoch (seed $first)" --out "$OUT/loss.png"
reason="mean gap (small − large, pp, at a matched training loss): lr 0.001 $gap (seeds:$gaps), LR-scaled with warm-up $gap_scaled (seeds:$gaps_scaled)"
if true_if "$gap >= 0.5 && $gap_scaled < $gap"; then verdict confirmed "$reason"
elif true_if "$gap <= -0.5"; then verdict contradicted "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
