# Sourced by the tests/cli_*.sh scripts: a private work directory, failure
# counting, running nerve with an expected exit code, and checking outputs.
# The caller sets `nerve` (the binary) before sourcing.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# run CODE ARGS...: runs nerve ARGS into out.txt/err.txt and checks the exit code.
run() {
    local code=$1
    shift
    "$nerve" "$@" >out.txt 2>err.txt
    local got=$?
    [ "$got" -eq "$code" ] || fail "nerve $*: exit $got, expected $code: $(cat err.txt)"
}

# The system Python starts in a tenth of the time of a version manager's shim.
python=/usr/bin/python3
[ -x "$python" ] || python=python3

# contains FILE PATTERN: FILE holds the fixed string PATTERN.
contains() {
    grep -qF -- "$2" "$1" || fail "no '$2' in $1: $(cat "$1")"
}

# xor_cfg CSV BATCH EPOCHS: writes xor.cfg, a 2-8-2 tanh MLP trained on CSV
# (rows x,y,class), for the tests that need any small network.
xor_cfg() {
    cat >xor.cfg <<CFG
[net]
input = 2
batch = $2
epochs = $3

[data]
format = csv
train = $1

[dense]
units = 8
activation = tanh

[dense]
units = 2
CFG
}
