# C56: the adding problem at T = 100 with a ReLU RNN, against tanh, IRNN and LSTM.
T=$(budget 100 10)
seeds=$(budget "1 2 3" "1")
small=(); [ "$SMOKE" = 1 ] && small=(--set data.train_samples=500 --set data.test_samples=100 --epochs 1)
scale "adding problem, T = $T, hidden 64, Adam 0.002 with clip_norm 1, $(budget "20 epochs of 18,000 samples" "1 epoch of 400 samples"), seeds $seeds (Le et al. 2015: T up to 400 with plain SGD and clipping)"
rnn=$LAB/../examples/adding_rnn.cfg
cp "$rnn" tanh.cfg
sed 's/^hidden = 64$/hidden = 64\nnonlinearity = relu/' "$rnn" >relu.cfg
sed 's/^hidden = 64$/hidden = 64\nnonlinearity = relu\ninit_hh = orthogonal/' "$rnn" >relu_orthogonal.cfg
sed 's/^hidden = 64$/hidden = 64\nnonlinearity = relu\ninit = normal(0, 0.001)\ninit_hh = eye\nbias_init = zeros/' "$rnn" >irnn.cfg
cp "$LAB/../examples/adding_lstm.cfg" lstm.cfg
test_mse() { awk '/^test loss/ { print $3 }' "$OUT/runs/$1.out"; }
{
    echo "| recurrent layer | test MSE (seeds) | below 0.0167 | paper (Le et al. 2015, T = 150, recalled) |"
    echo "|---|---|---|---|"
} >"$OUT/table.md"
declare -A V
for cell in tanh relu relu_orthogonal irnn lstm; do
    ss=$seeds; [ $cell = lstm ] && ss=${seeds%% *}
    values="" solved=0
    for s in $ss; do
        train "$cell-s$s" "$cell.cfg" --seed "$s" --set "data.length=$T" --set "net.input=${T}x2" "${small[@]}"
        m=$(test_mse "$cell-s$s"); m=${m:-1}
        values="$values $m"
        true_if "$m < 0.0167" && solved=$((solved + 1))
    done
    V[$cell]=$values
    paper=""
    case $cell in tanh) paper="near 0.167" ;; relu) paper="near 0.167 (a Gaussian recurrent matrix)" ;; irnn | lstm) paper="low" ;; esac
    table_row "$cell" "$(echo $values | tr ' ' '/')" "$solved of $(echo $ss | wc -w)" "$paper"
done
first=${seeds%% *}
plot "$OUT/runs/tanh-s$first.csv" "$OUT/runs/relu-s$first.csv" "$OUT/runs/relu_orthogonal-s$first.csv" "$OUT/runs/irnn-s$first.csv" \
    "$OUT/runs/lstm-s$first.csv" --labels "tanh,relu,relu orthogonal,IRNN,LSTM" --y val_loss --log-y --hline 0.167 \
    --ylabel "validation MSE" --title "C56: the adding problem, T = $T (dashed: the trivial 0.167; seed $first)" --out "$OUT/val_mse.png"
solved=$(echo ${V[relu]} | awk '{ for (i = 1; i <= NF; i++) if ($i < 0.0167) n++; print n + 0 }')
stuck=$(echo ${V[relu]} | awk '{ for (i = 1; i <= NF; i++) if ($i < 0.1) n++; print n ? 0 : 1 }')
reason="test MSE at T = $T:$(for c in tanh relu relu_orthogonal irnn lstm; do printf ' %s %s;' "$c" "$(echo ${V[$c]} | tr ' ' '/')"; done) the default-init ReLU RNN solves $solved of $(echo $seeds | wc -w) seeds"
if [ "$solved" -ge 2 ]; then verdict confirmed "$reason"
elif [ "$stuck" = 1 ]; then verdict contradicted "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
