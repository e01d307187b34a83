"""Prune: delete the function versions and layer versions nothing needs any more.

Lambda keeps every version's code, and counts it against the account's code storage (75 GB by
default): a repository that deploys many times a day fills it in months. A version is kept if:

- an alias points at it, or sends it weighted traffic (any alias, not only ours);
- it is in one of the last N deploys of the history (`--keep N`), so that rollback can reach it;
- for a layer version: `$LATEST` of a function uses it, a kept function version was published
  with it, one of the last N deploys used it, or it is the layer's newest version (something
  outside this repository may use a layer; its newest is what a deploy of the same bytes reuses).

Everything else of the repository's functions and layers is deleted; `$LATEST` and the functions
themselves never are. Each deletion checks the function's aliases again first, so a rollback
that moved an alias meanwhile keeps its version. `--dry-run` prints the same list and deletes
nothing. A rerun after Ctrl-C or a failure finishes the job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from lambda_artifacts.size_limit import human_size
from lambda_deploy.aws import Aws
from lambda_deploy.config import DeployConfig
from lambda_deploy.history import History


@dataclass(frozen=True)
class DeleteFunctionVersion:
    function: str
    version: str
    code_size: int

    @property
    def subject(self) -> str:
        return f"{self.function}:{self.version}"

    def describe(self) -> str:
        return f"delete {self.function} version {self.version} ({human_size(self.code_size)})"


@dataclass(frozen=True)
class DeleteLayerVersion:
    layer: str
    version: int
    code_size: int

    @property
    def subject(self) -> str:
        return f"{self.layer}:{self.version}"

    def describe(self) -> str:
        return f"delete layer {self.layer} version {self.version} ({human_size(self.code_size)})"


Deletion = Union[DeleteFunctionVersion, DeleteLayerVersion]


@dataclass
class PrunePlan:
    keep: int
    deploys: list[str]  # the ids of the deploys kept, newest first
    kept: dict[str, str] = field(default_factory=dict)  # `name:version` -> why
    deletions: list[Deletion] = field(default_factory=list)

    @property
    def freed_bytes(self) -> int:
        return sum(d.code_size for d in self.deletions)


def make_prune_plan(config: DeployConfig, aws: Aws, history: History, keep: int) -> PrunePlan:
    """Reads the functions, layers, aliases and history; changes nothing."""
    records = history.newest(keep)
    plan = PrunePlan(keep, [r.deploy_id for r in records])
    functions = sorted(set(config.functions) | {name for r in records for name in r.functions})
    layers = sorted(
        {layer.name for layer in config.layers.values()} | {name for r in records for name in r.layers}
    )
    # Why each function version (by name:version) and layer version (by ARN) must stay.
    needed: dict[str, str] = {}
    for record in records:
        why = f"deploy {record.deploy_id}"
        for name, deployed in record.functions.items():
            needed.setdefault(f"{name}:{deployed.version}", why)
            for arn in deployed.layers:
                needed.setdefault(arn, why)
        for layer in record.layers.values():
            needed.setdefault(layer.arn, why)

    for name in functions:
        if aws.function(name) is None:
            continue  # deleted: nothing of it to prune
        for alias in aws.aliases(name):
            for version in alias.versions:
                needed[f"{name}:{version}"] = f"alias {alias.name}"
        for version in aws.function_versions(name):
            key = f"{name}:{version.version}"
            if version.version == "$LATEST" or key in needed:
                why = f"$LATEST of {name}" if version.version == "$LATEST" else needed[key]
                for arn in version.layer_arns:
                    needed.setdefault(arn, f"{key} ({why})" if version.version != "$LATEST" else why)
                if version.version != "$LATEST":
                    plan.kept[key] = why
            else:
                plan.deletions.append(DeleteFunctionVersion(name, version.version, version.code_size))

    for name in layers:
        versions = aws.layer_versions(name)  # newest first
        for index, version in enumerate(versions):
            key = f"{name}:{version.version}"
            if index == 0:
                plan.kept[key] = needed.get(version.arn, "the layer's newest version")
            elif version.arn in needed:
                plan.kept[key] = needed[version.arn]
            else:
                plan.deletions.append(DeleteLayerVersion(name, version.version, version.code_size))
    return plan


class PruneInterrupted(Exception):
    pass


def carry_out(plan: PrunePlan, aws: Aws, report) -> tuple[list[str], int]:
    """Deletes, in the plan's order; returns what each did, and the bytes freed."""
    did: list[str] = []
    freed = 0
    try:
        for number, deletion in enumerate(plan.deletions, 1):
            if isinstance(deletion, DeleteFunctionVersion):
                users = [a.name for a in aws.aliases(deletion.function) if deletion.version in a.versions]
                if users:
                    line = f"kept {deletion.subject}: alias {', '.join(users)} points at it now"
                else:
                    aws.delete_function_version(deletion.function, deletion.version)
                    freed += deletion.code_size
                    line = f"deleted {deletion.function} version {deletion.version}"
            else:
                aws.delete_layer_version(deletion.layer, deletion.version)
                freed += deletion.code_size
                line = f"deleted layer {deletion.layer} version {deletion.version}"
            did.append(line)
            report(f"  {number}. {line}")
    except KeyboardInterrupt:
        raise PruneInterrupted(
            f"Interrupted: deleted {len(did)} of {len(plan.deletions)} ({human_size(freed)} freed); "
            f"rerun prune to finish."
        )
    return did, freed


def prune_text(plan: PrunePlan, where: str) -> str:
    deploys = ", ".join(plan.deploys) or "none recorded"
    lines = [f"Prune in {where}, keeping the last {plan.keep} deploy(s): {deploys}.", "", "Kept:"]
    lines += [f"  {key}: {why}" for key, why in sorted(plan.kept.items())] or ["  nothing"]
    if not plan.deletions:
        return "\n".join([*lines, "", "Nothing to delete."])
    lines += ["", f"Delete ({len(plan.deletions)}, {human_size(plan.freed_bytes)}):"]
    lines += [f"  {number}. {d.describe()}" for number, d in enumerate(plan.deletions, 1)]
    return "\n".join(lines)


def prune_summary(plan: PrunePlan, did: list[str] | None, freed: int | None) -> dict[str, Any]:
    return {
        "command": "prune",
        "keep": plan.keep,
        "deploys_kept": plan.deploys,
        "kept": plan.kept,
        "deletions": [
            {
                "subject": d.subject,
                "code_size": d.code_size,
                **({"did": did[n]} if did and n < len(did) else {}),
            }
            for n, d in enumerate(plan.deletions)
        ],
        "planned_bytes": plan.freed_bytes,
        "freed_bytes": freed,
        "dry_run": did is None,
    }
