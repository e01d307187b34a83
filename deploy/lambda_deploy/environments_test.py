"""Environments (`--env`), the expected account, and `promote`; against moto's server over HTTP
behind the Lambda-like front, with the artifacts Pants built."""

from __future__ import annotations

import pytest
from lambda_deploy.artifacts import Artifact
from lambda_deploy.aws import Aws
from lambda_deploy.conftest import (
    BUCKET,
    FUNCTIONS,
    FrontedEmulator,
    Workspace,
    add_comment,
    create_infrastructure,
)

MOTO_ACCOUNT = "123456789012"  # the account moto's server answers for
ENVIRONMENTS = {"staging": "staging-", "prod": "prod-"}


def environments(account_id: str = MOTO_ACCOUNT) -> str:
    return "".join(
        f'[environments.{name}]\nfunction_prefix = "{prefix}"\nlayer_prefix = "{prefix}"\n'
        f'account_id = "{account_id}"\nalias = "{name}-live"\n'
        for name, prefix in ENVIRONMENTS.items()
    )


@pytest.fixture
def staged(workspace: Workspace, aws: Aws) -> Workspace:
    """deploy.toml with a staging and a prod environment, and each one's functions created."""
    workspace.write_config(environments())
    create_infrastructure(aws, BUCKET, tuple(f"{p}{n}" for p in ENVIRONMENTS.values() for n in FUNCTIONS))
    return workspace


def code(aws: Aws, name: str, qualifier: str | None = None) -> str:
    extra = {"Qualifier": qualifier} if qualifier else {}
    return aws.lambda_client.get_function_configuration(FunctionName=name, **extra)["CodeSha256"]


def test_an_environment_deploys_under_its_own_names_alias_and_history(
    staged: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    run = staged.deploy("apply", "--env", "staging", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    for name in FUNCTIONS:
        assert (
            code(aws, f"staging-{name}", "staging-live") == Artifact(staged.artifacts[name], name).code_sha256
        )
        assert code(aws, f"prod-{name}") != code(aws, f"staging-{name}")  # prod untouched
    assert [v.version for v in aws.layer_versions("staging-framework")] == [1]
    assert aws.layer_versions("prod-framework") == []
    staging = staged.deploy("history", "--env", "staging", "--endpoint-url", emulator.endpoint_url).summary
    prod = staged.deploy("history", "--env", "prod", "--endpoint-url", emulator.endpoint_url).summary
    assert [r["deploy_id"] for r in staging] == [run.summary["deploy_id"]] and prod == []
    assert staging[0]["environment"] == "staging" and staging[0]["alias"] == "staging-live"


def test_an_unknown_environment_names_deploy_toml_and_the_ones_it_has(
    staged: Workspace, emulator: FrontedEmulator
) -> None:
    run = staged.deploy("plan", "--env", "qa", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    assert (
        f"{staged.config} has no [environments.qa] (--env qa); its environments: prod, staging" in run.output
    )


def test_the_wrong_account_is_refused_before_any_change(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    workspace.write_config(environments(account_id="111111111111"))
    create_infrastructure(aws, BUCKET, tuple(f"staging-{n}" for n in FUNCTIONS))
    before = {name: code(aws, f"staging-{name}") for name in FUNCTIONS}

    run = workspace.deploy("apply", "--env", "staging", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    assert (
        "The credentials are for AWS account 123456789012, but the environment 'staging' is account 111111111111"
        in run.output
    )
    assert "Nothing was changed." in run.output
    assert {name: code(aws, f"staging-{name}") for name in FUNCTIONS} == before
    assert aws.layer_versions("staging-framework") == []


def test_promote_deploys_to_prod_the_very_bytes_staging_recorded(
    staged: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    staging = staged.deploy("apply", "--env", "staging", "--endpoint-url", emulator.endpoint_url)

    run = staged.deploy(
        "promote", "--from", "staging", "--to", "prod", "--endpoint-url", emulator.endpoint_url
    )

    assert run.exit_code == 0, run.output
    assert run.summary["command"] == "promote"
    for name in FUNCTIONS:
        assert code(aws, f"prod-{name}", "prod-live") == code(aws, f"staging-{name}", "staging-live")
    (record,) = staged.deploy("history", "--env", "prod", "--endpoint-url", emulator.endpoint_url).summary
    assert record["kind"] == "promote"
    assert record["promoted_from"] == f"staging:{staging.summary['deploy_id']}"
    staging_record = staged.deploy(
        "history", "--env", "staging", "--endpoint-url", emulator.endpoint_url
    ).summary[0]
    assert record["artifacts"] == staging_record["artifacts"]


def test_promote_refuses_when_dist_holds_other_bytes_than_staging_ran(
    staged: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    staged.deploy("apply", "--env", "staging", "--endpoint-url", emulator.endpoint_url)
    staged.edit("thumbnail", "thumbnail/handler.py", add_comment)  # built since: not what staging ran
    before = {name: code(aws, f"prod-{name}") for name in FUNCTIONS}

    run = staged.deploy(
        "promote", "--from", "staging", "--to", "prod", "--endpoint-url", emulator.endpoint_url
    )

    assert run.exit_code == 1
    assert "Refusing to promote staging's deploy" in run.output
    assert "src/python/thumbnail:lambda is " in run.output and "Nothing was changed." in run.output
    assert {name: code(aws, f"prod-{name}") for name in FUNCTIONS} == before
    assert aws.layer_versions("prod-framework") == []
