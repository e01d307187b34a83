"""Promote: deploy to one environment exactly the bytes another environment's last deploy
recorded. The builds are byte-reproducible, so "the same commit" is checkable as "the same
SHA-256 for every artifact": what reaches prod is what staging ran, or nothing is.
"""

from __future__ import annotations

from lambda_deploy.config import DeployConfig
from lambda_deploy.errors import DeployError
from lambda_deploy.history import DeployRecord


class PromoteError(DeployError):
    pass


def check_promotable(record: DeployRecord, config: DeployConfig, source: str) -> None:
    """Every artifact the target environment would get must be in `record`, with its bytes."""
    built = {layer.key: layer.sha256 for layer in config.layers.values() if layer.artifact is not None}
    built.update((f.address, f.sha256) for f in config.functions.values() if f.artifact is not None)
    problems = []
    for address, sha256 in sorted(built.items()):
        recorded = record.artifacts.get(address)
        if recorded is None:
            problems.append(f"{address} is not in it")
        elif recorded != sha256:
            problems.append(f"{address} is {sha256[:12]}... in dist/, {recorded[:12]}... there")
    if problems:
        raise PromoteError(
            f"Refusing to promote {source}'s deploy {record.deploy_id} ({record.commit.describe()}) "
            f"to {config.environment}: dist/ holds other bytes than it recorded: {'; '.join(problems)}. "
            f"Check out that commit and build it (`./pants package ::`: the same inputs give the same "
            f"bytes), then promote again. Nothing was changed."
        )
