#!/usr/bin/env bash
# The docs as a new user follows them: every examples/*.cfg they name
# exists (the distillation's teacher included) and builds; the busy-machine
# caveat comes before the README's first training command; the count of C
# examples is right; every constructor in docs/api.md's table of what to
# free exists in nerve.h, and every _free function of nerve.h is in it.
# Usage: bash tests/cli_docs_examples.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"
src=$2

for cfg in $(grep -ohE 'examples/[a-z0-9_]+\.cfg' "$src/README.md" "$src"/docs/*.md | sort -u); do
    [ -f "$src/$cfg" ] || { fail "the docs name $cfg, which does not exist"; continue; }
    # a generator's cfg has no loss of its own: nerve gan loads it as mse (cli.md)
    case $cfg in *generator*) run 0 info "$src/$cfg" --set loss.type=mse ;; *) run 0 info "$src/$cfg" ;; esac
done
grep -n 'distill --teacher' "$src/README.md" | grep -v 'examples/[a-z0-9_]*\.cfg:' &&
    fail "the README's distillation uses a teacher cfg that is not in examples/"

"$python" - "$src" <<'PY' || fail "docs checks failed"
import re, sys, glob, os
src = sys.argv[1]
readme = open(os.path.join(src, "README.md")).read()
api = open(os.path.join(src, "docs/api.md")).read()
header = "".join(open(h).read() for h in [os.path.join(src, "include/nerve.h")] +
                 sorted(glob.glob(os.path.join(src, "include/nerve/*.h"))))
first_train = readme.index("nerve train ")
caveat = readme.find("**On a busy machine**")
assert 0 <= caveat < first_train, "the busy-machine caveat comes after the first training command"
words = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}
count = len(glob.glob(os.path.join(src, "examples/c/*.c")))
assert re.search(words[count] + r"\s+programs", readme), f"README: not '{words[count]} programs'"
assert re.search(words[count].capitalize() + r"\s+complete\s+programs", api), "api.md: wrong count"

for name in re.findall(r"\b(nerve_\w+_free)\(", header):
    assert f"`{name}`" in api, f"api.md's table of what to free lacks {name}"
table = api[api.index("| made by | released by |"):]
table = table[:table.index("\n\n")]
for name in re.findall(r"`(nerve_\w+)`", table):
    assert re.search(r"\b%s\(" % name, header), f"api.md names {name}, which nerve.h lacks"
assert "nerve_shape_3d" in api and "nerve_shape_4d" in api
for var in ("PKG_CONFIG_PATH", "LD_LIBRARY_PATH", "rpath"):
    assert var in api, f"api.md does not say how to use {var}"
PY

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
