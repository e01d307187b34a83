"""What the measurements share: one copy of the repository, our first build of it and the
seed-style builds beside it, each made once, when a measurement first asks for it.

Every measurement is a module with NAME, ABOUT, BY_DEFAULT and `measure(bench) -> Section`;
bench.py runs the ones asked for, in its order, and writes their sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bench.builds import Artifact, Build, OurBuild, SeedBuild, discover, uv_binary
from bench.harness import copy_repository, log


@dataclass
class Section:
    """One measurement's results: Markdown lines, its ours ÷ seed-style ratios for the chart,
    and its numbers for results.json."""

    lines: list[str]
    ratios: list[tuple[str, float]] = field(default_factory=list)
    data: object = None


class Workbench:
    def __init__(self, work: Path, runs: int) -> None:
        self.work = work
        self.runs = runs  # fresh interpreters (or runs) per repeated measurement
        self.caches = work / "pants-caches"  # our build's caches: named ones per letter, a, b...
        self.pip_cache = work / "pip-cache"
        self.uv_cache = work / "uv-cache"

    @cached_property
    def repo(self) -> Path:
        return copy_repository(self.work / "repo")

    @cached_property
    def ours(self) -> OurBuild:
        return OurBuild(self.repo, self.caches)

    @cached_property
    def our_build(self) -> Build:
        log("our first build (empty Pants caches; fills the download caches, untimed)...")
        self.ours.package("a")
        return Build("ours", self.repo / "dist")

    @cached_property
    def artifacts(self) -> list[Artifact]:
        found = discover(self.our_build.dist)
        log(f"found {len(found)} artifacts: {', '.join(a.label for a in found)}")
        return found

    @property
    def functions(self) -> list[Artifact]:
        return [a for a in self.artifacts if a.metadata.is_function]

    @property
    def by_address(self) -> dict[str, Artifact]:
        return {a.metadata.address: a for a in self.artifacts}

    @cached_property
    def seed(self) -> SeedBuild:
        """The seed-style build, run once (pip's cache filled, untimed)."""
        seed = SeedBuild(self.repo, self.work / "seed", self.artifacts, self.our_build.dist)
        log("seed-style build (empty pip cache; fills it, untimed)...")
        seed.build(self.pip_cache)
        return seed

    @cached_property
    def seed_build(self) -> Build:
        return Build("seed", self.seed.out)

    @cached_property
    def uv(self) -> SeedBuild:
        """The same script with `uv pip install --target`, run once (uv's cache filled, untimed)."""
        uv = SeedBuild(
            self.repo, self.work / "uv-style", self.artifacts, self.our_build.dist, uv_binary(self.work)
        )
        log("uv-style build (empty uv cache; fills it, untimed)...")
        uv.build(self.uv_cache)
        return uv
