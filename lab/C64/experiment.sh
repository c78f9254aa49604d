# C64: XOR without and with a hidden layer; sin(3x) against the hidden width.
EPOCHS=$(budget 300 30)
seeds=$(budget "1 2 3 4 5" "1 2")
widths=$(budget "0 1 2 4 8 16 64" "0 1 64")
scale "XOR (4 points x 25) and sin(3x) on [-2, 2] (1000 training, 201 test points), $EPOCHS epochs, Adam; XOR seeds $seeds, sin widths $widths (the theorems: no experiment of their own)"
awk 'BEGIN { for (r = 0; r < 25; r++) for (a = 0; a < 2; a++) for (b = 0; b < 2; b++) print a "," b "," (a != b) }' >xor.csv
awk 'BEGIN { srand(1); for (i = 0; i < 1000; i++) { x = -2 + 4 * rand(); printf "%.6f,%.6f\n", x, sin(3 * x) } }' >sin_train.csv
awk 'BEGIN { for (i = 0; i <= 200; i++) { x = -2 + i * 0.02; printf "%.6f,%.6f\n", x, sin(3 * x) } }' >sin_test.csv
# net FILE INPUTS BATCH DATA LOSS OPTIMIZER UNITS OUTPUTS: a net with one hidden
# tanh layer of UNITS (0: none); DATA and OPTIMIZER are the sections' lines,
# separated by ';'.
# (--set data.validation=0 overrides the smoke runs' hold-out, meant for Fashion-MNIST.)
net() {
    {
        printf '[net]\ninput = %s\nbatch = %s\nepochs = %s\nseed = 1\n\n' "$2" "$3" "$EPOCHS"
        printf '[data]\nformat = csv\n%s\n\n' "$(echo "$4" | tr ';' '\n')"
        printf '[optimizer]\n%s\n\n[loss]\ntype = %s\n' "$(echo "$6" | tr ';' '\n')" "$5"
        [ "$7" = 0 ] || printf '\n[dense]\nname = hidden\nunits = %s\nactivation = tanh\n' "$7"
        printf '\n[dense]\nname = out\nunits = %s\n' "$8"
    } >"$1"
}
for m in 0 2; do
    net "xor$m.cfg" 2 20 "train = $PWD/xor.csv;test = $PWD/xor.csv" softmax_cross_entropy "type = adam;lr = 0.05" "$m" 2
done
{
    echo "| model | XOR accuracy (seeds $seeds) | sin(3x) test MSE |"
    echo "|---|---|---|"
} >"$OUT/table.md"
declare -A X
for m in 0 2; do
    accs=""
    for s in $seeds; do
        train "xor$m-s$s" "xor$m.cfg" --seed "$s" --set data.validation=0
        a=$(test_accuracy "xor$m-s$s"); accs="$accs ${a:-0}"
    done
    X[$m]=$accs
done
echo "width,test_mse" >sin.csv
declare -A S
for w in $widths; do
    net "sin$w.cfg" 1 50 "train = $PWD/sin_train.csv;test = $PWD/sin_test.csv;targets = 1" mse "type = adam;lr = 0.01" "$w" 1
    train "sin$w" "sin$w.cfg" --save "$PWD/sin$w.safetensors" --set data.validation=0
    S[$w]=$(awk '/^test loss/ { print $3 }' "$OUT/runs/sin$w.out")
    echo "$w,${S[$w]}" >>sin.csv
    "$NERVE" predict "sin$w.cfg" --weights "$PWD/sin$w.safetensors" --input sin_test.csv --threads "$THREADS" \
        >"$OUT/runs/sin$w-predict.out" 2>&1 || { echo "lab: nerve predict sin$w failed" >&2; exit 1; }
done
# fits.csv: the test points, sin(3x) and each width's fit.
for w in $widths; do awk 'NR > 1 { print $2 }' "$OUT/runs/sin$w-predict.out" >"$OUT/runs/sin$w.fit"; done
{
    echo "x,target$(for w in $widths; do printf ',width_%s' "$w"; done)"
    # shellcheck disable=SC2046
    paste -d, sin_test.csv $(for w in $widths; do echo "$OUT/runs/sin$w.fit"; done)
} >fits.csv
table_row "no hidden layer" "$(echo ${X[0]} | tr ' ' '/')" "${S[0]:-not run}"
table_row "one hidden tanh layer of 2" "$(echo ${X[2]} | tr ' ' '/')" "${S[2]:-not run}"
for w in $widths; do [ "$w" = 0 ] || [ "$w" = 2 ] || table_row "one hidden tanh layer of $w" "" "${S[$w]}"; done
plot sin.csv --x width --y test_mse --log-y --xlabel "hidden tanh units (0: no hidden layer)" --ylabel "test MSE" \
    --title "C64: fitting sin(3x) on [-2, 2] as the hidden layer widens" --out "$OUT/sin_mse_vs_width.png"
plot fits.csv --x x --y "target$(for w in $widths; do printf ',width_%s' "$w"; done)" --ylabel "y" \
    --title "C64: sin(3x) and the fits of each hidden width (test points)" --out "$OUT/sin_fits.png"
xor_lin=$(echo ${X[0]} | awk '{ for (i = 1; i <= NF; i++) if ($i > 0.75) bad = 1; print bad ? 0 : 1 }')
xor_lin_solves=$(echo ${X[0]} | awk '{ for (i = 1; i <= NF; i++) if ($i >= 1) s = 1; print s + 0 }')
xor_hidden=$(echo ${X[2]} | awk '{ for (i = 1; i <= NF; i++) if ($i >= 1) n++; print n + 0 }')
wide=${widths##* }
need=$(( ($(echo $seeds | wc -w) * 3 + 4) / 5 ))
reason="XOR without a hidden layer: $(echo ${X[0]} | tr ' ' '/'); with 2 tanh units: $(echo ${X[2]} | tr ' ' '/') ($xor_hidden solved); sin(3x) test MSE: width 1 ${S[1]}, width $wide ${S[$wide]}"
if [ "$xor_lin_solves" = 1 ] || ! true_if "${S[$wide]} < ${S[1]}"; then verdict contradicted "$reason"
elif [ "$xor_lin" = 1 ] && [ "$xor_hidden" -ge "$need" ] && true_if "${S[$wide]} < 0.01 && ${S[$wide]} * 10 <= ${S[1]}"; then
    verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
