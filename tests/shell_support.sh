# Sourced by the tests/cli_*.sh scripts: a private work directory, failure
# counting, and running nerve with an expected exit code.
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
