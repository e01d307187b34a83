"""Cold-start import time of each handler, ours (with .pyc) against the seed-style build's
(without): fresh CPython processes of the runtime's version, the function and its layers unpacked
read-only in Lambda's layout, Lambda's sys.path; interleaved, so drift in the machine's load hits
both alike."""

from __future__ import annotations

import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

from lambda_artifacts.sandbox import LambdaSandbox, remove

from bench.builds import Artifact, Build
from bench.harness import log
from bench.workbench import Section, Workbench

NAME = "imports"
ABOUT = "cold-start import time of each handler, ours beside the seed-style build's (1 minute)"
BY_DEFAULT = True

# Runs in each fresh interpreter of the Lambda sandbox: time the handler module's import.
IMPORT_TIMER = textwrap.dedent("""
    import importlib, sys, time
    module = sys.argv[1]
    start = time.perf_counter()
    importlib.import_module(module)
    print((time.perf_counter() - start) * 1000)
    """)


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


def import_milliseconds(tree: tuple[LambdaSandbox, Path], module: str) -> float:
    # In the one Lambda sandbox: nothing from the environment, no site-packages, Lambda's
    # sys.path, and no bytecode written (the folders are read-only, as on Lambda, where possible).
    sandbox, task = tree
    out = subprocess.run(
        sandbox.command(sys.executable, task, IMPORT_TIMER, module), capture_output=True, text=True, cwd=task
    )
    if out.returncode != 0:
        sys.exit(f"[bench] importing {module} from {task} failed:\n{out.stderr[-3000:]}")
    return float(out.stdout.strip())


def spread(values: list[float]) -> str:
    quartiles = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.0f} ms ({quartiles[0]:.0f}–{quartiles[2]:.0f})"


def measure(bench: Workbench) -> Section:
    lines = [
        f"| Cold-start import, {bench.runs} fresh interpreters, median (IQR) | Ours | Seed-style | Ours ÷ seed |",
        "| --- | ---: | ---: | ---: |",
    ]
    ratios, data = [], {}
    for function in bench.functions:
        module = function.metadata.handler_module
        folder = function.relative.parent
        ours = lambda_tree(bench.work / "lambda/ours" / folder, bench.our_build, function, bench.by_address)
        seed = lambda_tree(bench.work / "lambda/seed" / folder, bench.seed_build, function, bench.by_address)
        log(f"cold-start imports of {module}, {bench.runs} fresh interpreters each...")
        our_ms, seed_ms = [], []
        for _ in range(bench.runs):
            our_ms.append(import_milliseconds(ours, module))
            seed_ms.append(import_milliseconds(seed, module))
        ratio = statistics.median(our_ms) / statistics.median(seed_ms)
        name = f"cold-start import of {module}"
        lines.append(f"| {name} | {spread(our_ms)} | {spread(seed_ms)} | {ratio:.2f} |")
        ratios.append((name, ratio))
        data[module] = {"ours_ms": our_ms, "seed_ms": seed_ms}
    return Section(lines, ratios, data)
