"""Writes the project's lockfiles with uv: ./pants run 3rdparty/python/lock.py [-- --resolve NAME ...]

The lockfiles are requirements-style: one `name==version` line per distribution, under Pants'
metadata header, which Pants installs with pip's normal resolver. (Pex-JSON lockfiles cannot be
installed on our build machines, and they embed every artifact's download URL.)

Every resolve is resolved by `uv pip compile` (https://docs.astral.sh/uv/pip/compile/), the uv
that ./pants fetched and pinned in pants.toml's [uv], with the indexes ./pants hands to Pants.

The `python-default` resolve holds what ships in the Lambda layers, so it is resolved for the
Lambda platform, not for this machine: `--python-platform` and `--python-version` come from the
runtime and architecture in the root BUILD (glibc 2.26 for python3.9 to 3.11, 2.34 from 3.12),
and every distribution must come as a wheel that platform loads, except a git or URL
requirement (the framework), which uv builds. That is what the artifact builds install
(pants-plugins/lambda_targets/uv.py), with `--no-deps`.

The tools' resolves are resolved for each local CPython their interpreter constraints name.

The lockfiles carry no `--hash` pins: the framework is a git requirement, which cannot carry a
hash, and pip refuses to mix hashed and unhashed lines.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lambda_artifacts.cpython import find_cpython, where_searched
from lambda_targets.platforms import LambdaPlatform
from lambda_targets.uv_args import COMMON_ARGS, UV_ENV, index_args
from lockfiles import (
    HERE,
    LOCK_COMMAND,
    RESOLVES,
    RESOLVES_BY_NAME,
    LockError,
    Repository,
    Resolve,
    follow_runtime,
    is_direct,
    lock_command,
    lockfile_text,
    read_requirements,
)
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    # The requirement line as written, for git/URL requirements; None for index pins.
    direct_requirement: str | None = None
    # What uv's annotations say about it: whether a requirements file asks for it, and which
    # pinned distributions depend on it (for the lockfile's `required_by`, which CI reads).
    requested: bool = field(default=False, compare=False)
    needed_by: tuple[str, ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)

    def line(self) -> str:
        return self.direct_requirement or f"{self.key}=={self.version}"


# --- Interpreters ----------------------------------------------------------------------------


def find_python(version: str) -> str:
    """A CPython `version` (e.g. "3.11") from PATH or pyenv."""
    minor = tuple(map(int, version.split(".")))
    found = find_cpython(minor)
    if found is None:
        raise LockError(
            f"CPython {version} is needed to lock for it, and {where_searched(minor)} and rerun "
            f"{LOCK_COMMAND}."
        )
    return found


# --- uv --------------------------------------------------------------------------------------


def uv_binary() -> str:
    """The uv binary of the wheel ./pants fetched and checked against pants.toml's [uv] pin,
    unpacked beside it once."""
    wheel = os.environ.get("LAMBDA_UV_WHEEL")
    if not wheel or not Path(wheel).is_file():
        raise LockError(f"uv comes from ./pants, which fetches and checks it: run `{LOCK_COMMAND}`.")
    unpacked = Path(f"{wheel}.bin") / "uv"
    if not unpacked.is_file():
        with zipfile.ZipFile(wheel) as zf:
            (member,) = (n for n in zf.namelist() if re.fullmatch(r"uv-[^/]+\.data/scripts/uv", n))
            unpacked.parent.mkdir(parents=True, exist_ok=True)
            partial = unpacked.with_name(f"uv.{os.getpid()}")
            partial.write_bytes(zf.read(member))
            partial.chmod(0o755)
            partial.replace(unpacked)
    return str(unpacked)


def uv_cache_dir() -> str:
    """Pants' named cache `uv`, the one the artifact builds use (./pants says where it is): a
    lock leaves it warm for them. UV_CACHE_DIR, if set, wins, as it would for uv itself."""
    cache = os.environ.get("UV_CACHE_DIR") or os.environ.get("LAMBDA_UV_CACHE")
    if not cache:
        raise LockError(f"uv's cache comes from ./pants: run `{LOCK_COMMAND}`.")
    return cache


def _list_option(value: str) -> list[str]:
    """A Pants list option as ./pants exports it (`["a", "b"]`, possibly `+[...]`)."""
    return list(ast.literal_eval(value.lstrip("+"))) if value.strip() else []


PYPI = "https://pypi.org/simple/"


@dataclass(frozen=True)
class Repositories:
    """Where packages come from: pants.toml's [python-repos] if set, else what ./pants found in
    pip's configuration (PANTS_PYTHON_REPOS_*), else PyPI: what the artifact builds use."""

    indexes: tuple[str, ...]
    find_links: tuple[str, ...]

    @classmethod
    def of(cls, repository: Repository) -> Repositories:
        configured = repository.pants_toml.get("python-repos", {})
        found = cls.from_environment()
        return cls(
            tuple(configured.get("indexes", found.indexes)),
            tuple(configured.get("find_links", found.find_links)),
        )

    @classmethod
    def from_environment(cls) -> Repositories:
        indexes = _list_option(os.environ.get("PANTS_PYTHON_REPOS_INDEXES", "")) or [PYPI]
        return cls(tuple(indexes), tuple(_list_option(os.environ.get("PANTS_PYTHON_REPOS_FIND_LINKS", ""))))


