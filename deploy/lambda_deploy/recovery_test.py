"""The deploy tool against moto's server over real HTTP, with the artifacts Pants built: what
goes wrong during a deploy (failures midway, races, interrupts, throttling, partial builds)
and how a rerun converges. A file of its own so that Pants runs it beside deploy_test.py."""

from __future__ import annotations

import re
import signal
import subprocess
import time

import pytest
from botocore.exceptions import EndpointConnectionError
from doubles.lambda_front import LambdaFront
from lambda_deploy import preflight
from lambda_deploy.apply import MAX_ATTEMPTS, Executor
from lambda_deploy.artifacts import Artifact
from lambda_deploy.aws import Aws, FunctionState
from lambda_deploy.cli import main
from lambda_deploy.config import DEFAULT_ALIAS, load_config
from lambda_deploy.conftest import (
    BUCKET,
    FUNCTIONS,
    LAYER_NAMES,
    FrontedEmulator,
    Run,
    ThrottlingProxy,
    Workspace,
    add_comment,
    code_sha256,
    create_infrastructure,
    function_layers,
    layer_versions,
    real_pypi_layer,
    start_cli,
    with_infrastructure,
)
from lambda_deploy.plan import DeployTarget, make_plan


@with_infrastructure
def test_a_failure_between_steps_is_finished_by_a_rerun(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_update = Aws.update_function_code

    def connection_lost_for_thumbnail(self: Aws, state, code) -> FunctionState:
        if state.name == "thumbnail":
            raise EndpointConnectionError(endpoint_url=emulator.endpoint_url)
        return real_update(self, state, code)

    monkeypatch.setattr(Aws, "update_function_code", connection_lost_for_thumbnail)
    # One function at a time, so that api-handler is done when thumbnail fails.
    failed = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url, "--parallel", "1")
    assert failed.exit_code == 1
    assert "rerun apply to finish" in failed.output
    assert function_layers(aws, "api-handler") == ["test-pypi:1", "test-framework:1"]
    assert function_layers(aws, "thumbnail") == []

    monkeypatch.setattr(Aws, "update_function_code", real_update)
    rerun = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert rerun.exit_code == 0, rerun.output
    assert rerun.summary["summary"]["published"] == []  # found identical, reused
    assert rerun.summary["summary"]["updated"] == ["thumbnail"]
    assert layer_versions(aws, "pypi") == [1] and layer_versions(aws, "framework") == [1]
    assert function_layers(aws, "thumbnail") == ["test-pypi:1", "test-framework:1"]


def apply_interfered(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws, times: int
) -> tuple[Run, list[str]]:
    """apply through a front where, just before each of the deploy's first `times` updates of
    api-handler's layers reaches Lambda, someone else empties its layer list. Returns the run and
    the revisions those interfering updates made."""
    revisions: list[str] = []

    def hook(operation: str, name: str | None, body: bytes) -> bytes:
        if operation == "UpdateFunctionConfiguration" and name == "api-handler" and len(revisions) < times:
            changed = aws.lambda_client.update_function_configuration(FunctionName=name, Layers=[])
            revisions.append(changed["RevisionId"])
        return body

    with LambdaFront(emulator.endpoint_url, rewrite=hook) as front:
        return workspace.deploy("apply", "--endpoint-url", front.url), revisions


