#!/usr/bin/env python3
"""The layering rule of docs/architecture.md ("Layers"), checked.

1. Includes: a file of src/<dir>/ includes internal headers of its own layer
   or a lower one only (core, backends, dist < ops < layers < optim, data,
   io < model < train < cli).
2. Calls: an object of a lower layer never calls a function defined in an
   object of a higher one (nm's undefined and defined symbols of the
   library's objects), and no two files of src/model/ call each other in a
   circle (a strongly connected set of files in the call graph).
3. Public headers: each part of include/nerve/ includes only parts that
   nerve.h includes before it.

There are no exceptions: a file that reaches up fails the test, whatever
its reason (the last one, the backends' optimizer step reading src/optim,
went with the step's description, src/backends/optimizer_step.h).

Usage: layering.py SOURCE_DIR OBJECT_DIR..., each OBJECT_DIR holding
objects as src/<dir>/<file>.c.o or .cu.o (CMake's nerve_objects.dir, and
nerve_cuda.dir for the CUDA module; an object whose source is gone is stale
and skipped). Exits 1 on a violation, naming the file, what it reaches and
the layers; 77 without nm. layering.py --self-test checks the checks on
planted violations.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

RANK = {"core": 0, "backends": 0, "dist": 0, "preinit": 0, "ops": 1, "layers": 2,
        "optim": 3, "data": 3, "io": 3, "model": 4, "train": 5, "cli": 6}

def layer(path):
    """The layer of a path relative to src/: its first folder."""
    return path.split("/", 1)[0]


def check_includes(src, failures):
    pattern = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([^"]+)"', re.M)
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.relpath(os.path.join(root, name), src)
            own = layer(path)
            if own not in RANK:
                failures.append(f"src/{path}: folder '{own}' has no layer in tests/layering.py")
                continue
            with open(os.path.join(src, path), encoding="utf-8") as f:
                text = f.read()
            for folder, rest in pattern.findall(text):
                header = f"{folder}/{rest}"
                if folder not in RANK:
                    continue
                if RANK[folder] > RANK[own]:
                    failures.append(f"src/{path} includes {header}: layer '{folder}' is above "
                                    f"'{own}' (docs/architecture.md, \"Layers\")")


def symbols(nm, paths):
    """{object: (defined, undefined)} from one run of nm over every object."""
    out = subprocess.run([nm, "-A"] + paths, capture_output=True, text=True, check=True).stdout
    table = {p: (set(), set()) for p in paths}
    for line in out.splitlines():
        path, _, rest = line.partition(":")
        parts = rest.split()
        if path not in table:
            continue
        if len(parts) == 2 and parts[0] == "U":
            table[path][1].add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBR":
            table[path][0].add(parts[2])
    return table


def strongly_connected(nodes, edges):
    """Tarjan's algorithm: the components of more than one node."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def check_calls(source, objdirs, failures):
    nm = shutil.which("nm")
    if not nm:
        print("SKIP: no nm (binutils)")
        sys.exit(77)
    objects = {}
    for objdir in objdirs:
        top = os.path.join(objdir, "src")
        paths = []
        for root, _, files in os.walk(top):
            paths += [os.path.join(root, n) for n in sorted(files) if n.endswith((".c.o", ".cu.o"))]
        # An object whose source is gone (a file moved or removed since it
        # was built) is stale, not part of the library.
        paths = [p for p in paths
                 if os.path.exists(os.path.join(source, "src", os.path.relpath(p, top)[:-2]))]
        if not paths:
            failures.append(f"no objects under {top}: is it an object folder of the library?")
        objects.update({os.path.relpath(p, top)[:-2]: s
                        for p, s in symbols(nm, sorted(paths)).items()})
    if objects:
        check_call_graph(objects, failures)


def check_call_graph(objects, failures):
    """objects: {path under src/: (defined symbols, undefined symbols)}."""
    where = {}
    for path, (defined, _) in objects.items():
        for s in defined:
            where[s] = path
    edges = {}
    for path, (_, undefined) in sorted(objects.items()):
        for s in sorted(undefined):
            target = where.get(s)
            if not target or target == path:
                continue
            edges.setdefault(path, set()).add(target)
            a, b = layer(path), layer(target)
            if RANK.get(b, 0) > RANK.get(a, 0):
                failures.append(f"src/{path} calls {s} of src/{target}: layer '{b}' is above "
                                f"'{a}' (docs/architecture.md, \"Layers\")")
    model = {p for p in objects if layer(p) == "model"}
    model_edges = {p: {t for t in edges.get(p, ()) if t in model} for p in model}
    for component in strongly_connected(model, model_edges):
        failures.append("src/model files call each other in a circle: " +
                        ", ".join(f"src/{c}" for c in component))


def self_test():
    """The checks catch what they are for: a backend including or calling
    src/optim (the last exception there was, removed) and a circle in
    src/model. There is no table of exceptions: re-adding one of these makes
    the real run fail."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for path, text in {"backends/cpu/optimizer.c": '#include "optim/optimizer.h"\n',
                           "optim/sgd.c": '#include "backends/optimizer_step.h"\n'}.items():
            os.makedirs(os.path.dirname(os.path.join(tmp, path)), exist_ok=True)
            with open(os.path.join(tmp, path), "w", encoding="utf-8") as f:
                f.write(text)
        failures = []
        check_includes(tmp, failures)
        if len(failures) != 1 or "backends/cpu/optimizer.c includes optim/" not in failures[0]:
            problems.append(f"includes: expected the backend's include alone, got {failures}")
    failures = []
    check_call_graph({"backends/cuda/optimizer.c": ({"step"}, {"nerve_sgd_type"}),
                      "optim/sgd.c": ({"nerve_sgd_type"}, {"step"}),
                      "model/a.c": ({"a"}, {"b"}), "model/b.c": ({"b"}, {"a"})}, failures)
    if (len(failures) != 2 or "calls nerve_sgd_type of src/optim/sgd.c" not in failures[0]
            or "circle: src/model/a.c, src/model/b.c" not in failures[1]):
        problems.append(f"calls: expected the backend's call and the circle, got {failures}")
    for p in problems:
        print("FAIL: self-test: " + p)
    if problems:
        return 1
    print("layering self-test: a planted upward include, call and circle are each caught")
    return 0


def check_public_headers(source, failures):
    with open(os.path.join(source, "include", "nerve.h"), encoding="utf-8") as f:
        order = re.findall(r'#include "nerve/([a-z_]+)\.h"', f.read())
    parts = sorted(n[:-2] for n in os.listdir(os.path.join(source, "include", "nerve"))
                   if n.endswith(".h"))
    for part in parts:
        if part not in order:
            failures.append(f"include/nerve/{part}.h: nerve.h does not include it")
            continue
        with open(os.path.join(source, "include", "nerve", f"{part}.h"), encoding="utf-8") as f:
            for used in re.findall(r'#include "nerve/([a-z_]+)\.h"', f.read()):
                if used not in order or order.index(used) >= order.index(part):
                    failures.append(f"include/nerve/{part}.h includes nerve/{used}.h, which "
                                    "nerve.h includes after it (a part uses earlier parts only)")


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) < 3:
        print(__doc__.strip().split("\n\n")[-1], file=sys.stderr)
        return 2
    source, objdirs = sys.argv[1], sys.argv[2:]
    failures = []
    check_includes(os.path.join(source, "src"), failures)
    check_calls(source, objdirs, failures)
    check_public_headers(source, failures)
    for f in failures:
        print("FAIL: " + f)
    if failures:
        print(f"{len(failures)} layering violation(s)")
        return 1
    print("layering: every include and call goes to the same or a lower layer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
