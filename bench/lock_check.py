"""What the lockfile check that ./pants runs before every command that may resolve costs: the
same command, N times, beside the bare interpreter start it includes, interleaved so that drift
in the machine's load hits both alike."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

import tomllib

from bench.builds import bootstrap_cache
from bench.harness import Timing, log, run
from bench.workbench import Section, Workbench

NAME = "lock-check"
ABOUT = "what the lockfile check before every ./pants command costs (10 seconds)"
BY_DEFAULT = True
MINIMUM_RUNS = 15


def measure(bench: Workbench) -> Section:
    repo, runs = Path.cwd(), max(bench.runs, MINIMUM_RUNS)
    log(f"the lockfile check ./pants runs before Pants, {runs} times...")
    pants_toml = tomllib.loads((repo / "pants.toml").read_text())
    python = bootstrap_cache() / f"pants-{pants_toml['GLOBAL']['pants_version']}" / "bin" / "python"
    # The plugins' path, as pants.toml gives it to Pants and ./pants to the check.
    plugin_path = [entry.replace("%(buildroot)s", str(repo)) for entry in pants_toml["GLOBAL"]["pythonpath"]]
    env = {"PYTHONPATH": os.pathsep.join(plugin_path)}
    commands = {
        "check": [
            str(python),
            "-s",
            "3rdparty/python/lockfiles.py",
            "check",
            "--root",
            str(repo),
            "--",
            "package",
            "::",
        ],
        "bare": [str(python), "-s", "-c", "pass"],
    }
    timings: dict[str, list[Timing]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            timings[name].append(run(argv, repo, env))
    ms = {
        name: (
            statistics.median(t.wall for t in found) * 1000,
            statistics.median(t.cpu for t in found) * 1000,
        )
        for name, found in timings.items()
    }
    lines = [
        f"Lockfile check before every `./pants` command that may resolve ({runs} runs, median):",
        "",
        "| Command | Wall (ms) | CPU (ms) |",
        "| --- | ---: | ---: |",
        f"| `lockfiles.py check` (what ./pants runs) | {ms['check'][0]:.0f} | {ms['check'][1]:.0f} |",
        f"| of which CPython 3.9 start-up (`-c pass`) | {ms['bare'][0]:.0f} | {ms['bare'][1]:.0f} |",
    ]
    return Section(lines, data={name: {"wall_ms": w, "cpu_ms": c} for name, (w, c) in ms.items()})
