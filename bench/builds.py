"""The builds the benchmark compares: ours (`./pants package` in a copy, with its own caches) and
the seed's (`pip install --target` of each layer, strip, zip; each function's sources zipped), the
latter also with `uv pip install --target` in place of pip.

Nothing here names our functions or layers: `./pants package` of the Lambda targets writes a
`.metadata.json` beside each zip, and both builds read what there is, and the platform to build
for, from those.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import tomllib
from lambda_artifacts.metadata import (
    FUNCTION_TARGET_TYPE,
    LAMBDA_TARGET_TYPES,
    ArtifactMetadata,
    find_metadata,
)
from lambda_targets.platforms import LambdaPlatform

from bench.harness import Timing, run, sha256

FUNCTION_TYPE = FUNCTION_TARGET_TYPE
LAMBDA_TYPES = ",".join(LAMBDA_TARGET_TYPES)


@dataclass(frozen=True)
class SeedLayer:
    requirements: str  # the requirements file the seed ran `pip install -r` on
    for_lambda_platform: bool  # True: binary wheels for Lambda, with deps, pinned by our lock


# The one place that ties our layer targets to the seed's pip commands: for each layer's address,
# what the seed installed into it. The seed had these two layers; a layer not listed here stops
# the benchmark, which says to add it.
SEED_LAYERS = {
    "3rdparty/python:pypi": SeedLayer("3rdparty/python/pypi-requirements.txt", for_lambda_platform=True),
    # A pure-Python git requirement with no dependencies, installed for the local interpreter.
    "3rdparty/python:framework": SeedLayer(
        "3rdparty/python/framework-requirements.txt", for_lambda_platform=False
    ),
}
LAMBDA_LOCKFILE = Path("3rdparty/python/default.lock")


def bootstrap_cache() -> Path:
    """Where ./pants keeps Pants' venv and the uv it fetched."""
    return Path(os.environ.get("LAMBDA_BOOTSTRAP_CACHE") or Path.home() / ".cache/pants-lambda-bootstrap")


def uv_binary(work: Path) -> Path:
    """The uv that ./pants fetched (pants.toml's [uv] pin), unpacked from its wheel: what a user
    writing a `uv pip install --target` script in 2026 would run."""
    version = tomllib.loads(Path("pants.toml").read_text())["uv"]["version"]
    wheels = sorted((bootstrap_cache() / "uv").glob(f"uv-{version}-*.zip"))
    if not wheels:
        sys.exit(f"[bench] no uv {version} wheel in {bootstrap_cache() / 'uv'}: run ./pants once first")
    binary = work / "uv" / "uv"
    binary.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheels[0]) as zf:
        binary.write_bytes(zf.read(f"uv-{version}.data/scripts/uv"))
    binary.chmod(0o755)
    return binary


@dataclass(frozen=True)
class Artifact:
    """One Lambda artifact, as our build's metadata describes it."""

    metadata: ArtifactMetadata
    relative: Path  # the zip, relative to the dist folder; the seed-style build mirrors it

    @property
    def label(self) -> str:
        return f"{self.metadata.address} {self.metadata.kind}"

    @property
    def folder(self) -> PurePosixPath:
        """The folder of the target's BUILD file: `src/python/api_handler`."""
        return PurePosixPath(self.metadata.address.partition(":")[0])

    @property
    def platform(self) -> LambdaPlatform:
        """The Lambda runtime and CPU it was built for (the root BUILD's, through the metadata)."""
        return LambdaPlatform(self.metadata.runtime or "", self.metadata.architecture or "")


def discover(dist: Path) -> list[Artifact]:
    """Every Lambda artifact `./pants package` wrote to `dist`, layers first, then by address."""
    found = [Artifact(m, m.artifact.relative_to(dist)) for m in find_metadata(dist)]
    if not found:
        sys.exit(f"[bench] no *.metadata.json in {dist}: did `./pants package` build any Lambda target?")
    return sorted(found, key=lambda a: (a.metadata.is_function, a.metadata.address))


def source_roots(repo: Path) -> list[Path]:
    """Pants' source roots (pants.toml's literal `root_patterns`), where top-level packages live."""
    patterns = tomllib.loads((repo / "pants.toml").read_text())["source"]["root_patterns"]
    return [repo / pattern.strip("/") for pattern in patterns if (repo / pattern.strip("/")).is_dir()]


