"""The Lambda platform a target is built for, as the complete platform Pants' FaaS code expects.

Derived from the target's `runtime` and `architecture` (platforms.py), or read from the
`complete_platforms` files a user supplies instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from lambda_targets.platforms import LambdaPlatform
from lambda_targets.target_types import AWSLambdaArchitectureField, PythonAwsLambdaRuntime
from pants.backend.python.util_rules.faas import PythonFaaSCompletePlatforms
from pants.backend.python.util_rules.pex import CompletePlatforms
from pants.engine.fs import CreateDigest, FileContent, Snapshot
from pants.engine.rules import Get, collect_rules, rule
from pants.util.logging import LogLevel


@dataclass(frozen=True)
class LambdaPlatformRequest:
    runtime: PythonAwsLambdaRuntime
    architecture: AWSLambdaArchitectureField
    complete_platforms: PythonFaaSCompletePlatforms


@dataclass(frozen=True)
class ResolvedLambdaPlatform:
    complete_platforms: CompletePlatforms
    # Set when derived from `runtime`; None for user-supplied complete platforms.
    platform: LambdaPlatform | None


@rule(desc="Determine the Lambda platform", level=LogLevel.DEBUG)
async def resolve_lambda_platform(request: LambdaPlatformRequest) -> ResolvedLambdaPlatform:
    if request.complete_platforms.value is not None:
        complete_platforms = await Get(
            CompletePlatforms, PythonFaaSCompletePlatforms, request.complete_platforms
        )
        return ResolvedLambdaPlatform(complete_platforms, None)
    platform = LambdaPlatform(request.runtime.value, request.architecture.value)
    content = json.dumps(platform.complete_platform(), indent=2, sort_keys=True).encode()
    snapshot = await Get(
        Snapshot, CreateDigest([FileContent(f"__lambda_platforms/{platform.slug}.json", content)])
    )
    return ResolvedLambdaPlatform(CompletePlatforms.from_snapshot(snapshot), platform)


def rules():
    return collect_rules()
