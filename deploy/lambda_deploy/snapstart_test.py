"""SnapStart per function: published versions get it, plan shows it, python3.11 is refused.

The python3.12 function here is a small synthetic zip (this machine's artifacts are built for the
root BUILD's python3.11, which SnapStart does not support); its plan and apply are the real ones,
against moto's server behind the Lambda-like front, which models SnapStart as Lambda has it."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path

from lambda_artifacts.metadata import AWS_HANDLER, HANDLER_MODULE
from lambda_deploy.apply import Executor
from lambda_deploy.artifacts import Artifact
from lambda_deploy.aws import Aws
from lambda_deploy.config import DEFAULT_ALIAS, DeployConfig, FunctionConfig
from lambda_deploy.conftest import BUCKET, REGION, FrontedEmulator, Workspace, create_infrastructure
from lambda_deploy.plan import DeployTarget, make_plan

NAME = "snappy"


def python312_function(tmp_path: Path, snapstart: bool | None) -> tuple[DeployConfig, dict[str, Artifact]]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        # A fixed timestamp: the same bytes every time, as Pants builds them.
        member = zipfile.ZipInfo(f"{HANDLER_MODULE}.py", (1980, 1, 1, 0, 0, 0))
        zf.writestr(member, "def handler(event, context):\n    return 'snap'\n")
    zip_path = tmp_path / "snappy.zip"
    zip_path.write_bytes(buffer.getvalue())
    function = FunctionConfig(
        NAME,
        "src/python/snappy:lambda",
        zip_path,
        None,
        (),
        "python3.12",
        "x86_64",
        AWS_HANDLER,
        128,
        3,
        snapstart=snapstart,
    )
    config = DeployConfig(tmp_path / "deploy.toml", REGION, BUCKET, "artifacts/", {}, {NAME: function})
    return config, {f"function:{NAME}": Artifact(zip_path, f"function {NAME}", function.address)}


def apply(config: DeployConfig, artifacts: dict[str, Artifact], aws: Aws, url: str) -> list[str]:
    plan = make_plan(config, artifacts, aws, DeployTarget("the front", url, creates_missing=False))
    Executor(plan, aws).run()
    return [step.describe() for step in plan.instructions]


def snapstart(aws: Aws, qualifier: str) -> dict[str, str]:
    return aws.lambda_client.get_function_configuration(FunctionName=NAME, Qualifier=qualifier)["SnapStart"]


def test_snapstart_is_turned_on_before_the_version_that_gets_it_and_shown_in_the_plan(
    tmp_path: Path, emulator: FrontedEmulator, aws: Aws
) -> None:
    create_infrastructure(aws, BUCKET, (NAME,), ("python3.12", "x86_64"))
    config, artifacts = python312_function(tmp_path, snapstart=None)
    apply(config, artifacts, aws, emulator.endpoint_url)
    assert snapstart(aws, "1") == {"ApplyOn": "None", "OptimizationStatus": "Off"}

    steps = apply(*python312_function(tmp_path, snapstart=True), aws, emulator.endpoint_url)

    assert steps[:3] == [
        f"turn SnapStart on for the published versions of {NAME}",
        f"publish a version of {NAME} (code {artifacts[f'function:{NAME}'].code_sha256[:12]}...)",
        f"point {NAME}:{DEFAULT_ALIAS} at the new version (now version 1)",
    ]
    alias = aws.lambda_client.get_alias(FunctionName=NAME, Name=DEFAULT_ALIAS)["FunctionVersion"]
    assert alias == "2" and snapstart(aws, "2") == {
        "ApplyOn": "PublishedVersions",
        "OptimizationStatus": "On",
    }
    assert snapstart(aws, "1")["ApplyOn"] == "None"  # an older version keeps what it was published with
    # Unchanged since: nothing to do.
    assert apply(*python312_function(tmp_path, snapstart=True), aws, emulator.endpoint_url) == []
    # Left unset, deploy.toml does not own it: nothing changes either.
    assert apply(*python312_function(tmp_path, snapstart=None), aws, emulator.endpoint_url) == []


def test_snapstart_on_python311_is_refused_naming_the_runtime(
    workspace: Workspace, emulator: FrontedEmulator
) -> None:
    workspace.write_config('[functions."src/python/thumbnail:lambda"]\nsnapstart = true\n')

    run = workspace.deploy("plan", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    assert "snapstart = true, but src/python/thumbnail:lambda is built for python3.11" in run.output
    assert "Lambda offers SnapStart for Python from python3.12 on" in run.output


def test_lambda_itself_refuses_snapstart_below_python312(
    tmp_path: Path, emulator: FrontedEmulator, aws: Aws
) -> None:
    # The front models Lambda here, so the tool's own check is not the only guard tested.
    create_infrastructure(aws, BUCKET, (NAME,), ("python3.11", "x86_64"))
    config, artifacts = python312_function(tmp_path, snapstart=True)
    config = replace(config, functions={NAME: replace(config.functions[NAME], runtime="python3.11")})
    try:
        apply(config, artifacts, aws, emulator.endpoint_url)
    except aws.lambda_client.exceptions.InvalidParameterValueException as e:
        assert "python3.11 does not support SnapStart" in str(e)
    else:
        raise AssertionError("Lambda took SnapStart on python3.11")
