"""Benchmarks our build against the seed's `pip install --target` build, side by side, in one run.

    ./pants run bench/bench.py [-- [MEASUREMENT ...] [--runs N]]
    ./pants run bench/bench.py -- --list

Each measurement is a module of bench/ (MEASUREMENTS, below, in the order they run); with none
named, the ones marked BY_DEFAULT run. They share one copy of this repository in dist/bench/work
and our first build of it, each made when first needed (bench/workbench.py). Writes
dist/bench/results.md (the tables, with ours ÷ seed-style ratios), results.json (the numbers)
and ratios.png (a bar chart of the ratios), and prints the tables.

The seed-style build is what the seed repository did: `pip install --target` of each layer's
requirements for the Lambda platform (the versions our lockfile pins; the runtime and CPU from
our artifacts' metadata), strip `__pycache__`, `*.pyc`, `*.dist-info` and `tests`, zip; and each
function's zip is its first-party packages copied from the source tree (bench/builds.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from lambda_artifacts.sandbox import read_only_prefix

from bench import cold_split, deploy_bench, imports, lock_check, remote_cache, scaling, sizes, targets
from bench.harness import OUT, log
from bench.workbench import Section, Workbench

# In this order: the measurements that read the copy's first build come before `targets`, which
# edits the copy; those with copies of their own come last.
MEASUREMENTS = (sizes, imports, targets, remote_cache, lock_check, scaling, cold_split, deploy_bench)
BY_NAME = {measurement.NAME: measurement for measurement in MEASUREMENTS}


def parse_args() -> argparse.Namespace:
    listing = "\n".join(
        f"  {m.NAME:<13} {m.ABOUT}{'' if m.BY_DEFAULT else ' (not by default)'}" for m in MEASUREMENTS
    )
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=f"measurements:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "measurements",
        nargs="*",
        metavar="MEASUREMENT",
        help="what to measure (default: those marked by default)",
    )
    parser.add_argument(
        "--runs", type=int, default=15, help="fresh interpreters per import measurement (at least 4)"
    )
    parser.add_argument("--list", action="store_true", help="list the measurements and stop")
    args = parser.parse_args()
    if args.list:
        print(listing)
        sys.exit(0)
    unknown = [name for name in args.measurements if name not in BY_NAME]
    if unknown:
        parser.error(f"no measurement {', '.join(unknown)}; there are: {', '.join(BY_NAME)} (see --list)")
    if args.runs < 4:
        parser.error("--runs must be at least 4, to report a spread")
    return args


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


def main() -> int:
    args = parse_args()
    if not Path("pants.toml").is_file():
        sys.exit("[bench] run it from the repository root: ./pants run bench/bench.py")
    chosen = set(args.measurements) or {m.NAME for m in MEASUREMENTS if m.BY_DEFAULT}
    work = (OUT / "work").resolve()
    shutil.rmtree(work, ignore_errors=True)
    bench = Workbench(work, args.runs)
    sections: dict[str, Section] = {}
    for measurement in MEASUREMENTS:
        if measurement.NAME in chosen:
            log(f"{measurement.NAME}: {measurement.ABOUT}")
            sections[measurement.NAME] = measurement.measure(bench)

    text = "\n\n".join("\n".join(section.lines) for section in sections.values())
    text += (
        f"\n\nMachine: {os.cpu_count()} cores; CPython {sys.version.split()[0]}; "
        f"load average {os.getloadavg()[0]:.1f} at the end; "
        f"{args.runs} interpreters per import; read-only trees: "
        f"{'yes' if read_only_prefix([work]) else 'no (no user namespaces); bytecode writes off'}.\n"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(json.dumps({name: s.data for name, s in sections.items()}, indent=2))
    ratios = [ratio for section in sections.values() for ratio in section.ratios]
    if ratios:
        chart(ratios, OUT / "ratios.png")
    print(text)
    log(f"wrote {OUT / 'results.md'}" + (f" and {OUT / 'ratios.png'}" if ratios else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
