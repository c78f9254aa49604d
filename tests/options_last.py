#!/usr/bin/env python3
"""NERVE_OPTIONS_IN's `last` field is its struct's last field of the size base.

NERVE_OPTIONS_IN(type, p, last, ...) (src/core/options.h) reads a caller's
struct of size 0 as the fields up to `last`: the layout of nerve 0.2, where
sizes began. A field added later is marked "since 0.2.x" in the header and
comes after every base field. So `last` must be the struct's final field not
marked "since", and every field after it must be marked: a field added
without updating `last` (or without its mark) would be silently dropped for
size-0 callers. Checks every NERVE_OPTIONS_IN of src/ against the struct's
definition in include/nerve/.

Usage: options_last.py SOURCE_DIR. Exits 1 naming the call and the field.
"""
import os
import re
import sys

SINCE = "@SINCE@"


def strip(text):
    """The C text without comments; a comment saying "since X" becomes a mark."""
    def comment(m):
        return f" {SINCE} " if re.search(r"\bsince \d", m.group(0)) else " "
    return re.sub(r"/\*.*?\*/|//[^\n]*", comment, text, flags=re.S)


def fields(body):
    """[(name, marked since)] of a struct body, in order. A mark after a
    field's ';' (its comment on the same line) is that field's."""
    body = re.sub(r";[ \t]*" + SINCE, " " + SINCE + ";", body)
    pieces, depth, current = [], 0, ""
    for ch in body:
        depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(ch, 0)
        if ch == ";" and depth == 0:
            pieces.append(current)
            current = ""
        else:
            current += ch
    result = []
    for decl in pieces:
        marked = SINCE in decl
        decl = decl.replace(SINCE, " ").strip()
        pointer = re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\(", decl)
        plain = re.search(r"(\w+)\s*(?:\[[^\]]*\]\s*)*(?::\s*\d+\s*)?$", decl)
        name = pointer.group(1) if pointer else plain.group(1) if plain else None
        if name:
            result.append((name, marked))
    return result


def structs(include):
    """{type: [(field, marked since)]} of every typedef'd struct of the headers."""
    found = {}
    for root, _, files in os.walk(include):
        for name in sorted(files):
            if not name.endswith(".h"):
                continue
            with open(os.path.join(root, name), encoding="utf-8") as f:
                text = strip(f.read())
            for m in re.finditer(r"typedef\s+struct\s+(\w+)\s*\{", text):
                depth, i = 1, m.end()
                while depth:
                    depth += {"{": 1, "}": -1}.get(text[i], 0)
                    i += 1
                tail = re.match(r"\s*(\w+)\s*;", text[i:])
                if tail:
                    found[tail.group(1)] = fields(text[m.end():i - 1])
    return found


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().split("\n\n")[-1], file=sys.stderr)
        return 2
    source = sys.argv[1]
    types = structs(os.path.join(source, "include"))
    call = re.compile(r"NERVE_OPTIONS_IN\(\s*(\w+)\s*,\s*\w+\s*,\s*(\w+)\s*,")
    failures, checked = [], 0
    for root, _, files in os.walk(os.path.join(source, "src")):
        for name in sorted(files):
            if not name.endswith(".c"):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for m in call.finditer(text):
                where = f"{os.path.relpath(path, source)}:{text.count(chr(10), 0, m.start()) + 1}"
                kind, last = m.group(1), m.group(2)
                if kind not in types:
                    failures.append(f"{where}: {kind} is not a struct of include/nerve/")
                    continue
                names = [n for n, _ in types[kind]]
                base = [n for n, since in types[kind] if not since]
                checked += 1
                if last not in names:
                    failures.append(f"{where}: {kind} has no field '{last}'")
                    continue
                if last != base[-1]:
                    failures.append(f"{where}: NERVE_OPTIONS_IN({kind}, ..., {last}) but the "
                                    f"struct's last field of the size base is '{base[-1]}' (a "
                                    "field added after 0.2 is marked 'since 0.2.x'; otherwise "
                                    "update `last`)")
                    continue
                # Fields added later come after the whole base.
                early = [n for n, since in types[kind][:names.index(last)] if since]
                if early:
                    failures.append(f"{where}: {kind}.{early[0]} is marked 'since' but comes "
                                    f"before the base's last field '{last}'")
    for f in failures:
        print("FAIL: " + f)
    if failures:
        return 1
    if checked == 0:
        print("FAIL: no NERVE_OPTIONS_IN found under src/")
        return 1
    print(f"options_last: {checked} NERVE_OPTIONS_IN calls name their struct's last base field")
    return 0


if __name__ == "__main__":
    sys.exit(main())
