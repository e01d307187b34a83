"""Zipped and unzipped size of each artifact, ours beside the seed-style build's, and whether two
cold builds of each give the same bytes."""

from __future__ import annotations

from lambda_artifacts.size_limit import human_size

from bench.harness import log, unzipped
from bench.workbench import Section, Workbench

NAME = "sizes"
ABOUT = "sizes of every artifact; do two cold builds give the same bytes? (3 minutes)"
BY_DEFAULT = True


def measure(bench: Workbench) -> Section:
    artifacts, ours, seed = bench.artifacts, bench.our_build, bench.seed_build
    our_first, seed_first = ours.digests(artifacts), seed.digests(artifacts)
    sizes = {
        a.metadata.address: {
            "ours": (ours.artifact(a).stat().st_size, unzipped(ours.artifact(a))),
            "seed": (seed.artifact(a).stat().st_size, unzipped(seed.artifact(a))),
        }
        for a in artifacts
    }
    log("our second build, with other empty caches, for determinism...")
    bench.ours.package("b")
    log("a second seed-style build, for determinism...")
    bench.seed.build(bench.pip_cache)
    same = {"ours": our_first == ours.digests(artifacts), "seed": seed_first == seed.digests(artifacts)}

    lines = ["| Artifact size | Ours | Seed-style | Ours ÷ seed |", "| --- | ---: | ---: | ---: |"]
    ratios = []
    for a in artifacts:
        for index, how in enumerate(("zipped", "unzipped")):
            our_bytes, seed_bytes = (
                sizes[a.metadata.address]["ours"][index],
                sizes[a.metadata.address]["seed"][index],
            )
            name = f"{a.label}, {how}"
            lines.append(
                f"| {name} | {human_size(our_bytes)} | {human_size(seed_bytes)} | {our_bytes / seed_bytes:.2f} |"
            )
            ratios.append((name, our_bytes / seed_bytes))
    lines.append(
        f"| two cold builds, same bytes? | {'yes' if same['ours'] else 'no'} | {'yes' if same['seed'] else 'no'} | |"
    )
    return Section(lines, ratios, {"bytes": sizes, "deterministic": same})
