# Sourced by lab/run.sh for each experiment (lab/CNN/experiment.sh): running
# nerve, reading its outputs, and writing the result folder's files.
# Set by run.sh: NERVE (the binary), LAB (this folder), OUT (the result
# folder, empty), SMOKE (1: a tiny budget, seconds; 0: the real run), THREADS.

# Smoke runs read run.sh's small slices of the data set.
FASHION=${SMOKE_DATA:-/usr/share/datasets/fashion-mnist}
mkdir -p "$OUT/runs"

# budget FULL SMOKE: FULL for a real run, SMOKE for --smoke.
budget() { if [ "$SMOKE" = 1 ]; then echo "$2"; else echo "$1"; fi; }

# In smoke mode every Fashion-MNIST run holds out 100 of its 600 training
# samples; a real run holds out what the experiment asks for.
smoke_data() { if [ "$SMOKE" = 1 ]; then echo "--set data.validation=100"; fi; }

# train NAME CFG ARGS...: nerve train with the metrics log runs/NAME.csv and
# stdout in runs/NAME.out; a failure (other than a numerical stop, exit 4,
# which some experiments provoke) ends the experiment.
train() {
    local name=$1 cfg=$2
    shift 2
    # shellcheck disable=SC2046
    "$NERVE" train "$cfg" --threads "$THREADS" --log "$OUT/runs/$name.csv" $(smoke_data) "$@" \
        >"$OUT/runs/$name.out" 2>"$OUT/runs/$name.err"
    local code=$?
    if [ "$code" -ne 0 ] && [ "$code" -ne 4 ]; then
        echo "lab: nerve train $cfg $* failed (exit $code): $(tail -1 "$OUT/runs/$name.err")" >&2
        exit 1
    fi
    return 0
}

# test_accuracy NAME: the test accuracy nerve train printed (empty if none).
test_accuracy() { awk '/^test loss/ {print $5}' "$OUT/runs/$1.out"; }

# column NAME COLUMN [KIND]: the column's values in runs/NAME.csv, one per
# line, over rows of KIND (epoch or step; default epoch).
column() {
    awk -F, -v col="$2" -v kind="${3:-epoch}" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
        c && $1 == kind { print $c }' "$OUT/runs/$1.csv"
}

# last NAME COLUMN: the last epoch row's value.
last() { column "$1" "$2" | tail -1; }

# calc EXPRESSION: awk arithmetic, printed with 4 significant digits.
calc() { awk "BEGIN { printf \"%.4g\n\", $1 }"; }

# true_if EXPRESSION: exit 0 when awk's EXPRESSION holds.
true_if() { awk "BEGIN { exit !($1) }"; }

# plot ARGS...: nerve plot, whose failure is the experiment's.
plot() {
    "$NERVE" plot "$@" >/dev/null || { echo "lab: nerve plot $* failed" >&2; exit 1; }
}

# table_row CELLS...: a Markdown table row into table.md.
table_row() {
    local row="|" cell
    for cell in "$@"; do row="$row $cell |"; done
    echo "$row" >>"$OUT/table.md"
}

# verdict VERDICT REASON: one of confirmed, "not confirmed at this scale",
# contradicted, decided by the claim's criterion (claim.txt, written before
# any run); REASON gives the figures the criterion was applied to.
verdict() {
    case "$1" in
        confirmed | "not confirmed at this scale" | contradicted) ;;
        *) echo "lab: unknown verdict '$1'" >&2; exit 1 ;;
    esac
    echo "$1" >"$OUT/verdict"
    echo "$2" >"$OUT/reason"
}

# scale TEXT: what was run, and how it differs from the paper's setup.
scale() { echo "$*" >"$OUT/scale"; }

# mlp_cfg FILE OPTIMIZER LAYERS...: a Fashion-MNIST MLP. OPTIMIZER holds the
# [optimizer] section's lines, separated by ';'. Each layer is
# UNITS:ACTIVATION[:INIT[:BIAS_INIT]], the last the output layer (its
# activation "none"). BATCH, EPOCHS and VALIDATION override 128, 10, 5000.
mlp_cfg() {
    local file=$1 optimizer=$2 i=0 n spec units act init bias_init
    shift 2
    n=$#
    {
        printf '[net]\ninput = 784\nbatch = %s\nepochs = %s\nseed = 1\n\n' "${BATCH:-128}" "${EPOCHS:-10}"
        printf '[data]\nformat = idx\ntrain = %s/train-images-idx3-ubyte.gz\n' "$FASHION"
        printf 'train_labels = %s/train-labels-idx1-ubyte.gz\n' "$FASHION"
        printf 'test = %s/t10k-images-idx3-ubyte.gz\n' "$FASHION"
        printf 'test_labels = %s/t10k-labels-idx1-ubyte.gz\n' "$FASHION"
        printf 'scale = 255\nnormalize = standardize\nvalidation = %s\n\n' "${VALIDATION:-5000}"
        printf '[optimizer]\n%s\n\n[loss]\ntype = softmax_cross_entropy\n' "$(echo "$optimizer" | tr ';' '\n')"
        for spec in "$@"; do
            i=$((i + 1))
            IFS=: read -r units act init bias_init <<<"$spec"
            printf '\n[dense]\nname = %s\nunits = %s\n' "$([ $i -eq $n ] && echo out || echo "fc$i")" "$units"
            [ -n "$act" ] && printf 'activation = %s\n' "$act"
            [ -n "$init" ] && printf 'init = %s\n' "$init"
            [ -n "$bias_init" ] && printf 'bias_init = %s\n' "$bias_init"
        done
    } >"$file"
}

# mean VALUES...: their mean; spread VALUES...: max - min.
mean() { echo "$@" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.4f\n", s / NF }'; }
spread() {
    echo "$@" | awk '{ lo = hi = $1; for (i = 2; i <= NF; i++) { if ($i < lo) lo = $i; if ($i > hi) hi = $i }
                       printf "%.4f\n", hi - lo }'
}
