"""Packaging rules for `python_aws_lambda_function` and `python_aws_lambda_layer`.

The steps follow Pants 2.18's FaaS packaging (pants.backend.python.util_rules.faas), with uv in
place of Pex:

1. the target's tree: its first-party sources, plus, with `include_requirements`, the lockfile
   pins its requirements need, installed by uv for the Lambda platform (uv.py, locked_pins.py),
   under `python/` for a layer;
2. the zip, made reproducibly with the runtime's CPython, one part per distribution, merged
   (zip_parts.py, lib/lambda_artifacts/artifact_zip.py), with its sizes;
3. `<name>.metadata.json` beside the zip: what it is, for which runtime, its handler and layers,
   and its digest. The deploy tool reads these instead of repeating BUILD files.

A function is also checked against the layers it names (`layers`) before it is written
(checks.py): its handler must exist, every third-party distribution it depends on must be in one
of its layers, each layer must be built for its runtime and architecture, and together they must
fit Lambda's unzipped limit. Each of these would otherwise fail only on Lambda.
"""

from __future__ import annotations

import importlib.resources
import json
import logging
import os
from dataclasses import dataclass

from lambda_artifacts.artifact_zip import (
    PART_REPORT,
    PART_ZIP,
    canonical_name,
)
from lambda_artifacts.metadata import METADATA_VERSION, metadata_path
from lambda_targets.checks import (
    LambdaCheckFailed,
    check_layer_size,
    check_size,
    check_third_party_is_provided,
    size_log_lines,
    size_warning,
)
from lambda_targets.interpreters import NoRuntimeInterpreter, RuntimeInterpreter, RuntimeInterpreterRequest
from lambda_targets.locked_pins import PinsNotRecorded, locked_pins, pins_for, relock_command
from lambda_targets.platforms import LambdaPlatform
from lambda_targets.repository_platform import locked_platform
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
from lambda_targets.uv import UvInstalledTree, UvInstallRequest
from lambda_targets.zip_parts import Part, split_into_parts
from pants.backend.python.target_types import PythonRequirementsField
from pants.backend.python.util_rules.faas import (
    PythonFaaSCompletePlatforms,
    PythonFaaSDependencies,
    ResolvedPythonFaaSHandler,
    ResolvePythonFaaSHandlerRequest,
)
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import CompletePlatforms, PythonExecutable
from pants.backend.python.util_rules.pex_from_targets import (
    ChosenPythonResolve,
    ChosenPythonResolveRequest,
)
from pants.backend.python.util_rules.python_sources import (
    PythonSourceFilesRequest,
    StrippedPythonSourceFiles,
)
from pants.core.goals.package import BuiltPackage, BuiltPackageArtifact, OutputPathField, PackageFieldSet
from pants.engine.addresses import Address, Addresses, UnparsedAddressInputs
from pants.engine.fs import (
    EMPTY_DIGEST,
    AddPrefix,
    CreateDigest,
    Digest,
    DigestContents,
    DigestSubset,
    FileContent,
    MergeDigests,
    PathGlobs,
    Snapshot,
)
from pants.engine.process import Process, ProcessResult
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
from pants.util.frozendict import FrozenDict
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
class LayerSummary:
    address: str
    output_filename: str  # relative to the dist folder
    unzipped_bytes: int


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
    check_third_party_is_provided(field_set, transitive, function, layers)
    check_size(field_set, function, layers)
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


@dataclass(frozen=True)
class ZipTreeRequest:
    address: Address
    tree: Digest
    output_filename: str
    # Where Lambda puts the tree: /opt for a layer, /var/task for a function.
    lambda_root: str
    exclude_root: str
    exclude: tuple[str, ...]
    # Compile .pyc for this runtime; None: ship sources only.
    compile_for: LambdaPlatform | None
    # The runtime, whose CPython (if this machine has it) also zips and reads the handler's
    # source; None: any CPython.
    runtime: LambdaPlatform | None
    # `module:function` to look for in the tree (functions only).
    handler: str | None
    description: str


