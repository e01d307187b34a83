"""What each added function costs CI. In another copy, with N synthetic functions added (N = 2,
20, then 50), the wall and CPU time of `package` of every function (new code, layers warm), of
`test` of every function (the Lambda-sandbox checks), of a warm no-op `package ::`, and of
`package ::` after a one-line edit to one function, all with pantsd off, as CI runs; per added
function = (T(50) - T(2)) / 48."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.builds import FUNCTION_TYPE, OurBuild, discover
from bench.harness import Timing, copy_repository, log
from bench.workbench import Section, Workbench

NAME = "scaling"
ABOUT = "what each added function costs: 2, 20 and 50 synthetic functions (15 minutes or more)"
BY_DEFAULT = False
SIZES = (2, 20, 50)

# The synthetic functions: a handler that uses the shared code, as ours do.
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


def add_synthetic_functions(folder: Path, count: int) -> None:
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


def measure_rows(work: Path, caches: Path, sizes: tuple[int, ...]) -> list[ScalingRow]:
    repo = copy_repository(work / "scaling" / "repo")
    ours = OurBuild(repo, caches)
    log("scaling: building everything once and checking the functions we have (untimed, fills caches)...")
    ours.package("a")
    real_functions = [a for a in discover(repo / "dist") if a.metadata.is_function]
    ours.pants("a", "package", "::")
    ours.pants("a", f"--filter-target-type={FUNCTION_TYPE}", "test", "::")
    # The synthetic functions go beside ours, wherever a team keeps them.
    folder = repo / real_functions[0].folder.parent
    results: dict[str, dict[int, Timing]] = {}
    for count in sizes:
        add_synthetic_functions(folder, count)
        log(
            f"scaling: {count} synthetic functions ({count + len(real_functions)} in all): package, test, no-op, one edit..."
        )
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


def table(rows: list[ScalingRow], sizes: tuple[int, ...]) -> list[str]:
    small, large = min(sizes), max(sizes)
    header = " | ".join(f"N={n} wall / CPU (s)" for n in sizes)
    lines = [
        "Scaling (ours; N synthetic functions beside ours; pantsd off; CPU = user + system of all",
        "processes):",
        "",
        f"| Measure | {header} | Per added function, wall (s) | Per added function, CPU (s) |",
        "| --- |" + " ---: |" * (len(sizes) + 2),
    ]
    for row in rows:
        cells = " | ".join(f"{row.timings[n].wall:.1f} / {row.timings[n].cpu:.1f}" for n in sizes)
        lines.append(
            f"| {row.name} | {cells} | {row.per_function('wall'):.2f} | {row.per_function('cpu'):.2f} |"
        )
    lines += ["", f"Per added function = (T(N={large}) - T(N={small})) / {large - small}."]
    return lines


def measure(bench: Workbench) -> Section:
    rows = measure_rows(bench.work, bench.caches, SIZES)
    data = [
        {
            "measure": row.name,
            "timings": {n: {"wall": t.wall, "cpu": t.cpu} for n, t in row.timings.items()},
            "per_added_function": {"wall": row.per_function("wall"), "cpu": row.per_function("cpu")},
        }
        for row in rows
    ]
    return Section(table(rows, SIZES), data=data)
