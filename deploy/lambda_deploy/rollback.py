"""Rollback: every alias back to the versions a recorded deploy left it on. It reads the history
(history.py) and moves aliases; it builds, uploads and publishes nothing, so it takes seconds
and needs no dist/.

Without --to, each rollback undoes one more deploy: it goes to the deploy before the one that is
live, and after a rollback to X, to the deploy before X. If the aliases are not where the newest
record left them (a deploy that failed or was cut off mid-rollout moved them, and was never
recorded), it first restores the newest record. The rollback is recorded as a deploy of
its own, naming the deploy it restored, so that history reads as what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from lambda_deploy.aws import Aws
from lambda_deploy.config import DeployConfig, FunctionConfig
from lambda_deploy.errors import DeployError
from lambda_deploy.history import DeployRecord, History
from lambda_deploy.instructions import Instruction, RecordDeploy
from lambda_deploy.plan import (
    DeployTarget,
    FunctionStatus,
    Plan,
    Recording,
    read_function,
    rollback_instructions,
)


def is_live(record: DeployRecord, aws: Aws, alias: str) -> bool:
    """Every alias is where `record` left it, with all its traffic."""
    for name, deployed in record.functions.items():
        found = aws.alias(name, alias)
        if found is None or found.function_version != deployed.version or found.additional_weights:
            return False
    return True


def choose_deploy(history: History, to: str | None, live: Callable[[DeployRecord], bool]) -> DeployRecord:
    """The deploy to restore: the one named; else the newest record if the aliases are not where
    it left them; else the one before the deploy that is live."""
    where = f"s3://{history.bucket}/{history.prefix}"
    ids = history.ids()
    if not ids:
        raise DeployError(
            f"No deploy is recorded in {where}: there is nothing to roll back to. Nothing was changed."
        )
    if to is not None:
        if to not in ids:
            raise DeployError(
                f"There is no deploy {to!r} in {where}. `./pants run deploy -- history` lists the "
                f"recorded ones. Nothing was changed."
            )
        return history.read(to)
    newest = history.read(ids[0])
    if not live(newest):
        return newest
    live_id = (
        newest.rolled_back_to if newest.kind == "rollback" and newest.rolled_back_to else newest.deploy_id
    )
    older = [deploy_id for deploy_id in ids if deploy_id < live_id]
    if not older:
        raise DeployError(
            f"Deploy {live_id} is the oldest recorded in {where}: there is none before it to roll back to. "
            f"Nothing was changed."
        )
    return history.read(older[0])


def make_rollback_plan(
    config: DeployConfig, record: DeployRecord, aws: Aws, target: DeployTarget, recording: Recording
) -> Plan:
    """One PointAlias per function not already on its version in `record`, then the record of
    the rollback. Refuses, before any change, if a version it needs no longer exists."""
    functions: dict[str, FunctionConfig] = {}
    statuses: list[FunctionStatus] = []
    steps: list[Instruction] = []
    missing: list[str] = []
    for name, deployed in sorted(record.functions.items()):
        current = aws.function(name)
        if current is None:
            missing.append(f"the function {name} (deleted since)")
            continue
        function = FunctionConfig(
            name, deployed.address, None, None, (), current.runtime, current.architecture, None, None, None
        )
        status = read_function(aws, FunctionStatus(function, None, current), config.alias)
        version = next((v for v in status.published if v.version == deployed.version), None)
        if version is None or version.code_sha256 != deployed.code_sha256:
            missing.append(f"{name} version {deployed.version}")
            continue
        functions[name] = function
        statuses.append(status)
        steps += rollback_instructions(status, config.alias, version)
    if missing:
        raise DeployError(
            f"Cannot roll back to deploy {record.deploy_id}: it needs {', '.join(missing)}, which no "
            f"longer exist{'s' if len(missing) == 1 else ''} (pruned or deleted). Roll back to a later "
            f"deploy (`./pants run deploy -- history` lists them), or rebuild its commit "
            f"({record.commit.describe()}) and apply it. Nothing was changed."
        )
    if steps:
        key = f"{config.history_folder}{recording.deploy_id}.json"
        steps.append(
            RecordDeploy(
                recording.deploy_id,
                config.bucket,
                key,
                record.commit,
                config.environment,
                kind="rollback",
                rolled_back_to=record.deploy_id,
            )
        )
    return Plan(
        target,
        replace(config, functions=functions),
        (),
        tuple(statuses),
        tuple(steps),
        recording.deploy_id if steps else None,
        kind="rollback",
    )