@dataclass(frozen=True)
class BuiltZip:
    digest: Digest
    report: dict


_ZIP_REPORT = "__lambda_zip/report.json"


async def _zip_in_parts(
    request: ZipTreeRequest, parts: list[Part], script_digest: Digest, options, handler, zip_process
) -> ProcessResult:
    """One process per distribution, each cached by that distribution's files, then one that
    merges their zips: a changed pin compresses only its own distribution again."""
    subsets = await MultiGet(Get(Digest, DigestSubset(request.tree, PathGlobs(part.globs))) for part in parts)
    present = [(part, subset) for part, subset in zip(parts, subsets) if subset != EMPTY_DIGEST]
    trees = await MultiGet(Get(Digest, AddPrefix(subset, "tree")) for _, subset in present)
    inputs = await MultiGet(Get(Digest, MergeDigests([script_digest, tree])) for tree in trees)
    results = await MultiGet(
        Get(
            ProcessResult,
            Process,
            zip_process(
                ["tree", PART_ZIP, PART_REPORT, *options],
                input_digest,
                (PART_ZIP, PART_REPORT),
                f"Zip {part.name} for {request.address}",
            ),
        )
        for (part, _), input_digest in zip(present, inputs)
    )
    folders = [f"__parts/{index:04d}" for index in range(len(results))]
    placed = await MultiGet(
        Get(Digest, AddPrefix(result.output_digest, folder)) for result, folder in zip(results, folders)
    )
    merge_input = await Get(Digest, MergeDigests([script_digest, *placed]))
    args = ["merge", request.output_filename, _ZIP_REPORT, *handler, *folders]
    return await Get(
        ProcessResult,
        Process,
        zip_process(args, merge_input, (request.output_filename, _ZIP_REPORT), request.description),
    )


@rule(desc="Zip a Lambda artifact", level=LogLevel.DEBUG)
async def zip_tree(request: ZipTreeRequest) -> BuiltZip:
    script = FileContent(
        "__lambda_zip/artifact_zip.py", importlib.resources.read_binary("lambda_artifacts", "artifact_zip.py")
    )
    report_path = _ZIP_REPORT
    script_digest, tree_digest = await MultiGet(
        Get(Digest, CreateDigest([script])),
        Get(Digest, AddPrefix(request.tree, "tree")),
    )
    compile_for = request.compile_for
    platform = compile_for or request.runtime
    runtime_python = (
        await Get(RuntimeInterpreter, RuntimeInterpreterRequest(platform.python_version))
        if platform
        else None
    )
    if runtime_python is not None and runtime_python.path is not None:
        python_path = runtime_python.path
        # The interpreter is not an input Pants digests: name its exact version, so that a
        # changed interpreter recompiles instead of reusing bytecode it did not write.
        python_env = {"LAMBDA_BYTECODE_PYTHON": runtime_python.version}
        append_only_caches, immutable_input_digests = FrozenDict(), FrozenDict()
    elif compile_for is not None:
        version = ".".join(map(str, compile_for.python_version))
        raise NoRuntimeInterpreter(
            f"{request.address} sets `compile_bytecode=True` (the default for layers), which "
            f"needs a local CPython {version} to compile for {compile_for.runtime}, and "
            f"{runtime_python.not_found(version)}, or set `compile_bytecode=False` on the target "
            f"to ship sources only."
        )
    else:
        # Zipping sources needs no particular CPython. (Pex's interpreter discovery, which this
        # takes, costs seconds on a cold machine: the runtime's CPython is found without it.)
        python = await Get(PythonExecutable, InterpreterConstraints(["CPython>=3.7,<4"]))
        python_path, python_env = python.path, {}
        append_only_caches, immutable_input_digests = (
            python.append_only_caches,
            python.immutable_input_digests,
        )
    options = [f"--root={request.exclude_root}", *(f"--exclude={pattern}" for pattern in request.exclude)]
    if compile_for is not None:
        options += ["--compile", f"--ddir={request.lambda_root}"]
    handler = [f"--handler={request.handler}"] if request.handler is not None else []

    def zip_process(
        args: list[str], input_digest: Digest, outputs: tuple[str, ...], description: str
    ) -> Process:
        return Process(
            argv=(python_path, script.path, *args),
            input_digest=input_digest,
            output_files=outputs,
            append_only_caches=append_only_caches,
            immutable_input_digests=immutable_input_digests,
            # Set and frozenset constants in bytecode are ordered by string hashes.
            env={"PYTHONHASHSEED": "0", **python_env},
            description=description,
            level=LogLevel.DEBUG,
        )

    records = await Get(DigestContents, DigestSubset(request.tree, PathGlobs(["**/*.dist-info/RECORD"])))
    parts = split_into_parts({record.path: record.content for record in records})
    if len(parts) == 1:
        # No third-party distributions (a function): one process zips the whole tree.
        input_digest = await Get(Digest, MergeDigests([script_digest, tree_digest]))
        args = ["tree", request.output_filename, report_path, *options, *handler]
        process = zip_process(args, input_digest, (request.output_filename, report_path), request.description)
        result = await Get(ProcessResult, Process, process)
    else:
        result = await _zip_in_parts(request, parts, script_digest, options, handler, zip_process)
    zip_digest, report_digest = await MultiGet(
        Get(Digest, DigestSubset(result.output_digest, PathGlobs([request.output_filename]))),
        Get(Digest, DigestSubset(result.output_digest, PathGlobs([report_path]))),
    )
    (report_file,) = await Get(DigestContents, Digest, report_digest)
    return BuiltZip(zip_digest, json.loads(report_file.content))


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


