"""`prune`: deletes the versions nothing needs, never what an alias or `$LATEST` uses; against
moto's server over HTTP behind the Lambda-like front."""

from __future__ import annotations

from lambda_deploy.aws import Aws
from lambda_deploy.config import DEFAULT_ALIAS
from lambda_deploy.conftest import FrontedEmulator, Workspace, add_comment, with_infrastructure


def versions(aws: Aws, name: str) -> list[str]:
    return [v.version for v in aws.function_versions(name) if v.version != "$LATEST"]


def layer_versions(aws: Aws, name: str) -> list[int]:
    return sorted(v.version for v in aws.layer_versions(name))


def deploy_edits(workspace: Workspace, emulator: FrontedEmulator, count: int) -> list[str]:
    """A first deploy, then `count` deploys of a framework bump each: every function gets a
    version per deploy, and the framework layer one too."""
    ids = [workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url).summary["deploy_id"]]
    for _ in range(count):
        workspace.edit("framework", "python/test_common_framework/utils.py", add_comment)
        ids.append(workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url).summary["deploy_id"])
    return ids


@with_infrastructure
def test_prune_keeps_the_last_deploys_versions_and_deletes_the_rest_dry_run_first(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    ids = deploy_edits(workspace, emulator, 3)  # versions 1-4 of each function, framework 1-4
    assert versions(aws, "thumbnail") == ["1", "2", "3", "4"]

    dry = workspace.deploy("prune", "--keep", "2", "--dry-run", "--endpoint-url", emulator.endpoint_url)

    assert dry.exit_code == 0, dry.output
    assert versions(aws, "thumbnail") == ["1", "2", "3", "4"] and layer_versions(aws, "test-framework") == [
        1,
        2,
        3,
        4,
    ]
    planned = sorted(d["subject"] for d in dry.summary["deletions"])
    assert planned == [
        "api-handler:1",
        "api-handler:2",
        "test-framework:1",
        "test-framework:2",
        "thumbnail:1",
        "thumbnail:2",
    ]
    assert "Dry run: nothing was deleted." in dry.output

    run = workspace.deploy("prune", "--keep", "2", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    assert sorted(d["subject"] for d in run.summary["deletions"]) == planned
    assert run.summary["freed_bytes"] == dry.summary["planned_bytes"] > 0
    assert versions(aws, "thumbnail") == ["3", "4"] and versions(aws, "api-handler") == ["3", "4"]
    assert layer_versions(aws, "test-framework") == [3, 4] and layer_versions(aws, "test-pypi") == [1]
    # What the kept deploys need still works: rollback to the one before the live one.
    back = workspace.deploy("rollback", "--endpoint-url", emulator.endpoint_url)
    assert back.exit_code == 0 and back.summary["rolled_back_to"] == ids[2], back.output
    # ... and one further back is refused, naming the version pruned.
    refused = workspace.deploy("rollback", "--to", ids[1], "--endpoint-url", emulator.endpoint_url)
    assert refused.exit_code == 1 and "api-handler version 2" in refused.output, refused.output
    # A second prune has nothing left to do.
    again = workspace.deploy("prune", "--keep", "2", "--endpoint-url", emulator.endpoint_url)
    assert again.exit_code == 0 and again.summary["deletions"] == [], again.output


@with_infrastructure
def test_prune_never_deletes_what_an_alias_or_latest_uses_whatever_keep_says(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    deploy_edits(workspace, emulator, 3)
    framework = {v.version: v.arn for v in aws.layer_versions("test-framework")}
    pypi = aws.layer_versions("test-pypi")[0].arn
    # Someone else's alias on version 1, with weighted traffic to version 2; $LATEST of
    # api-handler set by hand to framework version 1.
    aws.lambda_client.create_alias(
        FunctionName="thumbnail",
        Name="manual",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
    )
    aws.lambda_client.update_function_configuration(FunctionName="api-handler", Layers=[pypi, framework[1]])
    aws.wait_until_updated("api-handler")

    run = workspace.deploy("prune", "--keep", "0", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    assert versions(aws, "thumbnail") == ["1", "2", "4"]  # alias manual (and its weight), alias live
    assert versions(aws, "api-handler") == ["4"]  # alias live
    # Framework 1: api-handler's $LATEST and thumbnail:1; 2: thumbnail:2; 4: both aliases live.
    assert layer_versions(aws, "test-framework") == [1, 2, 4]
    assert run.summary["kept"]["thumbnail:1"] == "alias manual"
    assert run.summary["kept"]["thumbnail:4"] == f"alias {DEFAULT_ALIAS}"
    assert run.summary["kept"]["test-framework:1"] == "$LATEST of api-handler"
