"""Versions, the alias, the deploy history and `plan --detailed-exitcode`, against moto's server
over HTTP behind the Lambda-like front, with the artifacts Pants built."""

from __future__ import annotations

import json

import pytest
from lambda_deploy.artifacts import Artifact
from lambda_deploy.aws import Aws
from lambda_deploy.config import DEFAULT_ALIAS, DEFAULT_ENVIRONMENT, DEFAULT_HISTORY_PREFIX
from lambda_deploy.conftest import (
    BUCKET,
    FUNCTIONS,
    FrontedEmulator,
    Workspace,
    add_comment,
    with_infrastructure,
)


def alias_version(aws: Aws, name: str) -> str:
    return aws.lambda_client.get_alias(FunctionName=name, Name=DEFAULT_ALIAS)["FunctionVersion"]


def published(aws: Aws, name: str) -> list[str]:
    return [v.version for v in aws.function_versions(name) if v.version != "$LATEST"]


def version_code(aws: Aws, name: str, version: str) -> str:
    return aws.lambda_client.get_function_configuration(FunctionName=name, Qualifier=version)["CodeSha256"]


def history_keys(aws: Aws) -> list[str]:
    return aws.list_keys(BUCKET, DEFAULT_HISTORY_PREFIX)


@with_infrastructure
def test_a_deploy_publishes_a_version_of_each_function_moves_the_alias_and_records_itself(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")  # as on CI

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    for name in FUNCTIONS:
        code = Artifact(workspace.artifacts[name], name).code_sha256
        assert published(aws, name) == ["1"]
        assert alias_version(aws, name) == "1"
        assert version_code(aws, name, "1") == code
        assert aws.function(name).code_sha256 == code  # $LATEST matches the commit too
    (key,) = history_keys(aws)
    record = json.loads(aws.read_object(BUCKET, key))
    assert key == f"{DEFAULT_HISTORY_PREFIX}{DEFAULT_ENVIRONMENT}/{run.summary['deploy_id']}.json"
    assert {name: f["version"] for name, f in record["functions"].items()} == {
        name: "1" for name in FUNCTIONS
    }
    assert record["functions"]["thumbnail"]["layers"] == [
        aws.layer_versions(layer)[0].arn for layer in ("test-pypi", "test-framework")
    ]
    assert sorted(record["changed"]) == sorted([*FUNCTIONS, "test-framework", "test-pypi"])
    assert record["artifacts"] == {
        workspace.metadata(key)["address"]: workspace.metadata(key)["sha256"] for key in workspace.artifacts
    }
    assert record["commit"] == {"sha": "0123456789abcdef0123456789abcdef01234567", "dirty": False}

    history = workspace.deploy("history", "--endpoint-url", emulator.endpoint_url)
    assert history.exit_code == 0, history.output
    assert [r["deploy_id"] for r in history.summary] == [run.summary["deploy_id"]]


@with_infrastructure
def test_an_unchanged_deploy_publishes_no_version_records_nothing_and_plan_exits_0(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    plan = workspace.deploy("plan", "--detailed-exitcode", "--endpoint-url", emulator.endpoint_url)
    again = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert plan.exit_code == 0, plan.output
    assert plan.summary["instructions"] == [] and plan.summary["deploy_id"] is None
    assert again.exit_code == 0 and again.summary["instructions"] == [], again.output
    assert {name: published(aws, name) for name in FUNCTIONS} == {name: ["1"] for name in FUNCTIONS}
    assert len(history_keys(aws)) == 1


@with_infrastructure
def test_an_edit_to_one_function_versions_only_it_and_plan_says_so_with_exit_code_2(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    first = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    workspace.edit("thumbnail", "thumbnail/handler.py", add_comment)

    plan = workspace.deploy("plan", "--detailed-exitcode", "--endpoint-url", emulator.endpoint_url)
    assert plan.exit_code == 2, plan.output
    assert alias_version(aws, "thumbnail") == "1"  # plan changed nothing
    assert [(i["action"], i["subject"]) for i in plan.summary["instructions"]] == [
        ("update_code", "thumbnail"),
        ("publish_version", "thumbnail"),
        ("point_alias", "thumbnail"),
        ("record_deploy", plan.summary["deploy_id"]),
    ]

    second = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert second.exit_code == 0, second.output
    assert published(aws, "thumbnail") == ["1", "2"] and alias_version(aws, "thumbnail") == "2"
    assert version_code(aws, "thumbnail", "2") == Artifact(workspace.artifacts["thumbnail"], "t").code_sha256
    assert published(aws, "api-handler") == ["1"] and alias_version(aws, "api-handler") == "1"
    history = workspace.deploy("history", "--endpoint-url", emulator.endpoint_url).summary
    assert [r["deploy_id"] for r in history] == [second.summary["deploy_id"], first.summary["deploy_id"]]
    assert history[0]["changed"] == ["thumbnail"]
    assert {n: f["version"] for n, f in history[0]["functions"].items()} == {
        "api-handler": "1",
        "thumbnail": "2",
    }


@with_infrastructure
def test_a_layer_bump_versions_every_function_that_uses_it(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    workspace.edit("framework", "python/test_common_framework/utils.py", add_comment)

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    for name in FUNCTIONS:
        assert alias_version(aws, name) == "2"
        layers = aws.lambda_client.get_function_configuration(FunctionName=name, Qualifier="2")["Layers"]
        assert [layer["Arn"].rsplit(":", 2)[1:] for layer in layers] == [
            ["test-pypi", "1"],
            ["test-framework", "2"],
        ]


@with_infrastructure
def test_a_setting_changed_by_infrastructure_code_gets_a_version_and_the_alias(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    # Versions freeze the configuration too: an alias on a version with the old memory size
    # would serve it for ever.
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    aws.lambda_client.update_function_configuration(FunctionName="api-handler", MemorySize=1024)
    aws.wait_until_updated("api-handler")

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    assert alias_version(aws, "api-handler") == "2" and alias_version(aws, "thumbnail") == "1"
    memory = aws.lambda_client.get_function_configuration(FunctionName="api-handler", Qualifier="2")[
        "MemorySize"
    ]
    assert memory == 1024


@with_infrastructure
def test_a_deploy_cut_off_after_updating_the_code_is_versioned_by_the_next(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    workspace.edit("api-handler", "api_handler/handler.py", add_comment)
    # What an apply that died right after UpdateFunctionCode leaves: $LATEST new, no version of it.
    state = aws.function("api-handler")
    aws.lambda_client.update_function_code(
        FunctionName="api-handler",
        ZipFile=workspace.artifacts["api-handler"].read_bytes(),
        RevisionId=state.revision_id,
    )
    aws.wait_until_updated("api-handler")

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    assert [(i["action"], i["subject"]) for i in run.summary["instructions"]][:2] == [
        ("publish_version", "api-handler"),
        ("point_alias", "api-handler"),
    ]
    assert alias_version(aws, "api-handler") == "2"
    assert (
        version_code(aws, "api-handler", "2") == Artifact(workspace.artifacts["api-handler"], "a").code_sha256
    )


@with_infrastructure
def test_an_alias_someone_moved_is_moved_back_to_the_version_that_holds_latest(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    workspace.edit("api-handler", "api_handler/handler.py", add_comment)
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    aws.lambda_client.update_alias(FunctionName="api-handler", Name=DEFAULT_ALIAS, FunctionVersion="1")

    plan = workspace.deploy("plan", "--detailed-exitcode", "--endpoint-url", emulator.endpoint_url)
    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert plan.exit_code == 2, plan.output  # drift
    assert "point api-handler:live at version 2 (now version 1)" in plan.output
    assert run.exit_code == 0 and alias_version(aws, "api-handler") == "2", run.output
    assert published(aws, "api-handler") == ["1", "2"]  # nothing new published


def test_plan_with_detailed_exitcode_exits_1_on_an_error(
    workspace: Workspace, emulator: FrontedEmulator
) -> None:
    # No infrastructure: outside the local emulator the functions must exist.
    run = workspace.deploy("plan", "--detailed-exitcode", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    assert "does not exist" in run.output


def test_an_alias_name_lambda_would_refuse_names_deploy_toml(
    workspace: Workspace, emulator: FrontedEmulator
) -> None:
    workspace.config.write_text('alias = "42"\n' + workspace.config.read_text())

    run = workspace.deploy("plan", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    assert f"{workspace.config}: `alias` is '42'" in run.output
