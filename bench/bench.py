"""Benchmarks our build against the seed's `pip install --target` build, side by side, in one run.

    ./pants run bench/bench.py [-- --runs 15] [-- --scaling | --scaling-only | --lock-check-only
                                                  | --cold-split-only | --targets-only]
                               [-- --deploy | --deploy-only]

Writes dist/bench/results.md (Markdown tables of times and ratios, ours ÷ seed-style) and
dist/bench/ratios.png (a bar chart of the ratios), and prints the tables. Both builds run from a
copy of this repository in dist/bench/work, with their own caches. Measured:

- the targets, each beside a seed-style build in the same run, wall and CPU time: a cold build
  of every Lambda artifact (no process cache, downloads cached: what a CI runner without a
  cache hit pays), a warm no-op, and a one-line edit to one function; each with pantsd off
  (CI) and on (a developer's machine);
- zipped and unzipped sizes of each artifact;
- determinism: do two cold builds give the same bytes?
- cold-start import time of each handler: fresh CPython 3.11 processes, the unpacked artifacts
  read-only, Lambda's sys.path order; ours (with .pyc) against the seed's (without);
- with a remote cache (a BuildGrid on loopback): a cold build that fills it, a second machine
  with empty local caches, and a warm local no-op;
- what the lockfile check that ./pants runs before every command that may resolve costs;
- with --scaling (it takes 15 minutes or more): what each added function costs. In another
  copy, with N synthetic functions added (N = 2, 20, then 50), the wall and CPU time of
  `package` of every function (changed functions, layers warm), of `test` of every function
  (the Lambda-sandbox checks), of a warm no-op `package ::`, and of `package ::` after a
  one-line edit to one function, all with pantsd off, as CI runs; per added function =
  (T(50) - T(2)) / 48.

- with --cold-split-only (about five minutes): where a cold build's time goes, per process
  kind, from Pants' workunit log (bench/cold_split.py), beside the seed-style build with pip's
  cache warm: "cold" as CI without a cache hit pays it (no process cache, downloads cached,
  pantsd off).

- with --deploy (about three minutes): a layer bump across 50 synthetic functions, applied with
  `--parallel 1` and `--parallel 8`, through a Lambda-like front with realistic latency per API
  call and per update (bench/deploy_bench.py).

Nothing here names our functions or layers: `./pants package` of the Lambda targets writes a
`.metadata.json` beside each zip, and the benchmark reads what there is from those.

The seed-style build is what the seed repository did: `pip install --target layer/python
--platform manylinux2014_x86_64 --only-binary=:all: --python-version 3.11`, strip
`__pycache__`, `*.pyc`, `*.dist-info` and `tests`, zip; and each function's zip is its
first-party packages copied from the source tree. It installs the versions our lockfile pins,
and copies the top-level packages our own function zip holds, so both sides ship the same code.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import tomllib
from buildgrid_cache.server import BuildGrid
from lambda_artifacts.metadata import (
    FUNCTION_TARGET_TYPE,
    LAMBDA_TARGET_TYPES,
    ArtifactMetadata,
    find_metadata,
)
from lambda_artifacts.sandbox import LambdaSandbox, read_only_prefix, remove
from lambda_artifacts.size_limit import human_size

from bench.cold_split import process_spans, split_table, workunit_flags
from bench.deploy_bench import DeployTiming, deploy_table, measure_deploy

OUT = Path("dist/bench")
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

# The scaling measurement's synthetic functions: a handler that uses the shared code, as ours do.
SYNTHETIC_FOLDER = "bench_fn_{index}"
SYNTHETIC_HANDLER = """\
# Synthetic function {index} of the benchmark's scaling measurement (build {nonce}).

from lambda_common.responses import json_response


def handler(event, context):
    return json_response(200, {{"function": {index}, "build": "{nonce}"}})
"""
SYNTHETIC_BUILD = """\
python_sources()