@dataclass(frozen=True)
class Target:
    """What one `uv pip compile` resolves for: the Lambda platform, or a local CPython."""

    python: str  # the interpreter uv runs builds with (and, for a local target, resolves for)
    version: str  # its minor version, "3.11"
    platform: LambdaPlatform | None = None

    def describe(self) -> str:
        return self.platform.describe() if self.platform else f"CPython {self.version} on this machine"

    def args(self, direct_names: Iterable[str], uv_platform: str | None = None) -> list[str]:
        args = ["--python", self.python]
        if self.platform:
            args += [
                "--python-platform",
                uv_platform or self.platform.uv_python_platform,
                "--python-version",
                self.platform.python_version_string,
                # Wheels only, for the platform: a distribution compiled here would be linked
                # against this machine's C library. A git or URL requirement is built.
                "--only-binary",
                ":all:",
                *(arg for name in direct_names for arg in ("--no-binary", name)),
            ]
        return args


@dataclass(frozen=True)
class Uv:
    exe: str
    cache_dir: str
    repositories: Repositories

    @classmethod
    def for_repository(cls, repository: Repository) -> Uv:
        return cls(uv_binary(), uv_cache_dir(), Repositories.of(repository))

    def compile(self, args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        argv = [
            self.exe,
            "pip",
            "compile",
            *COMMON_ARGS,
            "--quiet",
            "--no-header",
            "--annotation-style",
            "split",
            "--cache-dir",
            self.cache_dir,
            *index_args(self.repositories.indexes, self.repositories.find_links),
            *args,
        ]
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env={**os.environ, **UV_ENV})


# --- Reading uv's output ---------------------------------------------------------------------

REQUIREMENTS_IN = "requirements.in"
CONSTRAINTS_TXT = "constraints.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:==\s*(\S+)|@\s*(\S+))")


