"""The targets: a cold build of every Lambda artifact (no process cache, downloads cached: what a
CI runner without a cache hit pays), a warm no-op and a one-line edit to one function, each with
pantsd off (CI) and on (a developer's machine), and a one-pin lock bump with pantsd on; each
beside a seed-style build (pip's cache warm) and a uv-style one (uv's cache warm), neither of
which has an incremental build: each always redoes everything. Wall and CPU time, pantsd's
included.

It edits the copy (a function, a pin): the measurements that read its first build run before it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from lambda_targets.platforms import LambdaPlatform

from bench.builds import LAMBDA_LOCKFILE, handler_file, uv_platform_flags
from bench.harness import Timing, log, timed
from bench.workbench import Section, Workbench

NAME = "targets"
ABOUT = "cold, no-op, one-line edit and one-pin bump, pantsd off and on, beside pip and uv (10 minutes)"
BY_DEFAULT = True


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


def bump_one_pin(repo: Path, uv: Path, platform: LambdaPlatform) -> str:
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
             *uv_platform_flags(platform), "-"],
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


def measure_rows(bench: Workbench) -> list[TargetRow]:
    ours, seed, uv = bench.ours, bench.seed, bench.uv
    edited = handler_file(bench.repo, bench.functions[-1])
    # The runtime is set once (the root BUILD), so every artifact's metadata names the same one.
    platform = bench.artifacts[0].platform

    def seed_build() -> Timing:
        return timed(lambda: seed.build(bench.pip_cache))

    def uv_build() -> Timing:
        return timed(lambda: uv.build(bench.uv_cache))

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
            bumped = bump_one_pin(ours.repo, uv.uv, platform)
            log(f"targets, {how}: a one-pin lock bump ({bumped}), then seed-style and uv-style...")
            bump = ours.package("a", pantsd=pantsd, store=store)
            row = TargetRow(f"one-pin lock bump ({bumped})", pantsd, bump, seed_build(), uv_build(), None)
            rows.append(dataclasses.replace(row, uv_target=0.5))
    ours.stop_pantsd()
    return rows


def table(rows: list[TargetRow]) -> list[str]:
    lines = [
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
            target = f"≤ {row.uv_target:.2f} × uv: {'met' if row.uv_ratio <= row.uv_target else 'NOT met'}"
        lines.append(
            f"| {row.name} | {'on' if row.pantsd else 'off'} "
            f"| {row.ours.wall:.1f} / {row.ours.cpu:.1f} | {row.seed.wall:.1f} / {row.seed.cpu:.1f} "
            f"| {row.uv.wall:.1f} / {row.uv.cpu:.1f} "
            f"| {row.ratio:.3f} | {row.ours.cpu / row.seed.cpu:.3f} | {row.uv_ratio:.3f} | {target} |"
        )
    return lines


def measure(bench: Workbench) -> Section:
    rows = measure_rows(bench)
    ratios = [(f"{row.name}, pantsd {'on' if row.pantsd else 'off'} (s)", row.ratio) for row in rows]
    data = [
        {
            "measure": row.name,
            "pantsd": row.pantsd,
            **{side: dataclasses.asdict(getattr(row, side)) for side in ("ours", "seed", "uv")},
        }
        for row in rows
    ]
    return Section(table(rows), ratios, data)