async def _locked_pins(address: Address, platform: LambdaPlatform, subject: str) -> UvInstallRequest:
    """What uv installs for the target: the pins of its resolve's lockfile that its requirements
    need. The lockfile must pin every one of them, and be locked for the target's platform: a lock
    for another runtime or architecture pins wheels that would not load on it."""
    resolve, transitive = await MultiGet(
        Get(ChosenPythonResolve, ChosenPythonResolveRequest(Addresses([address]))),
        Get(TransitiveTargets, TransitiveTargetsRequest([address])),
    )
    lockfile = resolve.lockfile.url
    relock = relock_command(resolve.name)
    contents = await Get(DigestContents, PathGlobs([lockfile]))
    text = contents[0].content.decode() if contents else ""
    requirements = {
        (requirement, target.address)
        for target in transitive.closure
        if target.has_field(PythonRequirementsField)
        for requirement in target[PythonRequirementsField].value
    }
    pinned = locked_pins(text)
    unpinned = sorted(
        f"{requirement} (from {owner})"
        for requirement, owner in requirements
        if canonical_name(requirement.project_name) not in pinned
    )
    if unpinned:
        raise InvalidTargetException(
            f"{address} depends on requirements that {lockfile} does not pin: "
            f"{', '.join(unpinned)}. Put each in the requirements file the resolve "
            f"`{resolve.name}` is locked from (3rdparty/python/), then run `{relock}`."
        )
    locked = locked_platform(text)
    if locked != (platform.runtime, platform.architecture):
        raise InvalidTargetException(
            f"{address} is built for Lambda {platform.runtime} {platform.architecture}, but its "
            f"resolve `{resolve.name}` ({lockfile}) was "
            + (f"locked for Lambda {' '.join(locked)}" if locked else "not locked for a Lambda platform")
            + ": its pins may have no wheel that loads there. Set `runtime` and `architecture` "
            f"once, in the root BUILD's `__defaults__`, rather than on this target, and relock "
            f"with `{relock}`."
        )
    try:
        pins = pins_for(
            text, (r.project_name for r, _ in requirements), lockfile=lockfile, relock_command=relock
        )
    except PinsNotRecorded as e:
        raise InvalidTargetException(f"{address}: {e}") from e
    return UvInstallRequest(pins, platform, subject, lockfile)