@with_infrastructure
def test_a_function_changed_under_the_deploy_is_planned_again_and_converges(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    workspace.edit("framework", "python/test_common_framework/utils.py", add_comment)
    run, revisions = apply_interfered(workspace, emulator, aws, times=1)

    assert run.exit_code == 0, run.output
    assert len(revisions) == 1  # it lost one race: Lambda refused its update (409, then 412)
    assert emulator.front.conflicts["UpdateFunctionConfiguration"] == 1
    for name in FUNCTIONS:
        assert function_layers(aws, name) == ["test-pypi:1", "test-framework:2"]


@with_infrastructure
def test_a_function_that_keeps_changing_fails_after_bounded_attempts_naming_its_revisions(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    workspace.edit("framework", "python/test_common_framework/utils.py", add_comment)
    run, revisions = apply_interfered(workspace, emulator, aws, times=10)

    assert run.exit_code == 1
    assert len(revisions) == MAX_ATTEMPTS
    assert "Function 'api-handler' kept changing while this deploy ran: revision " in run.output
    for revision in revisions:
        assert revision in run.output
    assert f"({MAX_ATTEMPTS} attempts, each planned again" in run.output
    assert "rerun apply to finish" in run.output


@with_infrastructure
def test_throttling_is_retried_with_backoff(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    proxy = ThrottlingProxy(emulator.endpoint_url, throttle=4)
    try:
        run = workspace.deploy("apply", "--endpoint-url", proxy.url)
    finally:
        proxy.close()

    assert run.exit_code == 0, run.output
    assert proxy.throttled == 4
    assert function_layers(aws, "api-handler") == ["test-pypi:1", "test-framework:1"]


# A subprocess: the lowered direct-upload limit does not reach it, so the real layer goes to S3.
@real_pypi_layer
@with_infrastructure
def test_ctrl_c_during_apply_says_in_one_line_what_was_done_and_a_rerun_finishes(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    # Slow enough that the apply is still going when the first function's code has been sent.
    with LambdaFront(emulator.endpoint_url, latency=0.3, upload_bytes_per_second=100e6) as front:
        apply = start_apply(workspace, front.url)
        deadline = time.monotonic() + 120
        while front.calls["UpdateFunctionCode"] == 0 and apply.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        apply.send_signal(signal.SIGINT)
        stdout, stderr = apply.communicate(timeout=60)

    assert apply.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    interrupted = [line for line in stderr.splitlines() if line.strip()]
    assert len(interrupted) == 1, stderr
    assert interrupted[0].startswith(
        "Interrupted: done: upload to s3 pypi.zip, publish layer test-pypi, publish layer test-framework"
    )
    assert "; not done: " in interrupted[0] and "set layers thumbnail" in interrupted[0]
    assert interrupted[0].endswith("; rerun apply to finish.")

    rerun = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert rerun.exit_code == 0, rerun.output
    assert rerun.summary["summary"]["published"] == []
    assert layer_versions(aws, "pypi") == [1] and layer_versions(aws, "framework") == [1]
    for name in FUNCTIONS:
        assert function_layers(aws, name) == ["test-pypi:1", "test-framework:1"]
        assert code_sha256(aws, name) == Artifact(workspace.artifacts[name], name).code_sha256


@pytest.mark.parametrize("functions", ["exist", "are created"])
def test_apply_waits_out_every_pending_and_in_progress_state_as_lambda_needs(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws, functions: str
) -> None:
    # The front keeps each function Pending after its creation and InProgress after each update,
    # and answers 409 to an update meanwhile, as Lambda does. A deploy that skips a wait gets a 409,
    # or leaves a function not yet running what it deployed when it says it is done.
    target = DeployTarget(
        "the Lambda-like front", emulator.endpoint_url, creates_missing=functions != "exist"
    )
    if functions == "exist":
        create_infrastructure(aws, BUCKET, FUNCTIONS)
    config = load_config(workspace.config, workspace.dist)
    plan = make_plan(config, preflight.load_artifacts(config), aws, target)

    Executor(plan, aws, 1).run()

    for name in FUNCTIONS:
        configuration = aws.lambda_client.get_function(FunctionName=name)["Configuration"]
        assert (configuration["State"], configuration["LastUpdateStatus"]) == ("Active", "Successful")
        assert function_layers(aws, name) == ["test-pypi:1", "test-framework:1"]
    assert emulator.front.conflicts == {}
    assert emulator.front.calls["UpdateFunctionCode" if functions == "exist" else "CreateFunction"] == 2


def start_apply(workspace: Workspace, endpoint_url: str, *options: str) -> subprocess.Popen[str]:
    """`./pants run deploy -- apply` as its own process, as two CI runners would run it."""
    return start_cli(workspace, "apply", "--endpoint-url", endpoint_url, *options)


@with_infrastructure
def test_two_applies_at_once_converge_on_one_version_of_each_layer(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    # A slow link, so that both plan before either publishes, and their updates interleave.
    with LambdaFront(emulator.endpoint_url, latency=0.1, upload_bytes_per_second=100e6) as slow:
        first, second = start_apply(workspace, slow.url), start_apply(workspace, slow.url)
        outputs = [run.communicate(timeout=600) for run in (first, second)]

    assert [first.returncode, second.returncode] == [0, 0], "\n\n".join(
        f"apply {n} exited {run.returncode}:\n{stdout}{stderr}"
        for n, (run, (stdout, stderr)) in enumerate(zip((first, second), outputs), 1)
    )
    # They did overlap: one found the other's layer versions, published or being published.
    assert "another deploy" in "".join(out for pair in outputs for out in pair), outputs
    print(*(out for pair in outputs for out in pair), sep="\n")
    for key in ("pypi", "framework"):
        artifact = Artifact(workspace.artifacts[key], key)
        versions = aws.lambda_client.list_layer_versions(LayerName=LAYER_NAMES[key])["LayerVersions"]
        same = sorted(
            v["Version"]
            for v in versions
            if aws.lambda_client.get_layer_version(LayerName=LAYER_NAMES[key], VersionNumber=v["Version"])[
                "Content"
            ]["CodeSha256"]
            == artifact.code_sha256
        )
        # Both may have published (a duplicate is left, unused: see apply.py); both use the lowest.
        assert same and len(same) == len(versions) <= 2
        for name in FUNCTIONS:
            assert f"{LAYER_NAMES[key]}:{same[0]}" in function_layers(aws, name)
    for name in FUNCTIONS:
        assert code_sha256(aws, name) == Artifact(workspace.artifacts[name], name).code_sha256
        # One version of the one $LATEST, whichever deploy published it, and the alias on it.
        versions = aws.lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
        assert sorted(v["Version"] for v in versions) == ["$LATEST", "1"]
        alias = aws.lambda_client.get_alias(FunctionName=name, Name=DEFAULT_ALIAS)
        assert alias["FunctionVersion"] == "1" and not alias.get("RoutingConfig", {}).get(
            "AdditionalVersionWeights"
        )

    again = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert again.exit_code == 0, again.output
    assert again.summary["instructions"] == []


def test_functions_are_updated_in_parallel_and_reported_in_the_plans_order(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    extra = [
        workspace.add_function(f"src/python/extra_{n}:lambda", workspace.artifacts["api-handler"])
        for n in range(6)
    ]
    create_infrastructure(aws, BUCKET, (*FUNCTIONS, *extra))

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url, "--parallel", "4")

    assert run.exit_code == 0, run.output
    assert emulator.front.max_in_flight >= 2  # functions' updates and waits overlapped
    assert emulator.front.conflicts == {}
    numbers = [int(n) for n in re.findall(r"^  (\d+)\. ", run.output.split("Applied:")[1], re.MULTILINE)]
    assert numbers == list(range(1, len(run.summary["instructions"]) + 1))
    for name in (*FUNCTIONS, *extra):
        assert function_layers(aws, name) == ["test-pypi:1", "test-framework:1"]


@pytest.mark.parametrize("value", ["0", "eight"])
def test_parallel_takes_a_positive_number(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["plan", "--parallel", value])

    assert (
        f"argument --parallel: takes a whole number of functions, 1 or more, not '{value}'"
        in capsys.readouterr().err
    )
