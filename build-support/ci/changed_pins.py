"""What CI selects when a lockfile or requirements file changed: by the lines that changed.

Pants marks every dependent of a resolve as changed when its lockfile changes (and every
requirement of a requirements file when one line of it changes), so a framework tag bump would
rebuild and retest everything the resolve touches. This script narrows that to the requirements
whose pinned lines changed:

1. For each changed lockfile, the pins that were added, removed or changed, and through the
   lockfile's `required_by` header (written by lock.py) the requested distributions that pull
   each of them in. For each changed requirements file, the requirements whose lines changed.
   A change to the header's interpreter constraints or Lambda platform changes every pin: then
   everything is selected.
2. The python_requirement targets of those distributions, in that resolve.
3. Everything that depends on them, transitively, beside what depends on the other changed files.

For `package`, a requirement change selects the layers that contain it and the functions that
ship their requirements themselves (`include_requirements=True`): a code-only function zip does
not change when a pin does. For `test`, it selects every dependent: the tests of code that
imports a changed requirement, and the Lambda-sandbox check of every function that runs with a
layer holding one (a function is a dependent of its `layers`); and the tests that run ./pants in
a copy of the repository (they depend on the `repository_snapshot` target), since they build
from the lockfiles.

Everything is read from `./pants peek ::` (targets, their types, sources, resolves and
dependencies) and git; nothing names our targets. Standard library only, so CI can run it with
any CPython 3.9+:

    python3 build-support/ci/changed_pins.py --since SINCE --peek PEEK.json --goal test|package
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from lambda_artifacts.artifact_zip import canonical_name as canonical
from lambda_artifacts.lockfile_header import lockfile_header
from lambda_artifacts.metadata import FUNCTION_TARGET_TYPE, LAMBDA_TARGET_TYPES, LAYER_TARGET_TYPE

DEFAULT_RESOLVE = "python-default"
# Header keys that change what every pin means: a change there changes the whole resolve.
WHOLE_RESOLVE_KEYS = ("valid_for_interpreter_constraints", "lambda_platform", "manylinux")
LAMBDA_TYPES = LAMBDA_TARGET_TYPES
FUNCTION_TYPE = FUNCTION_TARGET_TYPE
LAYER_TYPE = LAYER_TARGET_TYPE
REPOSITORY_SNAPSHOT_TYPE = "repository_snapshot"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(==|@|>=|<=|~=|<|>|!=|;|$)")


class EverythingChanged(Exception):
    """A change that affects every pin of a resolve; the message says which."""


def requirement_lines(text: str | None) -> dict[str, str]:
    """{canonical name: line} of a requirements-style file (a lockfile or a requirements file)."""
    lines: dict[str, str] = {}
    for raw in (text or "").splitlines():
        line = raw.split(" #", 1)[0].strip()
        match = _PIN.match(line) if line and not line.startswith(("#", "-")) else None
        if match:
            lines[canonical(match.group(1))] = line
    return lines


def header(text: str | None) -> dict:
    return lockfile_header(text) or {}


def changed_names(old: dict[str, str], new: dict[str, str]) -> set[str]:
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


def affected_by_lockfile(path: str, old_text: str | None, new_text: str | None) -> set[str]:
    """Requested distributions whose closure holds a pin that changed. Raises EverythingChanged."""
    old_header, new_header = header(old_text), header(new_text)
    if old_text is None or new_text is None:
        raise EverythingChanged(f"{path} was {'added' if old_text is None else 'removed'}")
    for key in WHOLE_RESOLVE_KEYS:
        if old_header.get(key) != new_header.get(key):
            raise EverythingChanged(f"{path}'s `{key}` changed")
    changed = changed_names(requirement_lines(old_text), requirement_lines(new_text))
    if changed and "required_by" not in new_header:
        raise EverythingChanged(f"{path} records no `required_by` (relock it with lock.py)")
    affected: set[str] = set()
    for name in changed:
        for side in (new_header, old_header):
            affected.update(canonical(n) for n in (side.get("required_by") or {}).get(name, []))
        affected.add(name)  # a requested distribution is its own root
    return affected


def build_folder(address: str, target: dict) -> str:
    """The folder of the BUILD file that declares a target: `src/x:lambda` and the generated
    `src/x/handler.py` or `src/x/handler.py:lib` (file addresses) are all declared in src/x/BUILD."""
    base = address.split(":", 1)[0].split("#", 1)[0].lstrip("/")
    if ":" not in address or base in (target.get("sources") or ()):
        return str(PurePosixPath(base).parent) if "/" in base else ""
    return base


@dataclass
class Repository:
    """The target graph, from `./pants peek ::`."""

    targets: dict[str, dict]
    dependents: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_peek(cls, peek: list[dict]) -> Repository:
        repository = cls({t["address"]: t for t in peek})
        for target in peek:
            for dependency in target.get("dependencies") or ():
                repository.dependents.setdefault(dependency, set()).add(target["address"])
        return repository

    def of_type(self, *types: str) -> list[dict]:
        return [t for t in self.targets.values() if t["target_type"] in types]

    def lockfiles(self) -> dict[str, str]:
        """{lockfile path: resolve}, from the synthetic `_lockfile` targets."""
        result = {}
        for target in self.of_type("_lockfile"):
            resolve = re.sub(r"^_(.*)_lockfile$", r"\1", target["address"].rsplit(":", 1)[-1])
            for source in target.get("sources") or ():
                result[source] = resolve
        return result

    def requirement_files(self) -> set[str]:
        return {s for t in self.of_type("python_requirements") for s in t.get("sources") or ()}

    def requirement_targets(self, resolve: str, names: set[str]) -> set[str]:
        found = set()
        for target in self.of_type("python_requirement"):
            if (target.get("resolve") or DEFAULT_RESOLVE) != resolve:
                continue
            if {
                canonical(_PIN.match(r).group(1)) for r in target.get("requirements") or () if _PIN.match(r)
            } & names:
                found.add(target["address"])
        return found

    def resolve_of_requirement_file(self, path: str) -> str:
        generated = [
            d
            for t in self.of_type("python_requirements")
            if path in (t.get("sources") or ())
            for d in t.get("dependencies") or ()
            if d in self.targets and self.targets[d]["target_type"] == "python_requirement"
        ]
        resolves = {self.targets[d].get("resolve") or DEFAULT_RESOLVE for d in generated}
        return resolves.pop() if len(resolves) == 1 else DEFAULT_RESOLVE

    def owners(self, path: str) -> set[str]:
        """Targets that own a file, or, for a BUILD file, every target it declares."""
        pure = PurePosixPath(path)
        if pure.name.startswith("BUILD"):
            folder = "" if str(pure.parent) == "." else str(pure.parent)
            return {a for a, t in self.targets.items() if build_folder(a, t) == folder}
        return {a for a, t in self.targets.items() if path in (t.get("sources") or ())}

    def closure(self, roots: Iterable[str]) -> set[str]:
        """The roots and everything that depends on them, transitively."""
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            address = stack.pop()
            if address not in seen:
                seen.add(address)
                stack.extend(self.dependents.get(address, ()))
        return seen


def select(
    repository: Repository,
    changed_files: list[str],
    old_text: dict[str, str | None],
    new_text: dict[str, str | None],
    goal: str,
) -> list[str]:
    """The addresses `goal` ("package" or "test") should run on. Raises EverythingChanged."""
    lockfiles = repository.lockfiles()
    requirement_files = repository.requirement_files()
    affected: dict[str, set[str]] = {}
    code_roots: set[str] = set()
    for path in changed_files:
        if path in lockfiles:
            affected.setdefault(lockfiles[path], set()).update(
                affected_by_lockfile(path, old_text.get(path), new_text.get(path))
            )
        elif path in requirement_files:
            names = changed_names(
                requirement_lines(old_text.get(path)), requirement_lines(new_text.get(path))
            )
            affected.setdefault(repository.resolve_of_requirement_file(path), set()).update(names)
        else:
            code_roots |= repository.owners(path)
    requirement_roots = {
        a for resolve, names in affected.items() for a in repository.requirement_targets(resolve, names)
    }
    code = repository.closure(code_roots)
    requirements = repository.closure(requirement_roots)
    if goal == "package":

        def ships_requirements(address: str) -> bool:
            target = repository.targets[address]
            return target["target_type"] == LAYER_TYPE or bool(target.get("include_requirements"))

        chosen = {a for a in code if repository.targets.get(a, {}).get("target_type") in LAMBDA_TYPES}
        chosen |= {
            a
            for a in requirements
            if repository.targets.get(a, {}).get("target_type") in LAMBDA_TYPES and ships_requirements(a)
        }
    else:
        chosen = code | requirements
        if any(affected.values()):
            # The tests that run ./pants in a copy of the repository build from the lockfiles.
            snapshots = [t["address"] for t in repository.of_type(REPOSITORY_SNAPSHOT_TYPE)]
            chosen |= repository.closure(snapshots)
    return sorted(a for a in chosen if a in repository.targets)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def file_at(commit: str, path: str) -> str | None:
    result = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def file_now(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", required=True, help="the commit to compare the working tree with")
    parser.add_argument("--peek", required=True, help="the output of `./pants peek ::`")
    parser.add_argument("--goal", required=True, choices=("package", "test"))
    args = parser.parse_args(argv)
    with open(args.peek) as f:
        repository = Repository.from_peek(json.load(f))
    changed = [p for p in git("diff", "--name-only", args.since).splitlines() if p]
    tracked = set(repository.lockfiles()) | repository.requirement_files()
    old = {p: file_at(args.since, p) for p in changed if p in tracked}
    new = {p: file_now(p) for p in changed if p in tracked}
    try:
        addresses = select(repository, changed, old, new, args.goal)
    except EverythingChanged as e:
        print(f"{e}", file=sys.stderr)
        return 3
    print("\n".join(addresses))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