def first_party_sources(repo: Path, function: Artifact, our_zip: Path) -> list[Path]:
    """The source folders (and modules) of every top-level package our zip of `function` holds:
    its own package and the shared code it imports. Our handler re-export is not one of them."""
    reexport = f"{function.metadata.handler.rpartition('.')[0]}.py" if function.metadata.handler else None
    with zipfile.ZipFile(our_zip) as zf:
        top_level = sorted({PurePosixPath(name).parts[0] for name in zf.namelist()} - {reexport})
    roots = source_roots(repo)
    sources = []
    for name in top_level:
        found = [root / name for root in roots if (root / name).exists()]
        if not found:
            sys.exit(f"[bench] {our_zip} holds `{name}`, which is under no source root of {repo}.")
        sources.append(found[0])
    return sources


def handler_file(repo: Path, function: Artifact) -> Path:
    """The file that defines `function`'s handler, e.g. src/python/thumbnail/handler.py."""
    module = function.metadata.handler_module or ""
    for root in source_roots(repo):
        candidate = root / (module.replace(".", "/") + ".py")
        if candidate.is_file():
            return candidate
    sys.exit(f"[bench] the module {module} of {function.metadata.address} is under no source root.")


@dataclass
class Build:
    """Where one build's zips are, and what the benchmark learnt about them."""

    name: str
    dist: Path
    deterministic: bool | None = None

    def artifact(self, artifact: Artifact) -> Path:
        return self.dist / artifact.relative

    def digests(self, artifacts: list[Artifact]) -> dict[str, str]:
        return {a.metadata.address: sha256(self.artifact(a)) for a in artifacts}


class OurBuild:
    """`./pants` in a copy with its own caches: pantsd off, as CI runs it, unless asked."""

    def __init__(self, repo: Path, caches: Path) -> None:
        self.repo, self.caches = repo, caches

    def pants(
        self,
        cache: str,
        *args: str,
        env: dict[str, str] | None = None,
        pantsd: bool = False,
        store: str | None = None,
    ) -> Timing:
        """`store` names another local store (the process cache) beside `cache`'s named caches
        (downloads): a fresh one gives a cold build with downloads cached."""
        flags = [
            "--pantsd" if pantsd else "--no-pantsd",
            f"--local-store-dir={self.caches / (store or cache) / 'lmdb_store'}",
            f"--named-caches-dir={self.caches / cache / 'named_caches'}",
        ]
        before = daemon_cpu(self.repo) if pantsd else {}
        # PANTS_CONCURRENT=true (e.g. in the shell that started the benchmark) would run Pants
        # without pantsd whatever --pantsd says.
        timing = run(["./pants", *flags, *args], self.repo, {"PANTS_CONCURRENT": "false", **(env or {})})
        if not pantsd:
            return timing
        # pantsd is not our child: its CPU (and its processes') is read from /proc.
        after = daemon_cpu(self.repo)
        return Timing(timing.wall, timing.cpu + sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items()))

    def package(
        self,
        cache: str,
        env: dict[str, str] | None = None,
        types: str = LAMBDA_TYPES,
        pantsd: bool = False,
        store: str | None = None,
    ) -> Timing:
        """`package` of every target of those types (by default, every Lambda artifact)."""
        return self.pants(
            cache, f"--filter-target-type={types}", "package", "::", env=env, pantsd=pantsd, store=store
        )

    def stop_pantsd(self) -> None:
        for pid in daemon_cpu(self.repo):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                time.sleep(0.2)


