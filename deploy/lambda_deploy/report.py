"""What a plan or an apply says: as text for people, as JSON for CI."""

from __future__ import annotations

from typing import Any

from lambda_artifacts.artifact_zip import human_size
from lambda_deploy.apply import ApplyResult
from lambda_deploy.artifacts import Artifact
from lambda_deploy.plan import FunctionStep, LayerStep, Plan
from lambda_deploy.preflight import UNZIPPED_LIMIT_BYTES, FunctionSize


def _layer_action(step: LayerStep) -> str:
    return "publish" if step.publish else "unchanged"


def _code_action(step: FunctionStep) -> str:
    return "create" if step.create else "update" if step.update_code else "unchanged"


def _planned_layer(step: LayerStep) -> str:
    if step.publish:
        return f"{step.layer.name}:(new)"
    assert step.latest is not None
    return f"{step.layer.name}:{step.latest.version}"


def plan_text(plan: Plan, sizes: list[FunctionSize]) -> str:
    lines = [f"Target: {plan.target.description}, region {plan.config.region}.", "", "Sizes:"]
    lines += [f"  {size.describe()}" for size in sizes]
    lines += ["", "Layers:"]
    for step in plan.layers:
        if step.artifact is None:
            assert step.latest is not None
            lines.append(f"  {step.layer.name}: not built this time; keeping version {step.latest.version}")
            continue
        how = f"{human_size(step.artifact.zipped_bytes)} zip, {'via S3' if step.via_s3 else 'direct upload'}"
        if step.publish:
            latest = (
                f"latest is version {step.latest.version}, different bytes"
                if step.latest
                else "no version yet"
            )
            lines.append(f"  {step.layer.name}: publish a new version ({how}; {latest})")
        else:
            assert step.latest is not None
            lines.append(f"  {step.layer.name}: unchanged (version {step.latest.version} has the same bytes)")
    lines += ["", "Functions:"]
    for step in plan.functions:
        layers = ", ".join(_planned_layer(s) for s in step.desired_layers)
        code = {"create": "create it", "update": "update code", "unchanged": "code unchanged"}[
            _code_action(step)
        ]
        layer_change = "set layers" if step.create or step.update_layers else "layers unchanged"
        lines.append(f"  {step.function.name}: {code}; {layer_change}: [{layers}]")
    if not plan.changes_anything:
        lines += ["", "Nothing to change: every artifact matches what is deployed."]
    return "\n".join(lines)


def result_text(plan: Plan, result: ApplyResult) -> str:
    lines = ["", "Published:"]
    lines += [f"  {result.layer_versions[key].arn}" for key in result.published] or [
        "  nothing (every layer's latest version has the same bytes)"
    ]
    lines += ["", f"Uploaded: {human_size(result.uploaded_bytes)}.", "", "Functions and their layers:"]
    for function in result.functions:
        lines.append(f"  {function.name} (code {function.code}, layers {function.layers}):")
        lines += [f"    {arn}" for arn in function.layer_arns]
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


def summary(plan: Plan, sizes: list[FunctionSize], result: ApplyResult | None) -> dict[str, Any]:
    """Machine-readable: what was (for plan: would be) published, updated, left unchanged."""
    layers = []
    for step in plan.layers:
        version = result.layer_versions[step.layer.key] if result else (None if step.publish else step.latest)
        layers.append(
            {
                "name": step.layer.name,
                **_artifact_fields(step.artifact),
                "upload": "s3" if step.via_s3 else "direct",
                "action": _layer_action(step),
                "version": version.version if version else None,
                "arn": version.arn if version else None,
                "framework_source": step.artifact.framework_source if step.artifact else None,
            }
        )
    functions = []
    applied = {f.name: f for f in result.functions} if result else {}
    for step in plan.functions:
        layer_change = "update" if step.create or step.update_layers else "unchanged"
        functions.append(
            {
                "name": step.function.name,
                **_artifact_fields(step.artifact),
                "code": _code_action(step),
                "layers": layer_change,
                "layer_arns": applied[step.function.name].layer_arns if result else None,
            }
        )
    changed_functions = [
        f["name"] for f in functions if f["code"] != "unchanged" or f["layers"] != "unchanged"
    ]
    return {
        "command": "apply" if result else "plan",
        "target": plan.target.description,
        "region": plan.config.region,
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
