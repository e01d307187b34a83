"""Our build with a remote cache (a BuildGrid on loopback): a cold build that fills it, a second
machine with empty local caches, and a warm local no-op."""

from __future__ import annotations

from buildgrid_cache.server import BuildGrid

from bench.harness import log
from bench.workbench import Section, Workbench

NAME = "remote-cache"
ABOUT = "a cold build that fills a BuildGrid on loopback, then a second machine (3 minutes)"
BY_DEFAULT = True


def measure(bench: Workbench) -> Section:
    bench.our_build  # the download caches, filled (untimed)
    log("remote cache: a cold build that fills a BuildGrid on loopback, then a second machine...")
    grid = BuildGrid(bench.repo, bench.work / "buildgrid")
    remote = {"PANTS_CONFIG_FILES": "pants.remote.toml", "REMOTE_CACHE_ADDRESS": grid.address}
    try:
        seconds = {
            "cold build, empty local and remote caches": bench.ours.package(
                "r1", {**remote, "PANTS_REMOTE_CACHE_WRITE": "true"}
            ).wall,
            "second machine: warm remote cache, empty local caches": bench.ours.package("r2", remote).wall,
            "warm local no-op": bench.ours.package("r2", remote).wall,
        }
    finally:
        grid.stop()
    cold = next(iter(seconds.values()))
    lines = ["Remote cache (ours, BuildGrid on loopback):", ""]
    lines += ["| Build of every Lambda artifact | Seconds | Cold ÷ this |", "| --- | ---: | ---: |"]
    lines += [f"| {name} | {value:.1f} | {cold / value:.2f} |" for name, value in seconds.items()]
    return Section(lines, data=seconds)
