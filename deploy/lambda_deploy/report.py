"""What a plan or an apply says: as text for people, as JSON for CI. Always in the plan's order."""

from __future__ import annotations

from typing import Any

from lambda_artifacts.size_limit import UNZIPPED_LIMIT_BYTES, human_size
from lambda_deploy.apply import ApplyResult
from lambda_deploy.artifacts import Artifact
from lambda_deploy.history import DeployRecord
from lambda_deploy.instructions import (
    CreateFunction,
    PointAlias,
    SetLayers,
    ShiftTraffic,
    UpdateCode,
    as_json,
)
from lambda_deploy.plan import FunctionStatus, LayerStatus, Plan
from lambda_deploy.preflight import FunctionSize


def _layer_action(status: LayerStatus) -> str:
    return "publish" if status.publish else "unchanged"


def _code_action(plan: Plan, status: FunctionStatus) -> str:
    steps = plan.for_function(status.function.name)
    if any(isinstance(step, CreateFunction) for step in steps):
        return "create"
    return "update" if any(isinstance(step, UpdateCode) for step in steps) else "unchanged"


def _layers_action(plan: Plan, status: FunctionStatus) -> str:
    steps = plan.for_function(status.function.name)
    return "update" if any(isinstance(step, (CreateFunction, SetLayers)) for step in steps) else "unchanged"


def _layer_line(status: LayerStatus) -> str:
    name = status.layer.name
    if status.artifact is None:
        assert status.latest is not None
        return f"{name}: not built this time; keeping version {status.latest.version}"
    if status.publish:
        latest = f"latest is version {status.latest.version}" if status.latest else "no version yet"
        return f"{name}: new bytes ({latest})"
    assert status.ref.version is not None
    return f"{name}: unchanged (version {status.ref.version.version} has the same bytes)"


def plan_text(plan: Plan, sizes: list[FunctionSize]) -> str:
    lines = [f"Target: {plan.target.description}, region {plan.config.region}.", "", "Sizes:"]
    lines += [f"  {size.describe()}" for size in sizes]
    lines += ["", "Layers:"]
    lines += [f"  {_layer_line(status)}" for status in plan.layers]
    unchanged = [s.function.name for s in plan.functions if not plan.for_function(s.function.name)]
    if unchanged:
        lines += ["", f"Functions with nothing to change: {', '.join(unchanged)}."]
    if not plan.changes_anything:
        return "\n".join([*lines, "", "Nothing to change: every artifact matches what is deployed."])
    lines += ["", f"Plan ({len(plan.instructions)} instructions):"]
    lines += [f"  {number}. {step.describe()}" for number, step in enumerate(plan.instructions, 1)]
    return "\n".join(lines)


def _alias_action(plan: Plan, status: FunctionStatus) -> str:
    steps = plan.for_function(status.function.name)
    return "moved" if any(isinstance(step, (PointAlias, ShiftTraffic)) for step in steps) else "unchanged"


def result_text(plan: Plan, result: ApplyResult) -> str:
    # What each instruction did was printed as it finished (progress.py).
    lines = ["", f"Uploaded: {human_size(result.uploaded_bytes)}.", "", "Functions, their alias and layers:"]
    for status in plan.functions:
        name = status.function.name
        version = result.alias_versions.get(name)
        alias = f"{name}:{plan.config.alias} -> version {version.version}" if version else "no alias"
        lines.append(
            f"  {name} (code {_code_action(plan, status)}, layers {_layers_action(plan, status)}, "
            f"{alias} {_alias_action(plan, status)}):"
        )
        lines += [f"    {arn}" for arn in result.function_layers[name]]
    if result.deploy_id:
        lines += ["", f"Recorded as deploy {result.deploy_id} (`./pants run deploy -- history`)."]
    return "\n".join(lines)


def history_text(records: list[DeployRecord], where: str) -> str:
    if not records:
        return f"No deploys recorded in {where}."
    lines = [f"Deploys recorded in {where}, newest first:", ""]
    for record in records:
        lines.append(
            f"{record.deploy_id}  {record.kind:<8} {record.environment}  {record.time}  {record.commit.describe()}"
        )
        changed = ", ".join(record.changed) or "nothing"
        versions = ", ".join(f"{name}:{f.version}" for name, f in sorted(record.functions.items()))
        lines.append(f"    changed: {changed}")
        lines.append(f"    {record.alias} -> {versions}")
    return "\n".join(lines)


def _artifact_fields(artifact: Artifact | None) -> dict[str, Any]:
    if artifact is None:  # not built this time (--skip-missing)
        return {"artifact": None, "sha256": None, "zipped_bytes": None, "unzipped_bytes": None}
    return {
        "artifact": str(artifact.path),
        "sha256": artifact.sha256_hex,
        "zipped_bytes": artifact.zipped_bytes,
        "unzipped_bytes": artifact.unzipped_bytes,
    }


