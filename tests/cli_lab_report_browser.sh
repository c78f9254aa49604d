#!/usr/bin/env bash
# The lab report in a real browser: headless chromium opens the committed
# report (docs/lab/index.html) and one built from a smoke run, and every
# image must load and every claim section carry a verdict line. Skips
# (exit 77) without chromium: scripts/deps.sh lab installs it.
# Usage: bash tests/cli_lab_report_browser.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "chromium not installed (scripts/deps.sh lab): skipped"; exit 77; }
[ -d /usr/share/datasets/fashion-mnist ] || { echo "no Fashion-MNIST: skipped"; exit 77; }

# check DIR: opens DIR/index.html with a script appended that, once the page
# has loaded, writes what it found into the body's data-check attribute.
check() {
    cp "$1/index.html" "$1/check.html"
    cat >>"$1/check.html" <<'JS'
<script>
window.addEventListener('load', () => {
  const images = [...document.images];
  const broken = images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'));
  const sections = [...document.querySelectorAll('section.claim')];
  const without = sections.filter(s => !/Verdict: \S/.test(s.querySelector('.verdict-line')?.textContent || '')).map(s => s.id);
  const rows = [...document.querySelectorAll('#index .index-verdict')].filter(td => !td.textContent.trim()).length;
  document.body.setAttribute('data-check', `images=${images.length} broken=[${broken.join(' ')}] sections=${sections.length} without-verdict=[${without.join(' ')}] empty-index-cells=${rows}`);
});
</script>
JS
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --virtual-time-budget=10000 \
        --user-data-dir="$work/profile" --dump-dom "file://$1/check.html" 2>/dev/null |
        grep -o 'data-check="[^"]*"' >"$1/check.txt"
    rm -f "$1/check.html"
    local got
    got=$(cat "$1/check.txt")
    [ -n "$got" ] || { fail "$1: chromium reported nothing"; return; }
    echo "$1: $got"
    case "$got" in *"broken=[]"*) ;; *) fail "$1: images that do not load: $got" ;; esac
    case "$got" in *"without-verdict=[]"*) ;; *) fail "$1: claims without a verdict: $got" ;; esac
    case "$got" in *"empty-index-cells=0"*) ;; *) fail "$1: index rows without a verdict cell: $got" ;; esac
    case "$got" in *"images=0 "*) fail "$1: no image at all" ;; esac
    case "$got" in *"sections=0 "*) fail "$1: no claim section" ;; esac
}

NERVE=$nerve bash "$2/lab/run.sh" --smoke --threads 1 --out "$work/results" C26 C03 >run.txt 2>&1 ||
    fail "lab/run.sh --smoke: $(cat run.txt)"
bash "$2/lab/report.sh" "$work/results" >/dev/null || fail "lab/report.sh"
check "$work/results"
# The committed report, copied so that the check page is written beside it.
if [ -f "$2/docs/lab/index.html" ]; then
    cp -r "$2/docs/lab" "$work/committed"
    check "$work/committed"
fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_lab_report_browser: all passed"
