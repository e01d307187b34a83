"""Benchmarks our build against the seed's `pip install --target` build, side by side, in one run.

    ./pants run bench/bench.py [-- --runs 15]

Writes dist/bench/results.md (a Markdown table of medians and ratios) and dist/bench/ratios.png
(a bar chart of the ratios), and prints the table. Both builds run from a copy of this
repository in dist/bench/work, with their own empty caches, so the numbers are cold where they
say cold. Measured:

- cold build of all four artifacts (empty caches), warm no-op rebuild, and rebuild after a
  one-line change to one function;
- zipped and unzipped sizes of each artifact;
- determinism: do two cold builds give the same bytes?
- cold-start import time of each handler: fresh CPython 3.11 processes, the unpacked artifacts
  read-only, Lambda's sys.path order; ours (with .pyc) against the seed's (without);
- with a remote cache (a BuildGrid on loopback): a cold build that fills it, a second machine
  with empty local caches, and a warm local no-op.


The seed-style build is what the seed repository did: `pip install --target layer/python
--platform manylinux2014_x86_64 --only-binary=:all: --python-version 3.11`, strip
`__pycache__`, `*.pyc`, `*.dist-info` and `tests`, zip. It installs the versions our lockfile
pins, so both sides ship the same code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from integration.remote_cache import BuildGrid
from lambda_artifacts.artifact_zip import human_size
from lambda_artifacts.sandbox import LAYER_SITE_PACKAGES, read_only_prefix, unpack

OUT = Path("dist/bench")
ARTIFACTS = {
    "pypi layer": ("3rdparty/python:pypi", "3rdparty.python/pypi.zip"),
    "framework layer": ("3rdparty/python:framework", "3rdparty.python/framework.zip"),
    "api_handler zip": ("src/python/api_handler:lambda", "src.python.api_handler/lambda.zip"),
    "thumbnail zip": ("src/python/thumbnail:lambda", "src.python.thumbnail/lambda.zip"),
}
HANDLERS = {"api_handler": "api_handler.handler", "thumbnail": "thumbnail.handler"}
ONE_LINE_CHANGE = "src/python/thumbnail/handler.py"

# Runs in each fresh interpreter: Lambda's sys.path, then time the handler module's import.
IMPORT_TIMER = textwrap.dedent(f"""
    import importlib, sys, time
    task, opt, module = sys.argv[1:4]
    sys.path[:] = [task, opt + "/{LAYER_SITE_PACKAGES}", opt + "/python"] + [p for p in sys.path if p]
    start = time.perf_counter()
    importlib.import_module(module)
    print((time.perf_counter() - start) * 1000)
    """)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Runs a command; returns its wall time in seconds. Fails loudly, with its output."""
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(
            f"[bench] {' '.join(argv)} failed in {cwd}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return elapsed


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


@dataclass
class Build:
    name: str
    dist: Path
    times: dict[str, float] = field(default_factory=dict)
    deterministic: bool | None = None

    def artifact(self, key: str) -> Path:
        return self.dist / ARTIFACTS[key][1]


class OurBuild:
    """`./pants package` of the four artifacts, in a copy with its own caches."""

    def __init__(self, repo: Path, caches: Path) -> None:
        self.repo, self.caches = repo, caches

    def package(self, cache: str, env: dict[str, str] | None = None) -> float:
        flags = [
            "--no-pantsd",
            f"--local-store-dir={self.caches / cache / 'lmdb_store'}",
            f"--named-caches-dir={self.caches / cache / 'named_caches'}",
        ]
        return run(["./pants", *flags, "package", *(t for t, _ in ARTIFACTS.values())], self.repo, env)


class SeedBuild:
    """The seed's build: pip install --target for each layer, strip, zip; zip each function."""

    def __init__(self, repo: Path, out: Path) -> None:
        self.repo, self.out = repo, out

    def build(self, pip_cache: Path) -> float:
        start = time.perf_counter()
        shutil.rmtree(self.out, ignore_errors=True)
        work = self.out / "work"
        lock = self.repo / "3rdparty/python/default.lock"
        pins = [line for line in lock.read_text().splitlines() if line and not line.startswith("#")]
        (work).mkdir(parents=True)
        (work / "constraints.txt").write_text("\n".join(p for p in pins if "git+" not in p) + "\n")
        platform = ["--platform", "manylinux2014_x86_64", "--only-binary=:all:", "--python-version", "3.11"]
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--cache-dir", str(pip_cache)]
        pypi = work / "pypi/python"
        run(
            [
                *pip,
                "install",
                "--quiet",
                "--target",
                str(pypi),
                *platform,
                "-r",
                str(self.repo / "3rdparty/python/pypi-requirements.txt"),
                "-c",
                str(work / "constraints.txt"),
            ],
            self.repo,
        )
        framework = work / "framework/python"
        run(
            [
                *pip,
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                str(framework),
                "-r",
                str(self.repo / "3rdparty/python/framework-requirements.txt"),
            ],
            self.repo,
        )
        for tree in (pypi, framework):
            strip(tree)
            zip_folder(
                tree.parent, self.out / ARTIFACTS["pypi layer" if tree is pypi else "framework layer"][1]
            )
        for key, package in (("api_handler zip", "api_handler"), ("thumbnail zip", "thumbnail")):
            staging = work / package
            for source in (package, "lambda_common"):
                shutil.copytree(
                    self.repo / "src/python" / source,
                    staging / source,
                    ignore=shutil.ignore_patterns("*_test.py", "BUILD", "__pycache__"),
                )
            zip_folder(staging, self.out / ARTIFACTS[key][1])
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


def import_times(task: Path, opt: Path, module: str, runs: int) -> list[float]:
    # -I: nothing from the environment; -S: no site-packages; -B: never write bytecode (as on
    # Lambda, where the folders are read-only; they are read-only here too, where possible).
    prefix = read_only_prefix([task, opt]) or []
    argv = [*prefix, sys.executable, "-I", "-S", "-B", "-c", IMPORT_TIMER, str(task), str(opt), module]
    results = []
    for _ in range(runs):
        out = subprocess.run(argv, capture_output=True, text=True, cwd=task)
        if out.returncode != 0:
            sys.exit(f"[bench] importing {module} from {task} failed:\n{out.stderr[-3000:]}")
        results.append(float(out.stdout.strip()))
    return results


def lambda_tree(root: Path, build: Build, function: str) -> tuple[Path, Path]:
    opt, task = root / "opt", root / "task"
    for folder in (opt, task):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    unpack(build.artifact("pypi layer"), opt)
    unpack(build.artifact("framework layer"), opt)
    unpack(build.artifact(f"{function} zip"), task)
    return task, opt


def spread(values: list[float]) -> str:
    quartiles = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.0f} ms ({quartiles[0]:.0f}–{quartiles[2]:.0f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per import measurement")
    args = parser.parse_args()
    if args.runs < 4:
        parser.error("--runs must be at least 4, to report a spread")
    if not Path("pants.toml").is_file():
        sys.exit("[bench] run it from the repository root: ./pants run bench/bench.py")

    work = (OUT / "work").resolve()
    shutil.rmtree(work, ignore_errors=True)
    repo = copy_repository(work / "repo")
    ours = OurBuild(repo, work / "pants-caches")
    seed = SeedBuild(repo, work / "seed")
    rows: list[tuple[str, str, str, float | None]] = []

    log("our cold build (empty Pants caches)...")
    ours_build = Build("ours", repo / "dist")
    ours_build.times["cold"] = ours.package("a")
    first = {key: sha256(ours_build.artifact(key)) for key in ARTIFACTS}
    log("our warm no-op rebuild...")
    ours_build.times["warm"] = ours.package("a")
    log("our second cold build, with other empty caches, for determinism...")
    ours.package("b")
    ours_build.deterministic = first == {key: sha256(ours_build.artifact(key)) for key in ARTIFACTS}

    log("seed-style cold build (empty pip cache)...")
    seed_build = Build("seed", work / "seed")
    seed_build.times["cold"] = seed.build(work / "pip-cache")
    seed_first = {key: sha256(seed_build.artifact(key)) for key in ARTIFACTS}
    sizes = {
        key: (seed_build.artifact(key).stat().st_size, unzipped(seed_build.artifact(key)))
        for key in ARTIFACTS
    }
    trees = {
        function: lambda_tree(work / "lambda/seed" / function, seed_build, function) for function in HANDLERS
    }
    log("seed-style warm rebuild (the seed has no incremental build: it redoes everything)...")
    seed_build.times["warm"] = seed.build(work / "pip-cache")
    seed_build.deterministic = seed_first == {key: sha256(seed_build.artifact(key)) for key in ARTIFACTS}

    log(f"a one-line change to {ONE_LINE_CHANGE}, rebuilt both ways...")
    changed = repo / ONE_LINE_CHANGE
    changed.write_text(changed.read_text() + "\n# a one-line change\n")
    ours_build.times["one-line"] = ours.package("a")
    seed_build.times["one-line"] = seed.build(work / "pip-cache")

    for label, key in (
        ("cold build of all artifacts", "cold"),
        ("warm no-op rebuild", "warm"),
        ("rebuild after a one-line change", "one-line"),
    ):
        o, s = ours_build.times[key], seed_build.times[key]
        rows.append((f"{label} (s)", f"{o:.1f}", f"{s:.1f}", s / o))
    for key in ARTIFACTS:
        our_zipped, our_unzipped = ours_build.artifact(key).stat().st_size, unzipped(ours_build.artifact(key))
        seed_zipped, seed_unzipped = sizes[key]
        rows.append(
            (f"{key}, zipped", human_size(our_zipped), human_size(seed_zipped), seed_zipped / our_zipped)
        )
        rows.append(
            (
                f"{key}, unzipped",
                human_size(our_unzipped),
                human_size(seed_unzipped),
                seed_unzipped / our_unzipped,
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

    for function, module in HANDLERS.items():
        log(f"cold-start imports of {module}, {args.runs} fresh interpreters each...")
        our_tree = lambda_tree(work / "lambda/ours" / function, ours_build, function)
        our_ms, seed_ms = [], []
        for _ in range(args.runs):  # interleaved, so drift in the machine's load hits both alike
            our_ms += import_times(*our_tree, module, 1)
            seed_ms += import_times(*trees[function], module, 1)
        rows.append(
            (
                f"cold-start import of {module}, median (IQR)",
                spread(our_ms),
                spread(seed_ms),
                statistics.median(seed_ms) / statistics.median(our_ms),
            )
        )

    log("remote cache: a cold build that fills a BuildGrid on loopback, then a second machine...")
    grid = BuildGrid(repo, work / "buildgrid")
    remote = {"PANTS_CONFIG_FILES": "pants.remote.toml", "REMOTE_CACHE_ADDRESS": grid.address}
    try:
        remote_times = {
            "cold build, empty local and remote caches": ours.package(
                "r1", {**remote, "PANTS_REMOTE_CACHE_WRITE": "true"}
            ),
            "second machine: warm remote cache, empty local caches": ours.package("r2", remote),
            "warm local no-op": ours.package("r2", remote),
        }
    finally:
        grid.stop()
    cold = next(iter(remote_times.values()))

    table = ["| Measure | Ours | Seed-style | Seed ÷ ours |", "| --- | ---: | ---: | ---: |"]
    table += [f"| {name} | {o} | {s} | {'' if r is None else f'{r:.2f}'} |" for name, o, s, r in rows]
    table += ["", "Remote cache (ours, BuildGrid on loopback):", ""]
    table += ["| Build of all four artifacts | Seconds | Cold ÷ this |", "| --- | ---: | ---: |"]
    table += [f"| {name} | {seconds:.1f} | {cold / seconds:.2f} |" for name, seconds in remote_times.items()]

    note = (
        f"\nMachine: {os.cpu_count()} cores; CPython {sys.version.split()[0]}; "
        f"{args.runs} interpreters per import; read-only trees: "
        f"{'yes' if read_only_prefix([work]) else 'no (no user namespaces); bytecode writes off'}.\n"
    )
    text = "\n".join(table) + "\n" + note
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(json.dumps({"rows": rows}, indent=2))
    chart([(name, ratio) for name, _, _, ratio in rows if ratio is not None], OUT / "ratios.png")
    print(text)
    log(f"wrote {OUT / 'results.md'} and {OUT / 'ratios.png'}")
    return 0


def chart(ratios: list[tuple[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name, _ in ratios]
    values = [value for _, value in ratios]
    figure, axes = plt.subplots(figsize=(9, 0.45 * len(names) + 1.5))
    bars = axes.barh(names, values, color=["tab:green" if v >= 1 else "tab:orange" for v in values])
    axes.bar_label(bars, labels=[f"{v:.2f}" for v in values], padding=3)
    axes.axvline(1, color="black", linewidth=0.8)
    axes.set_xlim(0, max(values) * 1.15)
    axes.set_xlabel("seed-style ÷ ours (above 1: ours is faster or smaller)")
    axes.invert_yaxis()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
