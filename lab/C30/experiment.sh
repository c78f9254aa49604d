# C30: knowledge distillation at temperatures T for a big and a small student.
temps=$(budget "1 2 4 8 20" "1 20")
scale "Fashion-MNIST, teacher a CNN (conv3x3x32-pool-conv3x3x64-pool-fc256-dropout-fc10, $(budget 6 1) epochs), students 784-800-800-10 and 784-32-10 ($(budget 8 1) epochs), T = $temps, seed 1 (the paper: MNIST, teacher 67 errors, 2 x 800 student 146, distilled 74)"
# net FILE EPOCHS LAYERS: a 1x28x28 network trained with SGD 0.05 momentum 0.9, its
# layer sections (cfg text) after the shared [net], [data], [optimizer] and [loss].
net() {
    {
        printf '[net]\ninput = 1x28x28\nbatch = 128\nepochs = %s\nseed = 1\n\n' "$2"
        printf '[data]\nformat = idx\ntrain = %s/train-images-idx3-ubyte.gz\n' "$FASHION"
        printf 'train_labels = %s/train-labels-idx1-ubyte.gz\n' "$FASHION"
        printf 'test = %s/t10k-images-idx3-ubyte.gz\n' "$FASHION"
        printf 'test_labels = %s/t10k-labels-idx1-ubyte.gz\n' "$FASHION"
        printf 'scale = 255\nnormalize = standardize\nvalidation = 5000\n\n'
        printf '[optimizer]\ntype = sgd\nlr = 0.05\nmomentum = 0.9\n\n[loss]\ntype = softmax_cross_entropy\n'
        printf '%s' "$3"
        printf '\n[dense]\nname = out\nunits = 10\n'
    } >"$1"
}
# mlp FILE EPOCHS HIDDEN...: a ReLU MLP.
mlp() {
    local file=$1 epochs=$2 layers="" i=0 h
    shift 2
    for h in "$@"; do
        i=$((i + 1))
        layers+=$(printf '\n[dense]\nname = fc%s\nunits = %s\nactivation = relu\n_' "$i" "$h")
        layers=${layers%_}
    done
    net "$file" "$epochs" "$layers"
}
# The teacher is a small CNN: an MLP teacher, with or without the paper's jitter,
# made more test errors than the 800-800 student alone (claim.txt).
conv() { printf '\n[conv2d]\nname = %s\nfilters = %s\nkernel = 3\npadding = same\nactivation = relu\n\n[maxpool2d]\nname = pool_%s\nkernel = 2\n' "$1" "$2" "$1"; }
net teacher.cfg "$(budget 6 1)" "$(conv conv1 32; conv conv2 64)
[dense]
name = fc1
units = 256
activation = relu

[dropout]
name = drop1
p = 0.5
"
mlp big.cfg "$(budget 8 1)" 800 800
mlp small.cfg "$(budget 8 1)" 32
train teacher teacher.cfg --save "$PWD/teacher.safetensors"
# distill NAME STUDENT ARGS...: nerve distill from the teacher, output in runs/NAME.out,
# at the cfg's rate 0.05 or, where a run stops on a non-finite loss, the first
# of 0.02, 0.01, 0.005 that finishes (claim.txt); the rate used in rate[NAME].
declare -A rate
distill() {
    local name=$1 student=$2 lr
    shift 2
    for lr in 0.05 0.02 0.01 0.005; do
        # shellcheck disable=SC2046
        if "$NERVE" distill --teacher "teacher.cfg:$PWD/teacher.safetensors" --student "$student" --threads "$THREADS" \
            --lr "$lr" --log "$OUT/runs/$name.csv" $(smoke_data) "$@" >"$OUT/runs/$name.out" 2>"$OUT/runs/$name.err"; then
            rate[$name]=$lr
            return 0
        fi
        grep -q 'loss is \(inf\|nan\|-nan\)' "$OUT/runs/$name.err" ||
            { echo "lab: nerve distill $student $* failed: $(tail -1 "$OUT/runs/$name.err")" >&2; exit 1; }
        cp "$OUT/runs/$name.err" "$OUT/runs/$name-lr$lr.err"
    done
    echo "lab: nerve distill $student $* diverged at every rate" >&2
    exit 1
}
# errors NAME: test errors out of the test set (from the printed accuracy).
ntest=$(awk '/train,.*validation,.*test samples/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^test/) print $i }' "$OUT/runs/teacher.out" | head -1)
errors() { awk -v n="$ntest" '/^test loss/ { printf "%.0f\n", (1 - $5) * n }' "$OUT/runs/$1.out"; }
agreement() { awk '/agrees with the teacher/ { print $(NF - 4) }' "$OUT/runs/$1.out"; }
teacher_errors=$(errors teacher)
echo "| student | alone (alpha 0) | $(for t in $temps; do printf 'T = %s | ' "$t"; done)best T |" >"$OUT/table.md"
echo "|---|---|$(for t in $temps; do printf -- '---|'; done)---|" >>"$OUT/table.md"
declare -A alone best bestT
echo "temperature,big,small" >errors.csv
declare -A e
for st in big small; do
    distill "$st-alone" "$st.cfg" --alpha 0
    alone[$st]=$(errors "$st-alone"); best[$st]=""; bestT[$st]=""
    cells=()
    for t in $temps; do
        distill "$st-T$t" "$st.cfg" --alpha 0.9 --temperature "$t"
        e[$st-$t]=$(errors "$st-T$t")
        cells+=("${e[$st-$t]} (agreement $(agreement "$st-T$t")$([ "${rate[$st-T$t]}" = 0.05 ] || echo ", rate ${rate[$st-T$t]}"))")
        if [ -z "${best[$st]}" ] || [ "${e[$st-$t]}" -lt "${best[$st]}" ]; then best[$st]=${e[$st-$t]}; bestT[$st]=$t; fi
    done
    table_row "$st ($(grep -o '[0-9]* parameters' "$OUT/runs/$st-alone.out" | head -1))" "${alone[$st]} (agreement $(agreement "$st-alone"))" "${cells[@]}" "${bestT[$st]}"
done
for t in $temps; do echo "$t,${e[big-$t]},${e[small-$t]}" >>errors.csv; done
blank=(); for t in $temps; do blank+=(""); done
table_row "teacher (CNN)" "$teacher_errors" "${blank[@]}" ""
table_row "Hinton et al. 2015 (MNIST, 2 x 800 student)" "146 (teacher 67)" "${blank[@]}" "74 at T = 20"
plot errors.csv --x temperature --y big,small --hline "${alone[big]},${alone[small]},$teacher_errors" \
    --xlabel "temperature T (alpha 0.9)" --ylabel "test errors of 10000" \
    --title "C30: distilled students against T (dashed: each alone, and the teacher)" --out "$OUT/errors_vs_t.png"
gap=$((alone[big] - teacher_errors))
reason="test errors: teacher $teacher_errors; 800-800 student alone ${alone[big]}, best distilled ${best[big]} at T = ${bestT[big]}; 32-unit student alone ${alone[small]}, best ${best[small]} at T = ${bestT[small]}"
if [ "${best[big]}" -ge "${alone[big]}" ]; then verdict contradicted "$reason"
elif [ $gap -gt 0 ] && true_if "${best[big]} <= 0.9 * ${alone[big]} && ${alone[big]} - ${best[big]} >= 0.5 * $gap" &&
    true_if "${bestT[small]} <= ${bestT[big]}"; then
    verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
