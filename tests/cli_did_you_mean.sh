#!/usr/bin/env bash
# A misspelt key, option, section or --set target is reported as what it
# is, with its line and the nearest known name: a misspelt required key is
# the unknown key (with its line), not the missing one.
# Usage: bash tests/cli_did_you_mean.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

cat >good.cfg <<CFG
[net]
input = 4
batch = 16

[optimizer]
lr = 0.1

[dense]
name = fc1
units = 8
activation = relu

[dense]
name = out
units = 2
CFG

sed 's/^units = 8$/unit = 8/' good.cfg >unit.cfg
run 3 info unit.cfg
contains err.txt "nerve: unit.cfg:10: unknown key 'unit' in [dense], did you mean 'units'? (see docs/config.md)"
sed 's/^activation = relu$/activaton = relu/' good.cfg >act.cfg
run 3 info act.cfg
contains err.txt "nerve: act.cfg:11: unknown key 'activaton' in [dense], did you mean 'activation'?"
sed 's/^lr = 0.1$/lr = 0.1\nmomentun = 0.9/' good.cfg >mom.cfg
run 3 info mom.cfg
contains err.txt "mom.cfg:7: unknown key 'momentun' in [optimizer], did you mean 'momentum'?"
# Nothing near: no suggestion, still the line.
sed 's/^lr = 0.1$/lr = 0.1\nzebra = 1/' good.cfg >zebra.cfg
run 3 info zebra.cfg
contains err.txt "zebra.cfg:7: unknown key 'zebra' in [optimizer] (see docs/config.md)"
# A required key really missing is still reported as missing.
sed '/^units = 8$/d' good.cfg >missing.cfg
run 3 info missing.cfg
contains err.txt "missing.cfg:8: [dense] requires the key 'units'"

sed '0,/^\[dense\]$/s//[dens]/' good.cfg >section.cfg
run 3 info section.cfg
contains err.txt "section.cfg:8: unknown section [dens], did you mean [dense]?"

run 2 train good.cfg --epoch 3
contains err.txt "nerve train: unknown option '--epoch', did you mean '--epochs'? (see nerve train --help)"
run 2 eval good.cfg --weight w.safetensors
contains err.txt "unknown option '--weight', did you mean '--weights'?"
run 2 info good.cfg --zebra
contains err.txt "nerve info: unknown option '--zebra' (see nerve info --help)"

run 3 info good.cfg --set fc9.units=3
contains err.txt "--set fc9.units=3: no section or layer named 'fc9', did you mean 'fc1'? (layers: fc1, out; settings: net, data, optimizer, schedule, loss, augment, train)"
run 3 info good.cfg --set output.units=3
contains err.txt "no section or layer named 'output' (layers: fc1, out;"
run 3 info good.cfg --set fc1.unit=3
contains err.txt "good.cfg (--set): unknown key 'unit' in [dense], did you mean 'units'?"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
