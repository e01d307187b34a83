"""`rollback`: every alias back to a recorded deploy's versions, nothing built, uploaded or
published; against moto's server over HTTP behind the Lambda-like front."""

from __future__ import annotations

from doubles.lambda_front import LambdaFront
from lambda_deploy.aws import Aws
from lambda_deploy.config import DEFAULT_ALIAS
from lambda_deploy.conftest import (
    FUNCTIONS,
    FrontedEmulator,
    Workspace,
    add_comment,
    start_cli,
    with_infrastructure,
)
from lambda_deploy.recovery_test import start_apply

WRITES = ("UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion", "PublishLayerVersion")


def alias_versions(aws: Aws) -> dict[str, str]:
    return {
        name: aws.lambda_client.get_alias(FunctionName=name, Name=DEFAULT_ALIAS)["FunctionVersion"]
        for name in FUNCTIONS
    }


def deploy_three_times(workspace: Workspace, emulator: FrontedEmulator) -> list[str]:
    """Deploys, then a thumbnail edit, then a framework bump: three recorded deploys, oldest first."""
    ids = [workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url).summary["deploy_id"]]
    workspace.edit("thumbnail", "thumbnail/handler.py", add_comment)
    ids.append(workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url).summary["deploy_id"])
    workspace.edit("framework", "python/test_common_framework/utils.py", add_comment)
    ids.append(workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url).summary["deploy_id"])
    return ids


@with_infrastructure
def test_rollback_moves_every_alias_to_the_previous_deploys_versions_and_publishes_nothing(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    ids = deploy_three_times(workspace, emulator)
    assert alias_versions(aws) == {"api-handler": "2", "thumbnail": "3"}
    writes = {op: emulator.front.calls[op] for op in WRITES}
    latest = {name: aws.function(name).code_sha256 for name in FUNCTIONS}

    run = workspace.deploy("rollback", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    assert run.summary["rolled_back_to"] == ids[1]
    assert alias_versions(aws) == {"api-handler": "1", "thumbnail": "2"}
    assert {op: emulator.front.calls[op] for op in WRITES} == writes  # nothing built or published
    assert {name: aws.function(name).code_sha256 for name in FUNCTIONS} == latest  # $LATEST untouched
    history = workspace.deploy("history", "--endpoint-url", emulator.endpoint_url).summary
    assert [r["deploy_id"] for r in history] == [run.summary["deploy_id"], *reversed(ids)]
    assert history[0]["kind"] == "rollback" and history[0]["rolled_back_to"] == ids[1]
    assert history[0]["artifacts"] == history[2]["artifacts"]  # the restored deploy's bytes are live
    assert {n: f["version"] for n, f in history[0]["functions"].items()} == {
        "api-handler": "1",
        "thumbnail": "2",
    }


@with_infrastructure
def test_each_rollback_undoes_one_more_deploy_and_to_names_one(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    ids = deploy_three_times(workspace, emulator)

    workspace.deploy("rollback", "--endpoint-url", emulator.endpoint_url)
    second = workspace.deploy("rollback", "--endpoint-url", emulator.endpoint_url)

    assert second.exit_code == 0 and second.summary["rolled_back_to"] == ids[0], second.output
    assert alias_versions(aws) == {"api-handler": "1", "thumbnail": "1"}
    third = workspace.deploy("rollback", "--endpoint-url", emulator.endpoint_url)
    assert third.exit_code == 1
    assert (
        f"Deploy {ids[0]} is the oldest recorded" in third.output and "Nothing was changed." in third.output
    )

    forward = workspace.deploy("rollback", "--to", ids[2], "--endpoint-url", emulator.endpoint_url)

    assert forward.exit_code == 0, forward.output
    assert alias_versions(aws) == {"api-handler": "2", "thumbnail": "3"}
    again = workspace.deploy("rollback", "--to", ids[2], "--endpoint-url", emulator.endpoint_url)
    assert again.exit_code == 0 and again.summary["instructions"] == [] and again.summary["deploy_id"] is None
    # The next apply of the same build changes nothing: AWS matches dist/ again.
    assert (
        workspace.deploy("plan", "--detailed-exitcode", "--endpoint-url", emulator.endpoint_url).exit_code
        == 0
    )


@with_infrastructure
def test_a_rollback_to_a_pruned_version_is_refused_naming_it_and_changes_nothing(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    ids = deploy_three_times(workspace, emulator)
    aws.lambda_client.delete_function(FunctionName="thumbnail", Qualifier="1")
    before = alias_versions(aws)

    run = workspace.deploy("rollback", "--to", ids[0], "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    assert (
        f"Cannot roll back to deploy {ids[0]}: it needs thumbnail version 1, which no longer exists"
        in run.output
    )
    assert "Nothing was changed." in run.output
    assert alias_versions(aws) == before
    assert len(workspace.deploy("history", "--endpoint-url", emulator.endpoint_url).summary) == 3


@with_infrastructure
def test_rollback_without_history_or_to_an_unknown_deploy_says_what_to_do(
    workspace: Workspace, emulator: FrontedEmulator
) -> None:
    empty = workspace.deploy("rollback", "--endpoint-url", emulator.endpoint_url)
    assert empty.exit_code == 1 and "there is nothing to roll back to" in empty.output, empty.output

    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    unknown = workspace.deploy(
        "rollback", "--to", "20200101T000000Z-abcdef", "--endpoint-url", emulator.endpoint_url
    )
    assert unknown.exit_code == 1
    assert "There is no deploy '20200101T000000Z-abcdef'" in unknown.output
    assert "./pants run deploy -- history" in unknown.output


@with_infrastructure
def test_an_apply_racing_a_rollback_both_finish_with_no_duplicate_version_or_stranded_alias(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    deploy_three_times(workspace, emulator)  # thumbnail 1-3, api-handler 1-2
    workspace.edit("thumbnail", "thumbnail/handler.py", add_comment)  # a fourth build, not deployed

    # A slow link, so that the two overlap: the apply publishes thumbnail:4 while the rollback
    # moves every alias back to the second deploy's versions.
    with LambdaFront(emulator.endpoint_url, latency=0.1) as slow:
        racers = [
            start_apply(workspace, slow.url),
            start_cli(workspace, "rollback", "--endpoint-url", slow.url),
        ]
        outputs = [racer.communicate(timeout=300) for racer in racers]

    assert [r.returncode for r in racers] == [0, 0], outputs
    assert [v.version for v in aws.function_versions("thumbnail")] == ["$LATEST", "1", "2", "3", "4"]
    assert [v.version for v in aws.function_versions("api-handler")] == ["$LATEST", "1", "2"]
    for name, allowed in (("thumbnail", {"2", "4"}), ("api-handler", {"1", "2"})):
        found = aws.lambda_client.get_alias(FunctionName=name, Name=DEFAULT_ALIAS)
        version, weights = found["FunctionVersion"], (found.get("RoutingConfig") or {}).get(
            "AdditionalVersionWeights"
        )
        assert version in allowed and not weights, (name, version, weights)
    kinds = sorted(
        r["kind"] for r in workspace.deploy("history", "--endpoint-url", emulator.endpoint_url).summary[:2]
    )
    assert kinds == ["apply", "rollback"]
    # Whichever finished last, the next apply of the build brings every alias to it, publishing nothing.
    final = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    assert final.exit_code == 0, final.output
    assert alias_versions(aws) == {"api-handler": "2", "thumbnail": "4"}
    assert [v.version for v in aws.function_versions("thumbnail")] == ["$LATEST", "1", "2", "3", "4"]
