"""Writes the project's lockfiles: ./pants run 3rdparty/python/lock.py [-- --resolve NAME ...]

The lockfiles are requirements-style: one `name==version` line per distribution, under Pants'
metadata header, which Pants installs with pip's normal resolver. (Pex-JSON lockfiles cannot be
installed on our build machines, and they embed every artifact's download URL.)

The `python-default` resolve holds what ships in the Lambda layers, so it is resolved for the
Lambda platform, not for this machine: pip only considers wheels whose tags the Lambda runtime
accepts (cp311, manylinux up to glibc 2.26 for python3.11 x86_64). A distribution may come from
source only if it builds to a pure-Python wheel; anything else fails here, with the reason,
instead of failing at import time on Lambda.

The lockfiles carry no `--hash` pins: the framework is a git requirement, which cannot carry a
hash, and pip refuses to mix hashed and unhashed lines.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pip
from lambda_targets.platforms import LambdaPlatform
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
from packaging.utils import canonicalize_name, parse_wheel_filename


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    # The requirement line as written, for git/URL requirements; None for index pins.
    direct_requirement: str | None = None
    # What pip's report says about it: whether a requirements file asks for it, and the names
    # its metadata depends on (for the lockfile's `required_by`, which CI's selection reads).
    requested: bool = field(default=False, compare=False)
    depends_on: tuple[str, ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)

    def line(self) -> str:
        return self.direct_requirement or f"{self.key}=={self.version}"


# --- Interpreters and pip ----------------------------------------------------------------


def find_python(version: str) -> str:
    """A CPython `version` (e.g. "3.11") from pyenv or PATH, as `./pants` looks for 3.9."""
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates = [shutil.which(f"python{version}")]
    versions_dir = Path(pyenv_root) / "versions"
    if versions_dir.is_dir():
        installed = sorted(
            versions_dir.glob(f"{version}.*/bin/python{version}"),
            key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)],
            reverse=True,
        )
        candidates += [str(p) for p in installed]
    check = f"import sys; sys.exit(sys.version_info[:2] != {tuple(map(int, version.split('.')))})"
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", check], capture_output=True).returncode == 0:
            return candidate
    raise LockError(
        f"CPython {version} is needed to lock for it, and none was found on PATH or under "
        f"{versions_dir}. Install it (e.g. `pyenv install {version}`) and rerun {LOCK_COMMAND}."
    )


# Runs the pip this tool was installed with (pinned in the pants-plugins lockfile) on another
# interpreter, so every resolve uses the same pip whatever the interpreter ships.
_RUN_PIP = (
    "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); runpy.run_module('pip', run_name='__main__')"
)
_PIP_HOME = str(Path(pip.__file__).resolve().parent.parent)


def run_pip(python: str, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    # --isolated: ignore the user's pip configuration, as Pants' own resolves do, so the lock
    # agrees with what Pants will install from it.
    argv = [python, "-I", "-c", _RUN_PIP, _PIP_HOME, *args, "--isolated", "--disable-pip-version-check"]
    return subprocess.run(argv, capture_output=True, text=True)


def pip_errors(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "error:" in line]
    return "\n".join(f"    {line}" for line in (errors or lines[-15:]))


def dry_run_install(python: str, args: Sequence[str], scratch: Path) -> list[dict]:
    """The distributions `pip install args` would install, from pip's installation report."""
    report = scratch / "report.json"
    result = run_pip(
        python,
        ["install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report), *args],
    )
    if result.returncode != 0:
        raise PipFailed(result)
    return json.loads(report.read_text())["install"]


class PipFailed(Exception):
    def __init__(self, result: subprocess.CompletedProcess[str]) -> None:
        super().__init__(result.stderr)
        self.result = result


# --- Requirements ------------------------------------------------------------------------


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


# --- Resolving for a Lambda platform -----------------------------------------------------


def is_pure(wheel_name: str) -> bool:
    _, _, _, wheel_tags = parse_wheel_filename(wheel_name)
    return all(tag.abi == "none" and tag.platform == "any" for tag in wheel_tags)


def build_wheel(python: str, requirement: str, wheelhouse: Path, *, from_source: bool) -> Path:
    """Builds (or, from_source=False, also accepts an existing) wheel; returns its path."""
    out = Path(tempfile.mkdtemp(dir=wheelhouse.parent))
    args = ["wheel", "--no-deps", "--quiet", "-w", str(out), requirement]
    if from_source:
        args.insert(1, "--no-binary=:all:")
    result = run_pip(python, args)
    if result.returncode != 0:
        raise LockError(f"Could not build {requirement!r} into a wheel:\n{pip_errors(result)}")
    (wheel,) = out.glob("*.whl")
    return Path(shutil.move(str(wheel), wheelhouse / wheel.name))


def local_wheel(python: str, spec: str, scratch: Path) -> tuple[str, str] | None:
    """(version, tags) of the wheel pip picks for `spec` on this machine, if one exists."""
    out = Path(tempfile.mkdtemp(dir=scratch))
    result = run_pip(
        python, ["download", "--no-deps", "--only-binary=:all:", "--quiet", "-d", str(out), spec]
    )
    wheels = list(out.glob("*.whl")) if result.returncode == 0 else []
    if not wheels:
        return None
    _, version, _, wheel_tags = parse_wheel_filename(wheels[0].name)
    return str(version), ", ".join(sorted(str(t) for t in wheel_tags))


@dataclass
class LambdaResolution:
    platform: LambdaPlatform
    python: str
    scratch: Path
    # Wheels built here from git/URL requirements or pure-Python sdists, offered to pip.
    wheelhouse: Path = field(init=False)
    built_from: dict[str, str] = field(default_factory=dict)  # wheel file name -> requirement

    def __post_init__(self) -> None:
        self.wheelhouse = self.scratch / "wheelhouse"
        self.wheelhouse.mkdir()

    def platform_args(self) -> list[str]:
        major, minor = self.platform.python_version
        args = ["--only-binary=:all:", "--implementation=cp", f"--python-version={major}.{minor}"]
        args += [f"--abi=cp{major}{minor}"]
        args += [f"--platform={tag}" for tag in self.platform.platform_tags()]
        # pip accepts platform options only when installing into a --target (never written to
        # here: this is a dry run).
        args += ["--target", str(self.scratch / "unused-target")]
        return args + ["--find-links", str(self.wheelhouse)]

    def add_source_requirement(self, requirement: str, origin: str) -> None:
        wheel = build_wheel(self.python, requirement, self.wheelhouse, from_source=True)
        if not is_pure(wheel.name):
            raise LockError(
                f"{requirement} ({origin}) builds to {wheel.name}, which is not pure Python. "
                f"Only pure-Python distributions may come from source: a compiled one would be "
                f"linked against this machine's C library, not {self.platform.describe()}'s. "
                f"Depend on a release that ships a compatible wheel instead."
            )
        self.built_from[wheel.name] = requirement

    def resolve(
        self,
        index_requirements: list[str],
        direct_requirements: dict[str, str],
        constraints: Sequence[str] = (),
    ) -> list[Pin]:
        for requirement, origin in direct_requirements.items():
            self.add_source_requirement(requirement, origin)
        constraint_args = ["-c", str(write_lines(self.scratch / "constraints.txt", constraints))]
        while True:
            requested = index_requirements + [
                str(self.wheelhouse / name)
                for name, req in self.built_from.items()
                if req in direct_requirements
            ]
            reqs = write_lines(self.scratch / "lambda-requirements.txt", requested)
            try:
                installs = dry_run_install(
                    self.python, [*self.platform_args(), "-r", str(reqs), *constraint_args], self.scratch
                )
                break
            except PipFailed as failure:
                self.handle_missing_wheel(failure)
        return [self.pin(item) for item in installs]

    def check_pins(self, pins: Sequence[str], origin: str, relock: str) -> None:
        """Each `name==version` in `pins` (e.g. a lockfile's, edited by hand) has a wheel for the
        platform. One pip call, without dependencies: the resolve that follows checks those."""
        if not pins:
            return
        reqs = write_lines(self.scratch / "kept-pins.txt", pins)
        try:
            dry_run_install(self.python, [*self.platform_args(), "--no-deps", "-r", str(reqs)], self.scratch)
        except PipFailed as failure:
            missing = re.search(r"No matching distribution found for (\S+)", failure.result.stderr)
            if not missing:
                raise LockError(
                    f"The pins in {origin} do not install on {self.platform.describe()}:\n"
                    f"{pip_errors(failure.result)}"
                )
            spec = missing.group(1)
            found = local_wheel(self.python, spec, self.scratch)
            ships = f"it ships only {found[1]}" if found else "it has no wheel and no pure-Python source"
            raise LockError(
                f"{origin} pins {spec}, which has no wheel for {self.platform.describe()}: {ships}. "
                f"To drop the pin, run `{relock}`; to choose a version that fits, pin it in the "
                f"requirements file and run `{relock}`."
            )

    def handle_missing_wheel(self, failure: PipFailed) -> None:
        """Either a pure-Python sdist we can build and offer, or a clear error."""
        missing = re.search(r"No matching distribution found for (\S+)", failure.result.stderr)
        if not missing:
            raise LockError(
                f"pip could not resolve the requirements for {self.platform.describe()}:\n"
                f"{pip_errors(failure.result)}"
            )
        spec = missing.group(1)
        found = local_wheel(self.python, spec, self.scratch)
        if found:
            version, wheel_tags = found
            name = canonicalize_name(Requirement(spec).name)
            raise LockError(
                f"No release matching {spec!r} has a wheel for {self.platform.describe()}. "
                f"The newest, {name} {version}, ships only {wheel_tags}: it needs a newer C "
                f"library or another Python. Hold {name} back to a release that ships a "
                f"compatible wheel in {HERE}/pypi-requirements.txt (e.g. `{name}<{version}`), "
                f"then rerun {LOCK_COMMAND}."
            )
        # No wheel at all: acceptable only if it builds to a pure-Python wheel.
        self.add_source_requirement(spec, "no wheel on the index; building its sdist")

    def pin(self, item: dict) -> Pin:
        wheel_name = unquote(item["download_info"]["url"].rsplit("/", 1)[-1])
        built_from = self.built_from.get(wheel_name)
        if built_from is not None:
            return pin_from_report(item, built_from if is_direct(built_from) else None)
        self.check_wheel(wheel_name)
        return pin_from_report(item, None)

    def check_wheel(self, wheel_name: str) -> None:
        """Belt and braces: pip was told the platform, but verify every chosen wheel fits it."""
        accepted = set(self.platform.compatible_tags())
        _, _, _, wheel_tags = parse_wheel_filename(wheel_name)
        if not {str(tag) for tag in wheel_tags} & accepted:
            raise LockError(f"pip chose {wheel_name}, which {self.platform.describe()} cannot load.")


# --- Resolving for local interpreters ----------------------------------------------------


def resolve_locally(python: str, requirements: list[str], constraints: list[str], scratch: Path) -> list[Pin]:
    reqs = write_lines(scratch / "requirements.txt", requirements)
    args = ["-r", str(reqs)]
    if constraints:
        args += ["-c", str(write_lines(scratch / "constraints.txt", constraints))]
    try:
        installs = dry_run_install(python, args, scratch)
    except PipFailed as failure:
        raise LockError(f"pip could not resolve the requirements:\n{pip_errors(failure.result)}")
    direct_by_name = {canonicalize_name(Requirement(r).name): r for r in requirements if is_direct(r)}
    return [
        pin_from_report(item, direct_by_name.get(canonicalize_name(item["metadata"]["name"])))
        for item in installs
    ]


def pin_from_report(item: dict, direct_requirement: str | None) -> Pin:
    """A pin from one `install` entry of pip's installation report."""
    metadata = item["metadata"]
    depends_on = tuple(
        sorted({canonicalize_name(Requirement(r).name) for r in metadata.get("requires_dist") or ()})
    )
    return Pin(
        metadata["name"], metadata["version"], direct_requirement, bool(item.get("requested")), depends_on
    )


def required_by(pins: Iterable[Pin]) -> dict[str, list[str]]:
    """For each pinned distribution, the requested distributions whose dependencies pull it in
    (itself included, if requested). Dependencies are followed whatever their markers say, so a
    change may select more than it needs, never less."""
    by_key = {pin.key: pin for pin in pins}
    result: dict[str, set[str]] = {key: set() for key in by_key}
    for root in (pin for pin in by_key.values() if pin.requested):
        stack, seen = [root.key], set()
        while stack:
            key = stack.pop()
            if key in seen or key not in by_key:
                continue
            seen.add(key)
            result[key].add(root.key)
            stack.extend(by_key[key].depends_on)
    return {key: sorted(roots) for key, roots in sorted(result.items())}


# --- The lockfile ------------------------------------------------------------------------


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
    repository: Repository,
    resolve: Resolve,
    pins_of: dict[str, list[Pin]],
    requirements: list[str] | None = None,
    keep_pins: bool = False,
) -> list[Pin]:
    """Resolves and writes one lockfile. `keep_pins` holds every index pin it has now."""
    if requirements is None:
        requirements = repository.requirements(resolve)
    platform = repository.lambda_platform() if resolve.for_lambda else None
    pythons = (
        (f"{platform.python_version[0]}.{platform.python_version[1]}",)
        if platform
        else repository.pythons(resolve)
    )
    if platform is not None:
        followed = follow_runtime(repository, resolve)
        if followed:
            print(f"Set {followed}.", file=sys.stderr)
    constrained_by = [pins_of[other] for other in resolve.constrained_by]
    kept = read_pins(resolve) if keep_pins else []
    constrained_by.append(kept)
    constraints = [pin.line() for pins in constrained_by for pin in pins if not pin.direct_requirement]
    per_python: dict[str, list[Pin]] = {}
    with tempfile.TemporaryDirectory(prefix=f"lock-{resolve.name}-") as tmp:
        for version in pythons:
            python = find_python(version)
            scratch = Path(tempfile.mkdtemp(dir=tmp))
            if platform is not None:
                print(f"Resolving {resolve.name} for {platform.describe()} ...", file=sys.stderr)
                direct = {
                    r: f"in {', '.join(resolve.requirement_files)}" for r in requirements if is_direct(r)
                }
                index = [r for r in requirements if not is_direct(r)]
                resolution = LambdaResolution(platform, python, scratch)
                resolution.check_pins(
                    [p.line() for p in kept if not p.direct_requirement],
                    str(HERE / resolve.lockfile),
                    relock=lock_command(resolve.name),
                )
                pins = resolution.resolve(index, direct, constraints)
            else:
                print(f"Resolving {resolve.name} for CPython {version} ...", file=sys.stderr)
                # Later interpreters must agree with the pins of earlier ones.
                earlier = [p.line() for ps in per_python.values() for p in ps if not p.direct_requirement]
                pins = resolve_locally(python, requirements, constraints + earlier, scratch)
            per_python[version] = pins
    every_pin = [pin for pins in per_python.values() for pin in pins]
    text = lockfile_text(resolve, requirements, pythons, merge(per_python), platform, required_by(every_pin))
    # Write via a temporary file, so a failure never leaves half a lockfile behind.
    target = HERE / resolve.lockfile
    tmp_path = target.with_suffix(".lock.tmp")
    tmp_path.write_text(text)
    tmp_path.replace(target)
    print(f"Wrote {target} ({len(text.splitlines())} lines).", file=sys.stderr)
    return [pin for pins in per_python.values() for pin in pins]


def read_pins(resolve: Resolve) -> list[Pin]:
    """Pins of an existing lockfile, for resolves that are constrained by it."""
    path = HERE / resolve.lockfile
    if not path.exists():
        raise LockError(f"{path} does not exist yet; lock it too: {LOCK_COMMAND} -- --resolve {resolve.name}")
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


def bump_framework(tag: str) -> None:
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
    lock(Repository(Path.cwd()), default, {}, others + [bumped.get(r, r) for r in current], keep_pins=True)
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
        if args.framework_tag:
            bump_framework(args.framework_tag)
            return 0
        repository = Repository(Path.cwd())
        pins_of: dict[str, list[Pin]] = {}
        for resolve in RESOLVES:
            if resolve.name in wanted:
                pins_of[resolve.name] = lock(repository, resolve, pins_of, keep_pins=args.keep_pins)
            elif any(resolve.name in r.constrained_by for r in RESOLVES if r.name in wanted):
                pins_of[resolve.name] = read_pins(resolve)
    except LockError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
