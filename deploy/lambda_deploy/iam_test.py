"""deploy/iam-policy.json: what the deploy role needs, no more, for the functions in the BUILD files.

moto does not enforce IAM on Lambda, so every deploy run in these tests is watched instead
(conftest.py's `aws_calls`): each call it makes is turned into the permissions AWS checks for
it (iam_rules.py) and must be granted by the policy `iam-policy` gives for that run.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from lambda_deploy.cli import main
from lambda_deploy.config import DEFAULT_HISTORY_PREFIX
from lambda_deploy.conftest import (
    BUILT_DIST,
    SMALL_DISTRIBUTION,
    AwsCalls,
    FrontedEmulator,
    Workspace,
    add_comment,
)
from lambda_deploy.iam_rules import grants_used, statements

COMMITTED_POLICY = Path("deploy/iam-policy.json")
REPOSITORY_CONFIG = Path("deploy/deploy.toml")


def iam_policy(config: Path, dist: Path) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        code = main(["iam-policy", "--config", str(config), "--dist", str(dist)])
    assert code == 0, stderr.getvalue()
    return stdout.getvalue()


def test_the_committed_policy_is_the_one_for_the_build_files_and_deploy_toml() -> None:
    # The artifacts' metadata as built lists every function in the BUILD files and the layers
    # they use. (A Workspace's lists only the functions built for these tests.)
    generated = iam_policy(REPOSITORY_CONFIG, BUILT_DIST)
    assert COMMITTED_POLICY.read_text() == generated, (
        f"{COMMITTED_POLICY} is not the policy for the functions and layers in the BUILD files and "
        f"{REPOSITORY_CONFIG}. Regenerate it: ./pants package :: && "
        f"./pants run deploy -- iam-policy > {COMMITTED_POLICY}"
    )


def test_the_policy_names_each_function_layer_and_the_bucket_and_nothing_else(workspace: Workspace) -> None:
    policy = json.loads(iam_policy(workspace.config, workspace.dist))
    resources = {resource for statement in statements(policy) for resource in statement["Resource"]}
    functions = {r.split(":function:")[1].removesuffix(":*") for r in resources if ":function:" in r}
    layers = {r.split(":layer:")[1].removesuffix(":*") for r in resources if ":layer:" in r}
    assert functions == {key for key in workspace.artifacts if workspace.metadata(key)["kind"] == "function"}
    assert layers == {
        f"test-{key}" for key in workspace.artifacts if workspace.metadata(key)["kind"] == "layer"
    }
    # Wildcards only where AWS puts something the tool cannot know: the account, a function's
    # and a layer's version numbers, the digests that name the artifacts in the bucket, and the
    # ids of the deploys in the history.
    assert {r.replace(":*:", ":ACCOUNT:") for r in resources if "*" in r.replace(":*:", ":ACCOUNT:")} == {
        *(f"arn:aws:lambda:eu-west-1:ACCOUNT:layer:{name}:*" for name in layers),
        *(f"arn:aws:lambda:eu-west-1:ACCOUNT:function:{name}:*" for name in functions),
        "arn:aws:s3:::test-artifacts/artifacts/*",
        f"arn:aws:s3:::test-artifacts/{DEFAULT_HISTORY_PREFIX}*",
    }


@pytest.mark.usefixtures("infrastructure")
def test_a_first_a_no_op_and_a_changing_deploy_history_and_prune_use_every_grant_and_need_nothing_else(
    workspace: Workspace, emulator: FrontedEmulator, aws_calls: AwsCalls
) -> None:
    assert workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url).exit_code == 0
    assert workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url).exit_code == 0
    # New versions of both layers and each function: each deploy moves an alias that exists.
    workspace.edit("framework", "python/test_common_framework/utils.py", add_comment)
    workspace.edit("pypi", f"python/{SMALL_DISTRIBUTION}/__init__.py", add_comment)
    assert workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url).exit_code == 0
    assert workspace.deploy("history", "--endpoint-url", emulator.endpoint_url).exit_code == 0
    # Deletes the first deploy's function and layer versions, which nothing uses any more.
    assert workspace.deploy("prune", "--keep", "1", "--endpoint-url", emulator.endpoint_url).exit_code == 0

    assert aws_calls.calls and not aws_calls.problems(), aws_calls.problems()
    policy = json.loads(iam_policy(workspace.config, workspace.dist))
    unused = [grant for grant, used in grants_used(policy, aws_calls.needed()).items() if not used]
    assert not unused, f"granted but never needed: {unused}"


@pytest.mark.usefixtures("infrastructure")
@pytest.mark.parametrize("action", ["lambda:UpdateFunctionConfiguration", "s3:PutObject"])
def test_without_one_granted_action_the_deploy_stops_and_names_it(
    workspace: Workspace, emulator: FrontedEmulator, aws_calls: AwsCalls, action: str
) -> None:
    aws_calls.denied_action = action

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    error = run.output.strip().splitlines()[-1]
    assert f"not authorized to perform: {action}" in error
    assert "./pants run deploy -- iam-policy" in error
    assert "rerun apply to finish" in error or "Nothing was changed." in error
