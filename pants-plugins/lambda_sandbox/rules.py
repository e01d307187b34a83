"""The `test` rule that checks a Lambda function in a Lambda-like sandbox."""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass
from typing import Any

from lambda_targets.interpreters import NoRuntimeInterpreter, RuntimeInterpreter, RuntimeInterpreterRequest
from lambda_targets.platforms import LambdaPlatform
from lambda_targets.rules import PythonAwsLambdaFieldSet
from lambda_targets.target_types import PythonAwsLambdaHandlerField
from pants.core.goals.package import BuiltPackage
from pants.core.goals.test import TestFieldSet, TestRequest, TestResult, TestSubsystem
from pants.engine.fs import (
    CreateDigest,
    Digest,
    DigestContents,
    DigestSubset,
    FileContent,
    MergeDigests,
    PathGlobs,
)
from pants.engine.process import FallibleProcessResult, Process
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import WrappedTarget, WrappedTargetRequest
from pants.option.option_types import SkipOption
from pants.option.subsystem import Subsystem
from pants.util.logging import LogLevel

# lib/lambda_artifacts' modules the check runs with (standard library only), and where they go.
CHECK_MODULES = ("__init__.py", "sandbox.py", "size_limit.py", "lambda_check.py")
CHECK_PATH = "__lambda_check"


class LambdaSandbox(Subsystem):
    options_scope = "lambda-sandbox"
    name = "Lambda sandbox"
    help = "Checks each `python_aws_lambda_function` with its layers the way Lambda loads them."

    skip = SkipOption("test")


@dataclass(frozen=True)
class LambdaSandboxFieldSet(TestFieldSet):
    # Functions have no `sources` field; the inherited one stays empty.
    required_fields = (PythonAwsLambdaHandlerField,)

    handler: PythonAwsLambdaHandlerField


class LambdaSandboxRequest(TestRequest):
    tool_subsystem = LambdaSandbox
    field_set_type = LambdaSandboxFieldSet


@rule(desc="Check a Lambda function in a Lambda-like sandbox", level=LogLevel.DEBUG)
async def check_in_lambda_sandbox(
    batch: LambdaSandboxRequest.Batch[LambdaSandboxFieldSet, Any], test_subsystem: TestSubsystem
) -> TestResult:
    field_set = batch.single_element
    wrapped = await Get(
        WrappedTarget, WrappedTargetRequest(field_set.address, description_of_origin="<infallible>")
    )
    # Packaging the function refuses what package-time checks catch (handler, layers, size), and
    # its output holds the zips of the layers it runs with, beside its own.
    built_function = await Get(
        BuiltPackage, PythonAwsLambdaFieldSet, PythonAwsLambdaFieldSet.create(wrapped.target)
    )
    metadata_path = built_function.artifacts[1].relpath
    assert metadata_path is not None
    metadata_contents = await Get(
        DigestContents, DigestSubset(built_function.digest, PathGlobs([metadata_path]))
    )
    metadata = json.loads(metadata_contents[0].content)
    platform = LambdaPlatform(metadata["runtime"], metadata["architecture"])
    # The runtime's own CPython, found as the zip step finds it (Pex's interpreter check calls
    # CPython 3.12 and 3.13 broken). On another CPU than the function's, lambda_check.py still
    # checks the files, but cannot import the handler.
    python = await Get(RuntimeInterpreter, RuntimeInterpreterRequest(platform.python_version))
    if python.path is None:
        version = ".".join(map(str, platform.python_version))
        raise NoRuntimeInterpreter(
            f"Checking {field_set.address} in a Lambda-like sandbox imports its handler on "
            f"CPython {version} ({platform.runtime}), and {python.not_found(version)}, or skip "
            f"this check with `--{LambdaSandbox.options_scope}-skip`."
        )
    # The check and the one Lambda sandbox it runs in, as the package they are in lib/.
    package = [
        FileContent(
            f"{CHECK_PATH}/lambda_artifacts/{name}", importlib.resources.read_binary("lambda_artifacts", name)
        )
        for name in CHECK_MODULES
    ]
    script_digest = await Get(Digest, CreateDigest(package))
    input_digest = await Get(Digest, MergeDigests([script_digest, built_function.digest]))
    result = await Get(
        FallibleProcessResult,
        Process(
            argv=(
                python.path,
                "-m",
                "lambda_artifacts.lambda_check",
                built_function.artifacts[0].relpath or "",
                *(f"--layer={path}" for path in metadata["layer_artifacts"]),
                f"--runtime={platform.runtime}",
                f"--glibc={'.'.join(map(str, platform.glibc))}",
                f"--machine={platform.machine}",
                f"--handler={metadata['handler']}",
            ),
            input_digest=input_digest,
            # `unshare` and `mount`, to make /opt and /var/task read-only for real. The
            # interpreter is not an input Pants digests: its version keys the result.
            env={
                "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
                "PYTHONPATH": CHECK_PATH,
                "LAMBDA_SANDBOX_PYTHON": python.version or "",
            },
            description=f"Check {field_set.address} in a Lambda-like sandbox",
            level=LogLevel.DEBUG,
        ),
    )
    return TestResult.from_fallible_process_result(result, field_set.address, test_subsystem.output)


def rules():
    return [*collect_rules(), *LambdaSandboxRequest.rules()]
