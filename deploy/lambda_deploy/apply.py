"""Carries out a plan, step by step, so that a rerun after any failure finishes the job.

Order: upload and publish the layers that changed, then for each function update its code,
wait, update its layer list, wait. Every step is decided again from AWS's state by the next
plan, so nothing is done twice: a layer published before a failure is found identical (and
reused) on the rerun, and a function already updated is left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lambda_deploy.artifacts import Artifact
from lambda_deploy.aws import Aws, Code, FunctionState, LayerVersion
from lambda_deploy.errors import ConcurrentChangeError, DeployError
from lambda_deploy.plan import FunctionStep, Plan, needs_s3

logger = logging.getLogger(__name__)

# The role functions created on the local emulator run as. It exists only there.
LOCAL_ROLE_NAME = "lambda-monorepo-local"


@dataclass
class FunctionResult:
    name: str
    code: str  # "created", "updated" or "unchanged"
    layers: str  # "updated" or "unchanged"
    layer_arns: list[str]


@dataclass
class ApplyResult:
    layer_versions: dict[str, LayerVersion] = field(default_factory=dict)  # by layer key
    published: list[str] = field(default_factory=list)  # layer keys
    functions: list[FunctionResult] = field(default_factory=list)
    uploaded_bytes: int = 0  # zips sent to S3 or to Lambda directly


def apply(plan: Plan, aws: Aws) -> ApplyResult:
    result = ApplyResult()
    if plan.uses_s3:
        ensure_bucket(plan, aws)

    for step in plan.layers:
        if step.publish:
            assert step.artifact is not None
            code = stage(plan, aws, step.artifact, f"layers/{step.layer.name}", result)
            version = aws.publish_layer_version(step.layer, code)
            logger.info("Published %s version %s", step.layer.name, version.version)
            result.published.append(step.layer.key)
            result.layer_versions[step.layer.key] = version
        else:
            assert step.latest is not None
            result.layer_versions[step.layer.key] = step.latest

    role_arn = None
    for function in plan.functions:
        layer_arns = [result.layer_versions[s.layer.key].arn for s in function.desired_layers]
        if function.create:
            assert function.artifact is not None
            role_arn = role_arn or aws.ensure_role(LOCAL_ROLE_NAME)
            code = stage(plan, aws, function.artifact, f"functions/{function.function.name}", result)
            aws.create_function(function.function, code, layer_arns, role_arn)
            logger.info("Created function %s", function.function.name)
            result.functions.append(FunctionResult(function.function.name, "created", "updated", layer_arns))
            continue
        result.functions.append(update_function(plan, aws, function, layer_arns, result))
    return result


def update_function(
    plan: Plan, aws: Aws, step: FunctionStep, layer_arns: list[str], result: ApplyResult
) -> FunctionResult:
    assert step.current is not None
    name = step.function.name
    state = unchanged_since_plan(aws, step.current)
    code = "unchanged"
    if step.update_code:
        assert step.artifact is not None
        aws.update_function_code(state, stage(plan, aws, step.artifact, f"functions/{name}", result))
        logger.info("Updated the code of %s", name)
        code = "updated"
        state = read_function(aws, name)
    layers = "unchanged"
    if list(state.layer_arns) != layer_arns:
        aws.update_function_layers(state, layer_arns)
        logger.info("Set the layers of %s to %s", name, ", ".join(layer_arns))
        layers = "updated"
    return FunctionResult(name, code, layers, layer_arns)


def unchanged_since_plan(aws: Aws, planned: FunctionState) -> FunctionState:
    """Refuses to overwrite a function someone else changed after we read it.

    Real Lambda also checks the RevisionId we send with each update, which closes the gap
    between this read and the write; emulators that lack RevisionId are checked here only.
    """
    current = read_function(aws, planned.name)
    if current.fingerprint != planned.fingerprint:
        raise ConcurrentChangeError(
            f"Function {planned.name!r} changed while this deploy was running (it was modified "
            f"at {current.last_modified}, after the plan read it at {planned.last_modified}). "
            f"Nothing was overwritten. Rerun plan to see its new state, then apply."
        )
    return current


def read_function(aws: Aws, name: str) -> FunctionState:
    state = aws.function(name)
    if state is None:
        raise DeployError(f"Function {name!r} disappeared while this deploy was running. Rerun apply.")
    return state


def ensure_bucket(plan: Plan, aws: Aws) -> None:
    bucket = plan.config.bucket
    if aws.bucket_exists(bucket):
        return
    if not plan.target.creates_missing:
        raise DeployError(
            f"The S3 bucket {bucket!r} (deploy.toml [s3] bucket) does not exist in {plan.config.region}; "
            f"artifacts over 50 MB are published from it. Create it, or name an existing bucket "
            f"in {plan.config.path}. Nothing was changed."
        )
    aws.create_bucket(bucket)


def stage(plan: Plan, aws: Aws, artifact: Artifact, kind: str, result: ApplyResult) -> Code:
    """The zip itself, or, over Lambda's 50 MB direct-upload limit, an S3 copy of it.

    The S3 key is named by the zip's SHA-256, so an upload a failed run already made is found
    and not repeated.
    """
    if not needs_s3(artifact):
        result.uploaded_bytes += artifact.zipped_bytes
        return Code(zip_bytes=artifact.content)
    key = f"{plan.config.prefix}{kind}/{artifact.sha256_hex}.zip"
    if aws.object_size(plan.config.bucket, key) != artifact.zipped_bytes:
        logger.info("Uploading %s to s3://%s/%s", artifact.path, plan.config.bucket, key)
        aws.upload(plan.config.bucket, key, artifact.content)
        result.uploaded_bytes += artifact.zipped_bytes
    return Code(s3_bucket=plan.config.bucket, s3_key=key)