python_aws_lambda_function(name="lambda", handler="handler.py:handler")
"""
SCALING_SIZES = (2, 20, 50)
# The deploy measurement: a layer bump across this many functions, with these --parallel values.
DEPLOY_FUNCTIONS = 50
DEPLOY_PARALLEL = (1, 8)

# Runs in each fresh interpreter of the Lambda sandbox: time the handler module's import.
IMPORT_TIMER = textwrap.dedent("""
    import importlib, sys, time
    module = sys.argv[1]
    start = time.perf_counter()
    importlib.import_module(module)
    print((time.perf_counter() - start) * 1000)
    """)


def uv_binary(work: Path) -> Path:
    """The uv that ./pants fetched (pants.toml's [uv] pin), unpacked from its wheel: what a user
    writing a `uv pip install --target` script in 2026 would run."""
    version = tomllib.loads(Path("pants.toml").read_text())["uv"]["version"]
    cache = Path(os.environ.get("LAMBDA_BOOTSTRAP_CACHE") or Path.home() / ".cache/pants-lambda-bootstrap")
    wheels = sorted((cache / "uv").glob(f"uv-{version}-*.zip"))
    if not wheels:
        sys.exit(f"[bench] no uv {version} wheel in {cache / 'uv'}: run ./pants once first")
    binary = work / "uv" / "uv"
    binary.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheels[0]) as zf:
        binary.write_bytes(zf.read(f"uv-{version}.data/scripts/uv"))
    binary.chmod(0o755)
    return binary


LAMBDA_LOCKFILE = Path("3rdparty/python/default.lock")


def bump_one_pin(repo: Path, uv: Path) -> str:
    """Moves one `name==version` pin of the Lambda lockfile to the release before it, as a
    relock after a one-pin bump would write it (the header's digest of the pins included), and
    says which. The pin is the first whose previous release uv finds a wheel of for the platform."""
    lock = repo / LAMBDA_LOCKFILE
    text = lock.read_text()
    pinned = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for line in pinned:
        name, sep, version = line.partition("==")
        if not sep or ";" in version:
            continue
        found = subprocess.run(
            [str(uv), "pip", "compile", "--quiet", "--no-deps", "--no-header", "--no-annotate", "--system-certs",
             "--python-platform", "x86_64-manylinux_2_17", "--python-version", "3.11", "--only-binary", ":all:", "-"],
            input=f"{name}<{version}\n", capture_output=True, text=True, cwd=repo,
        )  # fmt: skip
        older = [pin for pin in found.stdout.splitlines() if pin.startswith(f"{name}==")]
        if found.returncode != 0 or not older:
            continue
        new_pinned = [older[0] if pin == line else pin for pin in pinned]
        old_digest = hashlib.sha256("".join(f"{pin}\n" for pin in pinned).encode()).hexdigest()
        new_digest = hashlib.sha256("".join(f"{pin}\n" for pin in new_pinned).encode()).hexdigest()
        lock.write_text(text.replace(f"\n{line}\n", f"\n{older[0]}\n").replace(old_digest, new_digest))
        return f"{line} -> {older[0]}"
    sys.exit(f"[bench] no pin of {LAMBDA_LOCKFILE} has an older release with a wheel to bump to")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds
    cpu: float  # seconds of user + system time in the command and everything it waited for


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Timing:
    """Runs a command; returns its wall and CPU time. Fails loudly, with its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(
            f"[bench] {' '.join(argv)} failed in {cwd}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(elapsed, cpu)


def copy_repository(dest: Path) -> Path:
    """The working tree as git sees it (tracked and untracked, not ignored), in a fresh folder."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    shutil.rmtree(dest, ignore_errors=True)
    for name in filter(None, listed.split("\0")):
        if Path(name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(name, dest / name)
    return dest


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unzipped(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(info.file_size for info in zf.infolist())


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
    name: str
    dist: Path
    times: dict[str, float] = field(default_factory=dict)
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
                f"each to SEED_LAYERS in bench/bench.py with the requirements file it installs."
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

    def build(self, pip_cache: Path) -> float:
        """`pip_cache`: pip's cache, or uv's for a uv-style build."""
        start = time.perf_counter()
        shutil.rmtree(self.out, ignore_errors=True)
        work = self.out / "work"
        lock = self.repo / "3rdparty/python/default.lock"
        pins = [line for line in lock.read_text().splitlines() if line and not line.startswith("#")]
        work.mkdir(parents=True)
        (work / "constraints.txt").write_text("\n".join(p for p in pins if "git+" not in p) + "\n")
        if self.uv is None:
            platform = [
                "--platform",
                "manylinux2014_x86_64",
                "--only-binary=:all:",
                "--python-version",
                "3.11",
            ]
        else:
            platform = [
                "--python-platform",
                "x86_64-manylinux_2_17",
                "--only-binary=:all:",
                "--python-version",
                "3.11",
            ]
        install = self.install_command(pip_cache)
        for artifact in self.artifacts:
            if artifact.metadata.is_function:
                staging = work / "functions" / artifact.relative.parent
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
                continue
            layer = SEED_LAYERS[artifact.metadata.address]
            tree = work / "layers" / artifact.relative.with_suffix("") / "python"
            if layer.for_lambda_platform:
                how = [*platform, "-c", str(work / "constraints.txt")]
            else:
                how = ["--no-deps"]
            run(
                [
                    *install,
                    "--quiet",
                    "--target",
                    str(tree),
                    *how,
                    "-r",
                    str(self.repo / layer.requirements),
                ],
                self.repo,
            )
            strip(tree)
            zip_folder(tree.parent, self.out / artifact.relative)
        return time.perf_counter() - start


def strip(tree: Path) -> None:
    for path in sorted(tree.rglob("*"), reverse=True):
        if path.name in ("__pycache__", "tests") or path.suffix == ".pyc" or path.name.endswith(".dist-info"):
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def zip_folder(folder: Path, output: Path) -> None:
    """`cd folder && zip -r output .`, as the seed did: file timestamps and all."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    run(["zip", "-q", "-r", str(output.resolve()), "."], folder)


def import_times(tree: tuple[LambdaSandbox, Path], module: str, runs: int) -> list[float]:
    # In the one Lambda sandbox: nothing from the environment, no site-packages, Lambda's
    # sys.path, and no bytecode written (the folders are read-only, as on Lambda, where possible).
    sandbox, task = tree
    argv = sandbox.command(sys.executable, task, IMPORT_TIMER, module)
    results = []
    for _ in range(runs):
        out = subprocess.run(argv, capture_output=True, text=True, cwd=task)
        if out.returncode != 0:
            sys.exit(f"[bench] importing {module} from {task} failed:\n{out.stderr[-3000:]}")
        results.append(float(out.stdout.strip()))
    return results


def lambda_tree(
    root: Path, build: Build, function: Artifact, by_address: dict[str, Artifact]
) -> tuple[LambdaSandbox, Path]:
    """The function and its layers (in Lambda's order) unpacked into the Lambda sandbox, for the
    runtime its metadata names."""
    remove(root)
    layers = [build.artifact(by_address[layer]) for layer in function.metadata.layers]
    sandbox = LambdaSandbox(root, layers, function.metadata.runtime)
    sandbox.check_python(sys.executable)
    return sandbox, sandbox.task(build.artifact(function), name="function")


def spread(values: list[float]) -> str:
    quartiles = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.0f} ms ({quartiles[0]:.0f}–{quartiles[2]:.0f})"


def add_synthetic_functions(repo: Path, folder: Path, count: int) -> None:
    """Replaces any synthetic functions with `count` new ones, whose code no cache has seen."""
    for old in folder.glob(SYNTHETIC_FOLDER.format(index="*")):
        shutil.rmtree(old)
    nonce = uuid.uuid4().hex[:8]
    for index in range(count):
        package = folder / SYNTHETIC_FOLDER.format(index=index)
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "handler.py").write_text(SYNTHETIC_HANDLER.format(index=index, nonce=nonce))
        (package / "BUILD").write_text(SYNTHETIC_BUILD)


@dataclass(frozen=True)
class ScalingRow:
    name: str
    timings: dict[int, Timing]  # by number of synthetic functions

    def per_function(self, attribute: str) -> float:
        small, large = min(self.timings), max(self.timings)
        return (getattr(self.timings[large], attribute) - getattr(self.timings[small], attribute)) / (
            large - small
        )


def measure_scaling(work: Path, caches: Path, sizes: tuple[int, ...]) -> list[ScalingRow]:
    """What each added function costs CI: `package` and `test` of every function, and a no-op."""
    repo = copy_repository(work / "scaling" / "repo")
    ours = OurBuild(repo, caches)
    log("scaling: building everything once and checking the functions we have (untimed, fills caches)...")
    ours.package("a")
    real_functions = [a for a in discover(repo / "dist") if a.metadata.is_function]
    ours.pants("a", "package", "::")
    ours.pants("a", f"--filter-target-type={FUNCTION_TYPE}", "test", "::")
    folder = repo / real_functions[0].folder.parent
    results: dict[str, dict[int, Timing]] = {}
    for count in sizes:
        add_synthetic_functions(repo, folder, count)
        functions = count + len(real_functions)
        log(f"scaling: {count} synthetic functions ({functions} in all): package, test, no-op, one edit...")
        results.setdefault("`package` of every function (new code, layers warm)", {})[count] = ours.package(
            "a", types=FUNCTION_TYPE
        )
        results.setdefault("`test` of every function (the Lambda-sandbox checks)", {})[count] = ours.pants(
            "a", f"--filter-target-type={FUNCTION_TYPE}", "test", "::"
        )
        results.setdefault("warm no-op `package ::`", {})[count] = ours.pants("a", "package", "::")
        edited = folder / SYNTHETIC_FOLDER.format(index=0) / "handler.py"
        edited.write_text(edited.read_text() + "\n# a one-line change\n")
        results.setdefault("`package ::` after a one-line edit to one function", {})[count] = ours.pants(
            "a", "package", "::"
        )
    return [ScalingRow(name, timings) for name, timings in results.items()]


def scaling_table(rows: list[ScalingRow], sizes: tuple[int, ...]) -> list[str]:
    small, large = min(sizes), max(sizes)
    header = " | ".join(f"N={n} wall / CPU (s)" for n in sizes)
    table = [
        "Scaling (ours; N synthetic functions beside ours; pantsd off; CPU = user + system of all",
        "processes):",
        "",
        f"| Measure | {header} | Per added function, wall (s) | Per added function, CPU (s) |",
        "| --- |" + " ---: |" * (len(sizes) + 2),
    ]
    for row in rows:
        cells = " | ".join(f"{row.timings[n].wall:.1f} / {row.timings[n].cpu:.1f}" for n in sizes)
        table.append(
            f"| {row.name} | {cells} | {row.per_function('wall'):.2f} | {row.per_function('cpu'):.2f} |"
        )
    table += ["", f"Per added function = (T(N={large}) - T(N={small})) / {large - small}."]
    return table


def measure_cold_split(work: Path) -> list[str]:
    """Our cold build with Pants' workunit log, beside the seed-style build, in one run."""
    base = work / "cold-split"
    repo = copy_repository(base / "repo")
    named = f"--named-caches-dir={base / 'named_caches'}"
    lambda_artifacts = [f"--filter-target-type={LAMBDA_TYPES}", "package", "::"]
    log("cold split: a first build fills the download caches (untimed)...")
    run(
        ["./pants", "--no-pantsd", f"--local-store-dir={base / 'warm_store'}", named, *lambda_artifacts], repo
    )
    artifacts = discover(repo / "dist")
    seed = SeedBuild(repo, base / "seed", artifacts, repo / "dist")
    seed.build(base / "pip-cache")  # warms pip's cache
    uv = SeedBuild(repo, base / "uv-style", artifacts, repo / "dist", uv_binary(base))
    uv.build(base / "uv-cache")  # warms uv's cache
    shutil.rmtree(repo / "dist")
    logdir = base / "workunits"
    logdir.mkdir(parents=True)
    log("cold split: our build with no process cache, downloads cached, pantsd off...")
    ours = run(
        [
            "./pants",
            "--no-pantsd",
            f"--local-store-dir={base / 'cold_store'}",
            named,
            *workunit_flags(logdir),
            *lambda_artifacts,
        ],
        repo,
    )
    timings = {}
    for name, build, cache in (("seed-style", seed, "pip-cache"), ("uv-style", uv, "uv-cache")):
        log(f"cold split: the {name} build, its cache warm...")
        before, start = _cpu_seconds(), time.perf_counter()
        build.build(base / cache)
        timings[name] = Timing(time.perf_counter() - start, _cpu_seconds() - before)
    seed_timing, uv_timing = timings["seed-style"], timings["uv-style"]
    return split_table(process_spans(logdir), ours.wall, ours.cpu) + [
        "",
        "| Cold build of every Lambda artifact | Wall (s) | CPU (s) |",
        "| --- | ---: | ---: |",
        f"| ours | {ours.wall:.1f} | {ours.cpu:.1f} |",
        f"| seed-style (`pip install --target`, warm pip cache) | {seed_timing.wall:.1f} | {seed_timing.cpu:.1f} |",
        f"| uv-style (`uv pip install --target`, warm uv cache) | {uv_timing.wall:.1f} | {uv_timing.cpu:.1f} |",
        f"| ours ÷ seed-style | {ours.wall / seed_timing.wall:.2f} | {ours.cpu / seed_timing.cpu:.2f} |",
        f"| ours ÷ uv-style | {ours.wall / uv_timing.wall:.2f} | {ours.cpu / uv_timing.cpu:.2f} |",
    ]


def _cpu_seconds() -> float:
    """User + system time of this process and every child it waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure_lock_check(repo: Path, runs: int) -> list[str]:
    """What the lockfile check ./pants runs before Pants costs: the same command, N times, beside
    the bare interpreter start it includes."""
    cache = Path(os.environ.get("LAMBDA_BOOTSTRAP_CACHE", Path.home() / ".cache/pants-lambda-bootstrap"))
    pants_toml = tomllib.loads((repo / "pants.toml").read_text())
    python = cache / f"pants-{pants_toml['GLOBAL']['pants_version']}" / "bin" / "python"
    # The plugins' path, as pants.toml gives it to Pants and ./pants to the check.
    plugin_path = [entry.replace("%(buildroot)s", str(repo)) for entry in pants_toml["GLOBAL"]["pythonpath"]]
    env = {"PYTHONPATH": os.pathsep.join(plugin_path)}
    check = [
        str(python),
        "-s",
        "3rdparty/python/lockfiles.py",
        "check",
        "--root",
        str(repo),
        "--",
        "package",
        "::",
    ]
    bare = [str(python), "-s", "-c", "pass"]
    timings: dict[str, list[Timing]] = {"check": [], "bare": []}
    for _ in range(runs):  # interleaved, so drift in the machine's load hits both alike
        timings["check"].append(run(check, repo, env))
        timings["bare"].append(run(bare, repo, env))
    ms = {
        k: (statistics.median(t.wall for t in v) * 1000, statistics.median(t.cpu for t in v) * 1000)
        for k, v in timings.items()
    }
    return [
        f"Lockfile check before every `./pants` command that may resolve ({runs} runs, median):",
        "",
        "| Command | Wall (ms) | CPU (ms) |",
        "| --- | ---: | ---: |",
        f"| `lockfiles.py check` (what ./pants runs) | {ms['check'][0]:.0f} | {ms['check'][1]:.0f} |",
        f"| of which CPython 3.9 start-up (`-c pass`) | {ms['bare'][0]:.0f} | {ms['bare'][1]:.0f} |",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per import measurement")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--scaling-only", action="store_true", help="only the per-function scaling measurement"
    )
    which.add_argument("--scaling", action="store_true", help="add the scaling measurement (10+ minutes)")
    which.add_argument(
        "--lock-check-only", action="store_true", help="only what the lockfile check costs per ./pants run"
    )
    which.add_argument(
        "--targets-only",
        action="store_true",
        help="only the targets table: cold, no-op and one-line edit, pantsd off and on (10 minutes)",
    )
    which.add_argument(
        "--cold-split-only",
        action="store_true",
        help="only the cold build's per-process split, beside the seed-style build (5 minutes)",
    )
    deploying = parser.add_mutually_exclusive_group()
    deploying.add_argument("--deploy", action="store_true", help="add the deploy measurement (3 minutes)")
    deploying.add_argument("--deploy-only", action="store_true", help="only the deploy measurement")
    args = parser.parse_args()
    if args.runs < 4:
        parser.error("--runs must be at least 4, to report a spread")
    if not Path("pants.toml").is_file():
        sys.exit("[bench] run it from the repository root: ./pants run bench/bench.py")

    work = (OUT / "work").resolve()
    shutil.rmtree(work, ignore_errors=True)
    caches = work / "pants-caches"
    text = ""
    rows: list[tuple[str, str, str, float | None]] = []
    if args.lock_check_only:
        print("\n".join(measure_lock_check(Path.cwd(), max(args.runs, 15))))
        return 0
    if args.cold_split_only:
        print("\n".join(measure_cold_split(work)))
        return 0
    if args.targets_only:
        print("\n".join(targets_table(measure_targets_only(work, caches))))
        return 0
    if not (args.scaling_only or args.deploy_only):
        table, rows = compare(work, caches, args.runs)
        text += "\n".join(table) + "\n"
        log("the lockfile check ./pants runs before Pants...")
        text += "\n" + "\n".join(measure_lock_check(Path.cwd(), max(args.runs, 15))) + "\n"
    scaling: list[ScalingRow] = []
    if args.scaling or args.scaling_only:
        scaling = measure_scaling(work, caches, SCALING_SIZES)
        text += "\n" + "\n".join(scaling_table(scaling, SCALING_SIZES)) + "\n"
    deploy_timings: list[DeployTiming] = []
    if args.deploy or args.deploy_only:
        log(f"deploy: {DEPLOY_FUNCTIONS} functions through a Lambda-like front, serial then parallel...")
        deploy_timings = measure_deploy(work / "deploy", DEPLOY_FUNCTIONS, DEPLOY_PARALLEL)
        text += "\n" + "\n".join(deploy_table(deploy_timings, DEPLOY_FUNCTIONS)) + "\n"

    text += (
        f"\nMachine: {os.cpu_count()} cores; CPython {sys.version.split()[0]}; "
        f"load average {os.getloadavg()[0]:.1f} at the end; "
        f"{args.runs} interpreters per import; read-only trees: "
        f"{'yes' if read_only_prefix([work]) else 'no (no user namespaces); bytecode writes off'}.\n"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "rows": rows,
                "scaling": [
                    {
                        "measure": row.name,
                        "timings": {n: {"wall": t.wall, "cpu": t.cpu} for n, t in row.timings.items()},
                        "per_added_function": {
                            "wall": row.per_function("wall"),
                            "cpu": row.per_function("cpu"),
                        },
                    }
                    for row in scaling
                ],
                "deploy": [
                    {"parallel": t.parallel, "plan_seconds": t.plan_seconds, "apply_seconds": t.apply_seconds}
                    for t in deploy_timings
                ],
            },
            indent=2,
        )
    )
    if rows:
        chart([(name, ratio) for name, _, _, ratio in rows if ratio is not None], OUT / "ratios.png")
    print(text)
    log(f"wrote {OUT / 'results.md'}" + (f" and {OUT / 'ratios.png'}" if rows else ""))
    return 0


@dataclass(frozen=True)
class TargetRow:
    """One of the issue's side-by-side figures: ours and the seed-style build, in one run."""

    name: str
    pantsd: bool
    ours: Timing
    seed: Timing
    uv: Timing  # the same build as the seed's with `uv pip install --target`, uv's cache warm
    target: float | None  # the bound on ours ÷ seed-style, wall-clock, where there is one
    uv_target: float | None = None  # the bound on ours ÷ uv-style, where there is one

    @property
    def ratio(self) -> float:
        return self.ours.wall / self.seed.wall

    @property
    def uv_ratio(self) -> float:
        return self.ours.wall / self.uv.wall


def measure_targets(
    ours: OurBuild, seed: SeedBuild, pip_cache: Path, edited: Path, uv: SeedBuild, uv_cache: Path
) -> list[TargetRow]:
    """Cold (no process cache, downloads cached), warm no-op and a one-line function edit, each
    with pantsd off (what CI gets) and on (what developers get), each beside a seed-style build
    with pip's cache warm and a uv-style one with uv's cache warm (neither has an incremental
    build: each always redoes everything)."""

    def timed(build: SeedBuild, cache: Path) -> Timing:
        before, start = _cpu_seconds(), time.perf_counter()
        build.build(cache)
        return Timing(time.perf_counter() - start, _cpu_seconds() - before)

    def seed_build() -> Timing:
        return timed(seed, pip_cache)

    def uv_build() -> Timing:
        return timed(uv, uv_cache)

    rows = []
    for pantsd in (False, True):
        how = "pantsd on" if pantsd else "pantsd off"
        store = f"cold-{'on' if pantsd else 'off'}"  # a fresh process cache; downloads from "a"
        log(f"targets, {how}: cold build (no process cache, downloads cached), then seed-style...")
        cold = ours.package("a", pantsd=pantsd, store=store)
        rows.append(TargetRow("cold build", pantsd, cold, seed_build(), uv_build(), None if pantsd else 1.0))
        log(f"targets, {how}: warm no-op, then seed-style...")
        no_op = ours.package("a", pantsd=pantsd, store=store)
        rows.append(
            TargetRow("warm no-op", pantsd, no_op, seed_build(), uv_build(), 0.05 if pantsd else None)
        )
        log(f"targets, {how}: a one-line edit to {edited.name}, then seed-style...")
        edited.write_text(edited.read_text() + f"\n# a one-line change ({uuid.uuid4().hex[:8]})\n")
        edit = ours.package("a", pantsd=pantsd, store=store)
        rows.append(
            TargetRow(
                "one-line function edit", pantsd, edit, seed_build(), uv_build(), 0.10 if pantsd else None
            )
        )
        if pantsd:
            bumped = bump_one_pin(ours.repo, uv.uv)
            log(f"targets, {how}: a one-pin lock bump ({bumped}), then seed-style and uv-style...")
            bump = ours.package("a", pantsd=pantsd, store=store)
            row = TargetRow(f"one-pin lock bump ({bumped})", pantsd, bump, seed_build(), uv_build(), None)
            rows.append(dataclasses.replace(row, uv_target=0.5))
    ours.stop_pantsd()
    return rows


def measure_targets_only(work: Path, caches: Path) -> list[TargetRow]:
    """The targets table alone: both builds once to fill their download caches, then the rows."""
    repo = copy_repository(work / "repo")
    ours = OurBuild(repo, caches)
    log("our first build (empty Pants caches; fills the download caches, untimed)...")
    ours.package("a")
    artifacts = discover(repo / "dist")
    functions = [a for a in artifacts if a.metadata.is_function]
    seed = SeedBuild(repo, work / "seed", artifacts, repo / "dist")
    log("seed-style build (empty pip cache; fills it, untimed)...")
    seed.build(work / "pip-cache")
    uv = SeedBuild(repo, work / "uv-style", artifacts, repo / "dist", uv_binary(work))
    log("uv-style build (empty uv cache; fills it, untimed)...")
    uv.build(work / "uv-cache")
    return measure_targets(
        ours, seed, work / "pip-cache", handler_file(repo, functions[-1]), uv, work / "uv-cache"
    )


def targets_table(rows: list[TargetRow]) -> list[str]:
    table = [
        "Ours (`./pants package` of every Lambda artifact) against the seed-style build (pip",
        "--target, warm pip cache) and the same script with `uv pip install --target` (warm uv",
        "cache), the three in a row measured one after the other. Cold = no process cache,",
        "downloads cached. CPU = user + system of every process, pantsd's included.",
        "",
        "| Measure | pantsd | Ours wall / CPU (s) | Seed-style (pip) wall / CPU (s) | uv-style wall / CPU (s) "
        "| Ours ÷ pip, wall | Ours ÷ pip, CPU | Ours ÷ uv, wall | Target (wall) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        target = (
            ""
            if row.target is None
            else f"≤ {row.target:.2f} × pip: {'met' if row.ratio <= row.target else 'NOT met'}"
        )
        if row.uv_target is not None:
            met = "met" if row.uv_ratio <= row.uv_target else "NOT met"
            target = f"≤ {row.uv_target:.2f} × uv: {met}"
        table.append(
            f"| {row.name} | {'on' if row.pantsd else 'off'} "
            f"| {row.ours.wall:.1f} / {row.ours.cpu:.1f} | {row.seed.wall:.1f} / {row.seed.cpu:.1f} "
            f"| {row.uv.wall:.1f} / {row.uv.cpu:.1f} "
            f"| {row.ratio:.3f} | {row.ours.cpu / row.seed.cpu:.3f} | {row.uv_ratio:.3f} | {target} |"
        )
    return table


def compare(
    work: Path, caches: Path, runs: int
) -> tuple[list[str], list[tuple[str, str, str, float | None]]]:
    """Our build against the seed-style one: times, sizes, determinism, imports, remote cache."""
    repo = copy_repository(work / "repo")
    ours = OurBuild(repo, caches)
    rows: list[tuple[str, str, str, float | None]] = []

    log("our first build (empty Pants caches; fills the download caches, untimed)...")
    ours_build = Build("ours", repo / "dist")
    ours.package("a")
    artifacts = discover(repo / "dist")
    by_address = {a.metadata.address: a for a in artifacts}
    functions = [a for a in artifacts if a.metadata.is_function]
    log(f"found {len(artifacts)} artifacts: {', '.join(a.label for a in artifacts)}")
    first = ours_build.digests(artifacts)
    log("our second build, with other empty caches, for determinism...")
    ours.package("b")
    ours_build.deterministic = first == ours_build.digests(artifacts)

    log("seed-style build (empty pip cache; fills it, untimed)...")
    seed = SeedBuild(repo, work / "seed", artifacts, ours_build.dist)
    seed_build = Build("seed", work / "seed")
    seed.build(work / "pip-cache")
    seed_first = seed_build.digests(artifacts)
    sizes = {
        a.metadata.address: (seed_build.artifact(a).stat().st_size, unzipped(seed_build.artifact(a)))
        for a in artifacts
    }
    trees = {
        f.metadata.address: lambda_tree(work / "lambda/seed" / f.relative.parent, seed_build, f, by_address)
        for f in functions
    }
    seed.build(work / "pip-cache")
    seed_build.deterministic = seed_first == seed_build.digests(artifacts)
    # The import measurement below unpacks our zips as they are now, before any edit.
    our_trees = {
        f.metadata.address: lambda_tree(work / "lambda/ours" / f.relative.parent, ours_build, f, by_address)
        for f in functions
    }

    uv = SeedBuild(repo, work / "uv-style", artifacts, ours_build.dist, uv_binary(work))
    log("uv-style build (empty uv cache; fills it, untimed)...")
    uv.build(work / "uv-cache")
    targets = measure_targets(
        ours, seed, work / "pip-cache", handler_file(repo, functions[-1]), uv, work / "uv-cache"
    )
    for row in targets:
        rows.append(
            (
                f"{row.name}, pantsd {'on' if row.pantsd else 'off'} (s)",
                f"{row.ours.wall:.1f}",
                f"{row.seed.wall:.1f}",
                row.ratio,
            )
        )
    for a in artifacts:
        our_zipped, our_unzipped = ours_build.artifact(a).stat().st_size, unzipped(ours_build.artifact(a))
        seed_zipped, seed_unzipped = sizes[a.metadata.address]
        rows.append(
            (f"{a.label}, zipped", human_size(our_zipped), human_size(seed_zipped), our_zipped / seed_zipped)
        )
        rows.append(
            (
                f"{a.label}, unzipped",
                human_size(our_unzipped),
                human_size(seed_unzipped),
                our_unzipped / seed_unzipped,
            )
        )
    rows.append(
        (
            "two cold builds, same bytes?",
            "yes" if ours_build.deterministic else "no",
            "yes" if seed_build.deterministic else "no",
            None,
        )
    )

    for function in functions:
        module = function.metadata.handler_module
        log(f"cold-start imports of {module}, {runs} fresh interpreters each...")
        our_tree = our_trees[function.metadata.address]
        our_ms, seed_ms = [], []
        for _ in range(runs):  # interleaved, so drift in the machine's load hits both alike
            our_ms += import_times(our_tree, module, 1)
            seed_ms += import_times(trees[function.metadata.address], module, 1)
        rows.append(
            (
                f"cold-start import of {module}, median (IQR)",
                spread(our_ms),
                spread(seed_ms),
                statistics.median(our_ms) / statistics.median(seed_ms),
            )
        )

    log("remote cache: a cold build that fills a BuildGrid on loopback, then a second machine...")
    grid = BuildGrid(repo, work / "buildgrid")
    remote = {"PANTS_CONFIG_FILES": "pants.remote.toml", "REMOTE_CACHE_ADDRESS": grid.address}
    try:
        remote_times = {
            "cold build, empty local and remote caches": ours.package(
                "r1", {**remote, "PANTS_REMOTE_CACHE_WRITE": "true"}
            ).wall,
            "second machine: warm remote cache, empty local caches": ours.package("r2", remote).wall,
            "warm local no-op": ours.package("r2", remote).wall,
        }
    finally:
        grid.stop()
    cold = next(iter(remote_times.values()))

    table = targets_table(targets) + [""]
    table += ["| Measure | Ours | Seed-style | Ours ÷ seed |", "| --- | ---: | ---: | ---: |"]
    table += [f"| {name} | {o} | {s} | {'' if r is None else f'{r:.2f}'} |" for name, o, s, r in rows]
    table += ["", "Remote cache (ours, BuildGrid on loopback):", ""]
    table += ["| Build of every Lambda artifact | Seconds | Cold ÷ this |", "| --- | ---: | ---: |"]
    table += [f"| {name} | {seconds:.1f} | {cold / seconds:.2f} |" for name, seconds in remote_times.items()]
    return table, rows


def chart(ratios: list[tuple[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name, _ in ratios]
    values = [value for _, value in ratios]
    figure, axes = plt.subplots(figsize=(9, 0.45 * len(names) + 1.5))
    bars = axes.barh(names, values, color=["tab:green" if v <= 1 else "tab:orange" for v in values])
    axes.bar_label(bars, labels=[f"{v:.2f}" for v in values], padding=3)
    axes.axvline(1, color="black", linewidth=0.8)
    axes.set_xlim(0, max(values) * 1.15)
    axes.set_xlabel("ours ÷ seed-style (below 1: ours is faster or smaller)")
    axes.invert_yaxis()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
