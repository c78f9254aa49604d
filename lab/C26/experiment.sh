# C26: training against validation loss over many epochs on a 5k subset.
EPOCHS=$(budget 100 3)
scale "Fashion-MNIST first 5000 training samples, 5000 validation, $EPOCHS epochs, one seed (the catalogue's 5k-subset variant, not the 200-epoch one)"
mlp_cfg mlp.cfg "type = sgd;lr = 0.05;momentum = 0.9" "256:relu:he_uniform" "128:relu:he_uniform" "10:none"
if [ "$SMOKE" = 1 ]; then train mlp mlp.cfg; else train mlp mlp.cfg --set data.train_limit=5000; fi
read -r best_epoch best_val best_train < <(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "val_loss") v = i; if ($i == "train_loss") t = i }; next }
    $1 == "epoch" && (best == "" || $v < best) { best = $v; e = $2; tr = $t } END { print e, best, tr }' "$OUT/runs/mlp.csv")
final_val=$(last mlp val_loss); final_train=$(last mlp train_loss); last_epoch=$(last mlp epoch)
echo "| | epoch | training loss | validation loss | test accuracy (end) |" >"$OUT/table.md"
echo "|---|---|---|---|---|" >>"$OUT/table.md"
table_row "validation minimum" "$best_epoch" "$best_train" "$best_val" ""
table_row "end of training" "$last_epoch" "$final_train" "$final_val" "$(test_accuracy mlp)"
plot "$OUT/runs/mlp.csv" --y train_loss,val_loss --log-y --ylabel loss \
    --title "C26: training and validation loss (validation minimum at epoch $best_epoch)" --out "$OUT/loss_vs_epoch.png"
plot "$OUT/runs/mlp.csv" --y train_accuracy,val_accuracy --ylabel accuracy --title "C26: accuracy" --out "$OUT/accuracy_vs_epoch.png"
reason="validation loss minimum $best_val at epoch $best_epoch of $last_epoch, $final_val at the end ($(calc "$final_val / $best_val")×); training loss $best_train there, $final_train at the end"
if [ "$best_epoch" = "$last_epoch" ]; then verdict contradicted "$reason"
elif true_if "$final_val >= 1.1 * $best_val && $final_train < $best_train"; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
