"""Packaging rules for `python_aws_lambda_function` and `python_aws_lambda_layer`.

Thin package rules over one build rule, as Pants 2.18's FaaS packaging
(pants.backend.python.util_rules.faas) has them, with uv in place of Pex. The build rule runs one
step per module:

1. the Lambda platform, from `runtime` and `architecture` (platform_rules.py, platforms.py);
2. the target's tree: its first-party sources, plus, with `include_requirements`, the lockfile
   pins its requirements need, for uv to install for the Lambda platform, under `python/` for a
   layer (trees.py, locked_pins.py);
3. the zip, made reproducibly with the runtime's CPython: one part per pin (installed by uv in
   that part's own process, uv.py) and one for the first-party files, merged, with its sizes
   (zip_step.py, lib/lambda_artifacts/artifact_zip.py);
4. `<name>.metadata.json` beside the zip: what it is, for which runtime, its handler and layers,
   and its digest (artifact_metadata.py). The deploy tool reads these instead of repeating BUILD
   files.

A function is also checked against the layers it names (`layers`) before it is written
(checks.py): its handler must exist, every third-party distribution it depends on must be in one
of its layers, each layer must be built for its runtime and architecture, and together they must
fit Lambda's unzipped limit. Each of these would otherwise fail only on Lambda.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lambda_artifacts.metadata import metadata_path
from lambda_targets import platform_rules, trees, zip_step
from lambda_targets.artifact_metadata import (
    BuiltArtifactFacts,
    LayerSummary,
    artifact_log_lines,
    artifact_metadata,
    metadata_bytes,
)
from lambda_targets.checks import (
    LambdaCheckFailed,
    check_layer_size,
    check_size,
    check_third_party_is_provided,
    required_distributions,
    size_warning,
)
from lambda_targets.platform_rules import LambdaPlatformRequest, ResolvedLambdaPlatform
from lambda_targets.target_types import (
    AWSLambdaArchitectureField,
    PythonAWSLambda,
    PythonAwsLambdaCompileBytecode,
    PythonAwsLambdaExclude,
    PythonAwsLambdaHandlerField,
    PythonAwsLambdaIncludeRequirements,
    PythonAwsLambdaIncludeSources,
    PythonAWSLambdaLayer,
    PythonAwsLambdaLayerDependenciesField,
    PythonAwsLambdaLayersField,
    PythonAwsLambdaRuntime,
)
from lambda_targets.trees import LambdaTree, LambdaTreeRequest
from lambda_targets.zip_step import BuiltZip, ZipTreeRequest
from pants.backend.python.util_rules.faas import (
    PythonFaaSCompletePlatforms,
    PythonFaaSDependencies,
    ResolvedPythonFaaSHandler,
    ResolvePythonFaaSHandlerRequest,
)
from pants.core.goals.package import BuiltPackage, BuiltPackageArtifact, OutputPathField, PackageFieldSet
from pants.engine.addresses import Address, Addresses, UnparsedAddressInputs
from pants.engine.fs import CreateDigest, Digest, FileContent, MergeDigests
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import (
    AllTargets,
    InvalidFieldException,
    InvalidTargetException,
    Targets,
    TransitiveTargets,
    TransitiveTargetsRequest,
)
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

# Where Lambda looks in a layer for Python code, whatever the runtime version.
# https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html#packaging-layers-paths
LAYER_PREFIX = "python"
# Where Lambda unpacks layers and the function's own zip.
LAYER_ROOT = "/opt"
FUNCTION_ROOT = "/var/task"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _BaseFieldSet(PackageFieldSet):
    include_requirements: PythonAwsLambdaIncludeRequirements
    runtime: PythonAwsLambdaRuntime
    architecture: AWSLambdaArchitectureField
    complete_platforms: PythonFaaSCompletePlatforms
    output_path: OutputPathField
    exclude: PythonAwsLambdaExclude
    compile_bytecode: PythonAwsLambdaCompileBytecode


@dataclass(frozen=True)
class PythonAwsLambdaFieldSet(_BaseFieldSet):
    required_fields = (PythonAwsLambdaHandlerField,)

    handler: PythonAwsLambdaHandlerField
    layers: PythonAwsLambdaLayersField


@dataclass(frozen=True)
class PythonAwsLambdaLayerFieldSet(_BaseFieldSet):
    required_fields = (PythonAwsLambdaLayerDependenciesField,)

    dependencies: PythonFaaSDependencies
    include_sources: PythonAwsLambdaIncludeSources


@dataclass(frozen=True)
class BuildLambdaArtifactRequest:
    address: Address
    target_alias: str
    runtime: PythonAwsLambdaRuntime
    architecture: AWSLambdaArchitectureField
    complete_platforms: PythonFaaSCompletePlatforms
    output_path: OutputPathField
    include_requirements: bool
    include_sources: bool
    handler: PythonAwsLambdaHandlerField | None
    prefix: str | None
    exclude: tuple[str, ...]
    compile_bytecode: bool
    # A function's layers, already built: they go into its metadata and size report.
    layers: tuple[LayerSummary, ...]


@dataclass(frozen=True)
class BuiltLambdaArtifact:
    """A zip, its metadata file, and what the zip step reported (sizes, digest, handler check)."""

    package: BuiltPackage
    output_filename: str
    report: dict
    metadata: dict


@rule(desc="Package a Python AWS Lambda function", level=LogLevel.DEBUG)
async def package_python_aws_lambda_function(field_set: PythonAwsLambdaFieldSet) -> BuiltPackage:
    layer_targets = await Get(
        Targets,
        UnparsedAddressInputs(
            field_set.layers.value or (),
            owning_address=field_set.address,
            description_of_origin=f"the `layers` field of {field_set.address}",
        ),
    )
    layer_field_sets = [_layer_field_set(field_set, target) for target in layer_targets]
    layers = await MultiGet(
        Get(BuiltLambdaArtifact, PythonAwsLambdaLayerFieldSet, layer) for layer in layer_field_sets
    )
    function = await Get(
        BuiltLambdaArtifact,
        BuildLambdaArtifactRequest(
            address=field_set.address,
            target_alias=PythonAWSLambda.alias,
            runtime=field_set.runtime,
            architecture=field_set.architecture,
            complete_platforms=field_set.complete_platforms,
            output_path=field_set.output_path,
            include_requirements=field_set.include_requirements.value,
            include_sources=True,
            handler=field_set.handler,
            prefix=None,
            exclude=field_set.exclude.value or (),
            compile_bytecode=field_set.compile_bytecode.value,
            layers=tuple(
                LayerSummary(layer.metadata["address"], layer.output_filename, layer.report["unzipped_bytes"])
                for layer in layers
            ),
        ),
    )
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([field_set.address]))
    address = str(field_set.address)
    check_third_party_is_provided(
        address,
        tuple(field_set.layers.value or ()),
        required_distributions(transitive),
        [function.report, *(layer.report for layer in layers)],
    )
    check_size(
        address,
        {address: function.report, **{layer.metadata["address"]: layer.report for layer in layers}},
    )
    # The layers are written too: a function is deployed, or invoked locally, with them.
    digest = await Get(
        Digest, MergeDigests([function.package.digest, *(layer.package.digest for layer in layers)])
    )
    return BuiltPackage(digest, function.package.artifacts)


def _layer_field_set(function: PythonAwsLambdaFieldSet, target) -> PythonAwsLambdaLayerFieldSet:
    """The layer's field set, if it is a layer for the function's platform; else a clear error."""
    where = f"The `layers` field of {function.address}"
    if not PythonAwsLambdaLayerFieldSet.is_applicable(target):
        raise InvalidFieldException(
            f"{where} names {target.address}, a `{target.alias}` target, not a "
            f"`{PythonAWSLambdaLayer.alias}`. List only layer targets there, e.g. "
            f'`layers=["3rdparty/python:pypi"]`.'
        )
    layer = PythonAwsLambdaLayerFieldSet.create(target)
    function_platform = (function.runtime.value, function.architecture.value)
    layer_platform = (layer.runtime.value, layer.architecture.value)
    if function_platform != layer_platform:
        raise InvalidFieldException(
            f"{where} names {target.address}, which is built for {' '.join(map(str, layer_platform))}, "
            f"but the function runs on {' '.join(map(str, function_platform))}: its compiled code "
            f"and bytecode would not load. Set the same `runtime` and `architecture` on both (best "
            f"once, in the root BUILD's `__defaults__`), or name a layer built for "
            f"{' '.join(map(str, function_platform))}."
        )
    return layer


@rule(desc="Package a Python AWS Lambda layer", level=LogLevel.DEBUG)
async def package_python_aws_lambda_layer(field_set: PythonAwsLambdaLayerFieldSet) -> BuiltPackage:
    layer = await Get(BuiltLambdaArtifact, PythonAwsLambdaLayerFieldSet, field_set)
    return layer.package


@rule(desc="Build a Python AWS Lambda layer", level=LogLevel.DEBUG)
async def build_python_aws_lambda_layer(field_set: PythonAwsLambdaLayerFieldSet) -> BuiltLambdaArtifact:
    layer = await Get(
        BuiltLambdaArtifact,
        BuildLambdaArtifactRequest(
            address=field_set.address,
            target_alias=PythonAWSLambdaLayer.alias,
            runtime=field_set.runtime,
            architecture=field_set.architecture,
            complete_platforms=field_set.complete_platforms,
            output_path=field_set.output_path,
            include_requirements=field_set.include_requirements.value,
            include_sources=field_set.include_sources.value,
            handler=None,
            prefix=LAYER_PREFIX,
            exclude=field_set.exclude.value or (),
            compile_bytecode=field_set.compile_bytecode.value,
            layers=(),
        ),
    )
    check_layer_size(field_set.address, layer.report)
    return layer


async def _repository_functions(all_targets: AllTargets) -> dict[str, list[str]]:
    functions = [t for t in all_targets if t.alias == PythonAWSLambda.alias]
    layers = await MultiGet(
        Get(
            Addresses,
            UnparsedAddressInputs(
                t[PythonAwsLambdaLayersField].value or (),
                owning_address=t.address,
                description_of_origin=f"the `layers` field of {t.address}",
            ),
        )
        for t in functions
    )
    return {str(t.address): [str(a) for a in addresses] for t, addresses in zip(functions, layers)}


@rule(desc="Build a Python AWS Lambda artifact", level=LogLevel.DEBUG)
async def build_lambda_artifact(
    request: BuildLambdaArtifactRequest, all_targets: AllTargets
) -> BuiltLambdaArtifact:
    """The one build rule behind both package rules: platform, tree, zip, metadata."""
    lambda_platform = await Get(
        ResolvedLambdaPlatform,
        LambdaPlatformRequest(request.runtime, request.architecture, request.complete_platforms),
    )
    platform = lambda_platform.platform
    if request.compile_bytecode and platform is None:
        raise InvalidTargetException(
            f"The {request.target_alias} {request.address} sets `compile_bytecode=True` but no "
            f"`runtime`, so the Python version to compile for is unknown. Set `runtime`, or set "
            f"`compile_bytecode=False`."
        )
    handler = (
        await Get(ResolvedPythonFaaSHandler, ResolvePythonFaaSHandlerRequest(request.handler))
        if request.handler is not None
        else None
    )
    handler_source = f"{handler.module}:{handler.func}" if handler else None
    tree = await Get(
        LambdaTree,
        LambdaTreeRequest(
            address=request.address,
            target_alias=request.target_alias,
            platform=platform,
            include_requirements=request.include_requirements,
            include_sources=request.include_sources,
            handler=handler,
            prefix=request.prefix,
        ),
    )
    output_filename = request.output_path.value_or_default(file_ending="zip")
    zipped = await Get(
        BuiltZip,
        ZipTreeRequest(
            address=request.address,
            tree=tree,
            output_filename=output_filename,
            lambda_root=LAYER_ROOT if request.prefix else FUNCTION_ROOT,
            exclude=request.exclude,
            compile_for=platform if request.compile_bytecode else None,
            runtime=platform,
            handler=handler_source,
            description=f"Zip {request.target_alias} {request.address}",
        ),
    )
    if zipped.report.get("handler_problem"):
        raise LambdaCheckFailed(
            f"The `handler` field of {request.address} is `{request.handler.value}`, but "
            f"{zipped.report['handler_problem']}, so every invocation would fail on Lambda with "
            f"`Runtime.ImportModuleError` or `Runtime.HandlerNotFound`. Point `handler` at a "
            f"function the module defines (`file.py:function` or `package.module:function`), or "
            f"run `./pants tailor ::` if the module's folder has no `python_sources` target."
        )

    facts = BuiltArtifactFacts(
        address=str(request.address),
        target_alias=request.target_alias,
        kind="layer" if request.prefix else "function",
        output_filename=output_filename,
        platform=platform,
        handler_source=handler_source,
        layers=request.layers,
        report=zipped.report,
    )
    metadata = artifact_metadata(facts, await _repository_functions(all_targets))
    metadata_file = metadata_path(output_filename)
    metadata_digest = await Get(Digest, CreateDigest([FileContent(metadata_file, metadata_bytes(metadata))]))
    warning = size_warning(
        f"{request.address} and its layers unzip to" if request.layers else f"{request.address} unzips to",
        facts.unzipped_bytes_with_layers,
    )
    if warning:
        # At WARNING level when built; and in the artifact's lines, which `package` prints (at
        # INFO) every time, even when the engine reuses this result from memory.
        logger.warning(warning)
    log_lines = artifact_log_lines(facts, tuple(lambda_platform.complete_platforms), warning)
    digest = await Get(Digest, MergeDigests([zipped.digest, metadata_digest]))
    package = BuiltPackage(
        digest=digest,
        artifacts=(
            BuiltPackageArtifact(output_filename, extra_log_lines=tuple(log_lines)),
            BuiltPackageArtifact(metadata_file),
        ),
    )
    return BuiltLambdaArtifact(package, output_filename, zipped.report, metadata)


def rules():
    return [
        *collect_rules(),
        *platform_rules.rules(),
        *trees.rules(),
        *zip_step.rules(),
        UnionRule(PackageFieldSet, PythonAwsLambdaFieldSet),
        UnionRule(PackageFieldSet, PythonAwsLambdaLayerFieldSet),
    ]
