#!/usr/bin/env python3
"""Fails when the built binary needs a shared library that the runtime image would not have.

Every library that `ldd BINARY` resolves must belong (per `dpkg -S`) to a package that the final
stage of docker/Dockerfile installs with apt-get, or to the base image: the Essential packages and
`apt`, with everything they depend on (what debian:12-slim holds). A library that no package owns
(a local build, for example) is an error too. Exit 0 when all are covered, 1 with one line per
missing library, 2 when the binary or the Dockerfile cannot be read. Standard library only.
"""

import argparse
import os
import re
import subprocess
import sys


def runtime_packages(dockerfile):
    """Packages that the last stage (after the last FROM) installs with apt-get install."""
    text = open(dockerfile).read().replace("\\\n", " ")
    stages = re.split(r"^FROM\s", text, flags=re.M)
    packages = set()
    for line in stages[-1].splitlines():
        for m in re.finditer(r"apt-get install ([^&;]*)", line):
            packages.update(w for w in m.group(1).split() if not w.startswith("-"))
    return packages


def installed_field(field):
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${" + field + "}\n"],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)


def base_image_packages():
    """Essential packages and apt, closed under Depends and Pre-Depends (first alternative)."""
    essential = installed_field("Essential")
    depends = installed_field("Depends")
    pre = installed_field("Pre-Depends")
    todo = [p for p, e in essential.items() if e.strip() == "yes"] + ["apt"]
    seen = set()
    while todo:
        pkg = todo.pop().split(":")[0]
        if pkg in seen or pkg not in depends:
            continue
        seen.add(pkg)
        for field in (depends.get(pkg, ""), pre.get(pkg, "")):
            for clause in filter(None, (c.strip() for c in field.split(","))):
                todo.append(clause.split("|")[0].split()[0])
    return seen


def owner(path):
    for candidate in (path, os.path.realpath(path)):
        out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":")[0].strip()
        # Merged /usr: dpkg may know the file under /lib rather than /usr/lib, or the reverse.
        alt = candidate[4:] if candidate.startswith("/usr/") else "/usr" + candidate
        out = subprocess.run(["dpkg", "-S", alt], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":")[0].strip()
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--dockerfile", required=True)
    args = parser.parse_args()
    try:
        wanted = runtime_packages(args.dockerfile)
        ldd = subprocess.run(["ldd", args.binary], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"check_runtime_libs: {e}", file=sys.stderr)
        return 2
    base = base_image_packages()
    errors, checked = [], 0
    for line in ldd.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line) or re.match(r"\s*(/\S+) \(", line)
        if not m:
            continue
        path = m.group(m.lastindex)
        checked += 1
        pkg = owner(path)
        if pkg is None:
            errors.append(f"{path}: no Debian package owns it")
        elif pkg not in wanted and pkg not in base:
            errors.append(f"{path}: from {pkg}, which the runtime stage of {args.dockerfile} "
                          f"does not install and the base image does not have")
    for e in errors:
        print(e)
    print(f"check_runtime_libs: {checked} libraries, {len(errors)} missing from the image")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
