# C54: weight decay and L1 against an exploding tanh RNN (C15's lr 0.5, unclipped).
EPOCHS=$(budget 5 1)
samples=$(budget 10000 400)
lr=$(budget 0.5 1.0)
scale "adding problem T = 50, $samples training sequences, tanh RNN 64, plain SGD lr $lr unclipped, $EPOCHS epochs, seed 1; weight_decay 1e-4/1e-3/1e-2, l1 1e-4/1e-3, and clip_norm 1 (the paper: no figure to match)"
{
    printf '[net]\ninput = 50x2\nbatch = 64\nepochs = %s\nseed = 1\n\n' "$EPOCHS"
    printf '[data]\nformat = adding\nlength = 50\ntrain_samples = %s\ntest_samples = 1000\nvalidation = 1000\n\n' "$samples"
    printf '[optimizer]\ntype = sgd\nlr = %s\n\n[loss]\ntype = mse\n\n' "$lr"
    printf '[rnn]\nname = rnn\nhidden = 64\nreturn = last\n\n[dense]\nname = out\nunits = 1\n'
} >rnn50.cfg
test_mse() { awk '/^test loss/ { print $3 }' "$OUT/runs/$1.out"; }
skips() { grep -c ': skipped (' "$OUT/runs/$1.err" || true; }
# spike NAME: the largest step gradient norm over the median (finite steps only).
spike() {
    column "$1" grad_norm step | grep -E '^[0-9.eE+-]+$' | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } m = v[int((NR + 1) / 2)]; printf "%.4g\n", (m > 0 ? v[NR] / m : 0) }'
}
{
    echo "| penalty | test MSE | steps skipped | numerical stop | max / median step ‖g‖ | explodes |"
    echo "|---|---|---|---|---|---|"
} >"$OUT/table.md"
declare -A R X
runs="none wd1e-4 wd1e-3 wd1e-2 l1_1e-4 l1_1e-3 clip1"
for v in $runs; do
    case $v in
        none) set -- ;;
        wd*) set -- --set "optimizer.weight_decay=${v#wd}" ;;
        l1_*) set -- --set "optimizer.l1=${v#l1_}" ;;
        clip1) set -- --set optimizer.clip_norm=1 ;;
    esac
    train "$v" rnn50.cfg --on-nan skip --log-every 1 "$@"
    m=$(test_mse "$v"); s=$(skips "$v"); r=$(spike "$v")
    X[$v]=0
    if [ -z "$m" ] || [ "$s" -gt 0 ] || { [ "$r" != n/a ] && true_if "$r > 100"; } || true_if "$m > 1"; then X[$v]=1; fi
    R[$v]=$r
    table_row "$v" "${m:-none (stopped)}" "$s" "$([ -z "$m" ] && echo yes || echo no)" "$r" "$([ "${X[$v]}" = 1 ] && echo yes || echo no)"
done
plot "$OUT/runs/none.csv" "$OUT/runs/wd1e-3.csv" "$OUT/runs/wd1e-2.csv" "$OUT/runs/l1_1e-3.csv" "$OUT/runs/clip1.csv" \
    --labels "no penalty,weight decay 1e-3,weight decay 1e-2,l1 1e-3,clip_norm 1" --x step --y grad_norm --log-y \
    --ylabel "gradient norm (before clipping)" --title "C54: an exploding tanh RNN (lr $lr) with penalties and with clipping" \
    --out "$OUT/grad_norm.png"
limited=0
for v in wd1e-4 wd1e-3 wd1e-2 l1_1e-4 l1_1e-3; do [ "${X[$v]}" = 0 ] && limited=1; done
reason="no penalty explodes: $([ "${X[none]}" = 1 ] && echo yes || echo no) (ratio ${R[none]});$(for v in wd1e-4 wd1e-3 wd1e-2 l1_1e-4 l1_1e-3 clip1; do printf ' %s %s (ratio %s);' "$v" "$([ "${X[$v]}" = 1 ] && echo explodes || echo "does not explode")" "${R[$v]}"; done)"
if [ "${X[none]}" = 0 ]; then verdict "not confirmed at this scale" "$reason"
elif [ $limited = 1 ]; then verdict confirmed "$reason"
else verdict contradicted "$reason"; fi