def _reexported_handler(handler: ResolvedPythonFaaSHandler) -> FileContent:
    # Every function gets the same handler setting in AWS, whatever its module is called.
    module = PythonAwsLambdaHandlerField.reexported_handler_module
    return FileContent(f"{module}.py", f"from {handler.module} import {handler.func} as handler\n".encode())


async def _installed_with_requirements(
    request: BuildLambdaArtifactRequest, platform: LambdaPlatform | None, additional_sources: Digest
) -> Digest:
    """The artifact's tree, third-party distributions included: the lockfile's pins installed by
    uv for the Lambda platform, beside the first-party sources (under the layer's prefix)."""
    subject = f"{request.target_alias} {request.address}"
    if platform is None:
        raise InvalidTargetException(
            f"The {subject} sets `complete_platforms`, which this plugin cannot install "
            f"third-party code for: uv chooses wheels by Lambda runtime and architecture. Set "
            f"`runtime` and `architecture` instead (best once, in the root BUILD's "
            f"`__defaults__`), or `include_requirements=False`."
        )
    install_request = await _locked_pins(request.address, platform, subject)
    installed, first_party = await MultiGet(
        Get(UvInstalledTree, UvInstallRequest, install_request),
        Get(Digest, FirstPartyTreeRequest(request.address, request.include_sources, additional_sources)),
    )
    tree = await Get(Digest, MergeDigests([installed.digest, first_party]))
    return await Get(Digest, AddPrefix(tree, request.prefix)) if request.prefix else tree


@dataclass(frozen=True)
class FirstPartyTreeRequest:
    address: Address
    include_sources: bool
    additional_sources: Digest


@rule(desc="Collect a Lambda artifact's first-party code", level=LogLevel.DEBUG)
async def first_party_tree(request: FirstPartyTreeRequest) -> Digest:
    """The target's sources and resources, stripped of their source roots (as Lambda imports
    them), plus the generated handler module."""
    if not request.include_sources:
        return request.additional_sources
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([request.address]))
    sources = await Get(
        StrippedPythonSourceFiles,
        PythonSourceFilesRequest(transitive.closure, include_resources=True, include_files=False),
    )
    return await Get(
        Digest, MergeDigests([sources.stripped_source_files.snapshot.digest, request.additional_sources])
    )