def requirement_name(requirement: str) -> str:
    """The name a requirement line starts with (packaging 21 rejects `git+file://` URLs)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise LockError(f"{requirement!r} does not start with a distribution name.")
    return match.group(1)


def parse_compiled(text: str, requirements: Sequence[str]) -> list[Pin]:
    """Pins from `uv pip compile --annotation-style split` output. A git/URL pin keeps the line
    the requirements file has (uv writes the commit it found, which differs between the sample,
    GitHub and a mirror of the framework)."""
    direct = {canonicalize_name(requirement_name(r)): r for r in requirements if is_direct(r)}
    entries: list[tuple[str, str, list[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not raw[0].isspace() and not line.startswith("#"):
            match = _PIN.match(line)
            if not match:
                raise LockError(f"uv wrote a line the lock command cannot read: {line!r}")
            entries.append((match.group(1), match.group(2) or "", []))
        elif entries and line.startswith("#"):
            via = line.lstrip("#").strip()
            via = via[len("via") :].strip() if via.startswith("via") else via
            if via:
                entries[-1][2].append(via)
    pins = []
    for name, version, vias in entries:
        key = canonicalize_name(name)
        requested = any(v.startswith("-r ") for v in vias)
        needed_by = tuple(sorted({canonicalize_name(v.split("[")[0]) for v in vias if not v.startswith("-")}))
        pins.append(Pin(name, version, direct.get(key), requested, needed_by))
    return pins


# --- Our words for uv's failures -------------------------------------------------------------

_NO_WHEEL = (
    re.compile(r"Wheels are required for `([^`]+)`"),
    re.compile(r"Because (?:only )?([A-Za-z0-9][A-Za-z0-9._-]*)\S* has no (?:usable )?wheels"),
)
_NOT_FOUND = re.compile(r"Because ([A-Za-z0-9][A-Za-z0-9._-]*) was not found in the package registry")
_BUILD_FAILED = re.compile(r"Failed to (?:download and )?build `([^`]+)`")
_UNREACHABLE = re.compile(r"Failed to fetch: `?([^`\s]+)`?|error sending request for url \(([^)\s]+)\)")


def uv_said(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()][-25:]
    return "uv said:\n" + "\n".join(f"    {line}" for line in lines)


@dataclass
class Resolution:
    """One resolve, for one target: what to tell the user if uv cannot finish it."""

    uv: Uv
    target: Target
    resolve: Resolve
    lockfile: Path  # pants.toml's path for the resolve's lockfile
    scratch: Path
    kept: dict[str, str] = field(default_factory=dict)  # canonical name -> version kept from the lockfile

    @property
    def requirement_files(self) -> str:
        return ", ".join(str(HERE / f) for f in self.resolve.requirement_files)

    def compile(self, requirements: Sequence[str], constraints: Sequence[str]) -> list[Pin]:
        write_lines(self.scratch / REQUIREMENTS_IN, requirements)
        write_lines(self.scratch / CONSTRAINTS_TXT, constraints)
        direct_names = [requirement_name(r) for r in requirements if is_direct(r)]
        result = self.uv.compile(
            [*self.target.args(direct_names), "--constraint", CONSTRAINTS_TXT, REQUIREMENTS_IN], self.scratch
        )
        if result.returncode != 0:
            raise LockError(self.explain(result.stderr))
        return parse_compiled(result.stdout, requirements)

    def explain(self, stderr: str) -> str:
        where = self.target.describe()
        relock = lock_command(self.resolve.name)
        for pattern in _NO_WHEEL:
            match = pattern.search(stderr)
            if match:
                return self.no_wheel(canonicalize_name(match.group(1)), stderr)
        match = _NOT_FOUND.search(stderr)
        if match:
            return (
                f"{match.group(1)} is on no package index the lock command searched "
                f"({', '.join(self.uv.repositories.indexes)}). Check its name in "
                f"{self.requirement_files}, then rerun `{relock}`.\n\n{uv_said(stderr)}"
            )
        match = _BUILD_FAILED.search(stderr)
        if match:
            return (
                f"uv could not build {match.group(1)} from source for {where} (output below). "
                f"Pin a release of it that ships a wheel for this platform in "
                f"{self.requirement_files}, or, for a git requirement, fix it upstream and move "
                f"its tag; then rerun `{relock}`.\n\n{uv_said(stderr)}"
            )
        match = _UNREACHABLE.search(stderr)
        if match:
            url = match.group(1) or match.group(2)
            return (
                f"The lock command could not reach {url} while resolving `{self.resolve.name}` for "
                f"{where}. Check the network (and HTTPS_PROXY), and the index settings: "
                f"pants.toml's [python-repos], or pip's configuration (pip.conf, PIP_INDEX_URL, "
                f"PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS), which ./pants hands to uv. Then rerun "
                f"`{relock}`.\n\n{uv_said(stderr)}"
            )
        return f"uv could not resolve {self.requirement_files} for {where}.\n\n{uv_said(stderr)}"

    def no_wheel(self, name: str, stderr: str) -> str:
        """Names the package, the platform and the ways out: an older release, another
        runtime, or leaving it out of the resolve."""
        platform = self.target.platform
        relock = lock_command(self.resolve.name)
        files = HERE / self.resolve.requirement_files[0]
        if name in self.kept:
            return (
                f"{self.lockfile} pins {name}=={self.kept[name]}, which has no wheel "
                f"for {self.target.describe()}. To drop the pin, run `{relock}`; to choose a version "
                f"that fits, pin it in {files} and run `{relock}`.\n\n{uv_said(stderr)}"
            )
        ways_out = []
        newest_that_fits = self.newest(name)
        if newest_that_fits:
            ways_out.append(
                f"hold it back: {name} {newest_that_fits} is the newest release with such a wheel "
                f"(`{name}<={newest_that_fits}` in {files});"
            )
        runtime = "choose another runtime or architecture in the root BUILD"
        if platform is not None:
            newer_glibc = self.newest(name, platform.uv_python_platform_newest)
            if newer_glibc and newer_glibc != newest_that_fits:
                runtime += (
                    f": {name} {newer_glibc} has wheels for a newer glibc than {platform.runtime}'s "
                    f"{'.'.join(map(str, platform.glibc))} (python3.12 and later run on Amazon Linux "
                    f"2023, glibc 2.34)"
                )
        ways_out.append(runtime + ";")
        ways_out.append(f"if nothing imports {name} on Lambda, drop the requirement that pulls it in.")
        return (
            f"{name} has no wheel for {self.target.describe()} in any release that "
            f"{self.requirement_files} allow"
            f"{'' if newest_that_fits else ' (nor in any other release)'}. Ways out:\n"
            + "".join(f"  - {way}\n" for way in ways_out)
            + f"Then rerun `{relock}`.\n\n{uv_said(stderr)}"
        )

    def newest(self, name: str, uv_platform: str | None = None) -> str | None:
        """The newest release of `name` with a wheel for the target (or another uv platform)."""
        probe = Path(tempfile.mkdtemp(dir=self.scratch))
        write_lines(probe / REQUIREMENTS_IN, [name])
        result = self.uv.compile([*self.target.args((), uv_platform), "--no-deps", REQUIREMENTS_IN], probe)
        pins = parse_compiled(result.stdout, [name]) if result.returncode == 0 else []
        return pins[0].version if pins else None


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


# --- The lockfile ----------------------------------------------------------------------------


def required_by(pins: Iterable[Pin]) -> dict[str, list[str]]:
    """For each pinned distribution, the requested distributions that pull it in (itself
    included, if requested). Pins of several interpreters are merged: a change may then select
    more than it needs, never less."""
    needed_by: dict[str, set[str]] = {}
    requested: set[str] = set()
    for pin in pins:
        needed_by.setdefault(pin.key, set()).update(pin.needed_by)
        if pin.requested:
            requested.add(pin.key)
    result = {}
    for key in needed_by:
        roots, stack, seen = set(), [key], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in requested:
                roots.add(current)
            stack.extend(needed_by.get(current, ()))
        result[key] = sorted(roots)
    return dict(sorted(result.items()))


def merge(per_python: dict[str, list[Pin]]) -> list[str]:
    """One line per distribution; a `python_version` marker where only some interpreters need it."""
    by_key: dict[str, tuple[Pin, list[str]]] = {}
    for python, pins in per_python.items():
        for pin in pins:
            seen = by_key.setdefault(pin.key, (pin, []))
            if seen[0].version != pin.version:
                raise LockError(
                    f"{pin.name} resolved to {seen[0].version} and {pin.version} for different "
                    f"interpreters; pin one version in the requirements."
                )
            seen[1].append(python)
    lines = []
    for key in sorted(by_key):
        pin, pythons = by_key[key]
        line = pin.line()
        if len(pythons) < len(per_python):
            line += "; " + " or ".join(f'python_version == "{p}"' for p in pythons)
        lines.append(line)
    return lines


def lock(
    uv: Uv,
    repository: Repository,
    resolve: Resolve,
    pins_of: dict[str, list[Pin]],
    requirements: list[str] | None = None,
    keep_pins: bool = False,
) -> list[Pin]:
    """Resolves and writes one lockfile. `keep_pins` holds every index pin it has now."""
    if requirements is None:
        requirements = repository.requirements(resolve)
    followed = follow_runtime(repository, resolve)
    if followed:
        print(f"Set {followed}.", file=sys.stderr)
        repository = Repository(repository.root)  # read pants.toml again
    platform = repository.lambda_platform() if resolve.for_lambda else None
    pythons = (platform.python_version_string,) if platform else repository.pythons(resolve)
    kept = read_pins(repository, resolve) if keep_pins else []
    constraints = [
        pin.line()
        for pins in [*(pins_of[other] for other in resolve.constrained_by), kept]
        for pin in pins
        if not pin.direct_requirement
    ]
    per_python: dict[str, list[Pin]] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"lock-{resolve.name}-") as tmp:
        for version in pythons:
            target = Target(find_python(version), version, platform)
            print(f"Resolving {resolve.name} for {target.describe()} ...", file=sys.stderr)
            resolution = Resolution(
                uv,
                target,
                resolve,
                repository.lockfile(resolve),
                Path(tempfile.mkdtemp(dir=tmp)),
                {p.key: p.version for p in kept},
            )
            # Later interpreters must agree with the pins of earlier ones.
            earlier = [p.line() for ps in per_python.values() for p in ps if not p.direct_requirement]
            per_python[version] = resolution.compile(requirements, constraints + earlier)
    every_pin = [pin for pins in per_python.values() for pin in pins]
    text = lockfile_text(resolve, requirements, pythons, merge(per_python), platform, required_by(every_pin))
    # Write via a temporary file, so a failure never leaves half a lockfile behind.
    target_path = repository.root / repository.lockfile(resolve)
    tmp_path = target_path.with_suffix(".lock.tmp")
    tmp_path.write_text(text)
    tmp_path.replace(target_path)
    print(
        f"Wrote {repository.lockfile(resolve)} ({len(text.splitlines())} lines) in {time.monotonic() - started:.1f} s.",
        file=sys.stderr,
    )
    return every_pin


def read_pins(repository: Repository, resolve: Resolve) -> list[Pin]:
    """Pins of an existing lockfile, for resolves that are constrained by it."""
    path = repository.root / repository.lockfile(resolve)
    if not path.exists():
        raise LockError(f"{path} does not exist yet; lock it too: {lock_command(resolve.name)}")
    pins = []
    for line in read_requirements(path):
        requirement = Requirement(line.split(";")[0])
        version = next(iter(requirement.specifier)).version if requirement.specifier else ""
        pins.append(Pin(requirement.name, version, line if requirement.url else None))
    return pins


FRAMEWORK_REQUIREMENTS = HERE / "framework-requirements.txt"


def retag(requirement: str, tag: str) -> str:
    """`name @ git+https://host/repo.git@v1` -> `name @ git+https://host/repo.git@<tag>`."""
    url = Requirement(requirement).url or ""
    base, at, _ = url.rpartition("@")
    if not url.startswith("git+") or not at:
        raise LockError(f"{requirement!r} in {FRAMEWORK_REQUIREMENTS} is not a `git+...@<tag>` requirement.")
    return requirement.replace(url, f"{base}@{tag}")


def bump_framework(uv: Uv, tag: str) -> None:
    """Moves the framework to `tag` and relocks python-default, keeping every PyPI pin, so that
    only the framework layer's bytes change."""
    text = FRAMEWORK_REQUIREMENTS.read_text()
    current = read_requirements(FRAMEWORK_REQUIREMENTS)
    bumped = {requirement: retag(requirement, tag) for requirement in current if is_direct(requirement)}
    if not bumped:
        raise LockError(f"{FRAMEWORK_REQUIREMENTS} has no git requirement to move to {tag}.")
    default = RESOLVES_BY_NAME["python-default"]
    others = [
        r
        for f in default.requirement_files
        if HERE / f != FRAMEWORK_REQUIREMENTS
        for r in read_requirements(HERE / f)
    ]
    lock(
        uv, Repository(Path.cwd()), default, {}, others + [bumped.get(r, r) for r in current], keep_pins=True
    )
    for old, new in bumped.items():
        text = text.replace(old, new)
    FRAMEWORK_REQUIREMENTS.write_text(text)
    print(f"Moved the framework to {tag} in {FRAMEWORK_REQUIREMENTS}.", file=sys.stderr)


