"""The project's resolves, their lockfiles' headers, and the check that every lockfile is current.

`lock.py` writes the lockfiles; this module says what each one must be locked from, and checks it
without touching the network, so that `./pants` can run it before every Pants command that may
resolve (`python 3rdparty/python/lockfiles.py check -- <pants arguments>`). A lockfile is current
when its header matches, exactly:

- `generated_with_requirements`: the lines of its requirements files;
- `valid_for_interpreter_constraints`: the resolve's interpreter constraints in pants.toml;
- for the Lambda resolve, `lambda_platform`: the runtime and architecture set once in the root
  BUILD's `__defaults__` (and pants.toml's constraints for it must be that runtime's CPython);
- `pins_sha256`: the digest of its pinned lines, so a hand edit is caught before pip sees it.

Pants itself checks none of this for requirements-style lockfiles: it uses them as pip
constraints, under which a requirement missing from the lock is resolved freely.

Runs on the Pants virtualenv's CPython 3.9 (packaging and toml come with Pants).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import toml
from lambda_targets.platforms import LambdaPlatform
from lambda_targets.repository_platform import (
    LOCKFILE_PLATFORM_KEY,
    ROOT_BUILD,
    PlatformNotConfigured,
    lockfile_header,
    read_repository_platform,
)

LOCK_COMMAND = "./pants run 3rdparty/python/lock.py"
HERE = Path("3rdparty/python")
PANTS_TOML = "pants.toml"
REQUIRED_BY_KEY = "required_by"
BEGIN_METADATA = "# --- BEGIN PANTS LOCKFILE METADATA: DO NOT EDIT OR REMOVE ---"
END_METADATA = "# --- END PANTS LOCKFILE METADATA ---"


# In a resolve's `interpreters`: the CPython of the Lambda runtime set in the root BUILD.
RUNTIME = "runtime"


@dataclass(frozen=True)
class Resolve:
    """How the lock command locks one resolve. Its name and lockfile are pants.toml's
    ([python].resolves, read by Repository.lockfile); `./pants` refuses a resolve one of the two
    has and the other has not."""

    name: str
    requirement_files: tuple[str, ...]
    # Resolve for the repository's Lambda platform (root BUILD) instead of local interpreters.
    for_lambda: bool = False
    # Resolves whose pins this one must agree with, where they share a distribution.
    constrained_by: tuple[str, ...] = ()
    # The CPythons it is for, where they follow from elsewhere: RUNTIME, or another resolve's
    # name for that resolve's. The lock command points pants.toml's constraints for it at them,
    # and ./pants refuses to run while they differ. Empty: whatever pants.toml says.
    interpreters: tuple[str, ...] = ()


# Order matters: a resolve is locked after those that constrain it, and after those whose
# interpreters it follows. Which interpreters each one is for is in pants.toml; `interpreters`
# says which of those entries follow the runtime set in the root BUILD.
RESOLVES = (
    Resolve(
        name="python-default",
        requirement_files=("pypi-requirements.txt", "framework-requirements.txt"),
        for_lambda=True,
        interpreters=(RUNTIME,),
    ),
    # Pants pins its own dependencies exactly, so the tools that share an interpreter with it
    # (pytest runs the plugin tests in one process with Pants) follow its pins.
    Resolve(
        name="pants-plugins",
        requirement_files=("pants-plugins-requirements.txt",),
    ),
    # pytest runs every python_tests target: the plugin's, on Pants' CPython, and the rest, on
    # the runtime's (the functions' own tests run where their code will).
    Resolve(
        name="pytest",
        requirement_files=("pytest-requirements.txt",),
        constrained_by=("pants-plugins",),
        interpreters=("pants-plugins", RUNTIME),
    ),
    Resolve(name="lint", requirement_files=("lint-requirements.txt",)),
    # The tests of the artifacts and the deploy tool share boto3 and more with the layers, at the
    # same versions, so they run on the runtime's CPython too: the pins must exist for it.
    Resolve(
        name="dev",
        requirement_files=("dev-requirements.txt",),
        constrained_by=("python-default", "pytest"),
        interpreters=(RUNTIME,),
    ),
)
RESOLVES_BY_NAME = {r.name: r for r in RESOLVES}


class LockError(Exception):
    """A problem the user must fix; the message says what and how."""


def lock_command(*resolves: str, extra: Sequence[str] = ()) -> str:
    args = [arg for name in resolves for arg in ("--resolve", name)] + list(extra)
    return f"{LOCK_COMMAND} -- {' '.join(args)}" if args else LOCK_COMMAND


# --- What the repository says ----------------------------------------------------------------


def read_requirements(path: Path, validate: bool = True) -> list[str]:
    """The requirement lines of a requirements file. `validate=False` skips parsing them, which
    costs a quarter of a second (packaging's parser): the check before every ./pants run only
    compares lines, and the lock command validates them."""
    requirements = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if validate:
            from packaging.requirements import InvalidRequirement, Requirement

            try:
                Requirement(line)
            except InvalidRequirement as e:
                raise LockError(f"{path}:{number}: {line!r} is not a valid requirement ({e}).")
        requirements.append(line)
    return requirements


# PEP 508's `name[extras] @ scheme://...`: a requirement on a URL (e.g. git) rather than an index.
_DIRECT_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@\s*[a-z+]+://")


def is_direct(requirement: str) -> bool:
    return _DIRECT_REFERENCE.match(requirement.strip()) is not None


_MINOR_CONSTRAINT = re.compile(r"^CPython==(3\.\d+)\.\*$")


@dataclass(frozen=True)
class Repository:
    """The settings the lockfiles depend on, read from pants.toml and the root BUILD."""

    root: Path

    @functools.cached_property
    def pants_toml(self) -> dict:
        path = self.root / PANTS_TOML
        try:
            return toml.loads(path.read_text())
        except (OSError, toml.TomlDecodeError) as e:
            raise LockError(f"Cannot read {path}: {e}")

    @property
    def _python_options(self) -> dict:
        return self.pants_toml.get("python", {})

    def lockfile(self, resolve: Resolve) -> Path:
        """The resolve's lockfile, relative to the repository, as pants.toml's [python].resolves
        names it (the one place Pants reads it from)."""
        resolves = self._python_options.get("resolves", {})
        if resolve.name not in resolves:
            raise LockError(
                f"{PANTS_TOML} [python].resolves has no `{resolve.name}`, which "
                f'3rdparty/python/lockfiles.py locks: add `{resolve.name} = "3rdparty/python/'
                f'{resolve.name}.lock"` there, or remove it from RESOLVES.'
            )
        return Path(resolves[resolve.name])

    def unknown_resolves(self) -> list[str]:
        """Resolves pants.toml declares that the lock command does not know how to lock."""
        known = {resolve.name for resolve in RESOLVES}
        return sorted(set(self._python_options.get("resolves", {})) - known)

    def interpreter_constraints_option(self, resolve: Resolve) -> tuple[str, list[str]]:
        """(the pants.toml option that sets them, the constraints) for a resolve."""
        options = self._python_options
        per_resolve = options.get("resolves_to_interpreter_constraints", {})
        if resolve.name in per_resolve:
            return f"[python].resolves_to_interpreter_constraints.{resolve.name}", list(
                per_resolve[resolve.name]
            )
        return "[python].interpreter_constraints", list(options.get("interpreter_constraints", []))

    def interpreter_constraints(self, resolve: Resolve) -> list[str]:
        return self.interpreter_constraints_option(resolve)[1]

    def pythons(self, resolve: Resolve) -> tuple[str, ...]:
        """CPython minor versions ("3.11") the resolve is locked for."""
        option, constraints = self.interpreter_constraints_option(resolve)
        versions = []
        for constraint in constraints:
            match = _MINOR_CONSTRAINT.match(constraint.replace(" ", ""))
            if not match:
                raise LockError(
                    f"{PANTS_TOML} {option} has {constraint!r}; the lock command needs one "
                    f"`CPython==3.X.*` entry per interpreter it locks for."
                )
            versions.append(match.group(1))
        if not versions:
            raise LockError(f"{PANTS_TOML} sets no {option} for the `{resolve.name}` resolve.")
        return tuple(versions)

    @functools.cached_property
    def _lambda_platform(self) -> LambdaPlatform:
        try:
            return read_repository_platform(self.root)
        except PlatformNotConfigured as e:
            raise LockError(str(e))

    def lambda_platform(self) -> LambdaPlatform:
        return self._lambda_platform

    def requirements(self, resolve: Resolve, validate: bool = True) -> list[str]:
        return [
            r for f in resolve.requirement_files for r in read_requirements(self.root / HERE / f, validate)
        ]


# --- The lockfile's header -------------------------------------------------------------------


def pins_digest(lines: Sequence[str]) -> str:
    return hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()


def lockfile_text(
    resolve: Resolve,
    requirements: Sequence[str],
    pythons: Sequence[str],
    lines: Sequence[str],
    platform: LambdaPlatform | None = None,
    required_by: dict[str, list[str]] | None = None,
) -> str:
    # Pants reads this header (and ignores the keys it does not know); the check below compares
    # it with the repository before every ./pants command that may resolve.
    metadata: dict[str, object] = {
        "version": 3,
        "valid_for_interpreter_constraints": [f"CPython=={v}.*" for v in pythons],
        "generated_with_requirements": sorted(requirements),
        "manylinux": "manylinux2014",
        "requirement_constraints": [],
        "only_binary": [],
        "no_binary": [],
    }
    if platform is not None:
        metadata[LOCKFILE_PLATFORM_KEY] = {"runtime": platform.runtime, "architecture": platform.architecture}
    if required_by is not None:
        # Which requested distributions pull in each pin: CI selects what a changed pin affects
        # by it (build-support/ci/changed_pins.py).
        metadata[REQUIRED_BY_KEY] = required_by
    metadata["pins_sha256"] = pins_digest(lines)
    header = [
        "# This lockfile was autogenerated by Pants. To regenerate, run:",
        "#",
        f"#    {lock_command(resolve.name)}",
        "#",
        BEGIN_METADATA,
        *(f"# {line}" for line in json.dumps(metadata, indent=2).splitlines()),
        END_METADATA,
        "",
    ]
    if platform is not None:
        header.append(f"# Resolved for {platform.describe()}: every pin below is a wheel")
        header.append("# that platform loads, except a git or URL requirement, which uv builds.")
    else:
        header.append(f"# Resolved for CPython {' and '.join(pythons)} on this machine's platform.")
    header.append("# No --hash pins: see docs/requirements-and-locks.md.")
    return "\n".join([*header, *lines]) + "\n"


@dataclass(frozen=True)
class Lockfile:
    path: Path
    metadata: dict
    # The pinned lines, without comments.
    lines: tuple[str, ...]

    @classmethod
    def read(cls, path: Path) -> Lockfile:
        try:
            text = path.read_text()
        except OSError as e:
            raise LockError(f"Cannot read {path}: {e}")
        metadata = lockfile_header(text)
        # The header is all comment lines: what is left are the pins.
        lines = [
            line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
        ]
        if metadata is None:
            raise LockError(
                f"{path} has no readable Pants metadata header; it was not written by {LOCK_COMMAND}."
            )
        return cls(path, metadata, tuple(lines))


# --- The check -------------------------------------------------------------------------------


def _framework_tag_change(expected: list[str], recorded: list[str]) -> str | None:
    """The new tag, if the only difference is a git requirement's tag."""

    def untagged(requirement: str) -> str:
        return requirement.rpartition("@")[0] if is_direct(requirement) else requirement

    added, removed = sorted(set(expected) - set(recorded)), sorted(set(recorded) - set(expected))
    if len(added) == 1 == len(removed) and is_direct(added[0]) and untagged(added[0]) == untagged(removed[0]):
        return added[0].rpartition("@")[2]
    return None


def wanted_constraints(repository: Repository, resolve: Resolve) -> list[str] | None:
    """The constraints pants.toml must give a resolve whose interpreters follow the runtime."""
    if not resolve.interpreters:
        return None
    wanted: list[str] = []
    for interpreter in resolve.interpreters:
        if interpreter == RUNTIME:
            wanted.append(f"CPython=={repository.lambda_platform().python_version_string}.*")
        else:
            wanted += repository.interpreter_constraints(RESOLVES_BY_NAME[interpreter])
    return list(dict.fromkeys(wanted))


def runtime_constraints_problem(repository: Repository, resolve: Resolve) -> str | None:
    """pants.toml's interpreter constraints for a resolve that follows the runtime must be the
    runtime's CPython (and what else it is for): its lockfile is valid for those."""
    want = wanted_constraints(repository, resolve)
    option, constraints = repository.interpreter_constraints_option(resolve)
    if want is None or sorted(constraints) == sorted(want):
        return None
    return f"{option} is {constraints}, not {want}"


def runtime_constraints_problems(repository: Repository) -> list[str]:
    """One problem for every resolve that does not follow the runtime yet: changing the runtime
    is one edit in the root BUILD, then one lock command."""
    mismatches = [m for m in (runtime_constraints_problem(repository, r) for r in RESOLVES) if m]
    if not mismatches:
        return []
    platform = repository.lambda_platform()
    return [
        f"{ROOT_BUILD} sets runtime={platform.runtime!r} for the Lambda targets, but in {PANTS_TOML} "
        f"{'; '.join(mismatches)} (the CPythons their lockfiles are resolved for follow the "
        f"runtime). Run `{LOCK_COMMAND}`: it sets them and relocks every resolve."
    ]


def _constraints_entry(text: str, resolve: str) -> re.Pattern[str]:
    """Where pants.toml sets a resolve's constraints: its `resolves_to_interpreter_constraints`
    entry if it has one, else [python].interpreter_constraints."""
    table = re.compile(
        rf"(resolves_to_interpreter_constraints\s*=\s*\{{[^}}\n]*?(?<![\w-]){re.escape(resolve)}\s*=\s*)\[[^\]]*\]"
    )
    if table.search(text):
        return table
    return re.compile(
        r"(\[python\][^\[]*?^interpreter_constraints\s*=\s*)\[[^\]]*\]", re.MULTILINE | re.DOTALL
    )


def follow_runtime(repository: Repository, resolve: Resolve) -> str | None:
    """Points pants.toml's interpreter constraints for a resolve at the runtime's CPython (the
    lock command does this, so that changing the runtime is one edit, in the root BUILD).
    Returns what it changed, or None if nothing needed to."""
    if runtime_constraints_problem(repository, resolve) is None:
        return None
    want = wanted_constraints(repository, resolve) or []
    path = repository.root / PANTS_TOML
    text = path.read_text()
    listed = "[" + ", ".join(f'"{c}"' for c in want) + "]"
    updated, count = _constraints_entry(text, resolve.name).subn(lambda m: m.group(1) + listed, text, count=1)
    cannot = (
        f"The lock command could not set {PANTS_TOML}'s constraints for `{resolve.name}` to {want} "
        f"(for {repository.lambda_platform().runtime} in {ROOT_BUILD}): set them by hand, then rerun it."
    )
    if count != 1:
        raise LockError(cannot)
    path.write_text(updated)
    reread = Repository(repository.root)  # `repository` keeps what it read before the edit
    if runtime_constraints_problem(reread, resolve) is not None:
        path.write_text(text)
        raise LockError(cannot)
    option, _ = reread.interpreter_constraints_option(resolve)
    return f"{PANTS_TOML} {option} = {want}, for {reread.lambda_platform().runtime} in {ROOT_BUILD}"


def check_resolve(repository: Repository, resolve: Resolve) -> list[str]:
    """What is stale about one lockfile: each item names what differs and the command to run."""
    path = repository.lockfile(resolve)
    relock = f"Run `{lock_command(resolve.name)}`."
    if not (repository.root / path).exists():
        return [f"{path} does not exist. {relock}"]
    lockfile = Lockfile.read(repository.root / path)
    metadata = lockfile.metadata
    problems = []

    expected = sorted(repository.requirements(resolve, validate=False))
    recorded = sorted(metadata.get("generated_with_requirements") or [])
    if expected != recorded:
        files = ", ".join(str(HERE / f) for f in resolve.requirement_files)
        added, removed = sorted(set(expected) - set(recorded)), sorted(set(recorded) - set(expected))
        detail = "; ".join(
            part
            for part in (
                f"not locked: {', '.join(added)}" if added else "",
                f"locked but no longer required: {', '.join(removed)}" if removed else "",
            )
            if part
        )
        tag = _framework_tag_change(expected, recorded)
        how = (
            f"Run `{lock_command(extra=['--framework-tag', tag])}` (moves the framework, keeps every "
            f"other pin) or `{lock_command(resolve.name)}`."
            if tag
            else relock
        )
        problems.append(f"{path} was not locked from {files} as they are now ({detail}). {how}")

    option, constraints = repository.interpreter_constraints_option(resolve)
    recorded_constraints = metadata.get("valid_for_interpreter_constraints") or []
    if sorted(constraints) != sorted(recorded_constraints):
        problems.append(
            f"{path} was locked for {recorded_constraints}, but {PANTS_TOML} {option} is now "
            f"{constraints}. {relock}"
        )

    if resolve.for_lambda:
        platform = repository.lambda_platform()
        recorded_platform = metadata.get(LOCKFILE_PLATFORM_KEY) or {}
        actual = (recorded_platform.get("runtime"), recorded_platform.get("architecture"))
        if actual != (platform.runtime, platform.architecture):
            problems.append(
                f"{path} was locked for Lambda {' '.join(map(str, actual))}, but {ROOT_BUILD}'s "
                f"`__defaults__` now sets runtime={platform.runtime!r}, architecture="
                f"{platform.architecture!r}: its wheels would not load there. {relock}"
            )

    if metadata.get("pins_sha256") != pins_digest(lockfile.lines):
        problems.append(
            f"{path} was edited by hand: its pinned lines are not the ones {LOCK_COMMAND} wrote, "
            f"and nothing has checked them against "
            f"{'Lambda ' + repository.lambda_platform().slug if resolve.for_lambda else 'each other'}. "
            f"To keep your pins, run `{lock_command(resolve.name, extra=['--keep-pins'])}`: it checks "
            f"them and says which cannot work (to choose a version, pin it in the requirements file "
            f"instead). To drop them, run `{lock_command(resolve.name)}`."
        )
    return problems


def check_lockfiles(repository: Repository) -> list[str]:
    try:
        problems = runtime_constraints_problems(repository)
    except LockError as e:
        problems = [str(e)]
    try:
        unknown = repository.unknown_resolves()
    except LockError as e:
        unknown, problems = [], [*problems, str(e)]
    problems += [
        f"{PANTS_TOML} [python].resolves declares `{name}`, which the lock command does not know how "
        f"to lock: add a Resolve for it to RESOLVES in 3rdparty/python/lockfiles.py (its "
        f"requirements files, and whose pins and interpreters it follows)."
        for name in unknown
    ]
    for resolve in RESOLVES:
        try:
            problems += check_resolve(repository, resolve)
        except LockError as e:
            problems.append(str(e))
    return problems


# Pants goals that never resolve requirements: a stale lockfile does not stop them, so that a
# user can still look around (and tailor, which edits BUILD files) before locking.
GOALS_WITHOUT_RESOLVES = frozenset(
    "help help-advanced help-all version list peek filedeps dependencies dependents roots paths "
    "tailor count-loc backends".split()
)


_HELP = frozenset({"help", "help-advanced", "help-all", "-h", "--help", "--version", "version"})


def may_resolve(pants_args: list[str]) -> bool:
    """Whether a ./pants command line may resolve requirements (and so needs current lockfiles)."""
    pants_args = pants_args[: pants_args.index("--")] if "--" in pants_args else pants_args
    if any(arg in _HELP for arg in pants_args):
        return False  # `./pants help test` runs no goal
    for arg in pants_args:
        if arg.startswith("-") or "/" in arg or ":" in arg:
            continue  # an option or a target address
        if arg not in GOALS_WITHOUT_RESOLVES:
            return True
    return False


def is_lock_command(pants_args: Sequence[str]) -> bool:
    return any(arg.rstrip("/").endswith("3rdparty/python/lock.py") for arg in pants_args)


def main(argv: Sequence[str]) -> int:
    """`check [--root DIR] [-- PANTS_ARGS...]`: exit 1, saying why and what to run, if a lockfile
    is stale and the Pants command line may resolve."""
    args = list(argv)
    pants_args = args[args.index("--") + 1 :] if "--" in args else []
    args = args[: args.index("--")] if "--" in args else args
    if args[:1] != ["check"] or len(args) not in (1, 3) or (len(args) == 3 and args[1] != "--root"):
        print(f"usage: {sys.argv[0]} check [--root DIR] [-- PANTS_ARGS...]", file=sys.stderr)
        return 2
    root = Path(args[2]) if len(args) == 3 else Path.cwd()
    if is_lock_command(pants_args) or not may_resolve(pants_args):
        return 0
    problems = check_lockfiles(Repository(root))
    if problems:
        print("[./pants] error: the lockfiles are not current:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print("Nothing was built or resolved.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
