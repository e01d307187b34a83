"""Checks made before any AWS call: sizes, layer counts, and where a sample build may go."""

from __future__ import annotations

from dataclasses import dataclass

from lambda_artifacts.size_limit import OVER, UnzippedSize, human_size
from lambda_deploy.artifacts import Artifact
from lambda_deploy.config import MAX_LAYERS_PER_FUNCTION, DeployConfig
from lambda_deploy.errors import ArtifactError, PreflightError
from lambda_deploy.plan import DeployTarget


@dataclass(frozen=True)
class FunctionSize:
    name: str
    size: UnzippedSize

    @property
    def unzipped_bytes(self) -> int:
        return self.size.total

    def describe(self) -> str:
        return f"{self.name}: {human_size(self.size.total)} unzipped, {self.size.against_limit()}"


def load_artifacts(config: DeployConfig) -> dict[str, Artifact]:
    """The built zips, by `layer:ADDRESS` and `function:NAME`, each checked before anything is
    sent: every member's CRC, then its digest against what `package` recorded. Those not built
    this time (--skip-missing) have no artifact in the configuration, and stay as deployed."""
    wanted = {
        f"layer:{key}": (layer.artifact, layer.sha256, f"layer {layer.name} ({key})", key)
        for key, layer in config.layers.items()
    }
    wanted.update(
        {
            f"function:{name}": (f.artifact, f.sha256, f"function {name} ({f.address})", f.address)
            for name, f in config.functions.items()
        }
    )
    artifacts = {}
    for key, (path, recorded_sha256, what, address) in wanted.items():
        if path is None:
            continue
        artifact = artifacts[key] = Artifact(path, what, address)  # checks every member's CRC
        if artifact.sha256_hex != recorded_sha256:
            raise ArtifactError(
                f"The artifact for {what}, {path}, is not the zip its metadata describes (sha256 "
                f"{artifact.sha256_hex[:12]}…, recorded {str(recorded_sha256)[:12]}…): it changed "
                f"after `./pants package` wrote it. Rebuild it with `./pants package ::`. Nothing "
                f"was changed."
            )
    return artifacts


def check(config: DeployConfig, artifacts: dict[str, Artifact], target: DeployTarget) -> list[FunctionSize]:
    """Raises PreflightError for anything AWS would refuse, or that must not go to `target`."""
    sizes = []
    for name, function in config.functions.items():
        if len(function.layers) > MAX_LAYERS_PER_FUNCTION:
            raise PreflightError(
                f"Function {name!r} ({function.address}) lists {len(function.layers)} layers in its "
                f"`layers` field; Lambda allows at most {MAX_LAYERS_PER_FUNCTION}. Merge some of them "
                f"into one layer. Nothing was changed."
            )
        for key in function.layers:
            layer = config.layers[key]
            platform = (function.runtime, function.architecture)
            if function.artifact is None or layer.artifact is None or None in platform:
                continue  # not built this time (checked when it was), or no runtime recorded
            if platform != (*layer.compatible_runtimes, *layer.compatible_architectures):
                raise PreflightError(
                    f"Function {name!r} ({function.address}) was built for "
                    f"{' '.join(map(str, platform))}, but its layer {key} for "
                    f"{' '.join((*layer.compatible_runtimes, *layer.compatible_architectures))}. "
                    f"Rebuild both with `./pants package ::` after setting one `runtime` and "
                    f"`architecture` (the root BUILD's `__defaults__`). Nothing was changed."
                )
        keys = [f"function:{name}", *(f"layer:{key}" for key in function.layers)]
        if any(key not in artifacts for key in keys):
            continue  # not all built (--skip-missing): the deployed parts were checked when built
        parts = {key.partition(":")[2]: artifacts[key] for key in keys}
        size = UnzippedSize(
            {part_name: part.unzipped_bytes for part_name, part in parts.items()},
            tuple(
                {"name": d.name, "version": d.version, "unzipped_bytes": d.unzipped_bytes}
                for part in parts.values()
                for d in part.distributions
            ),
        )
        if size.status == OVER:
            listing = "\n".join(f"    {line}" for line in size.largest(8))
            raise PreflightError(
                f"Function {name!r} and its layers unzip to {size.describe()}. Largest "
                f"distributions:\n{listing}\nDrop or slim a requirement "
                f"(3rdparty/python/pypi-requirements.txt), then rebuild with `./pants package ::`. "
                f"Nothing was changed."
            )
        sizes.append(FunctionSize(name, size))

    for key, artifact in artifacts.items():
        check_contents_fit_runtime(key, artifact, config)

    if not target.allows_sample_framework:
        for artifact in artifacts.values():
            if artifact.sample_builds:
                raise PreflightError(
                    f"Refusing to publish {artifact.what} ({artifact.path}) to {target.description}: it "
                    f"was built from the bundled framework sample ({', '.join(artifact.sample_builds)}), "
                    f"which may only go to the local emulator (--local, or an --endpoint-url on "
                    f"loopback). Build it from the real framework repository (see "
                    f"docs/framework.md), then rerun. Nothing was changed."
                )
    return sizes


def check_contents_fit_runtime(key: str, artifact: Artifact, config: DeployConfig) -> None:
    """The zip's own contents must be for the runtime its metadata names: bytecode and wheels for
    another CPython would fail at the first import (metadata edited, or copied from elsewhere)."""
    kind, _, name = key.partition(":")
    runtimes = (
        config.layers[name].compatible_runtimes if kind == "layer" else (config.functions[name].runtime,)
    )
    wanted = {runtime.removeprefix("python") for runtime in runtimes if runtime}
    if not wanted:
        return  # no runtime recorded (complete_platforms): nothing to compare with
    other = {
        version: example for version, example in artifact.cpython_versions.items() if version not in wanted
    }
    if other:
        version, example = sorted(other.items())[0]
        raise PreflightError(
            f"The artifact for {artifact.what}, {artifact.path}, is recorded as built for "
            f"{', '.join(sorted(runtimes))}, but holds code for CPython {version} only (e.g. "
            f"{example}): it would fail on Lambda at the first import. Rebuild it with "
            f"`./pants package ::` after setting the runtime in the root BUILD. Nothing was changed."
        )
