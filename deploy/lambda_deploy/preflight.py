"""Checks made before any AWS call: sizes, layer counts, and where a sample build may go."""

from __future__ import annotations

from dataclasses import dataclass

from lambda_artifacts.artifact_zip import UNZIPPED_LIMIT_BYTES, human_size
from lambda_deploy.artifacts import Artifact
from lambda_deploy.config import MAX_LAYERS_PER_FUNCTION, DeployConfig
from lambda_deploy.errors import PreflightError
from lambda_deploy.plan import DeployTarget


@dataclass(frozen=True)
class FunctionSize:
    name: str
    unzipped_bytes: int

    @property
    def share_of_limit(self) -> float:
        return self.unzipped_bytes / UNZIPPED_LIMIT_BYTES

    def describe(self) -> str:
        return (
            f"{self.name}: {human_size(self.unzipped_bytes)} unzipped with its layers, "
            f"{100 * self.share_of_limit:.1f}% of Lambda's {UNZIPPED_LIMIT_BYTES:,}-byte limit "
            f"({human_size(UNZIPPED_LIMIT_BYTES - self.unzipped_bytes)} headroom)"
        )


def load_artifacts(config: DeployConfig, skip_missing: bool = False) -> dict[str, Artifact]:
    """The built zips, by `layer:KEY` and `function:NAME`.

    With `skip_missing`, artifacts that were not built are left out: CI builds only what
    changed, and what it did not build stays as deployed.
    """
    wanted = {f"layer:{key}": (layer.artifact, f"layer {layer.name}") for key, layer in config.layers.items()}
    wanted.update(
        {f"function:{name}": (f.artifact, f"function {name}") for name, f in config.functions.items()}
    )
    return {
        key: Artifact(path, what)
        for key, (path, what) in wanted.items()
        if not (skip_missing and not path.exists())
    }


def check(config: DeployConfig, artifacts: dict[str, Artifact], target: DeployTarget) -> list[FunctionSize]:
    """Raises PreflightError for anything AWS would refuse, or that must not go to `target`."""
    sizes = []
    for name, function in config.functions.items():
        if len(function.layers) > MAX_LAYERS_PER_FUNCTION:
            raise PreflightError(
                f"Function {name!r} lists {len(function.layers)} layers in {config.path}; Lambda "
                f"allows at most {MAX_LAYERS_PER_FUNCTION}. Merge some of them into one layer."
            )
        keys = [f"function:{name}", *(f"layer:{key}" for key in function.layers)]
        if any(key not in artifacts for key in keys):
            continue  # not all built (--skip-missing): the deployed parts were checked when built
        parts = [artifacts[key] for key in keys]
        size = FunctionSize(name, sum(part.unzipped_bytes for part in parts))
        if size.unzipped_bytes > UNZIPPED_LIMIT_BYTES:
            largest = sorted(
                (d for part in parts for d in part.distributions), key=lambda d: -d.unzipped_bytes
            )[:8]
            listing = "\n".join(
                f"    {' '.join(filter(None, (d.name, d.version)))} {human_size(d.unzipped_bytes)}"
                for d in largest
            )
            raise PreflightError(
                f"Function {name!r} and its layers unzip to {size.unzipped_bytes:,} bytes, over "
                f"Lambda's limit of {UNZIPPED_LIMIT_BYTES:,} by "
                f"{human_size(size.unzipped_bytes - UNZIPPED_LIMIT_BYTES)}. Largest distributions:\n"
                f"{listing}\nDrop or slim a requirement (3rdparty/python/pypi-requirements.txt), "
                f"then rebuild with `./pants package ::`. Nothing was changed."
            )
        sizes.append(size)

    if not target.allows_sample_framework:
        for artifact in artifacts.values():
            if artifact.sample_builds:
                raise PreflightError(
                    f"Refusing to publish {artifact.what} ({artifact.path}) to {target.description}: it "
                    f"was built from the bundled framework sample ({', '.join(artifact.sample_builds)}), "
                    f"which may only go to the local emulator (--local, or an --endpoint-url on "
                    f"loopback). Build it from the real framework repository (see 'The framework' "
                    f"in README.md), then rerun. Nothing was changed."
                )
    return sizes