def markdown(summary: dict[str, Any]) -> str:
    """The summary as a GitHub Actions job summary."""
    lines = [f"### Lambda deploy ({summary['command']}) to {summary['target']}, {summary['region']}", ""]
    lines += ["| Layer | Action | Version |", "| --- | --- | --- |"]
    lines += [
        f"| {layer['name']} | {layer['action']} | {layer['version'] or 'new'} |"
        for layer in summary["layers"]
    ]
    lines += ["", "| Function | Code | Layers |", "| --- | --- | --- |"]
    lines += [f"| {f['name']} | {f['code']} | {f['layers']} |" for f in summary["functions"]]
    totals = summary["summary"]
    lines += [
        "",
        f"Published: {', '.join(totals['published']) or 'nothing'}. "
        f"Updated: {', '.join(totals['updated']) or 'nothing'}. "
        f"Unchanged: {', '.join(totals['unchanged']) or 'nothing'}.",
    ]
    return "\n".join(lines) + "\n"


def _alias_version(status: FunctionStatus, result: ApplyResult | None) -> str | None:
    """After apply, the version the alias points at; for plan, where it points now."""
    if result is not None:
        version = result.alias_versions.get(status.function.name)
        return version.version if version else None
    return status.alias.function_version if status.alias else None


def summary(
    command: str, plan: Plan, sizes: list[FunctionSize], result: ApplyResult | None
) -> dict[str, Any]:
    """Machine-readable, for `command` (plan, apply or promote): the instructions, and what was
    (for plan: would be) published, updated, left unchanged."""
    layers = []
    for status in plan.layers:
        version = result.layer_versions.get(status.layer.key) if result else status.ref.version
        layers.append(
            {
                "name": status.layer.name,
                **_artifact_fields(status.artifact),
                "upload": "s3" if status.via_s3 else "direct",
                "action": _layer_action(status),
                "version": version.version if version else None,
                "arn": version.arn if version else None,
                "framework_source": status.artifact.framework_source if status.artifact else None,
            }
        )
    functions = [
        {
            "name": status.function.name,
            **_artifact_fields(status.artifact),
            "code": _code_action(plan, status),
            "layers": _layers_action(plan, status),
            "layer_arns": list(result.function_layers[status.function.name]) if result else None,
            "alias": _alias_action(plan, status),
            "alias_version": _alias_version(status, result),
        }
        for status in plan.functions
    ]
    changed_functions = [
        f["name"] for f in functions if f["code"] != "unchanged" or f["layers"] != "unchanged"
    ]
    instructions = [as_json(step) for step in plan.instructions]
    if result:
        for fields, outcome in zip(instructions, result.outcomes):
            fields["did"] = outcome.did
    return {
        "command": command,
        "deploy_id": result.deploy_id if result else plan.deploy_id,
        "target": plan.target.description,
        "region": plan.config.region,
        "instructions": instructions,
        "summary": {
            "published": [layer["name"] for layer in layers if layer["action"] == "publish"],
            "updated": changed_functions,
            "unchanged": [layer["name"] for layer in layers if layer["action"] == "unchanged"]
            + [f["name"] for f in functions if f["name"] not in changed_functions],
        },
        "uploaded_bytes": result.uploaded_bytes if result else None,
        "layers": layers,
        "functions": functions,
        "sizes": [
            {"function": s.name, "unzipped_bytes": s.unzipped_bytes, "limit_bytes": UNZIPPED_LIMIT_BYTES}
            for s in sizes
        ],
    }


def rollback_text(plan: Plan, record: DeployRecord) -> str:
    lines = [
        f"Target: {plan.target.description}, region {plan.config.region}.",
        "",
        f"Rollback to deploy {record.deploy_id} ({record.kind}, {record.time}, {record.commit.describe()}).",
    ]
    if not plan.changes_anything:
        return "\n".join(
            [
                *lines,
                "",
                f"Every {plan.config.alias} alias is on that deploy's versions already: nothing to do.",
            ]
        )
    lines += ["", f"Plan ({len(plan.instructions)} instructions; nothing is built, uploaded or published):"]
    lines += [f"  {number}. {step.describe()}" for number, step in enumerate(plan.instructions, 1)]
    return "\n".join([*lines, "", "Applied:"])


def rollback_summary(plan: Plan, record: DeployRecord, result: ApplyResult) -> dict[str, Any]:
    instructions = [as_json(step) for step in plan.instructions]
    for fields, outcome in zip(instructions, result.outcomes):
        fields["did"] = outcome.did
    return {
        "command": "rollback",
        "deploy_id": result.deploy_id,
        "rolled_back_to": record.deploy_id,
        "target": plan.target.description,
        "region": plan.config.region,
        "instructions": instructions,
        "alias_versions": {name: version.version for name, version in sorted(result.alias_versions.items())},
    }
