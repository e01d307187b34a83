"""Gradual rollout through the alias' routing configuration, stopped by CloudWatch alarms; against
moto's server over HTTP behind the Lambda-like front, with the artifacts Pants built."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

import pytest
from lambda_deploy import rollout as rollout_module
from lambda_deploy.aws import Aws
from lambda_deploy.config import DEFAULT_ALIAS
from lambda_deploy.conftest import FrontedEmulator, Run, Workspace, add_comment, with_infrastructure
from lambda_deploy.recovery_test import start_apply

ALARM = "thumbnail-errors"


@pytest.fixture(autouse=True)
def fast_alarm_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rollout_module, "ALARM_POLL_SECONDS", 0.1)


def alias(aws: Aws, name: str = "thumbnail") -> tuple[str, dict[str, float]]:
    found = aws.lambda_client.get_alias(FunctionName=name, Name=DEFAULT_ALIAS)
    return found["FunctionVersion"], (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}


def create_alarm(aws: Aws) -> None:
    aws.cloudwatch.put_metric_alarm(
        AlarmName=ALARM,
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )


def with_rollout(workspace: Workspace, rollout: str) -> None:
    workspace.write_config(
        f'[functions."src/python/thumbnail:lambda"]\nrollout = "{rollout}"\nalarms = ["{ALARM}"]\n'
    )


def deployed_then_edited(workspace: Workspace, emulator: FrontedEmulator, aws: Aws, rollout: str) -> Run:
    """The alarm, `rollout` in deploy.toml, a first deploy (a new alias is pointed at once), then
    an edit to thumbnail for the next apply to roll out; returns the first deploy."""
    create_alarm(aws)
    with_rollout(workspace, rollout)
    first = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    workspace.edit("thumbnail", "thumbnail/handler.py", add_comment)
    return first


def when_split(aws: Aws, then: Callable[[dict[str, float]], None]) -> threading.Thread:
    """Watches the alias from another thread and calls `then` once it sends traffic to two versions."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            _, weights = alias(aws)
            if weights:
                then(weights)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@with_infrastructure
def test_a_canary_that_stays_quiet_sends_10_percent_then_everything(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    deployed_then_edited(workspace, emulator, aws, "canary 10% 2s")
    assert alias(aws) == ("1", {})  # a new alias: moved at once
    seen: list[dict[str, float]] = []
    watcher = when_split(aws, seen.append)

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    watcher.join(timeout=5)
    assert run.exit_code == 0, run.output
    assert seen == [{"2": 0.1}]  # the canary: version 1 kept 90%
    assert alias(aws) == ("2", {}) and alias(aws, "api-handler") == ("1", {})
    assert (
        "shift thumbnail:live from version 1 to the new version, canary 10% 2s, watching thumbnail-errors"
        in run.output
    )
    assert f"shifted thumbnail:live to version 2 (canary 10% 2s; {ALARM} stayed quiet)" in run.output


@with_infrastructure
def test_an_alarm_mid_bake_moves_the_alias_back_and_the_deploy_fails_naming_it(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    deployed_then_edited(workspace, emulator, aws, "canary 10% 30s")
    watcher = when_split(
        aws,
        lambda _: aws.cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="errors"),
    )
    started = time.monotonic()

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    watcher.join(timeout=5)
    assert run.exit_code == 1
    assert time.monotonic() - started < 20  # as soon as it fired, not after the bake
    assert (
        f"The alarm {ALARM} went into ALARM while thumbnail:live sent 10% of its traffic to version 2"
        in run.output
    )
    assert "moved the alias back to version 1, with all its traffic" in run.output
    assert alias(aws) == ("1", {})
    # The deploy is not recorded: the history still ends at the first one.
    assert len(workspace.deploy("history", "--endpoint-url", emulator.endpoint_url).summary) == 1


@with_infrastructure
def test_a_linear_rollout_steps_through_each_weight(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    deployed_then_edited(workspace, emulator, aws, "linear 50% every 1s")

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    assert alias(aws) == ("2", {})
    assert emulator.front.calls["UpdateAlias"] >= 2  # 50%, then all


def interrupt_mid_canary(workspace: Workspace, emulator: FrontedEmulator, aws: Aws) -> tuple[str, str]:
    """A first deploy, then an apply of a thumbnail edit stopped by Ctrl-C while its canary bakes;
    returns the first deploy's id and what the interrupted apply printed."""
    first = deployed_then_edited(workspace, emulator, aws, "canary 10% 60s").summary["deploy_id"]
    apply = start_apply(workspace, emulator.endpoint_url)
    watcher = when_split(aws, lambda _: apply.send_signal(signal.SIGINT))
    _, stderr = apply.communicate(timeout=120)
    watcher.join(timeout=5)
    assert apply.returncode == 130, stderr
    assert alias(aws) == ("1", {"2": 0.1})  # left mid-canary
    return first, stderr


@with_infrastructure
def test_a_rollout_interrupted_mid_bake_is_finished_by_the_next_apply(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    _, stderr = interrupt_mid_canary(workspace, emulator, aws)
    assert "Interrupted" in stderr and "Traceback" not in stderr

    with_rollout(workspace, "canary 10% 1s")
    rerun = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert rerun.exit_code == 0, rerun.output
    assert alias(aws) == ("2", {})
    assert [v.version for v in aws.function_versions("thumbnail")] == ["$LATEST", "1", "2"]  # no new version


@with_infrastructure
def test_a_rollout_interrupted_mid_bake_is_undone_by_a_rollback(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    first, _ = interrupt_mid_canary(workspace, emulator, aws)

    # The interrupted deploy was never recorded: rollback restores the newest record.
    back = workspace.deploy("rollback", "--endpoint-url", emulator.endpoint_url)

    assert back.exit_code == 0 and back.summary["rolled_back_to"] == first, back.output
    assert alias(aws) == ("1", {})


def test_a_rollout_lambda_would_not_understand_and_a_missing_alarm_are_refused(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    with_rollout(workspace, "canary 10 percent")
    bad = workspace.deploy("plan", "--endpoint-url", emulator.endpoint_url)
    assert bad.exit_code == 1
    assert (
        f"{workspace.config}: [functions.\"src/python/thumbnail:lambda\"] rollout 'canary 10 percent'"
        in bad.output
    )

    from lambda_deploy.conftest import BUCKET, FUNCTIONS, create_infrastructure

    create_infrastructure(aws, BUCKET, FUNCTIONS)
    with_rollout(workspace, "canary 10% 1s")
    workspace.deploy(
        "apply", "--endpoint-url", emulator.endpoint_url
    )  # no alias yet: no rollout, no alarm read
    workspace.edit("thumbnail", "thumbnail/handler.py", add_comment)
    missing = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    assert missing.exit_code == 1
    assert f"The CloudWatch alarm(s) {ALARM}, which a rollout watches" in missing.output
    assert "Nothing was changed." in missing.output
    assert alias(aws) == ("1", {})