def daemon_cpu(repo: Path) -> dict[int, float]:
    """CPU seconds (user + system) of the copy's pantsd and the processes it waited for, by pid."""
    found = {}
    for pid_file in repo.glob(".pids/*/pantsd/pid"):
        try:
            pid = int(pid_file.read_text())
            # Fields after the command's closing parenthesis; utime, stime, cutime, cstime are the
            # 14th to 17th of proc(5)'s list, so 11 to 14 here.
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except (OSError, ValueError):
            continue
        found[pid] = sum(int(ticks) for ticks in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return found


def pip_platform_flags(platform: LambdaPlatform) -> list[str]:
    """pip's wheel selection for a Lambda platform: its manylinux tags and CPython version."""
    tags = [flag for tag in platform.platform_tags() for flag in ("--platform", tag)]
    return [*tags, "--only-binary=:all:", "--python-version", platform.python_version_string]


def uv_platform_flags(platform: LambdaPlatform) -> list[str]:
    """The same for uv, which takes one platform and reads the glibc from it."""
    return [
        "--python-platform",
        platform.uv_python_platform,
        "--only-binary=:all:",
        "--python-version",
        platform.python_version_string,
    ]


class SeedBuild:
    """The seed's build: pip install --target for each layer, strip, zip; zip each function.
    With `uv` (a uv binary), the same script with `uv pip install --target` in place of pip."""

    def __init__(
        self, repo: Path, out: Path, artifacts: list[Artifact], our_dist: Path, uv: Path | None = None
    ) -> None:
        self.repo, self.out, self.artifacts, self.uv = repo, out, artifacts, uv
        unknown = [a.metadata.address for a in artifacts if not a.metadata.is_function]
        unknown = [address for address in unknown if address not in SEED_LAYERS]
        if unknown:
            sys.exit(
                f"[bench] the seed-style build does not know how to build the layer(s) {unknown}: add "
                f"each to SEED_LAYERS in bench/builds.py with the requirements file it installs."
            )
        # What each function's seed-style zip copies, read from our zip before anything changes.
        self.function_sources = {
            a.metadata.address: first_party_sources(repo, a, our_dist / a.relative)
            for a in artifacts
            if a.metadata.is_function
        }

    def install_command(self, cache: Path) -> list[str]:
        """`pip install` with pip's options, or `uv pip install` with uv's."""
        if self.uv is None:
            return [
                sys.executable,
                "-m",
                "pip",
                "--disable-pip-version-check",
                "--cache-dir",
                str(cache),
                "install",
            ]
        # --system-certs: the machine's certificate store, as pip uses it.
        return [
            str(self.uv),
            "pip",
            "install",
            "--cache-dir",
            str(cache),
            "--system-certs",
            "--python",
            sys.executable,
        ]

    def platform_flags(self, platform: LambdaPlatform) -> list[str]:
        return pip_platform_flags(platform) if self.uv is None else uv_platform_flags(platform)

    def build(self, pip_cache: Path) -> float:
        """`pip_cache`: pip's cache, or uv's for a uv-style build."""
        start = time.perf_counter()
        shutil.rmtree(self.out, ignore_errors=True)
        work = self.out / "work"
        pins = [
            line
            for line in (self.repo / LAMBDA_LOCKFILE).read_text().splitlines()
            if line and not line.startswith("#")
        ]
        work.mkdir(parents=True)
        (work / "constraints.txt").write_text("\n".join(p for p in pins if "git+" not in p) + "\n")
        install = self.install_command(pip_cache)
        for artifact in self.artifacts:
            if artifact.metadata.is_function:
                self.zip_function(artifact, work / "functions" / artifact.relative.parent)
                continue
            layer = SEED_LAYERS[artifact.metadata.address]
            tree = work / "layers" / artifact.relative.with_suffix("") / "python"
            if layer.for_lambda_platform:
                how = [*self.platform_flags(artifact.platform), "-c", str(work / "constraints.txt")]
            else:
                how = ["--no-deps"]
            run(
                [*install, "--quiet", "--target", str(tree), *how, "-r", str(self.repo / layer.requirements)],
                self.repo,
            )
            strip(tree)
            zip_folder(tree.parent, self.out / artifact.relative)
        return time.perf_counter() - start

    def zip_function(self, artifact: Artifact, staging: Path) -> None:
        """The function's first-party sources, as they are in the tree, zipped."""
        for source in self.function_sources[artifact.metadata.address]:
            if source.is_dir():
                shutil.copytree(
                    source,
                    staging / source.name,
                    ignore=shutil.ignore_patterns("*_test.py", "BUILD", "__pycache__"),
                )
            else:
                staging.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, staging / source.name)
        zip_folder(staging, self.out / artifact.relative)


def strip(tree: Path) -> None:
    for path in sorted(tree.rglob("*"), reverse=True):
        if path.name in ("__pycache__", "tests") or path.suffix == ".pyc" or path.name.endswith(".dist-info"):
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def zip_folder(folder: Path, output: Path) -> None:
    """`cd folder && zip -r output .`, as the seed did: file timestamps and all."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    run(["zip", "-q", "-r", str(output.resolve()), "."], folder)
