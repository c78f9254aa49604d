# C19: Monte-Carlo dropout against weight scaling, K = 1..100 passes.
EPOCHS=$(budget 10 1)
seeds=$(budget "1 2 3" "1")
ks=$(budget "1 2 5 10 20 50 100" "1 2")
scale "Fashion-MNIST MLP 784-256-128-10 with dropout 0.5 after each hidden layer, $EPOCHS epochs, seeds $seeds, K = $ks (the paper: MNIST, larger nets, K up to about 100)"
{
    printf '[net]\ninput = 784\nbatch = 128\nepochs = %s\nseed = 1\n\n' "$EPOCHS"
    printf '[data]\nformat = idx\ntrain = %s/train-images-idx3-ubyte.gz\n' "$FASHION"
    printf 'train_labels = %s/train-labels-idx1-ubyte.gz\n' "$FASHION"
    printf 'test = %s/t10k-images-idx3-ubyte.gz\n' "$FASHION"
    printf 'test_labels = %s/t10k-labels-idx1-ubyte.gz\n' "$FASHION"
    printf 'scale = 255\nnormalize = standardize\nvalidation = 5000\n\n'
    printf '[optimizer]\ntype = sgd\nlr = 0.05\nmomentum = 0.9\n\n[loss]\ntype = softmax_cross_entropy\n'
    printf '\n[dense]\nname = fc1\nunits = 256\nactivation = relu\n\n[dropout]\nname = drop1\np = 0.5\n'
    printf '\n[dense]\nname = fc2\nunits = 128\nactivation = relu\n\n[dropout]\nname = drop2\np = 0.5\n'
    printf '\n[dense]\nname = out\nunits = 10\n'
} >mlp.cfg
# error_rates FILE: the weight-scaling error rate, then the Monte-Carlo one.
error_rates() { awk '/error rate/ { printf "%s ", $NF } END { print "" }' "$1"; }
ws_all=""
declare -A mc_all
for s in $seeds; do
    train "s$s" mlp.cfg --seed "$s" --save "$PWD/s$s.safetensors"
    for k in $ks; do
        "$NERVE" eval mlp.cfg --weights "$PWD/s$s.safetensors" --mc-samples "$k" \
            --threads "$THREADS" >"$OUT/runs/eval-s$s-k$k.out" ||
            { echo "lab: nerve eval --mc-samples $k failed" >&2; exit 1; }
        read -r ws mc < <(error_rates "$OUT/runs/eval-s$s-k$k.out")
        mc_all[$k]="${mc_all[$k]:-} $mc"
    done
    ws_all="$ws_all $ws"
done
ws_mean=$(mean $ws_all)
echo "| K | Monte-Carlo test error (seeds $seeds) | mean | weight scaling (mean) |" >"$OUT/table.md"
echo "|---|---|---|---|" >>"$OUT/table.md"
echo "k,monte_carlo,weight_scaling" >mc.csv
falls=1; previous=""; first=""; at50=""; last=""
for k in $ks; do
    m=$(mean ${mc_all[$k]})
    table_row "$k" "$(echo ${mc_all[$k]} | tr ' ' '/')" "$m" "$ws_mean"
    echo "$k,$m,$ws_mean" >>mc.csv
    [ -n "$previous" ] && true_if "$m > $previous + 0.001" && falls=0
    [ -z "$first" ] && first=$m
    [ "$k" = 50 ] && at50=$m
    previous=$m; last=$m
done
table_row "weight scaling, per seed" "$(echo $ws_all | tr ' ' '/')" "$ws_mean" ""
table_row "Srivastava 2014 Fig. 11 (MNIST)" "meets weight scaling at k ≈ 50" "" ""
plot mc.csv --x k --y monte_carlo,weight_scaling \
    --xlabel "passes K" --ylabel "test error (mean of seeds)" \
    --title "C19: Monte-Carlo dropout against weight scaling" --out "$OUT/mc_vs_k.png"
reason="weight scaling $ws_mean; Monte-Carlo K=1 $first, K=50 ${at50:-not run}, last K $last; never rising by > 0.1 pp: $([ $falls = 1 ] && echo yes || echo no)"
if [ -z "$at50" ]; then verdict "not confirmed at this scale" "$reason (smoke: no K = 50)"
elif ! true_if "$last < $first" || true_if "$at50 > $ws_mean + 0.01"; then verdict contradicted "$reason"
elif true_if "$first > $ws_mean" && [ $falls = 1 ] && true_if "$at50 - $ws_mean <= 0.003 && $ws_mean - $at50 <= 0.003"; then
    verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
