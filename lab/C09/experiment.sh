# C09: deep plain ReLU MLPs under std 0.01, Xavier and He: the step at which
# the training loss first falls below 2.0 (learning has started).
steps=$(budget 2000 20)
every=$(budget 10 2)
seeds=$(budget "1 2" "1")
depths=$(budget "5 22 30" "5 22")
scale "Fashion-MNIST, plain ReLU MLPs of width 128 with $depths weighted layers, $steps steps of SGD 0.01 momentum 0.9, batch 128, seeds $seeds; He et al. used ImageNet conv nets, the book 784-100x4-10 on MNIST"
inits=("normal(0, 0.01)" xavier_normal kaiming_normal)
short() { case "$1" in normal*) echo std0.01 ;; xavier_normal) echo xavier ;; *) echo he ;; esac; }
# learnt_at NAME: the first logged step whose smoothed training loss is < 2.0, or "never".
learnt_at() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "train_loss") l = i; if ($i == "step") s = i }; next }
        $1 != "step" { next }
        { if ($l + 0 != $l || $l == "nan" || $l == "inf") exit
          e = 0.9 * e + 0.1 * $l; w = 0.9 * w + 0.1
          if (e / w < 2.0) { print $s; found = 1; exit } }
        END { if (!found) print "never" }' "$OUT/runs/$1.csv"
}
echo "| weighted layers | init | first step with loss < 2.0 (per seed) | test accuracy (mean) | paper |" >"$OUT/table.md"
echo "|---|---|---|---|---|" >>"$OUT/table.md"
declare -A learns first
for d in $depths; do
    for init in "${inits[@]}"; do
        key=$d-$(short "$init"); all=1; none=1; sum=0; cells=""; accs=""
        for s in $seeds; do
            name=d$key-s$s
            layers=()
            for ((k = 1; k < d; k++)); do layers+=("128:relu:$init:zeros"); done
            mlp_cfg "$name.cfg" "type = sgd;lr = 0.01;momentum = 0.9" "${layers[@]}" "10:none:$init:zeros"
            train "$name" "$name.cfg" --seed "$s" --steps "$steps" --log-every "$every"
            at=$(learnt_at "$name")
            cells="$cells $at"
            a=$(test_accuracy "$name"); accs="$accs ${a:-0}"
            if [ "$at" = never ]; then all=0; sum=$((sum + steps)); else none=0; sum=$((sum + at)); fi
        done
        n=$(echo $seeds | wc -w)
        learns[$key]=$([ $all = 1 ] && echo all || ([ $none = 1 ] && echo none || echo some))
        first[$key]=$(calc "$sum / $n")
        paper=""
        case "$key" in 30-xavier) paper="stalls (He Fig. 3)" ;; 30-he) paper="learns (He Fig. 3)" ;;
            22-he) paper="learns, earlier (He Fig. 2)" ;; 22-xavier) paper="learns (He Fig. 2)" ;; 5-std0.01) paper="does not learn (book Fig. 6-15)" ;; 5-he) paper="fastest (book Fig. 6-15)" ;; esac
        table_row "$d" "$init" "${cells# }" "$(mean $accs)" "$paper"
    done
    files=(); labels=""
    for init in "${inits[@]}"; do files+=("$OUT/runs/d$d-$(short "$init")-s1.csv"); labels="$labels,$(short "$init")"; done
    plot "${files[@]}" --labels "${labels#,}" --x step --y train_loss --smooth 0.9 --hline 2.0,2.303 \
        --ylabel "training loss (EMA 0.9)" --title "C09: $d weighted layers, ReLU, seed 1 (dashed: 2.0 and ln 10)" --out "$OUT/loss_${d}_layers.png"
done
# Mean first steps count a run that never learnt as $steps.
reason=""
for key in "${!learns[@]}"; do reason="$reason $key: learns in ${learns[$key]} seeds (mean first step ${first[$key]});"; done
reason=$(echo "$reason" | tr ';' '\n' | sort -V | tr '\n' ';' | sed 's/^;*//; s/^ //')
deep=$(echo $depths | awk '{ print $NF }'); mid=$(echo $depths | awk '{ print (NF > 1 ? $(NF - 1) : $NF) }')
ok=1
[ "${learns[$deep-xavier]}" = none ] && [ "${learns[$deep-he]}" = all ] || ok=0
[ "${learns[$mid-xavier]}" = all ] && [ "${learns[$mid-he]}" = all ] && true_if "${first[$mid-he]} < ${first[$mid-xavier]}" || ok=0
for d in $depths; do [ "${learns[$d-std0.01]}" = none ] || ok=0; done
if [ "${learns[$deep-he]}" = none ] || { [ "${learns[$deep-xavier]}" != none ] && true_if "${first[$deep-xavier]} <= ${first[$deep-he]}"; }; then
    verdict contradicted "$reason"
elif [ $ok = 1 ]; then verdict confirmed "$reason"
else verdict "not confirmed at this scale" "$reason"; fi
