#!/usr/bin/env python3
"""Fails when an #include in src/, include/ or tests/ crosses an edge that src/layers.txt does not allow.

Rules, for a file of layer L (src/L/..., the public headers that L implements, tests/L/...):
  - "X/..." resolves only when X is L or a layer that L reaches through its dependencies;
  - "modelmon/H" only when H is a public header of such a layer;
  - <third-party/...> only when L itself lists that prefix under third_party (tests are exempt:
    they may use their own test and fixture libraries);
  - a header (.h) under src/ that includes a third-party header is included only from its own
    layer (and its tests), except in the server and app layers: third-party types stay inside
    the layer that owns the library;
  - a pure layer (pure: yes) includes no header for threads, locks, atomics, files or streams.
Exit code 0 when every include is allowed, 1 with one line per violation otherwise, 2 when
src/layers.txt cannot be read. Standard library only.
"""

import argparse
import pathlib
import re
import sys

THIRD_PARTY_ROOTS = ("boost/", "prometheus/", "nlohmann/", "spdlog/", "yaml-cpp/", "simdjson",
                     "CLI/", "openssl/", "gtest/", "gmock/", "benchmark/", "rdkafka", "Eigen/")
IMPURE_HEADERS = {"mutex", "shared_mutex", "thread", "condition_variable", "atomic", "future",
                  "fstream", "iostream", "cstdio", "filesystem", "stop_token", "semaphore"}
INTERFACE_THIRD_PARTY_LAYERS = {"server", "app"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


class Layers:
    def __init__(self, path):
        self.deps, self.public, self.third_party, self.pure = {}, {}, {}, set()
        current = None
        for number, raw in enumerate(path.read_text().splitlines(), 1):
            line = raw.rstrip()
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.match(r"^layer ([a-z_]+):(.*)$", line)
            if m:
                current = m.group(1)
                deps = m.group(2).split()
                for d in deps:
                    if d not in self.deps:
                        raise ValueError(f"{path}:{number}: {current} depends on undeclared {d}")
                self.deps[current] = deps
                self.public[current] = []
                self.third_party[current] = []
                continue
            m = re.match(r"^\s+(public|third_party|pure):(.*)$", line)
            if not m or current is None:
                raise ValueError(f"{path}:{number}: cannot read: {raw}")
            key, values = m.group(1), m.group(2).split()
            if key == "public":
                self.public[current] = values
            elif key == "third_party":
                self.third_party[current] = values
            elif values == ["yes"]:
                self.pure.add(current)
        self.header_owner = {h: layer for layer, hs in self.public.items() for h in hs}

    def reach(self, layer):
        seen, todo = set(), [layer]
        while todo:
            x = todo.pop()
            if x not in seen:
                seen.add(x)
                todo.extend(self.deps[x])
        return seen


def check_file(path, rel, layer, layers, is_test, leaky=None):
    """Checks one file; records in leaky[header] = (layer, where) every header of src/ that
    includes a third-party header (checked against its includers afterwards)."""
    errors = []
    reach = layers.reach(layer)
    is_header = path.suffix == ".h"
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        quote, target = m.group(1), m.group(2)
        where = f"{rel}:{number}: {layer}"
        if quote == '"':
            head = target.split("/", 1)[0]
            if head == "modelmon":
                header = target.split("/", 1)[1]
                owner = layers.header_owner.get(header)
                if owner is None:
                    errors.append(f"{where} includes {target}, which no layer declares public")
                elif owner not in reach:
                    errors.append(f"{where} includes {target} of layer {owner}, not a dependency")
            elif head in layers.deps:
                if head not in reach:
                    errors.append(f"{where} includes {target} of layer {head}, not a dependency")
            elif is_test and (path.parent / target).exists():
                pass  # A helper next to the test.
            elif is_test and head == "common":
                pass  # tests/common helpers.
            else:
                errors.append(f'{where} includes "{target}", which belongs to no layer')
            continue
        if target.startswith(THIRD_PARTY_ROOTS):
            if is_test:
                continue
            if not any(target.startswith(p) for p in layers.third_party[layer]):
                errors.append(f"{where} includes <{target}>, not a third-party library of {layer}")
            elif is_header and layer not in INTERFACE_THIRD_PARTY_LAYERS and leaky is not None:
                leaky.setdefault(f"{layer}/{path.name}", (layer, f"{where} includes <{target}>"))
        elif layer in layers.pure and not is_test and target in IMPURE_HEADERS:
            errors.append(f"{where} is pure and includes <{target}>")
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent,
                        type=pathlib.Path)
    args = parser.parse_args()
    root = args.root
    try:
        layers = Layers(root / "src" / "layers.txt")
    except (OSError, ValueError) as e:
        print(f"check_layers: {e}", file=sys.stderr)
        return 2
    errors, checked, leaky = [], 0, {}
    sources = ("*.h", "*.cc")
    for layer in layers.deps:
        for pattern in sources:
            for path in sorted((root / "src" / layer).rglob(pattern)):
                errors += check_file(path, path.relative_to(root), layer, layers, False, leaky)
                checked += 1
            for path in sorted((root / "tests" / layer).rglob(pattern)):
                errors += check_file(path, path.relative_to(root), layer, layers, True)
                checked += 1
        for header in layers.public[layer]:
            path = root / "include" / "modelmon" / header
            errors += check_file(path, path.relative_to(root), layer, layers, False)
            checked += 1
    for pattern in sources:
        for path in sorted((root / "src").glob(pattern)):
            errors += check_file(path, path.relative_to(root), "app", layers, False)
            checked += 1
    # Headers that carry a third-party header: only their own layer may include them.
    for top in ("src", "include", "tests"):
        for pattern in sources:
            for path in sorted((root / top).rglob(pattern)):
                rel = path.relative_to(root)
                parts = rel.parts
                own = parts[1] if top in ("src", "tests") and len(parts) > 2 else None
                for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                    m = INCLUDE.match(line)
                    if m and m.group(1) == '"' and m.group(2) in leaky:
                        header_layer, why = leaky[m.group(2)]
                        if own != header_layer:
                            errors.append(f"{rel}:{number} includes {m.group(2)}, which exposes a "
                                          f"third-party header outside {header_layer} ({why})")
    known = {p.name for p in (root / "src").iterdir() if p.is_dir()}
    for extra in sorted(known - set(layers.deps)):
        errors.append(f"src/{extra}/ is not a layer of src/layers.txt")
    for header in sorted(p.name for p in (root / "include" / "modelmon").glob("*.h")):
        if header not in layers.header_owner:
            errors.append(f"include/modelmon/{header} is not a public header of any layer")
    for e in errors:
        print(e)
    print(f"check_layers: {checked} files, {len(errors)} violation(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
