#!/usr/bin/env bash
# lab/resnet_cfg.sh writes the 6n + 2-layer plain and residual networks of
# He et al. (2016) that the depth claims need: nerve info builds them (20
# and 56 layers, plain and residual), the weighted layers number 6n + 2 (a
# residual net's 1x1 projections aside), a residual 20-layer net has its 9
# additions, and bad arguments are usage errors.
# Usage: bash tests/cli_lab_resnet_cfg.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"
gen=$2/lab/resnet_cfg.sh

for n in 3 9; do
    for kind in plain residual; do
        bash "$gen" "$n" "$kind" >"net-$n-$kind.cfg" || fail "resnet_cfg.sh $n $kind failed"
        run 0 info "net-$n-$kind.cfg"
        weighted=$(grep -cE '^\[(conv2d|dense)\]' "net-$n-$kind.cfg")
        projections=$(grep -c '^name = .*_proj$' "net-$n-$kind.cfg")
        [ $((weighted - projections)) = $((6 * n + 2)) ] ||
            fail "$n $kind: $weighted weighted layers, $projections projections"
    done
done
[ "$(grep -c '^\[add\]' net-3-residual.cfg)" = 9 ] || fail "a 20-layer residual net has 9 additions"
grep -q '^\[add\]' net-3-plain.cfg && fail "a plain net has no additions"
[ "$(grep -c '^name = .*_proj$' net-3-residual.cfg)" = 2 ] || fail "two projection shortcuts (stages 2 and 3)"
bash "$gen" 0 plain >/dev/null 2>err.txt && fail "N = 0 accepted"
bash "$gen" 3 dense >/dev/null 2>err.txt && fail "kind 'dense' accepted"
contains err.txt "plain or residual"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_lab_resnet_cfg: all passed"