@rule(desc="Build a Python AWS Lambda artifact", level=LogLevel.DEBUG)
async def build_lambda_artifact(
    request: BuildLambdaArtifactRequest, all_targets: AllTargets
) -> BuiltLambdaArtifact:
    lambda_platform = await Get(
        ResolvedLambdaPlatform,
        LambdaPlatformRequest(request.runtime, request.architecture, request.complete_platforms),
    )
    complete_platforms = lambda_platform.complete_platforms

    additional_sources = EMPTY_DIGEST
    handler_spec = None
    if request.handler is not None:
        handler = await Get(ResolvedPythonFaaSHandler, ResolvePythonFaaSHandlerRequest(request.handler))
        additional_sources = await Get(Digest, CreateDigest([_reexported_handler(handler)]))
        handler_spec = f"{handler.module}:{handler.func}"

    if request.include_requirements:
        installed_tree = await _installed_with_requirements(
            request, lambda_platform.platform, additional_sources
        )
    else:
        first_party = await Get(
            Digest, FirstPartyTreeRequest(request.address, request.include_sources, additional_sources)
        )
        installed_tree = (
            await Get(Digest, AddPrefix(first_party, request.prefix)) if request.prefix else first_party
        )

    if request.compile_bytecode and lambda_platform.platform is None:
        raise InvalidTargetException(
            f"The {request.target_alias} {request.address} sets `compile_bytecode=True` but no "
            f"`runtime`, so the Python version to compile for is unknown. Set `runtime`, or set "
            f"`compile_bytecode=False`."
        )
    output_filename = request.output_path.value_or_default(file_ending="zip")
    zipped = await Get(
        BuiltZip,
        ZipTreeRequest(
            address=request.address,
            tree=installed_tree,
            output_filename=output_filename,
            lambda_root=LAYER_ROOT if request.prefix else FUNCTION_ROOT,
            exclude_root=request.prefix or "",
            exclude=request.exclude,
            compile_for=lambda_platform.platform if request.compile_bytecode else None,
            runtime=lambda_platform.platform,
            handler=handler_spec,
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

    repository_functions = await _repository_functions(all_targets)
    platform = lambda_platform.platform
    layers_unzipped = sum(layer.unzipped_bytes for layer in request.layers)
    metadata = {
        "version": METADATA_VERSION,
        "address": str(request.address),
        "target_type": request.target_alias,
        "kind": "layer" if request.prefix else "function",
        "artifact": os.path.basename(output_filename),
        "runtime": platform.runtime if platform else None,
        "architecture": platform.architecture if platform else None,
        "handler": (
            f"{PythonAwsLambdaHandlerField.reexported_handler_module}.handler" if handler_spec else None
        ),
        "handler_source": handler_spec,
        "layers": [layer.address for layer in request.layers],
        # Relative to the dist folder, like the zip's own path.
        "layer_artifacts": [layer.output_filename for layer in request.layers],
        "sha256": zipped.report["sha256"],
        "zipped_bytes": zipped.report["zipped_bytes"],
        "unzipped_bytes": zipped.report["unzipped_bytes"],
        "unzipped_bytes_with_layers": zipped.report["unzipped_bytes"] + layers_unzipped,
        # Every function in the repository when this was built, with its layers, so that a
        # deploy that finds only some artifacts built (CI builds what changed) still knows every
        # function, and which ones use a layer it publishes.
        "repository_functions": repository_functions,
    }
    metadata_file = metadata_path(output_filename)
    metadata_digest = await Get(
        Digest,
        CreateDigest(
            [FileContent(metadata_file, (json.dumps(metadata, indent=2, sort_keys=True) + "\n").encode())]
        ),
    )

    extra_log_lines = []
    if lambda_platform.platform is not None:
        extra_log_lines.append(
            f"    Runtime: {lambda_platform.platform.runtime} {lambda_platform.platform.architecture}"
        )
    else:
        extra_log_lines.extend(f"    Complete platform: {path}" for path in complete_platforms)
    if request.handler is not None:
        extra_log_lines.append(
            f"    Handler: {PythonAwsLambdaHandlerField.reexported_handler_module}.handler"
        )
    if request.layers:
        extra_log_lines.append(
            "    Layers: "
            + ", ".join(f"{layer.address} ({layer.output_filename})" for layer in request.layers)
        )
    warning = size_warning(
        f"{request.address} and its layers unzip to" if request.layers else f"{request.address} unzips to",
        zipped.report["unzipped_bytes"] + layers_unzipped,
    )
    if warning:
        # At WARNING level when built; and in the artifact's lines, which `package` prints (at
        # INFO) every time, even when the engine reuses this result from memory.
        logger.warning(warning)
        extra_log_lines.append(f"    WARNING: {warning}")
    extra_log_lines.extend(size_log_lines(zipped.report, layers_unzipped if request.layers else None))
    digest = await Get(Digest, MergeDigests([zipped.digest, metadata_digest]))
    package = BuiltPackage(
        digest=digest,
        artifacts=(
            BuiltPackageArtifact(output_filename, extra_log_lines=tuple(extra_log_lines)),
            BuiltPackageArtifact(metadata_file),
        ),
    )
    return BuiltLambdaArtifact(package, output_filename, zipped.report, metadata)


def rules():
    return [
        *collect_rules(),
        UnionRule(PackageFieldSet, PythonAwsLambdaFieldSet),
        UnionRule(PackageFieldSet, PythonAwsLambdaLayerFieldSet),
    ]
