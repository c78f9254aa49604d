#!/usr/bin/env bash
# The evidence lab's machinery: every experiment of lab/ runs on its smoke
# budget and leaves a complete result folder (table, plots, verdict line,
# scale, meta), and the report is built from them. The verdicts of a smoke
# run are not results; only the machinery is checked here.
# Usage: bash tests/cli_lab_smoke.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"
lab=$2/lab
[ -d /usr/share/datasets/fashion-mnist ] || { echo "no Fashion-MNIST: skipped"; exit 77; }

NERVE=$nerve bash "$lab/run.sh" --smoke --threads 1 --out results --all >run.txt 2>&1 ||
    fail "lab/run.sh --smoke --all: $(cat run.txt)"
for spec in "$lab"/C[0-9]*/claim.txt; do
    c=$(basename "$(dirname "$spec")")
    d=results/$c
    for f in table.md verdict reason scale meta; do
        [ -s "$d/$f" ] || fail "$c: no $f"
    done
    grep -qx "confirmed\|not confirmed at this scale\|contradicted" "$d/verdict" ||
        fail "$c: verdict '$(cat "$d/verdict")'"
    grep -qx "mode: smoke" "$d/meta" || fail "$c: meta does not say smoke"
    # A busy machine's wall time needs the CPU time and the load beside it.
    grep -Eqx "cpu_seconds: [0-9]+\.[0-9]" "$d/meta" || fail "$c: meta has no cpu_seconds"
    for key in load_start load_end; do
        grep -Eqx "$key: [0-9]+\.[0-9]+" "$d/meta" || fail "$c: meta has no $key"
    done
    ls "$d"/*.png >/dev/null 2>&1 || fail "$c: no plot"
    for p in "$d"/*.png; do
        [ "$(head -c 8 "$p" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "$p is not a PNG"
    done
    grep -q "^| .* |$" "$d/table.md" || fail "$c: table.md holds no table"
    for key in title quote translation source paper setup criterion; do
        grep -q "^$key: ." "$spec" || fail "$spec: no $key"
    done
    grep -q "^$c: " run.txt || fail "$c: not reported by run.sh"
done

bash "$lab/report.sh" results >/dev/null || fail "lab/report.sh"
for c in $(cut -d'|' -f1 "$lab/catalogue.txt"); do
    grep -Eq "^\| \[?$c(\]| )" results/report.md || fail "report.md: no index row for $c"
done
# A smoke run is never shown as a verdict; a claim without a folder is "not run".
grep -q "smoke run only (no verdict)" results/report.md || fail "report.md: smoke not marked"
# The index gives each result's wall and CPU seconds, a dash where meta lacks the CPU time.
grep -Eq "^\| \[C03\]\(#C03\) \| .* \| [0-9]+ s \| [0-9]+\.[0-9] s \|$" results/report.md ||
    fail "report.md: C03's index row has no wall and CPU time"
sed -i '/^cpu_seconds: /d' results/C03/meta
bash "$lab/report.sh" results >/dev/null
grep -Eq "^\| \[C03\]\(#C03\) \| .* \| [0-9]+ s \| - \|$" results/report.md ||
    fail "report.md: a meta without cpu_seconds is not shown as a dash"
grep -q "Verdict: confirmed\|Verdict: contradicted\|Verdict: not confirmed" results/report.md &&
    fail "report.md shows a smoke verdict as a result"
rm -rf results/C01
bash "$lab/report.sh" results >/dev/null
grep -q "^| C01 | 1 | .* | not run |" results/report.md || fail "C01 without a folder is not 'not run'"

# Bad use.
NERVE=$nerve bash "$lab/run.sh" C99 >out.txt 2>&1 && fail "run.sh C99 succeeded"
grep -q "no experiment" out.txt || fail "run.sh C99: $(cat out.txt)"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_lab_smoke: all passed"
