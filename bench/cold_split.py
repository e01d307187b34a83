"""Where a cold build's time goes: the processes Pants ran, from its workunit log.

"Cold" as CI without a cache hit pays it: no process results cached (a fresh local store),
downloads cached (the named caches of an earlier build), no pantsd. Pants' own workunit logger
(WORKUNIT_LOGGER, below) writes every finished workunit with its start and duration; the
processes among them are what this reads.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bench.builds import LAMBDA_TYPES, SeedBuild, discover, uv_binary
from bench.harness import copy_repository, log, run, timed
from bench.workbench import Section, Workbench

NAME = "cold-split"
ABOUT = "where a cold build's time goes, per process kind, beside pip and uv (5 minutes)"
BY_DEFAULT = False

WORKUNIT_LOGGER = "pants.backend.experimental.tools.workunit_logger"


def workunit_flags(logdir: Path) -> list[str]:
    return [
        f"--backend-packages=+['{WORKUNIT_LOGGER}']",
        "--workunit-logger-enabled",
        f"--workunit-logger-logdir={logdir}",
    ]


@dataclass(frozen=True)
class ProcessSpan:
    description: str
    start: float  # seconds since the run's first workunit started
    seconds: float


def process_spans(logdir: Path) -> list[ProcessSpan]:
    """The processes of the one run logged in `logdir`, in start order."""
    (log,) = sorted(logdir.glob("*.json"))
    units = json.loads(log.read_text())
    first = min(u["start_secs"] + u["start_nanos"] / 1e9 for u in units)
    spans = [
        ProcessSpan(
            u.get("description") or u["name"],
            u["start_secs"] + u["start_nanos"] / 1e9 - first,
            u.get("duration_secs", 0) + u.get("duration_nanos", 0) / 1e9,
        )
        for u in units
        # Pants names the workunit of every process it runs `process`.
        if u["name"] == "process"
    ]
    return sorted(spans, key=lambda span: span.start)


def _kind(description: str) -> str:
    """A process's description without the target it was for: `Zip python_aws_lambda_function`.
    (Pants prefixes the descriptions of process workunits with `Scheduling: `.)"""
    description = description.removeprefix("Scheduling: ")
    return re.sub(r"\s+\S*[/:]\S*.*$", "", description) or description


def split_table(spans: list[ProcessSpan], wall: float, cpu: float, top: int = 12) -> list[str]:
    by_kind: dict[str, list[ProcessSpan]] = defaultdict(list)
    for span in spans:
        by_kind[_kind(span.description)].append(span)
    rows = sorted(by_kind.items(), key=lambda item: -sum(s.seconds for s in item[1]))
    table = [
        f"Cold build, per process kind (no process cache, downloads cached, pantsd off): "
        f"{wall:.1f} s wall, {cpu:.1f} s CPU; {len(spans)} processes, "
        f"{sum(s.seconds for s in spans):.1f} s of process time, from {min(s.start for s in spans):.1f} s "
        f"to {max(s.start + s.seconds for s in spans):.1f} s after the run's first workunit.",
        "",
        "| Processes | Count | Sum (s) | Longest (s) | First start (s) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, group in rows[:top]:
        table.append(
            f"| {kind} | {len(group)} | {sum(s.seconds for s in group):.1f} | "
            f"{max(s.seconds for s in group):.1f} | {min(s.start for s in group):.1f} |"
        )
    if len(rows) > top:
        rest = [s for _, group in rows[top:] for s in group]
        table.append(f"| everything else | {len(rest)} | {sum(s.seconds for s in rest):.1f} | | |")
    return table


def measure(bench: Workbench) -> Section:
    """Our cold build with Pants' workunit log, beside the seed-style and uv-style builds (their
    caches warm), in one run, in a copy of its own."""
    base = bench.work / "cold-split"
    repo = copy_repository(base / "repo")
    named = f"--named-caches-dir={base / 'named_caches'}"
    lambda_artifacts = [f"--filter-target-type={LAMBDA_TYPES}", "package", "::"]
    log("cold split: a first build fills the download caches (untimed)...")
    run(
        ["./pants", "--no-pantsd", f"--local-store-dir={base / 'warm_store'}", named, *lambda_artifacts], repo
    )
    artifacts = discover(repo / "dist")
    builds = {
        "seed-style": (SeedBuild(repo, base / "seed", artifacts, repo / "dist"), base / "pip-cache"),
        "uv-style": (
            SeedBuild(repo, base / "uv-style", artifacts, repo / "dist", uv_binary(base)),
            base / "uv-cache",
        ),
    }
    for build, cache in builds.values():
        build.build(cache)  # warms its cache
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
    for name, (build, cache) in builds.items():
        log(f"cold split: the {name} build, its cache warm...")
        timings[name] = timed(partial(build.build, cache))
    seed, uv = timings["seed-style"], timings["uv-style"]
    lines = split_table(process_spans(logdir), ours.wall, ours.cpu) + [
        "",
        "| Cold build of every Lambda artifact | Wall (s) | CPU (s) |",
        "| --- | ---: | ---: |",
        f"| ours | {ours.wall:.1f} | {ours.cpu:.1f} |",
        f"| seed-style (`pip install --target`, warm pip cache) | {seed.wall:.1f} | {seed.cpu:.1f} |",
        f"| uv-style (`uv pip install --target`, warm uv cache) | {uv.wall:.1f} | {uv.cpu:.1f} |",
        f"| ours ÷ seed-style | {ours.wall / seed.wall:.2f} | {ours.cpu / seed.cpu:.2f} |",
        f"| ours ÷ uv-style | {ours.wall / uv.wall:.2f} | {ours.cpu / uv.cpu:.2f} |",
    ]
    data = {name: {"wall": t.wall, "cpu": t.cpu} for name, t in {"ours": ours, **timings}.items()}
    return Section(lines, data=data)