def main(argv: Sequence[str]) -> int:
    names = [r.name for r in RESOLVES]
    parser = argparse.ArgumentParser(prog=LOCK_COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument(
        "--resolve", action="append", choices=names, help="Lock only this resolve (repeatable); default: all."
    )
    parser.add_argument(
        "--keep-pins",
        action="store_true",
        help="Keep every version the lockfile pins now (e.g. after editing it by hand): relock only "
        "what must change, and check those pins against the platform.",
    )
    parser.add_argument(
        "--framework-tag",
        metavar="TAG",
        help="Move the framework's git requirement to TAG and relock python-default, keeping every other pin.",
    )
    args = parser.parse_args(argv)
    wanted = set(args.resolve or names)
    try:
        if not HERE.is_dir():
            raise LockError(f"Run this from the repository root: {LOCK_COMMAND}")
        repository = Repository(Path.cwd())
        uv = Uv.for_repository(repository)
        if args.framework_tag:
            bump_framework(uv, args.framework_tag)
            return 0
        pins_of: dict[str, list[Pin]] = {}
        for resolve in RESOLVES:
            if resolve.name in wanted:
                pins_of[resolve.name] = lock(uv, repository, resolve, pins_of, keep_pins=args.keep_pins)
            elif any(resolve.name in r.constrained_by for r in RESOLVES if r.name in wanted):
                pins_of[resolve.name] = read_pins(repository, resolve)
    except LockError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
