#!/usr/bin/env bash
# The command line itself: help, version, and that every mistake gets its exit
# code (2: bad command line, 3: bad config file) and a message naming it.
# Usage: bash tests/cli_usage.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# expect CODE PATTERN ARGS...: runs nerve ARGS, checks the exit code and that
# stdout+stderr contain PATTERN (a fixed string).
expect() {
    local code=$1 pattern=$2
    shift 2
    run "$code" "$@"
    grep -qF -- "$pattern" out.txt err.txt ||
        fail "nerve $*: no '$pattern' in: $(cat out.txt err.txt)"
}

cat >net.cfg <<'EOF'
[net]
input = 2
batch = 4

[dense]
name = hidden
units = 3
activation = relu

[dense]
name = out
units = 2
EOF
printf '[net]\ninput = 2\nbogus = 1\n\n[dense]\nunits = 2\n' >unknown_key.cfg

# Help and version.
expect 0 "usage: nerve COMMAND" --help
expect 0 "usage: nerve COMMAND" help
expect 2 "usage: nerve COMMAND"
expect 0 "usage: nerve train CFG" help train
expect 0 "nerve 0." --version
for command in train eval predict info augment generate; do
    expect 0 "usage: nerve $command CFG [options]" "$command" --help
    expect 0 "-h, --help" "$command" -h
done
for option in --set --epochs --batch --lr --seed --threads --init --save --log --log-every \
    --steps --no-shuffle; do
    expect 0 "  $option" train --help
done
expect 0 "(default: [net] epochs)" train --help
for option in --weights --data --labels --json --batch --set --threads; do
    expect 0 "  $option" eval --help
done
for option in --weights --input --top --json --set --threads; do
    expect 0 "  $option" predict --help
done
for option in --weights --prime --length --temperature --seed --set --threads; do
    expect 0 "  $option" generate --help
done

# Bad command lines: exit 2, the command named, nothing on stdout.
expect 2 "nerve: unknown command 'frobnicate' (see nerve --help)" frobnicate
expect 2 "nerve: unknown option '--frob' (see nerve --help)" --frob
expect 2 "nerve train: unknown option '--epoch', did you mean '--epochs'? (see nerve train --help)" train net.cfg --epoch 3
expect 2 "nerve train: unknown option '--epoch'" train net.cfg --epoch=3
expect 2 "nerve train: missing CFG" train
expect 2 "nerve train: unexpected argument 'other.cfg'" train net.cfg other.cfg
expect 2 "nerve train: option '--epochs' needs a value N" train net.cfg --epochs
expect 2 "nerve train: option '--save' needs a value W" train net.cfg --save --epochs 2
expect 2 "nerve train: --epochs expects a whole number, got 'abc'" train net.cfg --epochs abc
expect 2 "nerve train: --batch expects a whole number, got '8k'" train net.cfg --batch 8k
expect 2 "nerve train: --batch must be between 1 and" train net.cfg --batch 0
expect 2 "nerve train: --lr expects a number, got 'fast'" train net.cfg --lr fast
expect 2 "nerve train: --lr must be positive" train net.cfg --lr -0.1
expect 2 "nerve train: option '--epochs' given twice" train net.cfg --epochs 1 --epochs 2
expect 2 "nerve train: option '--no-shuffle' takes no value" train net.cfg --no-shuffle=yes
expect 2 "nerve train: --log-every needs --log" train net.cfg --log-every 5
expect 2 "nerve eval: missing --weights W" eval net.cfg
expect 2 "nerve eval: --labels goes with --data" eval net.cfg --weights w --labels l
expect 2 "nerve predict: missing --input FILE" predict net.cfg --weights w
expect 2 "nerve info: unknown option '--json'" info net.cfg --json
"$nerve" train net.cfg --epoch 3 >out.txt 2>/dev/null
[ -s out.txt ] && fail "a usage error printed on stdout: $(cat out.txt)"

# Bad files and --set: exit 3 and a message naming the file, line or --set.
expect 3 "missing.cfg" train missing.cfg
expect 3 "missing.cfg" info missing.cfg
expect 3 "unknown_key.cfg:3: unknown key 'bogus'" info unknown_key.cfg
expect 3 "--set" info net.cfg --set net.bogus=1
expect 3 "unknown key 'bogus'" info net.cfg --set net.bogus=1
expect 3 "--set nowhere.units=3" info net.cfg --set nowhere.units=3
expect 3 "--set junk" info net.cfg --set junk
expect 3 "--set" info net.cfg --set net.input=0

# --set reaches the network: 2x5+5 + 5x2+2 parameters.
expect 0 "27 parameters" info net.cfg --set hidden.units=5

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_usage: all passed"
